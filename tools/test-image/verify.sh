#!/usr/bin/env bash
# Boot the Stackbox test image once and check that it does what it promises.
#
# Usage: tools/test-image/verify.sh [IMAGE.qcow2 | OUTDIR]
#   default: ${STACKBOX_CACHE:-$HOME/.cache/stackbox}/images/stackbox-test.qcow2
#   Root is needed only to apt-get install missing tools (qemu-system-x86,
#   qemu-utils, genisoimage, openssh-client, curl).
# Environment:
#   STACKBOX_VERIFY_METADATA=config-drive|metadata-service
#                                (metadata-service: no config drive; slirp's
#                                 guestfwd serves 169.254.169.254:80 from a
#                                 shell script, guest net 169.254.0.0/16)
#   STACKBOX_VERIFY_CDROM=virtio|sata  (config drive as a virtio disk, or as a
#                                 CD-ROM on the q35 AHCI controller)
#   STACKBOX_ACCEL=auto|tcg|kvm  (auto: KVM only if /dev/kvm is usable, is not
#                                 the PVM backend, and a first KVM boot reaches
#                                 READY within 20 s; otherwise TCG)
#   STACKBOX_READY_TIMEOUT=120   seconds to wait for STACKBOX-READY
#   STACKBOX_VERIFY_MEM=128      guest RAM in MB
#   KEEP=1                       keep the temp dir (console log, keys, ISO)
#
# The guest gets: a qcow2 overlay of the image (virtio-blk, boot disk), a
# config drive ISO (label config-2, attached as a virtio disk like Nova does),
# an empty 64 MiB data disk (serial "verify-data") and user-mode networking
# with restrict=on (no packet can leave the host) plus loopback-only port
# forwards to guest ports 22 and 80. Serial console and HMP monitor are FIFOs.
#
# Checks: READY within the timeout, hostname from meta_data.json, the
# user_data script ran, ssh as root (key from public_keys) runs uname -r,
# ssh as cirros (key from keys[].data, and password gocubsgo), no password
# ssh for root, the console-printed host key is the one dropbear serves, the
# metadata source, httpd on :80, fdisk + mkfs.ext4 + mount of the data disk,
# console login cirros/gocubsgo, exactly one READY line, and a clean poweroff
# on the ACPI power button. Exit status 0 only if all passed.
set -uo pipefail

ARG=${1:-${STACKBOX_CACHE:-$HOME/.cache/stackbox}/images}
if [ -d "$ARG" ]; then IMG=$ARG/stackbox-test.qcow2; else IMG=$ARG; fi
IMG=$(readlink -f "$IMG")
READY_TIMEOUT=${STACKBOX_READY_TIMEOUT:-120}
ACCEL=${STACKBOX_ACCEL:-auto}
MEM=${STACKBOX_VERIFY_MEM:-128}
MODE=${STACKBOX_VERIFY_METADATA:-config-drive}   # config-drive | metadata-service
CDBUS=${STACKBOX_VERIFY_CDROM:-virtio}          # virtio | sata (config drive as a SATA CD-ROM)
case $MODE in config-drive | metadata-service) ;; *) echo "bad STACKBOX_VERIFY_METADATA=$MODE" >&2; exit 2 ;; esac
case $CDBUS in virtio | sata) ;; *) echo "bad STACKBOX_VERIFY_CDROM=$CDBUS" >&2; exit 2 ;; esac

fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
fadd() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a + b }'; }
fgt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }
log() { printf '[verify %(%H:%M:%S)T] %s\n' -1 "$*"; }
die() { log "ERROR: $*"; exit 2; }

[ -s "$IMG" ] || die "no image at $IMG (run tools/test-image/build.sh first)"

need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v qemu-img >/dev/null || need+=(qemu-utils)
command -v genisoimage >/dev/null || need+=(genisoimage)
command -v ssh >/dev/null && command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing packages: ${need[*]} (run as root to install them)"
    log "installing: ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${need[@]}" >/dev/null ||
        die "apt-get install ${need[*]} failed"
fi

