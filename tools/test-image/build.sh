#!/usr/bin/env bash
# Build the Stackbox test guest image (our CirrOS): Debian kernel + a
# busybox-static/dropbear initramfs on an MBR + FAT16 + SYSLINUX disk,
# written as a compressed qcow2. Debian packages only; no loop devices, no mounts.
#
# Usage (as root, Debian 12):  tools/test-image/build.sh [OUTDIR]
#   OUTDIR defaults to ${STACKBOX_CACHE:-$HOME/.cache/stackbox}/images
# Outputs: OUTDIR/stackbox-test.qcow2, OUTDIR/stackbox-test.sha256,
#          OUTDIR/stackbox-test.manifest.json, OUTDIR/README
# Environment:
#   STACKBOX_KERNEL_PKG=linux-image-6.1.0-NN-amd64  pin the kernel package
#   FORCE=1                                         rebuild even if up to date
# Re-running is cheap: the build is skipped when the image exists and the
# stamp (hash of the files in this directory + kernel package version +
# busybox/dropbear versions) is unchanged.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${STACKBOX_CACHE:-$HOME/.cache/stackbox}
OUTDIR=${1:-$CACHE_ROOT/images}
NAME=stackbox-test
DISK_MB=32
# Modules for the guest; dependencies (and softdeps, e.g. ext4 -> crc32c) are
# resolved with kmod (modprobe --show-depends) against the kernel's modules.dep.
# EARLY: loaded by /init before anything else (virtio, config drive, ext4).
# LATE: SATA/SCSI (CD-ROM config drives, sdX disks); /init loads them in the
# background while eth0 comes up, and waits for them only when no config
# drive was found on virtio.
EARLY_MODULES=(
    virtio_pci virtio_net virtio_blk virtio-rng virtio_balloon
    crc32c-intel crc32c_generic ext4 isofs vfat nls_cp437 nls_utf8 button evdev
)
LATE_MODULES=(virtio_scsi sd_mod ahci sr_mod)
PKGS=(busybox-static dropbear-bin syslinux syslinux-common mtools dosfstools fdisk cpio
      qemu-utils kmod e2fsprogs util-linux zstd)

log() { printf '[build %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (needs apt-get, mknod and chown for the initramfs)"

# ---- packages -------------------------------------------------------------------------
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}" >&2 || {
        apt-get -o DPkg::Lock::Timeout=900 update >&2
        apt-get -o DPkg::Lock::Timeout=900 install -y --no-install-recommends "${missing[@]}" >&2
    }
fi

# ---- kernel package: what linux-image-amd64 currently depends on ---------------------------
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
KPKG=${STACKBOX_KERNEL_PKG:-$(kernel_pkg)}
if [ -z "$KPKG" ]; then
    apt-get -o DPkg::Lock::Timeout=900 update >&2
    KPKG=$(kernel_pkg)
