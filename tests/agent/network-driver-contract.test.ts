/**
 * The network driver contract (src/agent/network/driver.ts), one suite run against every driver: the fake
 * driver always, the Linux driver where it can run (root, iproute2, nftables, dnsmasq, conntrack; skipped
 * otherwise, saying why). No VMs: for the Linux driver a veth plays the VM's tap (as in
 * tests/network/linux-driver.test.ts); its namespaces are named by a hash of a temporary data directory,
 * removed at the end.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type {
  NetworkDriver,
  NetworkSpec,
  PortSpec,
  RouterSpec,
  WiringStatus,
} from '../../src/agent/network/driver.js';
import { FakeNetworkDriver } from '../../src/agent/network/fake.js';
import { LinuxNetworkDriver } from '../../src/agent/network/linux/driver.js';
import { nsPrefix, tapName } from '../../src/agent/network/linux/names.js';

const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
const onPath = (cmd: string) => sh(`command -v ${cmd}`).status === 0;

function linuxMissing(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  for (const cmd of ['ip', 'nft', 'dnsmasq', 'conntrack']) if (!onPath(cmd)) return `${cmd} is not installed`;
  return undefined;
}

const NET = '0c000000-0000-4000-8000-00000000000c';
const SUB = '5c000000-0000-4000-8000-00000000000c';
const PORT = 'ac000000-0000-4000-8000-00000000000c';
const ROUTER = 'ec000000-0000-4000-8000-00000000000c';
const RPORT = 'cc000000-0000-4000-8000-00000000000c';
const GROUP = 'gc000000-0000-4000-8000-00000000000c';
const GUEST = `sbt-contract-${process.pid}`;

const network: NetworkSpec = {
  id: NET,
  networkType: 'vxlan',
  physicalNetwork: null,
  segmentationId: 12,
  mtu: 1450,
  adminStateUp: true,
  external: false,
  subnets: [
    {
      id: SUB,
      cidr: '10.12.0.0/24',
      ipVersion: 4,
      gatewayIp: '10.12.0.1',
      enableDhcp: true,
      dnsNameservers: [],
      hostRoutes: [],
      ipv6AddressMode: null,
      ipv6RaMode: null,
    },
  ],
  dhcpPort: {
    portId: 'dhcp',
    mac: 'fa:16:3e:12:00:02',
    fixedIps: [{ subnetId: SUB, ipAddress: '10.12.0.2' }],
  },
  metadata: false,
};

const port: PortSpec = {
  id: PORT,
  networkId: NET,
  mac: 'fa:16:3e:12:00:05',
  fixedIps: [{ subnetId: SUB, ipAddress: '10.12.0.5' }],
  adminStateUp: true,
  deviceId: 'vm',
  deviceOwner: 'compute:nova',
  hostId: 'contract-host',
  mtu: 1450,
  portSecurity: true,
  dhcp: true,
  stateful: true,
  securityGroupIds: [GROUP],
  firewall: [
    {
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: null,
      remoteGroupId: GROUP,
    },
  ],
  allowedAddressPairs: [],
};

const router: RouterSpec = {
  id: ROUTER,
  adminStateUp: true,
  interfaces: [
    {
      portId: RPORT,
      mac: 'fa:16:3e:12:00:01',
      networkId: NET,
      subnetId: SUB,
      ipAddress: '10.12.0.1',
      cidr: '10.12.0.0/24',
    },
  ],
  gateway: null,
  snat: [],
  floatingIps: [],
  routes: [],
};

interface Subject {
  name: string;
  missing?: string;
  make(): Promise<NetworkDriver>;
  /** The VM's NIC appears on the host (QEMU made its tap) and is handed to the driver. */
  nicUp(driver: NetworkDriver): Promise<void>;
  /** What the driver left on the host: empty once everything is deleted. */
  leftovers(driver: NetworkDriver): string[];
  cleanup(driver: NetworkDriver | undefined): Promise<void>;
}

const fakeSubject: Subject = {
  name: 'fake',
  make: async () => new FakeNetworkDriver(),
  nicUp: async () => undefined,
  leftovers: (d) => {
    const f = d as FakeNetworkDriver;
    return [
      ...[...f.networks.keys()].map((id) => `network ${id}`),
      ...[...f.ports.keys()].map((id) => `port ${id}`),
      ...[...f.routers.keys()].map((id) => `router ${id}`),
      ...[...f.addressSets.keys()].map((id) => `address set ${id}`),
    ];
  },
  cleanup: async () => undefined,
};

