/**
 * Network data-plane benchmark (root; needs the test image, qemu, iproute2, nftables, dnsmasq):
 *
 *  1. Time from "start" to a floating IP answering ping from an outside namespace:
 *     (a) the bare recipe of ../shared/research/dataplane.md — namespaces, bridge, dnsmasq, router NAT and a
 *         qemu command line set up by hand — and
 *     (b) Stackbox: `POST /servers` on a port that already has a floating IP, through the API,
 *     alternating in the same run. The ratio b/a is the figure.
 *  2. Convergence of a 50-port network after a restart of the control plane: (i) host state intact (the
 *     agent checks everything and changes nothing), (ii) the network's namespace deleted first (everything
 *     is rebuilt: namespace, bridge, DHCP with 50 hosts, 50 ports' firewall chains).
 *
 * Usage: `npm run bench:network-dataplane -- [--runs N]` (builds first). Traffic stays inside
 * namespaces this script creates.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { nsPrefix } from '../../src/agent/network/linux/names.js';
import { sleep, startStackbox, type StackboxProcess } from '../../tests/support/stackbox.js';
import { median } from '../support.js';

const CACHE = process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox');
const IMAGE = join(CACHE, 'images', 'stackbox-test.qcow2');
const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1] || 3);
const work = mkdtempSync(join(tmpdir(), 'stackbox-bench-net-'));
const OUT = `sbb-out-${process.pid}`;
const PORT = 8790;
const sh = (c: string) => spawnSync('sh', ['-c', c], { encoding: 'utf8' });
const must = (c: string) => {
  const r = sh(c);
  if (r.status !== 0) throw new Error(`${c}: ${r.stderr}`);
  return r.stdout;
};

async function untilPing(ip: string, t0: number, timeoutS = 300): Promise<number> {
  while (performance.now() - t0 < timeoutS * 1000) {
    if (sh(`ip netns exec ${OUT} ping -c1 -W1 ${ip}`).status === 0) return (performance.now() - t0) / 1000;
  }
  throw new Error(`${ip} never answered`);
}

// ------------------------------------------------------------------ (a) the bare recipe
async function bare(i: number): Promise<number> {
  const d = join(work, `bare${i}`);
  must(`mkdir -p ${d}`);
  const [n, r] = [`sbb-n${i}-${process.pid}`, `sbb-r${i}-${process.pid}`];
  const fip = `172.24.4.${150 + i}`;
  const gw = `172.24.4.${100 + i}`;
  const mac = `52:54:00:12:34:${(0x10 + i).toString(16)}`;
  const t0 = performance.now();
  for (const c of [
    `ip netns add ${n}`,
    `ip netns add ${r}`,
    `ip -n ${n} link set lo up`,
    `ip -n ${n} link add br0 type bridge`,
    `ip -n ${n} addr add 10.11.12.2/24 dev br0`,
    `ip -n ${n} link set br0 up`,
    `ip link add qr netns ${r} type veth peer name qr netns ${n}`,
    `ip -n ${n} link set qr master br0 up`,
    `ip -n ${r} addr add 10.11.12.1/24 dev qr`,
    `ip -n ${r} link set qr up`,
    `ip link add qg netns ${r} type veth peer name qg${i}-${process.pid % 10000} netns ${OUT}`,
    `ip -n ${OUT} link set qg${i}-${process.pid % 10000} master br-out up`,
    `ip -n ${r} addr add ${gw}/24 dev qg`,
    `ip -n ${r} addr add ${fip}/32 dev qg`,
    `ip -n ${r} link set qg up`,
    `ip netns exec ${r} sysctl -qw net.ipv4.ip_forward=1`,
    `ip netns exec ${n} dnsmasq --conf-file=/dev/null --no-hosts --no-resolv --port=0 --user=root --group=root --bind-interfaces --interface=br0 --except-interface=lo --dhcp-range=set:a,10.11.12.0,static,255.255.255.0,1h --dhcp-host=${mac},10.11.12.20 --dhcp-option=option:router,10.11.12.1 --dhcp-leasefile=${d}/leases --pid-file=${d}/dnsmasq.pid`,
  ])
    must(c);
  execFileSync('ip', ['netns', 'exec', r, 'nft', '-f', '-'], {
    input: `table ip nat {
 chain pre { type nat hook prerouting priority dstnat; ip daddr ${fip} dnat to 10.11.12.20; }
 chain post { type nat hook postrouting priority srcnat; ip saddr 10.11.12.20 oifname "qg" snat to ${fip}; ip saddr 10.11.12.0/24 oifname "qg" snat to ${gw}; }
}
`,
  });
  must(`qemu-img create -q -f qcow2 -b ${IMAGE} -F qcow2 ${d}/disk 1G`);
  const tap = `tapb${i}x${process.pid % 10000}`;
  must(
    `qemu-system-x86_64 -accel tcg,tb-size=32 -machine q35 -cpu max -smp 1 -m 128 -nodefaults -no-reboot -display none ` +
      `-pidfile ${d}/pid -daemonize -serial file:${d}/console.log ` +
      `-drive file=${d}/disk,if=none,id=root,format=qcow2 -device virtio-blk-pci,drive=root ` +
      `-netdev tap,id=n0,ifname=${tap},script=no,downscript=no -device virtio-net-pci,netdev=n0,mac=${mac},romfile=`,
  );
  must(`ip link set ${tap} netns ${n} && ip -n ${n} link set ${tap} master br0 up`);
  const secs = await untilPing(fip, t0);
  sh(`kill $(cat ${d}/pid) $(cat ${d}/dnsmasq.pid)`);
  sh(`ip netns del ${n}; ip netns del ${r}`);
  return secs;
}

// ------------------------------------------------------------------ (b) Stackbox through the API
let sb: StackboxProcess | undefined;
const dataDir = join(work, 'stackbox');
const url = `http://127.0.0.1:${PORT}`;
let token = '';

async function startCloud(): Promise<void> {
  sb = await startStackbox({
    dataDir,
    port: PORT,
    adminPassword: 'bench-pw',
    testDefaults: false,
    env: {
      STACKBOX_LOG_LEVEL: 'info',
      STACKBOX_COMPUTE_DRIVER: 'qemu',
      STACKBOX_NETWORK_DRIVER: 'linux',
      STACKBOX_PUBLIC_NETWORK: 'none',
      STACKBOX_PHYSICAL_NETWORKS: `public:br-out@${OUT}`,
      STACKBOX_CACHE: CACHE,
    },
    cloudsYaml: false,
  });
  token = (await sb.login()).token;
}

async function api<T = Record<string, any>>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}

const NET = '/networking/v2.0';
let network1 = '';
let flavor = '';
let image = '';

async function setupCloud(): Promise<void> {
  const pub = (
    await api('POST', `${NET}/networks`, {
      network: {
        name: 'public',
        'router:external': true,
        'provider:network_type': 'flat',
        'provider:physical_network': 'public',
      },
    })
  ).network;
  const pubSub = (
    await api('POST', `${NET}/subnets`, {
      subnet: {
        network_id: pub.id,
        cidr: '172.24.4.0/24',
        ip_version: 4,
        enable_dhcp: false,
        gateway_ip: '172.24.4.1',
        allocation_pools: [{ start: '172.24.4.10', end: '172.24.4.90' }],
      },
    })
  ).subnet;
  void pubSub;
  network1 = (await api('POST', `${NET}/networks`, { network: { name: 'network1' } })).network.id;
  const sub = (
    await api('POST', `${NET}/subnets`, {
      subnet: { network_id: network1, cidr: '10.0.0.0/24', ip_version: 4, name: 'subnet1' },
    })
  ).subnet;
  const router = (
    await api('POST', `${NET}/routers`, {
      router: { name: 'router1', external_gateway_info: { network_id: pub.id } },
    })
  ).router;
  await api('PUT', `${NET}/routers/${router.id}/add_router_interface`, { subnet_id: sub.id });
  const sg = (await api('GET', `${NET}/security-groups?name=default`)).security_groups[0];
  await api('POST', `${NET}/security-group-rules`, {
    security_group_rule: { security_group_id: sg.id, direction: 'ingress', protocol: 'icmp' },
  });
  flavor = (await api('GET', '/compute/v2.1/flavors?minRam=0')).flavors.find(
    (f: { name: string }) => f.name === 'm1.nano',
  ).id;
  image = (await api('GET', '/image/v2/images?name=stackbox-test')).images[0].id;
  (globalThis as { pubId?: string }).pubId = pub.id;
}

async function viaApi(i: number): Promise<number> {
  const port = (await api('POST', `${NET}/ports`, { port: { network_id: network1 } })).port;
  const fip = (
    await api('POST', `${NET}/floatingips`, {
      floatingip: { floating_network_id: (globalThis as { pubId?: string }).pubId, port_id: port.id },
    })
  ).floatingip;
  // The floating IP is wired (DNAT in place) before the clock starts.
  for (let k = 0; k < 100; k++) {
    if ((await api('GET', `${NET}/floatingips/${fip.id}`)).floatingip.status === 'ACTIVE') break;
    await sleep(50);
  }
  const t0 = performance.now();
  const server = (
    await api('POST', '/compute/v2.1/servers', {
      server: { name: `b${i}`, imageRef: image, flavorRef: flavor, networks: [{ port: port.id }] },
    })
  ).server;
  const secs = await untilPing(fip.floating_ip_address, t0);
  await api('DELETE', `/compute/v2.1/servers/${server.id}`);
  for (let k = 0; k < 100; k++) {
    const r = await fetch(`${url}/compute/v2.1/servers/${server.id}`, { headers: { 'x-auth-token': token } });
    if (r.status === 404) break;
    await sleep(200);
  }
  await api('DELETE', `${NET}/floatingips/${fip.id}`);
  return secs;
}

// ------------------------------------------------------------------ 2. convergence of a 50-port network
async function convergence(): Promise<{ intact: number; rebuilt: number; processUp: number[] }> {
  const net = (await api('POST', `${NET}/networks`, { network: { name: 'fifty' } })).network.id;
  await api('POST', `${NET}/subnets`, {
    subnet: { network_id: net, cidr: '10.50.0.0/24', ip_version: 4 },
  });
  for (let i = 0; i < 50; i++)
    await api('POST', `${NET}/ports`, {
      port: {
        network_id: net,
        device_id: `dev-${i}`,
        device_owner: 'compute:nova',
        'binding:host_id': 'bench',
      },
    });
  const ns = `${nsPrefix(dataDir)}n-${net}`;
  const hostsFile = join(dataDir, 'network', 'networks', net, 'hosts');
  const converged = () => {
    const nft = sh(`ip netns exec ${ns} nft list table inet sbx`).stdout;
    const chains = (nft.match(/chain in_/g) ?? []).length;
    const hosts = existsSync(hostsFile)
      ? readFileSync(hostsFile, 'utf8').split('\n').filter(Boolean).length
      : 0;
    return chains >= 50 && hosts >= 50;
  };
  for (let i = 0; i < 300 && !converged(); i++) await sleep(100);
  if (!converged()) throw new Error('the 50-port network never converged');
  const restartAndWait = async (): Promise<number> => {
    await sb!.kill();
    await sleep(300);
    const t0 = performance.now();
    await startCloud();
    upS.push((performance.now() - t0) / 1000);
    while (!sb!.output().includes('network agent in sync') || !converged()) {
      if (performance.now() - t0 > 120_000) throw new Error('no convergence after restart');
      await sleep(20);
    }
    return (performance.now() - t0) / 1000;
  };
  const upS: number[] = [];
  const intact = await restartAndWait();
  await sb!.kill();
  await sleep(300);
  must(`ip netns del ${ns}`);
  const rebuilt = await restartAndWait();
  return { intact, rebuilt, processUp: upS };
}

async function main() {
  if (process.getuid?.() !== 0 || !existsSync(IMAGE)) {
    process.stderr.write('run as root, with the test image built (stackbox image build-test)\n');
    process.exit(2);
  }
  must(`ip netns add ${OUT} && ip -n ${OUT} link set lo up && ip -n ${OUT} link add br-out type bridge`);
  must(`ip -n ${OUT} addr add 172.24.4.1/24 dev br-out && ip -n ${OUT} link set br-out up`);
  try {
    await startCloud();
    await setupCloud();
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      a.push(await bare(i));
      b.push(await viaApi(i));
      process.stdout.write(`run ${i + 1}: bare ${a[i]!.toFixed(2)} s, stackbox ${b[i]!.toFixed(2)} s\n`);
    }
    const conv = await convergence();
    const result = {
      runs: RUNS,
      bareToPingS: median(a),
      stackboxToPingS: median(b),
      ratio: median(b) / median(a),
      converge50PortsIntactS: conv.intact,
      converge50PortsRebuiltS: conv.rebuilt,
      // of which the process start (listening, token issued) took:
      processUpS: conv.processUp,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    writeFileSync(join(work, 'result.json'), JSON.stringify(result));
  } finally {
    await sb?.kill();
    const prefix = nsPrefix(dataDir);
    spawnSync('pkill', ['-f', `dnsmasq.*${work}`]);
    spawnSync('pkill', ['-f', `qemu-system.*${work}`]);
    for (const n of sh('ip netns list')
      .stdout.split('\n')
      .map((l) => l.split(' ')[0]!))
      if (n.startsWith(prefix) || n.startsWith('sbb-')) sh(`ip netns del ${n}`);
    sh(`ip netns del ${OUT}`);
    rmSync(work, { recursive: true, force: true });
  }
}

void main();