fi
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -n 1)
fi
[ -n "$KPKG" ] || die "cannot find a linux-image-*-amd64 package"
KVER=${KPKG#linux-image-}
KPKG_VERSION=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
[ -n "$KPKG_VERSION" ] || die "apt knows no version of $KPKG"
BUSYBOX_VERSION=$(dpkg-query -W -f='${Version}' busybox-static)
DROPBEAR_VERSION=$(dpkg-query -W -f='${Version}' dropbear-bin)
E2FS_VERSION=$(dpkg-query -W -f='${Version}' e2fsprogs)

# ---- up to date? ------------------------------------------------------------------------------
STAMP=$(
    {
        for f in build.sh init udhcpc.script json-flatten.awk; do sha256sum "$HERE/$f" | cut -d' ' -f1; done
        echo "$KPKG=$KPKG_VERSION busybox=$BUSYBOX_VERSION dropbear=$DROPBEAR_VERSION e2fsprogs=$E2FS_VERSION"
    } | sha256sum | cut -d' ' -f1
)
IMG=$OUTDIR/$NAME.qcow2
STAMPFILE=$OUTDIR/.$NAME.stamp
mkdir -p "$OUTDIR" "$CACHE_ROOT/debs"
# one build per OUTDIR at a time; a second caller waits, then finds it up to date
exec 9> "$OUTDIR/.$NAME.lock"
flock 9
if [ "${FORCE:-0}" != 1 ] && [ -s "$IMG" ] && [ -s "$OUTDIR/$NAME.sha256" ] &&
    [ "$(cat "$STAMPFILE" 2>/dev/null)" = "$STAMP" ]; then
    log "up to date: $IMG ($KPKG $KPKG_VERSION)"
    echo "$IMG"
    exit 0
fi

W=$(mktemp -d "$OUTDIR/.build.XXXXXX")
trap 'rm -rf "$W"' EXIT
T0=$SECONDS

# ---- kernel: download (cached) and unpack, no install ---------------------------------------
uri_line=$(cd "$W" && apt-get download --print-uris "$KPKG=$KPKG_VERSION" 2>/dev/null | tail -n 1)
DEB=$(echo "$uri_line" | awk '{ print $2 }')
[ -n "$DEB" ] || DEB=${KPKG}_${KPKG_VERSION/:/%3a}_amd64.deb
DEBPATH=$CACHE_ROOT/debs/$DEB
if [ ! -s "$DEBPATH" ]; then
    if [ -s "/var/cache/apt/archives/$DEB" ]; then
        cp "/var/cache/apt/archives/$DEB" "$DEBPATH.tmp"
    else
        log "downloading $KPKG $KPKG_VERSION"
        (cd "$W" && apt-get -o DPkg::Lock::Timeout=900 download "$KPKG=$KPKG_VERSION" 2>&1 |
            grep -v 'Download is performed unsandboxed' >&2 || true)
        [ -s "$W/$DEB" ] || die "apt-get download $KPKG failed"
        mv "$W/$DEB" "$DEBPATH.tmp"
    fi
    mv "$DEBPATH.tmp" "$DEBPATH"
    # keep only the kernel .deb in use
    find "$CACHE_ROOT/debs" -maxdepth 1 -name 'linux-image-*.deb' ! -name "$DEB" -delete
fi
log "unpacking $DEB"
K=$W/kroot
dpkg-deb -x "$DEBPATH" "$K"
VMLINUZ=$K/boot/vmlinuz-$KVER
[ -s "$VMLINUZ" ] || die "no $VMLINUZ in $DEB"
depmod -b "$K" "$KVER"

# ---- initramfs tree ----------------------------------------------------------------------
R=$W/root
mkdir -p "$R"/{bin,dev,etc,lib/x86_64-linux-gnu,lib64,proc,sys,run,tmp,mnt,root,home/cirros,var/log,var/www,usr/lib/stackbox}
ln -s bin "$R/sbin"
ln -s ../bin "$R/usr/bin"
ln -s ../bin "$R/usr/sbin"
ln -s ../run "$R/var/run"
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 666 "$R/dev/null" c 1 3
chmod 1777 "$R/tmp"

# busybox + applet links (never the applet "busybox" itself: that link loops, ELOOP)
install -m 755 /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] && continue
    ln -s busybox "$R/bin/$a"
done

# dynamically linked programs and their libraries (as ldd reports them)
add_bin() { # add_bin SRC [NAME]
    local src=$1 dst=$R/bin/${2:-$(basename "$1")} lib
    rm -f "$dst"
    install -m 755 "$src" "$dst"
    for lib in $(ldd "$src" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        local d=$R$lib
        [ -e "$d" ] && continue
        mkdir -p "$(dirname "$d")"
        cp -L "$lib" "$d"
    done
}
add_bin /usr/sbin/dropbear
add_bin /usr/bin/dropbearkey
add_bin /usr/bin/dbclient
add_bin /sbin/mke2fs
add_bin /sbin/e2fsck
add_bin /sbin/tune2fs
add_bin /sbin/resize2fs
add_bin /sbin/blkid
for a in mkfs.ext2 mkfs.ext3 mkfs.ext4; do rm -f "$R/bin/$a"; ln -s mke2fs "$R/bin/$a"; done
for a in fsck.ext2 fsck.ext3 fsck.ext4; do rm -f "$R/bin/$a"; ln -s e2fsck "$R/bin/$a"; done
rm -f "$R/bin/e2label"; ln -s tune2fs "$R/bin/e2label"
ln -sf dbclient "$R/bin/ssh"
cp /etc/mke2fs.conf "$R/etc/mke2fs.conf"

# kernel modules, resolved with kmod against modules.dep/softdep, in load order
MODS=$R/lib/modules/$KVER
mkdir -p "$MODS"
resolve_modules() { # resolve_modules LISTFILE MODULE... -> .ko paths in load order, not yet listed
    local list=$1
    shift
    modprobe -d "$K" -S "$KVER" --show-depends -a "$@" | awk '$1 == "insmod" { print $2 }' |
        while read -r ko; do grep -qxF "$ko" "$W/modlist" 2>/dev/null || { echo "$ko" >> "$W/modlist"; echo "$ko"; }; done > "$list"
}
resolve_modules "$W/early" "${EARLY_MODULES[@]}"
resolve_modules "$W/late" "${LATE_MODULES[@]}"
: > "$MODS/stackbox.early"
: > "$MODS/stackbox.late"
for grp in early late; do while read -r ko; do
    rel=${ko#"$K/lib/modules/$KVER/"}
    mkdir -p "$MODS/$(dirname "$rel")"
    case $rel in
        *.ko.xz) xz -dc "$ko" > "$MODS/${rel%.xz}"; rel=${rel%.xz} ;;
        *.ko.zst) zstd -qdc "$ko" > "$MODS/${rel%.zst}"; rel=${rel%.zst} ;;
        *) cp "$ko" "$MODS/$rel" ;;
    esac
    echo "$rel" >> "$MODS/stackbox.$grp"