T=$(mktemp -d /tmp/stackbox-verify.XXXXXX)
QPID="" CATPID="" MCATPID=""
cleanup() {
    [ -n "$QPID" ] && kill "$QPID" 2>/dev/null && sleep 0.5 && kill -9 "$QPID" 2>/dev/null
    [ -n "$CATPID" ] && kill "$CATPID" 2>/dev/null
    [ -n "$MCATPID" ] && kill "$MCATPID" 2>/dev/null
    if [ "${KEEP:-0}" = 1 ]; then log "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- inputs: keys, config drive, disks ----------------------------------------------------
ssh-keygen -q -t ed25519 -N '' -C verify-root -f "$T/key_root"
ssh-keygen -q -t ed25519 -N '' -C verify-cirros -f "$T/key_cirros"
TOKEN=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
HOSTNAME_WANT=verify-vm
mkdir -p "$T/cd/openstack/latest"
# root's key only in public_keys, cirros's only in keys[] (Nova puts all keys
# in both; splitting them checks that the guest reads both places).
cat > "$T/cd/openstack/latest/meta_data.json" <<EOF
{"uuid": "8a5d1f9e-0000-4000-8000-$TOKEN$TOKEN", "name": "Verify VM", "hostname": "$HOSTNAME_WANT", "launch_index": 0, "availability_zone": "nova", "project_id": "verify", "meta": {"note": "a \"quoted\" value, {braces}, [brackets], back\\\\slash"}, "public_keys": {"verify-root": "$(cat "$T/key_root.pub")\n"}, "keys": [{"name": "verify-cirros", "type": "ssh", "data": "$(cat "$T/key_cirros.pub")\n"}], "devices": [], "random_seed": "c3RhY2tib3g="}
EOF
cat > "$T/cd/openstack/latest/user_data" <<EOF
#!/bin/sh
echo "userdata-marker: \$((6 * 7))-$TOKEN uid=\$(id -u)"
touch /run/userdata-ran
EOF
echo '{"links": [], "networks": [], "services": []}' > "$T/cd/openstack/latest/network_data.json"
if [ "$MODE" = metadata-service ]; then
    # a tiny metadata service: slirp's guestfwd runs mds.sh for every guest
    # connection to 169.254.169.254:80 (the guest network is 169.254.0.0/16)
    cat > "$T/mds.sh" <<'EOF'
#!/bin/bash
# one HTTP/1.0 request on stdin/stdout; $1 = directory with the openstack/ tree
read -r _ path _
while IFS= read -r line && [ -n "${line%$'\r'}" ]; do :; done
f=$1/${path#/}
case $path in *..*) f= ;; esac
if [ -n "$f" ] && [ -f "$f" ]; then
    printf 'HTTP/1.0 200 OK\r\nContent-Length: %s\r\nConnection: close\r\n\r\n' "$(stat -c %s "$f")"
    cat "$f"
else
    printf 'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
fi
echo "$(date +%T) $path -> ${f:+200}" >> "$1/../mds.log"
EOF
    chmod 755 "$T/mds.sh"
else
genisoimage -o "$T/cd.iso" -ldots -allow-lowercase -allow-multidot -l -publisher stackbox-verify \
    -quiet -J -r -V config-2 "$T/cd" 2>"$T/genisoimage.err" || die "genisoimage failed: $(cat "$T/genisoimage.err")"
fi
qemu-img create -q -f qcow2 -b "$IMG" -F qcow2 "$T/root.qcow2" 1G || die "qemu-img create overlay failed"
qemu-img create -q -f qcow2 "$T/data.qcow2" 64M

free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo $p; return; }
    done
}
PORT=$(free_port)
HPORT=$(free_port)
[ "$HPORT" != "$PORT" ] || HPORT=$((PORT + 1))