const linuxSubject = (): Subject => {
  const missing = linuxMissing();
  const dataDir = missing ? '' : mkdtempSync(join(tmpdir(), 'stackbox-netcontract-'));
  const prefix = nsPrefix(dataDir);
  const stateDir = join(dataDir, 'network');
  return {
    name: 'linux',
    missing,
    make: async () => {
      const d = new LinuxNetworkDriver({ stateDir, prefix, physicalNetworks: {} });
      await d.init();
      sh(`ip netns add ${GUEST}`);
      return d;
    },
    nicUp: async (d) => {
      expect(sh(`ip link add ${tapName(PORT)} type veth peer name eth0 netns ${GUEST}`).status).toBe(0);
      await d.plugVif!({ portId: PORT, networkId: NET, tap: tapName(PORT) });
    },
    leftovers: () => {
      const out = sh('ip netns list')
        .stdout.split('\n')
        .filter((l) => l.startsWith(prefix))
        .map((l) => `namespace ${l.split(' ')[0]}`);
      for (const sub of ['networks', 'routers', 'ports']) {
        const dir = join(stateDir, sub);
        if (existsSync(dir)) out.push(...readdirSync(dir).map((f) => `${sub}/${f}`));
      }
      return out;
    },
    cleanup: async (d) => {
      await (d as LinuxNetworkDriver | undefined)?.destroyAll();
      sh(`ip netns del ${GUEST}`);
      sh(`ip link del ${tapName(PORT)}`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

for (const s of [fakeSubject, linuxSubject()]) {
  if (s.missing) {
    describe(`network driver contract: ${s.name}`, () => {
      it.skip(`skipped: the ${s.name} driver cannot run here (${s.missing})`, () => undefined);
    });
    continue;
  }
  describe(`network driver contract: ${s.name}`, () => {
    let driver: NetworkDriver | undefined;
    const reported: string[] = [];
    const d = () => driver!;
    afterAll(async () => {
      d().close?.();
      await s.cleanup(driver);
    });

    it('applies network, port, address set and router documents and reports their status', async () => {
      driver = await s.make();
      expect(driver.name).toBe(s.name);
      driver.onStatus = (kind, id, status) => reported.push(`${kind}:${id}:${status}`);
      expect(await d().ensureNetwork(network)).toBe('ACTIVE');
      await d().ensureAddressSet(GROUP, ['10.12.0.5']);
      const first = await d().plugPort(port);
      expect(['ACTIVE', 'DOWN']).toContain(first);
      // Once the VM's NIC is on the host, a bound port is ACTIVE (reported on its own when it was DOWN).
      await s.nicUp(d());
      if (first === 'DOWN') expect(reported).toContain(`port:${PORT}:ACTIVE`);
      expect(await d().plugPort(port)).toBe('ACTIVE');
      const r = await d().ensureRouter(router);
      expect(r.status).toBe('ACTIVE');
      expect(r.floatingIps).toEqual({});
    });

    it('re-applying the same documents is a no-op with the same statuses', async () => {
      const statuses: (WiringStatus | string)[] = [];
      for (let i = 0; i < 2; i++) {
        statuses.push(await d().ensureNetwork(network));
        await d().ensureAddressSet(GROUP, ['10.12.0.5']);
        statuses.push(await d().plugPort(port));
        statuses.push((await d().ensureRouter(router)).status);
      }
      expect(statuses).toEqual(['ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'ACTIVE']);
    });

    it('deleting everything leaves nothing, and deleting again succeeds', async () => {
      for (let i = 0; i < 2; i++) {
        await d().deleteRouter(ROUTER);
        await d().unplugPort(PORT, NET);
        await d().deleteAddressSet(GROUP);
        await d().deleteNetwork(NET);
      }
      expect(s.leftovers(d())).toEqual([]);
    });

    it('resync: reconcile removes what is not wanted', async (ctx) => {
      if (!d().reconcile) {
        ctx.skip(); // the driver keeps no host state, so the agent never asks for a resync
        return;
      }
      expect(await d().ensureNetwork(network)).toBe('ACTIVE');
      await d().plugPort(port);
      await d().ensureRouter(router);
      await d().reconcile!({ networks: [NET], routers: [], ports: [PORT] });
      expect(s.leftovers(d()).some((l) => l.includes(ROUTER))).toBe(false);
      expect(s.leftovers(d()).some((l) => l.includes(NET))).toBe(true);
      await d().reconcile!({ networks: [], routers: [], ports: [] });
      expect(s.leftovers(d())).toEqual([]);
    });
  });
}