done < "$W/$grp"; done
cp "$K/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$MODS/"
depmod -b "$R" "$KVER"                 # so "modprobe" works inside the guest
rm -f "$MODS"/*.bin
for grp in early late; do
    log "$grp modules ($(wc -l < "$MODS/stackbox.$grp")): $(sed 's|.*/||; s|\.ko$||' "$MODS/stackbox.$grp" | tr '\n' ' ')"
done

# users: root (no password, console logins only via /etc/securetty; ssh by key),
# cirros / gocubsgo (like CirrOS; console and ssh, password or key)
CIRROS_HASH=$(/bin/busybox mkpasswd -m sha512 gocubsgo stackbox)
cat > "$R/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
cirros:x:1000:1000:Stackbox test user:/home/cirros:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat > "$R/etc/shadow" <<EOF
root::19000:0:99999:7:::
cirros:$CIRROS_HASH:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
chmod 600 "$R/etc/shadow"
cat > "$R/etc/group" <<EOF
root:x:0:
tty:x:5:
cirros:x:1000:
nogroup:x:65534:
EOF
printf '/bin/sh\n/bin/ash\n' > "$R/etc/shells"
printf 'console\nttyS0\nttyS1\nhvc0\ntty1\ntty2\ntty3\ntty4\n' > "$R/etc/securetty"
cat > "$R/etc/issue" <<'EOF'
Stackbox test image \n (\l)
  login as 'cirros' with password 'gocubsgo', or as 'root' (no password, console only).

EOF
cat > "$R/etc/motd" <<'EOF'
Stackbox test guest (busybox + dropbear). Metadata: /run/stackbox. Disks: fdisk, mkfs.ext4, mount.
EOF
cat > "$R/etc/profile" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='\u@\h:\w\$ '
EOF
# No /etc/nsswitch.conf on purpose: with one, static busybox's getservbyname()
# (wget http://host/) tries to dlopen NSS modules and segfaults.
: > "$R/etc/resolv.conf"
chown 1000:1000 "$R/home/cirros"
chmod 700 "$R/root"

# ACPI power button -> clean poweroff (busybox acpid maps it to PWRF/00000080)
mkdir -p "$R/etc/acpi/PWRF"
printf '#!/bin/sh\necho "stackbox: ACPI power button: powering off" >/dev/console\nexec /sbin/poweroff\n' \
    > "$R/etc/acpi/PWRF/00000080"
chmod 755 "$R/etc/acpi/PWRF/00000080"

install -m 755 "$HERE/init" "$R/init"
install -m 755 "$HERE/udhcpc.script" "$R/etc/udhcpc.script"
install -m 644 "$HERE/json-flatten.awk" "$R/usr/lib/stackbox/json-flatten.awk"
printf '#!/bin/sh\n# jsonflat [FILE]: JSON -> "path<TAB>value" lines\nexec awk -f /usr/lib/stackbox/json-flatten.awk "$@"\n' \
    > "$R/bin/jsonflat"
chmod 755 "$R/bin/jsonflat"
cat > "$R/etc/stackbox-release" <<EOF
NAME=$NAME
KERNEL=$KVER ($KPKG $KPKG_VERSION)
BUSYBOX=$BUSYBOX_VERSION
DROPBEAR=$DROPBEAR_VERSION
STAMP=$STAMP
EOF