# ---- boot ----------------------------------------------------------------------------------
kvm_candidate() {
    [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    # PVM (/dev/kvm of a PVM host) cannot boot stock kernels: the guest hangs
    # in the decompressor. Real KVM needs vmx/svm.
    [ -d /sys/module/kvm_pvm ] && return 1
    grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
}

start_qemu() { # start_qemu tcg|kvm
    local accel
    if [ "$1" = kvm ]; then accel=(-accel kvm -cpu host); else accel=(-accel tcg,tb-size=32 -cpu max); fi
    local cdrom=() netextra=
    if [ "$MODE" = metadata-service ]; then
        netextra=",net=169.254.0.0/16,host=169.254.0.2,dhcpstart=169.254.0.15,guestfwd=tcp:169.254.169.254:80-cmd:$T/mds.sh $T/cd"
    elif [ "$CDBUS" = sata ]; then
        cdrom=(-drive file="$T/cd.iso",if=none,id=cd,media=cdrom,readonly=on -device ide-cd,drive=cd,bus=ide.2)
    else
        cdrom=(-drive file="$T/cd.iso",if=virtio,format=raw,readonly=on)
    fi
    rm -f "$T"/ser.in "$T"/ser.out "$T"/mon.in "$T"/mon.out "$T/console.log" "$T/monitor.log"
    mkfifo "$T/ser.in" "$T/ser.out" "$T/mon.in" "$T/mon.out"
    cat "$T/ser.out" > "$T/console.log" &
    CATPID=$!
    cat "$T/mon.out" > "$T/monitor.log" &
    MCATPID=$!
    T0=$(date +%s.%N)
    qemu-system-x86_64 -name stackbox-verify "${accel[@]}" -machine q35 -m "$MEM" -smp 1 \
        -nodefaults -display none -no-reboot \
        -chardev pipe,id=ser0,path="$T/ser" -serial chardev:ser0 \
        -chardev pipe,id=mon0,path="$T/mon" -mon chardev=mon0,mode=readline \
        -drive file="$T/root.qcow2",if=none,id=root,format=qcow2 -device virtio-blk-pci,drive=root,bootindex=0 \
        "${cdrom[@]}" \
        -drive file="$T/data.qcow2",if=none,id=data,format=qcow2 -device virtio-blk-pci,drive=data,serial=verify-data \
        -netdev "user,id=net0,restrict=on$netextra,hostfwd=tcp:127.0.0.1:$PORT-:22,hostfwd=tcp:127.0.0.1:$HPORT-:80" \
        -device virtio-net-pci,netdev=net0,romfile= \
        > "$T/qemu.out" 2>&1 &
    QPID=$!
    ACCEL_USED=$1
}

stop_qemu() {
    [ -n "$QPID" ] || return 0
    kill "$QPID" 2>/dev/null
    local i
    for i in $(seq 1 20); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$QPID" 2>/dev/null
    wait "$QPID" 2>/dev/null
    QPID=
    wait "$CATPID" "$MCATPID" 2>/dev/null
    CATPID="" MCATPID=""
}

wait_ready() { # wait_ready TIMEOUT -> sets READY_S, READY_LINE
    local deadline
    deadline=$(fadd "$(date +%s.%N)" "$1")
    while :; do
        READY_LINE=$(grep -a -m1 'STACKBOX-READY' "$T/console.log" 2>/dev/null | tr -d '\r')
        if [ -n "$READY_LINE" ]; then
            READY_S=$(fsub "$(date +%s.%N)" "$T0")
            return 0
        fi
        kill -0 "$QPID" 2>/dev/null || { log "qemu exited: $(tail -n 3 "$T/qemu.out")"; return 1; }
        fgt "$(date +%s.%N)" "$deadline" && return 1
        sleep 0.2
    done
}

mode=$ACCEL
if [ "$mode" = auto ]; then
    if kvm_candidate; then mode=kvm-probe; else mode=tcg; fi
fi
READY_S="" READY_LINE=""
if [ "$mode" = kvm-probe ]; then
    log "trying KVM (20 s)"
    start_qemu kvm
    if ! wait_ready 20; then
        log "KVM did not reach READY in 20 s; using TCG"
        stop_qemu
        mode=tcg
    fi
fi
if [ -z "$READY_LINE" ]; then
    if [ "$mode" = kvm ]; then start_qemu kvm; else start_qemu tcg; fi
    log "booting $IMG ($ACCEL_USED, ${MEM} MB, metadata: $MODE$([ "$MODE" = config-drive ] && echo " on $CDBUS"), ssh 127.0.0.1:$PORT, http 127.0.0.1:$HPORT)"
    wait_ready "$READY_TIMEOUT" || true
fi

# ---- checks ----------------------------------------------------------------------------------
PASS=0 FAIL=0
ok() { PASS=$((PASS + 1)); log "PASS $*"; }
bad() { FAIL=$((FAIL + 1)); log "FAIL $*"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$QPID/status" 2>/dev/null; }

if [ -z "$READY_LINE" ]; then
    bad "no STACKBOX-READY within ${READY_TIMEOUT}s; console tail:"
    tail -n 30 "$T/console.log" | tr -d '\r' | sed 's/^/    | /'
    exit 1
fi
RSS_READY=$(rss_kb)
ok "READY after ${READY_S}s ($ACCEL_USED): $READY_LINE"
case "$READY_LINE" in
    "STACKBOX-READY hostname=$HOSTNAME_WANT ip="*" uptime="*) ok "hostname=$HOSTNAME_WANT in the READY line" ;;
    *) bad "READY line does not say hostname=$HOSTNAME_WANT" ;;
