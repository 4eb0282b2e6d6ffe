/**
 * Data plane, end to end: the seed's journey on real VMs and real networks, driven by the openstack CLI.
 *
 * The "outside world" is a namespace this test creates (bridge br-out, 172.24.4.1/24), mapped to the
 * physical network `public`; no traffic leaves the machine. Two projects, three QEMU guests:
 *   vm1, vm2 (project 1, network1 10.0.0.0/24 behind router1 with SNAT; vm1 has a floating IP)
 *   vm3      (project 2, an overlapping 10.0.0.0/24 without a router)
 * Checks: ping and ssh (with the key from the metadata service) to the floating IP from outside; SNAT
 * from the guests (the outside sees the floating IP, or the router's address for vm2); vm1 ↔ vm2 by fixed
 * IP; project 2 cannot reach project 1; IP and MAC spoofing are dropped; removing the ICMP rule stops ping
 * while SSH still works; disassociating the floating IP stops both; kill -9 of the control plane and a
 * restart do not interrupt a running ping and duplicate nothing; deleting everything leaves no namespace
 * and no dnsmasq behind.
 * Needs root, qemu, iproute2, nftables, dnsmasq, conntrack, ssh, the openstack CLI and the test image.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nsPrefix } from '../src/agent/network/linux/names.js';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

const cache = process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox');
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ready =
  hasOpenstackCli &&
  process.getuid?.() === 0 &&
  existsSync(join(cache, 'images', 'stackbox-test.qcow2')) &&
  ['qemu-system-x86_64', 'genisoimage', 'ip', 'nft', 'dnsmasq', 'conntrack', 'ssh', 'ping'].every(have);

const OUT = `sbt-out-${process.pid}`;
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const inOut = (cmd: string) => sh(`ip netns exec ${OUT} ${cmd}`);
const pingOk = (ip: string, wait = 1) => inOut(`ping -c1 -W${wait} ${ip}`).status === 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  fn: () => boolean,
  seconds: number,
  explain?: () => string,
): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (fn()) return;
    await sleep(1000);
  }
  throw new Error(`timed out after ${seconds} s waiting for ${what}${explain ? `:\n${explain()}` : ''}`);
}

const namespacesOf = (dataDir: string) =>
  sh('ip netns list')
    .stdout.split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(nsPrefix(dataDir)));
const dnsmasqOf = (dataDir: string) =>
  spawnSync('pgrep', ['-f', `dnsmasq.*${dataDir}`], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter(Boolean);

describe.skipIf(!ready)('real networks (Linux network driver) with real VMs', () => {
  let sb: StackboxProcess | undefined;
  let listener: ChildProcess | undefined;
  let listenerLog = '';
  /** Everything a run made (also before a retry: a retried run starts from nothing). */
  const cleanupAll = async () => {
    listener?.kill();
    listener = undefined;
    listenerLog = '';
    if (sb) {
      for (const p of ['1', '2'])
        for (const vm of ['vm1', 'vm2', 'vm3'])
          sb.os(['server', 'delete', '--wait', vm], sb.as(`dp-u${p}`, 'pw-dp', `dp-p${p}`));
      await sb.stop('SIGKILL');
      for (const pid of dnsmasqOf(sb.dataDir)) sh(`kill ${pid}`);
      for (const ns of namespacesOf(sb.dataDir)) sh(`ip netns del ${ns}`);
      spawnSync('pkill', ['-f', `qemu-system.*${sb.dataDir}`]);
      await sb.cleanup();
      sb = undefined;
    }
    sh(`ip netns del ${OUT}`);
  };
  afterAll(cleanupAll);

  // One retry: in CI this test shares two cores with the other VM tests; a failure here has been seen
  // once ("No attached ports found" for vm1's floating IP) and not reproduced alone (see the session note).
  it('the seed journey on the wire', { timeout: 2_400_000, retry: 1 }, async () => {
    await cleanupAll();
    // ---- the outside world, and a listener there that tells who connected (to see SNAT)
    sh(`ip netns del ${OUT} 2>/dev/null`);
    for (const c of [
      `ip netns add ${OUT}`,
      `ip -n ${OUT} link set lo up`,
      `ip -n ${OUT} link add br-out type bridge`,
      `ip -n ${OUT} addr add 172.24.4.1/24 dev br-out`,
      `ip -n ${OUT} link set br-out up`,
    ])
      expect(sh(c).status, c).toBe(0);
    listener = spawn('ip', [
      'netns',
      'exec',
      OUT,
      process.execPath,
      '-e',
      "require('http').createServer((q,s)=>{console.log('FROM '+q.socket.remoteAddress);s.end('outside-ok\\n')}).listen(8080,'172.24.4.1')",
    ]);
    listener.stdout!.on('data', (d: Buffer) => (listenerLog += d));

    const env = {
      STACKBOX_COMPUTE_DRIVER: 'qemu',
      STACKBOX_NETWORK_DRIVER: 'linux',
      STACKBOX_TEST_IMAGE: 'true',
      STACKBOX_CACHE: cache,
      STACKBOX_PHYSICAL_NETWORKS: `public:br-out@${OUT}`,
    };
    sb = await startStackbox({ env });
    const s = sb;
    const ok = (args: string[], e?: Record<string, string>) => {
      const r = s.os(args, e);
      expect(r.status, `openstack ${args.join(' ')}: ${r.stderr}`).toBe(0);
      return r.stdout.trim();
    };

    // ---- admin: projects, users, the external network (as the seed's admin does)
    for (const p of ['1', '2']) {
      ok(['project', 'create', `dp-p${p}`]);
      ok(['user', 'create', '--password', 'pw-dp', '--project', `dp-p${p}`, `dp-u${p}`]);
      ok(['role', 'add', '--project', `dp-p${p}`, '--user', `dp-u${p}`, 'member']);
    }
    ok(
      ['network', 'create', '--external', '--provider-network-type', 'flat'].concat([
        '--provider-physical-network',
        'public',
        'public',
      ]),
    );
    ok(
      ['subnet', 'create', '--network', 'public', '--subnet-range', '172.24.4.0/24', '--no-dhcp'].concat([
        '--gateway',
        '172.24.4.1',
        '--allocation-pool',
        'start=172.24.4.10,end=172.24.4.200',
        'public-subnet',
      ]),
    );
    const boot = (name: string, net: string, ip: string, extra: string[], e: Record<string, string>) =>
      ok(
        ['server', 'create', '--image', 'stackbox-test', '--flavor', 'm1.nano', ...extra].concat([
          '--nic',
          `net-id=${net},v4-fixed-ip=${ip}`,
          '--wait',
          name,
        ]),
        e,
      );
    const u1 = s.as('dp-u1', 'pw-dp', 'dp-p1');
    const u2 = s.as('dp-u2', 'pw-dp', 'dp-p2');
    const consoleOf = (vm: string, e: Record<string, string>) =>
      s.os(['console', 'log', 'show', vm], e).stdout;

    // ---- user 1: network, router, rules, key, two servers, a floating IP
    ok(['network', 'create', 'network1'], u1);
    ok(['subnet', 'create', '--network', 'network1', '--subnet-range', '10.0.0.0/24', 'subnet1'], u1);
    ok(['router', 'create', 'router1'], u1);
    ok(['router', 'set', '--external-gateway', 'public', 'router1'], u1);
    ok(['router', 'add', 'subnet', 'router1', 'subnet1'], u1);
    const icmpRule = ok(
      ['security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default', '-f', 'value', '-c', 'id'],
      u1,
    );
    ok(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', 'default'], u1);
    const key = join(s.dataDir, 'id_dp');
    expect(sh(`ssh-keygen -q -t ed25519 -N '' -f ${key}`).status).toBe(0);
    ok(['keypair', 'create', '--public-key', `${key}.pub`, 'key1'], u1);
    const net1 = ok(['network', 'show', 'network1', '-f', 'value', '-c', 'id'], u1);
    boot('vm1', net1, '10.0.0.11', ['--key-name', 'key1'], u1);
    const vm2Script = join(s.dataDir, 'vm2.sh');
    writeFileSync(
      vm2Script,
      [
        '#!/bin/sh',
        'ok=1; for i in $(seq 1 90); do ping -c1 -W1 10.0.0.11 >/dev/null 2>&1 && { ok=0; break; }; sleep 1; done',
        'echo "DP-TEST reach-vm1=$ok"',
        'timeout 20 wget -q -O - http://172.24.4.1:8080/ >/dev/null 2>&1; echo "DP-TEST outside=$?"',
        'ip addr add 10.0.0.99/24 dev eth0',
        'ping -c1 -W2 -I 10.0.0.99 10.0.0.11 >/dev/null 2>&1; echo "DP-TEST ipspoof=$?"',
        'ip addr del 10.0.0.99/24 dev eth0',
        'MAC=$(cat /sys/class/net/eth0/address)',
        'ip link set eth0 address 02:00:00:00:00:99',
        'ping -c1 -W2 10.0.0.11 >/dev/null 2>&1; echo "DP-TEST macspoof=$?"',
        'ip link set eth0 address $MAC',
        'ping -c1 -W3 10.0.0.11 >/dev/null 2>&1; echo "DP-TEST restored=$?"',
        '',
      ].join('\n'),
    );
    boot('vm2', net1, '10.0.0.12', ['--user-data', vm2Script], u1);
    const fip = ok(['floating', 'ip', 'create', 'public', '-f', 'value', '-c', 'floating_ip_address'], u1);
    ok(['server', 'add', 'floating', 'ip', 'vm1', fip], u1);

    // ---- from outside: ping, then ssh with the key the guest got from the metadata service
    await until(
      `ping ${fip}`,
      () => pingOk(fip),
      600,
      () => consoleOf('vm1', u1).split('\n').slice(-25).join('\n'),
    );
    const ssh = (cmd: string) =>
      inOut(
        `ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 -o BatchMode=yes -i ${key} root@${fip} '${cmd}'`,
      );
    // its port is ACTIVE: the agent reported the NIC plugged
    const ports = JSON.parse(ok(['port', 'list', '--server', 'vm1', '-f', 'json'], u1)) as {
      Status: string;
    }[];
    expect(ports.map((p) => p.Status)).toEqual(['ACTIVE']);
    let r = ssh('cat /run/stackbox/source; hostname');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('metadata-service');
    expect(r.stdout).toContain('vm1');
    // hairpin: vm1 reaches its own floating IP through the router
    r = ssh(`ping -c1 -W3 ${fip}`);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // SNAT: the outside sees the floating IP as the source of vm1's connection.
    r = ssh('wget -q -O - http://172.24.4.1:8080/');
    expect(r.stdout).toContain('outside-ok');
    // (spawnSync blocked this process: let the listener's output arrive)
    await until(`the outside to see ${fip}`, () => listenerLog.includes(`FROM ${fip}`), 10);

    // ---- vm2's own report (its user data): reach, SNAT through the router, spoofing dropped
    // (TCG guests boot slowly when other tests boot VMs at the same time: generous waits)
    await until(
      'vm2 report',
      () => consoleOf('vm2', u1).includes('DP-TEST restored='),
      600,
      () => consoleOf('vm2', u1).split('\n').slice(-25).join('\n'),
    );
    const vm2Log = consoleOf('vm2', u1);
    expect(vm2Log).toContain('DP-TEST reach-vm1=0');
    expect(vm2Log).toContain('DP-TEST outside=0');
    expect(vm2Log).toMatch(/DP-TEST ipspoof=[1-9]/);
    expect(vm2Log).toMatch(/DP-TEST macspoof=[1-9]/);
    expect(vm2Log).toContain('DP-TEST restored=0');
    const gwIp = JSON.parse(ok(['router', 'show', 'router1', '-f', 'json'], u1)).external_gateway_info
      .external_fixed_ips[0].ip_address as string;
    await until(`the outside to see ${gwIp}`, () => listenerLog.includes(`FROM ${gwIp}`), 10);
    // vm1 reaches vm2 by its fixed IP (after vm2's own tests, which change its MAC for a moment).
    await until('vm1 to reach vm2', () => ssh('ping -c1 -W3 10.0.0.12').status === 0, 30);

    // ---- project 2, same CIDR: cannot reach project 1's guests
    ok(['network', 'create', 'network2'], u2);
    ok(
      ['subnet', 'create', '--network', 'network2', '--subnet-range', '10.0.0.0/24'].concat([
        '--allocation-pool',
        'start=10.0.0.100,end=10.0.0.200',
        'subnet2',
      ]),
      u2,
    );
    const vm3Script = join(s.dataDir, 'vm3.sh');
    writeFileSync(
      vm3Script,
      [
        '#!/bin/sh',
        'timeout 20 wget -q -O /dev/null http://169.254.169.254/openstack/latest/meta_data.json; echo "DP-TEST p2-metadata=$?"',
        'ping -c2 -W2 10.0.0.11 >/dev/null 2>&1; echo "DP-TEST p2-vm1=$?"',
        'ping -c2 -W2 10.0.0.12 >/dev/null 2>&1; echo "DP-TEST p2-vm2=$?"',
        '',
      ].join('\n'),
    );
    const net2 = ok(['network', 'show', 'network2', '-f', 'value', '-c', 'id'], u2);
    boot('vm3', net2, '10.0.0.150', ['--user-data', vm3Script], u2);
    await until(
      'vm3 report',
      () => consoleOf('vm3', u2).includes('DP-TEST p2-vm2='),
      600,
      () => consoleOf('vm3', u2).split('\n').slice(-25).join('\n'),
    );
    const vm3Log = consoleOf('vm3', u2);
    expect(vm3Log).toContain('DP-TEST p2-metadata=0');
    expect(vm3Log).toMatch(/DP-TEST p2-vm1=[1-9]/);
    expect(vm3Log).toMatch(/DP-TEST p2-vm2=[1-9]/);

    // ---- security groups take effect at once: no ICMP rule → no ping, SSH still works
    ok(['security', 'group', 'rule', 'delete', icmpRule], u1);
    await until('ping to stop', () => !pingOk(fip), 5);
    expect(ssh('echo still-ssh').stdout).toContain('still-ssh');
    ok(['security', 'group', 'rule', 'create', '--protocol', 'icmp', 'default'], u1);
    await until('ping again', () => pingOk(fip), 10);

    // ---- without its floating IP, vm1 is out of reach; with it again, back
    ok(['server', 'remove', 'floating', 'ip', 'vm1', fip], u1);
    await until('ping to stop', () => !pingOk(fip), 5);
    expect(ssh('true').status).not.toBe(0);
    ok(['server', 'add', 'floating', 'ip', 'vm1', fip], u1);
    await until('ping again', () => pingOk(fip), 15);

    // ---- kill -9 the control plane while pinging; restart: no packet lost, nothing duplicated
    const nsBefore = namespacesOf(s.dataDir).sort();
    const dhcpBefore = dnsmasqOf(s.dataDir).sort();
    expect(nsBefore.length).toBe(4); // public, network1, network2, router1
    expect(dhcpBefore.length).toBe(2); // network1, network2
    const pinger = spawn('ip', ['netns', 'exec', OUT, 'ping', '-i', '0.2', '-c', '75', fip]);
    let pingLog = '';
    pinger.stdout.on('data', (d: Buffer) => (pingLog += d));
    const pingDone = new Promise((res) => pinger.on('exit', res));
    await sleep(1000);
    await s.stop('SIGKILL');
    sb = await startStackbox({ env, dataDir: s.dataDir, port: s.port });
    await pingDone;
    const loss = Number(/(\d+)% packet loss/.exec(pingLog)?.[1]);
    expect(loss, pingLog).toBeLessThanOrEqual(2);
    expect(namespacesOf(s.dataDir).sort()).toEqual(nsBefore);
    expect(dnsmasqOf(s.dataDir).sort()).toEqual(dhcpBefore);
    r = ssh('wget -q -O - http://169.254.169.254/openstack/latest/meta_data.json');
    expect(r.stdout).toContain('"name":"vm1"');

    // ---- deleting everything leaves nothing behind
    const s2 = sb;
    const ok2 = (args: string[], e: Record<string, string>) => {
      const x = s2.os(args, e);
      expect(x.status, `openstack ${args.join(' ')}: ${x.stderr}`).toBe(0);
    };
    ok2(['server', 'delete', '--wait', 'vm1', 'vm2'], u1);
    ok2(['server', 'delete', '--wait', 'vm3'], u2);
    ok2(['floating', 'ip', 'delete', fip], u1);
    ok2(['router', 'remove', 'subnet', 'router1', 'subnet1'], u1);
    ok2(['router', 'delete', 'router1'], u1);
    ok2(['network', 'delete', 'network1'], u1);
    ok2(['network', 'delete', 'network2'], u2);
    ok2(['network', 'delete', 'public'], {});
    await until('namespaces to go', () => namespacesOf(s.dataDir).length === 0, 10);
    expect(dnsmasqOf(s.dataDir)).toEqual([]);
    expect(readFileSync(join(s.dataDir, 'metadata_proxy_secret'), 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });
});