log "initramfs tree: $(du -sk "$R" | cut -f1) KiB"
(cd "$R" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | zstd -19 -q -T0) > "$W/initrd.img"   # zstd: smaller than gzip -9 and faster to unpack

# ---- bootable disk: MBR + FAT16 partition with SYSLINUX --------------------------------------
RAW=$W/disk.raw
PART=$W/part.fat
truncate -s ${DISK_MB}M "$RAW"
echo 'start=2048, type=6, bootable' | sfdisk -q "$RAW"
truncate -s $(((DISK_MB - 1) * 1024 * 1024)) "$PART"
mkfs.fat -F 16 -n STACKBOX "$PART" >/dev/null
cat > "$W/syslinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT stackbox
PROMPT 0
TIMEOUT 0
LABEL stackbox
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND console=tty0 console=ttyS0,115200n8 quiet panic=-1 scsi_mod.scan=sync
EOF
export MTOOLS_SKIP_CHECK=1
mcopy -i "$PART" "$VMLINUZ" ::/vmlinuz
mcopy -i "$PART" "$W/initrd.img" ::/initrd.img
mcopy -i "$PART" "$W/syslinux.cfg" ::/syslinux.cfg
syslinux --install "$PART"
dd if="$PART" of="$RAW" bs=512 seek=2048 conv=notrunc status=none
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$RAW" bs=440 count=1 conv=notrunc status=none
qemu-img convert -c -O qcow2 "$RAW" "$W/$NAME.qcow2"

# ---- outputs -------------------------------------------------------------------------------
SIZE=$(stat -c %s "$W/$NAME.qcow2")
SHA=$(sha256sum "$W/$NAME.qcow2" | cut -d' ' -f1)
INITRD_SIZE=$(stat -c %s "$W/initrd.img")
VMLINUZ_SIZE=$(stat -c %s "$VMLINUZ")
cat > "$W/$NAME.manifest.json" <<EOF
{
  "name": "$NAME",
  "file": "$NAME.qcow2",
  "disk_format": "qcow2",
  "container_format": "bare",
  "size": $SIZE,
  "virtual_size": $((DISK_MB * 1024 * 1024)),
  "sha256": "$SHA",
  "min_ram_mb": 128,
  "recommended_ram_mb": 128,
  "os_type": "linux",
  "kernel": "$KVER",
  "kernel_package": "$KPKG",
  "kernel_package_version": "$KPKG_VERSION",
  "busybox_version": "$BUSYBOX_VERSION",
  "dropbear_version": "$DROPBEAR_VERSION",
  "initrd_size": $INITRD_SIZE,
  "vmlinuz_size": $VMLINUZ_SIZE,
  "default_user": "cirros",
  "default_password": "gocubsgo",
  "ready_line": "STACKBOX-READY hostname=<h> ip=<a,b|none> uptime=<s>",
  "stamp": "$STAMP",
  "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
}
EOF
cat > "$W/README" <<EOF
$NAME.qcow2 - Stackbox test guest image (like CirrOS), built by tools/test-image/build.sh

Debian kernel $KVER ($KPKG $KPKG_VERSION), busybox $BUSYBOX_VERSION, dropbear $DROPBEAR_VERSION.
Root filesystem: initramfs (nothing is written to the disk); disk: MBR + FAT16 + SYSLINUX.
Reads a config drive (label config-2) or http://169.254.169.254/openstack/latest/,
installs the SSH keys for root and cirros, runs user_data scripts ("#!"), starts
dropbear (:22) and httpd (:80), then prints on the serial console:
  STACKBOX-READY hostname=<h> ip=<a,b|none> uptime=<s>
Console login: cirros / gocubsgo; root with no password (console only).
RAM: 128 MB (96 MB runs out of memory while the kernel unpacks the initramfs). sha256 in $NAME.sha256.
EOF
(cd "$W" && sha256sum "$NAME.qcow2" > "$NAME.sha256")

mv -f "$W/$NAME.qcow2" "$IMG"
mv -f "$W/$NAME.sha256" "$W/$NAME.manifest.json" "$OUTDIR/"
mv -f "$W/README" "$OUTDIR/README"
echo "$STAMP" > "$STAMPFILE"
log "built $IMG: $SIZE bytes (initrd $INITRD_SIZE, vmlinuz $VMLINUZ_SIZE) in $((SECONDS - T0)) s"
echo "$IMG"