esac
if tr -d '\r' < "$T/console.log" | grep -q "^userdata-marker: 42-$TOKEN uid=0\$"; then
    ok "user_data script ran (marker on the console)"
else
    bad "user_data marker missing from the console"
fi

# the host key the guest printed on its console is the one dropbear must present
HOSTKEY=$(tr -d '\r' < "$T/console.log" | sed -n '/-----BEGIN SSH HOST KEY KEYS-----/,/-----END SSH HOST KEY KEYS-----/p' |
    grep -m1 '^ssh-ed25519 ' | cut -d' ' -f1,2)
if [ -n "$HOSTKEY" ]; then
    echo "[127.0.0.1]:$PORT $HOSTKEY" > "$T/known_hosts"
    STRICT=yes
else
    bad "no host key printed on the console"
    : > "$T/known_hosts"
    STRICT=no
fi
gssh() { # gssh KEY USER CMD...
    local key=$1 user=$2
    shift 2
    timeout 60 ssh -q -i "$key" -p "$PORT" -o IdentitiesOnly=yes -o BatchMode=yes -o ConnectTimeout=15 \
        -o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=$STRICT -o LogLevel=ERROR \
        "$user@127.0.0.1" "$@"
}
t_ssh0=$(date +%s.%N)
KREL=$(gssh "$T/key_root" root uname -r 2>"$T/ssh.err")
t_ssh=$(fsub "$(date +%s.%N)" "$t_ssh0")
if [[ "$KREL" =~ ^[0-9]+\.[0-9]+ ]]; then
    ok "ssh root@ (public_keys key, console host key) -> uname -r = $KREL (${t_ssh}s)"
else
    bad "ssh root failed: $(head -c 300 "$T/ssh.err")"
fi
WHO=$(gssh "$T/key_cirros" cirros 'echo "$(id -un) $(hostname) $(cat /run/stackbox/source)"' 2>"$T/ssh.err")
if [ "${WHO%% *}" = cirros ]; then
    ok "ssh cirros@ (keys[].data key) -> $WHO"
else
    bad "ssh cirros failed: $WHO $(head -c 300 "$T/ssh.err")"
fi
# password logins over ssh: cirros/gocubsgo works, root (empty password) must not
printf '#!/bin/sh\necho gocubsgo\n' > "$T/askpass"
chmod 700 "$T/askpass"
pssh() { # pssh USER CMD...
    local user=$1
    shift
    SSH_ASKPASS="$T/askpass" SSH_ASKPASS_REQUIRE=force DISPLAY=none \
        timeout 60 setsid -w ssh -q -p "$PORT" -o PubkeyAuthentication=no -o NumberOfPasswordPrompts=1 \
        -o PreferredAuthentications=password,keyboard-interactive -o ConnectTimeout=15 \
        -o UserKnownHostsFile="$T/known_hosts" -o StrictHostKeyChecking=$STRICT -o LogLevel=ERROR \
        "$user@127.0.0.1" "$@" </dev/null
}
if [ "$(pssh cirros id -un 2>/dev/null)" = cirros ]; then
    ok "ssh cirros@ with password gocubsgo"
else
    bad "ssh cirros@ with password gocubsgo failed"
fi
if [ -z "$(pssh root id -un 2>/dev/null)" ]; then
    ok "ssh root@ with a password is refused"
else
    bad "ssh root@ with a password was accepted"
fi
case "$WHO" in *" $HOSTNAME_WANT "*) ok "guest hostname is $HOSTNAME_WANT" ;; *) bad "guest hostname is not $HOSTNAME_WANT" ;; esac
case $MODE/$CDBUS in
    metadata-service/*) want_src="metadata-service" ;;
    */sata) want_src="config-drive:/dev/sr*" ;;
    *) want_src="config-drive:/dev/vd*" ;;
esac
case "${WHO##* }" in $want_src) ok "metadata read from ${WHO##* }" ;; *) bad "metadata source is ${WHO##* }, expected $want_src" ;; esac
if [ "$(gssh "$T/key_root" root 'test -e /run/userdata-ran && echo yes')" = yes ]; then
    ok "user_data side effect present"
else
    bad "user_data side effect missing"
fi

