/**
 * The Linux network driver on its own, without VMs (root; iproute2, nftables, dnsmasq, conntrack): a
 * "guest" is a namespace joined to the network by a veth named like a VM's tap. Checks DHCP (dnsmasq
 * with the port's host entry), the metadata proxy (the guest's address and network reach the upstream,
 * signed), anti-spoofing, idempotent re-application, a router with SNAT on/off and static routes, and that
 * reconcile removes everything.
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinuxNetworkDriver } from '../../src/agent/network/linux/driver.js';
import { networkNs, nsPrefix, routerNs, tapName } from '../../src/agent/network/linux/names.js';
import type { NetworkSpec, PortSpec, RouterSpec } from '../../src/agent/network/driver.js';

const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const ready = process.getuid?.() === 0 && ['ip', 'nft', 'dnsmasq', 'conntrack'].every(have);
const execFileP = promisify(execFile);
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });

const NET = '0b000000-0000-4000-8000-00000000000a';
const SUB = '5b000000-0000-4000-8000-00000000000a';
const PORT = 'ab000000-0000-4000-8000-00000000000a';
const ROUTER = 'eb000000-0000-4000-8000-00000000000a';
const RPORT = 'cb000000-0000-4000-8000-00000000000a';
const MAC = 'fa:16:3e:10:00:05';
const GUEST = `sbt-guest-${process.pid}`;

const network = (o: Partial<NetworkSpec> = {}): NetworkSpec => ({
  id: NET,
  networkType: 'vxlan',
  physicalNetwork: null,
  segmentationId: 7,
  mtu: 1450,
  adminStateUp: true,
  external: false,
  subnets: [
    {
      id: SUB,
      cidr: '10.0.0.0/24',
      ipVersion: 4,
      gatewayIp: '10.0.0.1',
      enableDhcp: true,
      dnsNameservers: [],
      hostRoutes: [],
      ipv6AddressMode: null,
      ipv6RaMode: null,
    },
  ],
  dhcpPort: {
    portId: 'dhcp',
    mac: 'fa:16:3e:10:00:02',
    fixedIps: [{ subnetId: SUB, ipAddress: '10.0.0.2' }],
  },
  metadata: true,
  ...o,
});

const port: PortSpec = {
  id: PORT,
  networkId: NET,
  mac: MAC,
  fixedIps: [{ subnetId: SUB, ipAddress: '10.0.0.5' }],
  adminStateUp: true,
  deviceId: 'vm',
  deviceOwner: 'compute:nova',
  hostId: 'h',
  mtu: 1450,
  portSecurity: true,
  dhcp: true,
  stateful: true,
  securityGroupIds: ['g'],
  firewall: [
    {
      direction: 'egress',
      ethertype: 'IPv4',
      protocol: null,
      portRangeMin: null,
      portRangeMax: null,
      remoteIpPrefix: null,
      remoteGroupId: null,
    },
  ],
  allowedAddressPairs: [],
};

const router = (o: Partial<RouterSpec> = {}): RouterSpec => ({
  id: ROUTER,
  adminStateUp: true,
  interfaces: [
    {
      portId: RPORT,
      mac: 'fa:16:3e:10:00:01',
      networkId: NET,
      subnetId: SUB,
      ipAddress: '10.0.0.1',
      cidr: '10.0.0.0/24',
    },
  ],
  gateway: null,
  snat: [{ sourceCidr: '10.0.0.0/24', toAddress: '192.0.2.10' }],
  floatingIps: [],
  routes: [{ destination: '10.9.0.0/16', nexthop: '10.0.0.254' }],
  ...o,
});

describe.skipIf(!ready)('Linux network driver without VMs', () => {
  let dataDir: string;
  let driver: LinuxNetworkDriver;
  let upstream: Server;
  const seen: { ip?: string; net?: string; sig?: string; url?: string }[] = [];
  const prefix = () => nsPrefix(dataDir);
  const guest = (cmd: string) => sh(`ip netns exec ${GUEST} ${cmd}`);

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stackbox-netdrv-'));
    upstream = createServer((req, res) => {
      seen.push({
        ip: req.headers['x-forwarded-for'] as string,
        net: req.headers['x-neutron-network-id'] as string,
        sig: req.headers['x-stackbox-proxy-signature'] as string,
        url: req.url,
      });
      res.end('meta-ok\n');
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const addr = upstream.address() as { port: number };
    driver = new LinuxNetworkDriver({
      stateDir: join(dataDir, 'network'),
      prefix: nsPrefix(dataDir),
      physicalNetworks: {},
      metadata: { url: `http://127.0.0.1:${addr.port}/metadata`, sign: (n, ip) => `sig:${n}:${ip}` },
    });
    await driver.init();
    sh(`ip netns add ${GUEST}`);
    sh(`ip -n ${GUEST} link set lo up`);
  });

  afterAll(async () => {
    await driver?.destroyAll();
    sh(`ip netns del ${GUEST}`);
    sh(`ip link del ${tapName(PORT)}`);
    upstream?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('builds a network with DHCP and metadata, wires a "tap", filters and serves it', async () => {
    expect(await driver.ensureNetwork(network())).toBe('ACTIVE');
    const ns = networkNs(prefix(), NET);
    expect(sh(`ip -n ${ns} -br addr show br0`).stdout).toMatch(/10\.0\.0\.2\/24.*169\.254\.169\.254\/32/);
    const pid = Number(readFileSync(join(dataDir, 'network', 'networks', NET, 'dnsmasq.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);

    // a VM's port is DOWN until its NIC is on the network
    const reported: string[] = [];
    driver.onStatus = (kind, id, status) => reported.push(`${kind}:${id}:${status}`);
    expect(await driver.plugPort(port)).toBe('DOWN');
    expect(readFileSync(join(dataDir, 'network', 'networks', NET, 'hosts'), 'utf8')).toBe(
      `${MAC},host-10-0-0-5,10.0.0.5\n`,
    );
    // the "VM" NIC: created in the host namespace (as QEMU does), then plugged
    expect(sh(`ip link add ${tapName(PORT)} type veth peer name eth0 netns ${GUEST}`).status).toBe(0);
    await driver.plugVif({ portId: PORT, networkId: NET, tap: tapName(PORT) });
    expect(reported).toEqual([`port:${PORT}:ACTIVE`]);
    expect(await driver.plugPort(port)).toBe('ACTIVE');
    expect(sh(`ip -n ${ns} -br link show ${tapName(PORT)}`).stdout).toContain(tapName(PORT));
    expect(sh(`ip -br link show ${tapName(PORT)} 2>&1`).status).not.toBe(0);
    for (const c of [
      `ip link set eth0 address ${MAC}`,
      'ip addr add 10.0.0.5/24 dev eth0',
      'ip link set eth0 up',
      'ip route add 169.254.169.254/32 via 10.0.0.2',
    ])
      expect(guest(c).status, c).toBe(0);
    expect(guest('ping -c1 -W2 10.0.0.2').status).toBe(0);

    // metadata: the proxy in the namespace forwards with the guest's address and network, signed
    // (asynchronously: the proxy runs in this process)
    const { stdout } = await execFileP('ip', [
      'netns',
      'exec',
      GUEST,
      process.execPath,
      '-e',
      "fetch('http://169.254.169.254/openstack/latest/meta_data.json').then(r=>r.text()).then(t=>process.stdout.write(t))",
    ]);
    expect(stdout).toBe('meta-ok\n');
    expect(seen.at(-1)).toEqual({
      ip: '10.0.0.5',
      net: NET,
      sig: `sig:${NET}:10.0.0.5`,
      url: '/metadata/openstack/latest/meta_data.json',
    });

    // anti-spoofing: another source address is dropped, the port's own passes
    guest('ip addr add 10.0.0.99/24 dev eth0');
    expect(guest('ping -c1 -W2 -I 10.0.0.99 10.0.0.2').status).not.toBe(0);
    expect(guest('ping -c1 -W2 -I 10.0.0.5 10.0.0.2').status).toBe(0);

    // applying the same documents again changes nothing (dnsmasq keeps running)
    await driver.ensureNetwork(network());
    await driver.plugPort(port);
    expect(Number(readFileSync(join(dataDir, 'network', 'networks', NET, 'dnsmasq.pid'), 'utf8'))).toBe(pid);
    expect(guest('ping -c1 -W2 -I 10.0.0.5 10.0.0.2').status).toBe(0);

    // without an egress rule the port can send nothing (default deny), with it again it can
    await driver.plugPort({ ...port, firewall: [] });
    expect(guest('ping -c1 -W2 -I 10.0.0.5 10.0.0.2').status).not.toBe(0);
    await driver.plugPort(port);
    expect(guest('ping -c1 -W2 -I 10.0.0.5 10.0.0.2').status).toBe(0);
  });

  it('builds a router: interface, gateway, static routes, SNAT on and off; deletes it', async () => {
    await driver.ensureRouter(router());
    const rns = routerNs(prefix(), ROUTER);
    expect(sh(`ip -n ${rns} -br addr`).stdout).toMatch(/qr-cb000000-00.*10\.0\.0\.1\/24/);
    expect(sh(`ip -n ${rns} route show proto static`).stdout).toContain('10.9.0.0/16 via 10.0.0.254');
    expect(guest('ping -c1 -W2 10.0.0.1').status).toBe(0);
    // no gateway: no NAT rules at all
    expect(sh(`ip netns exec ${rns} nft list table ip sbx`).stdout).not.toContain('snat');
    // a gateway on an external network: SNAT of the subnet, default route; SNAT off: none
    const gateway = {
      portId: 'db000000-0000-4000-8000-00000000000a',
      mac: 'fa:16:3e:10:00:10',
      networkId: '0e000000-0000-4000-8000-00000000000a',
      fixedIps: [{ subnetId: 'x', ipAddress: '192.0.2.10', cidr: '192.0.2.0/24', gatewayIp: '192.0.2.1' }],
      enableSnat: true,
    };
    await driver.ensureRouter(router({ gateway }));
    expect(sh(`ip netns exec ${rns} nft list table ip sbx`).stdout).toContain(
      'ip saddr 10.0.0.0/24 oifname "qg-db000000-00" snat to 192.0.2.10',
    );
    expect(sh(`ip -n ${rns} route show default`).stdout).toContain('via 192.0.2.1 dev qg-db000000-00');
    await driver.ensureRouter(router({ gateway: { ...gateway, enableSnat: false }, snat: [] }));
    expect(sh(`ip netns exec ${rns} nft list table ip sbx`).stdout).not.toContain('snat');
    // routes are replaced when they change
    await driver.ensureRouter(router({ routes: [{ destination: '10.8.0.0/16', nexthop: '10.0.0.253' }] }));
    const routes = sh(`ip -n ${rns} route show proto static`).stdout;
    expect(routes).toContain('10.8.0.0/16 via 10.0.0.253');
    expect(routes).not.toContain('10.9.0.0/16');
    // the interface removed: the leg goes from both namespaces
    await driver.ensureRouter(router({ interfaces: [], routes: [] }));
    expect(sh(`ip -n ${rns} -br link`).stdout).not.toContain('qr-');
    expect(sh(`ip -n ${networkNs(prefix(), NET)} -br link`).stdout).not.toContain('qr-');
    await driver.deleteRouter(ROUTER);
    expect(sh('ip netns list').stdout).not.toContain(rns);
  });

  it('reconcile removes what is no longer wanted, dnsmasq included', async () => {
    const pidFile = join(dataDir, 'network', 'networks', NET, 'dnsmasq.pid');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await driver.reconcile({ networks: [], routers: [], ports: [] });
    expect(sh('ip netns list').stdout).not.toContain(prefix());
    expect(existsSync(pidFile)).toBe(false);
    // gone (or a zombie, where this host's init does not reap)
    const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8') : '';
    expect(stat === '' || /\) Z /.test(stat)).toBe(true);
    expect(existsSync(join(dataDir, 'network', 'ports', `${PORT}.json`))).toBe(false);
  });
});