STAGES=$(gssh "$T/key_root" root 'cat /run/stackbox/boot-times' 2>/dev/null | awk '{ t = $1; $1 = ""; printf "%s%s@%s", sep, substr($0, 2), t; sep = ", " }')
PAGE=$(curl -s --max-time 10 "http://127.0.0.1:$HPORT/")
case "$PAGE" in "hello from $HOSTNAME_WANT "*) ok "httpd :80 -> $PAGE" ;; *) bad "httpd :80 answered '$PAGE'" ;; esac

DISK_OUT=$(gssh "$T/key_root" root 'set -e
for b in /sys/block/*; do [ "$(cat $b/serial 2>/dev/null)" = verify-data ] && d=${b##*/}; done
[ -n "$d" ] || { echo "no disk with serial verify-data"; exit 1; }
printf "o\nn\np\n1\n\n\nw\n" | fdisk /dev/$d >/dev/null 2>&1 || true
i=0; while [ ! -b /dev/${d}1 ] && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done
mkfs.ext4 -q -L verify /dev/${d}1
mkdir -p /mnt/data && mount /dev/${d}1 /mnt/data
echo disk-ok > /mnt/data/probe && sync
echo "$d $(cat /mnt/data/probe) $(grep " /mnt/data " /proc/mounts | cut -d" " -f3)"
umount /mnt/data' 2>&1)
case "$DISK_OUT" in vd?" disk-ok ext4") ok "data disk: fdisk + mkfs.ext4 + mount ($DISK_OUT)" ;; *) bad "data disk: $DISK_OUT" ;; esac

# console login on ttyS0 as cirros/gocubsgo
send() { timeout 5 bash -c 'printf "%s" "$1" > "$2"' _ "$1" "$T/ser.in"; }
wait_console() { # wait_console PATTERN SECONDS (in the console output after byte $OFF)
    for _ in $(seq 1 $(($2 * 5))); do
        tail -c +"$OFF" "$T/console.log" | tr -d '\r' | grep -qa -- "$1" && return 0
        sleep 0.2
    done
    return 1
}
OFF=$(($(stat -c %s "$T/console.log") + 1))
send $'\r'
if wait_console 'login:' 20; then
    OFF=$(($(stat -c %s "$T/console.log") + 1))
    send $'cirros\r'
    if wait_console 'Password:' 10; then
        send $'gocubsgo\r'
        sleep 2
        send $'echo "CONSOLE-LOGIN-$((40 + 2)) $(id -un)"\r'
        if wait_console 'CONSOLE-LOGIN-42 cirros' 15; then
            ok "console login cirros/gocubsgo on ttyS0"
            send $'exit\r'
        else
            bad "console login: no shell after the password"
        fi
    else
        bad "console login: no Password: prompt"
    fi
else
    bad "console: no login: prompt on ttyS0"
fi

N_READY=$(grep -ac 'STACKBOX-READY' "$T/console.log")
[ "$N_READY" = 1 ] && ok "exactly one READY line on the console" || bad "$N_READY READY lines on the console"

RSS_END=$(rss_kb)
# clean shutdown on the ACPI power button (what a graceful "server stop" sends)
t_off0=$(date +%s.%N)
timeout 5 bash -c 'printf "system_powerdown\n" > "$1"' _ "$T/mon.in"
off=
for _ in $(seq 1 150); do
    kill -0 "$QPID" 2>/dev/null || { off=1; break; }
    sleep 0.2
done
if [ -n "$off" ]; then
    wait "$QPID" 2>/dev/null
    QPID=
    ok "ACPI power button -> guest powered off in $(fsub "$(date +%s.%N)" "$t_off0")s"
else
    bad "guest did not power off within 30 s of system_powerdown"
fi
stop_qemu

echo
echo "==== stackbox test image verify: $PASS passed, $FAIL failed ===="
echo "image:          $IMG ($(stat -c %s "$IMG") bytes)"
echo "accelerator:    $ACCEL_USED, -m $MEM"
echo "boot to READY:  $(printf '%.2f' "$READY_S") s (qemu start -> READY line on the serial console); guest ${READY_LINE##* }"
echo "first ssh:      $(printf '%.2f' "$t_ssh") s (uname -r over ssh, right after READY)"
echo "guest stages:   ${STAGES:-?} (guest uptime, s)"
echo "host load:      $(cut -d" " -f1-3 /proc/loadavg) (1/5/15 min; other work on the host slows TCG)"
echo "qemu RSS:       ${RSS_READY:-?} kB at READY, ${RSS_END:-?} kB after the checks"
[ "$FAIL" = 0 ]
