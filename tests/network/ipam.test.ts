/** IPAM unit tests: address math, pools, SLAAC, and the allocator's exactness under concurrency on a real database. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Database } from '../../src/core/db/index.js';
import { ApiError } from '../../src/core/errors.js';
import {
  Ipam,
  checkSubnetIp,
  defaultGateway,
  eui64,
  formatIp,
  generatePools,
  normalizeIp,
  parseCidr,
  parseIp,
  poolsSize,
  validatePools,
  type IpamSubnet,
} from '../../src/services/network/ipam.js';
import { networkMigrations } from '../../src/services/network/migrations.js';
import { NetworkStore } from '../../src/services/network/store.js';

const cidr = (s: string) => parseCidr(s)!;

describe('address math', () => {
  it('parses and formats IPv4 and IPv6', () => {
    expect(parseIp('10.0.0.1')).toEqual({ version: 4, value: 0x0a000001n });
    expect(parseIp('10.1')).toBeUndefined();
    expect(parseIp('256.0.0.1')).toBeUndefined();
    expect(parseIp('fe80::1%eth0')).toBeUndefined();
    expect(normalizeIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(formatIp(6, parseIp('2001:db8::ff')!.value + 1n)).toBe('2001:db8::100');
  });
  it('parses cidrs strictly when asked', () => {
    expect(parseCidr('10.0.0.5/24', true)).toBeUndefined();
    expect(parseCidr('10.0.0.0/24', true)).toMatchObject({ version: 4, prefixlen: 24 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('2001:db8::/64', true)!.last).toBe(parseIp('2001:db8::ffff:ffff:ffff:ffff')!.value);
  });
  it('computes default gateway and pools as Neutron', () => {
    const c = cidr('192.168.1.0/24');
    expect(defaultGateway(c)).toBe('192.168.1.1');
    expect(generatePools(c, '192.168.1.1')).toEqual([{ start: '192.168.1.2', end: '192.168.1.254' }]);
    expect(generatePools(c, '192.168.1.100')).toEqual([
      { start: '192.168.1.1', end: '192.168.1.99' },
      { start: '192.168.1.101', end: '192.168.1.254' },
    ]);
    expect(generatePools(c, null)).toEqual([{ start: '192.168.1.1', end: '192.168.1.254' }]);
    expect(generatePools(cidr('10.0.0.0/31'), null)).toEqual([{ start: '10.0.0.0', end: '10.0.0.1' }]);
    expect(generatePools(cidr('2001:db8::/64'), '2001:db8::1')).toEqual([
      { start: '2001:db8::2', end: '2001:db8::ffff:ffff:ffff:ffff' },
    ]);
    expect(poolsSize(generatePools(cidr('10.0.0.0/28'), '10.0.0.1'))).toBe(13n);
  });
  it('validates allocation pools', () => {
    const c = cidr('10.0.0.0/24');
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e as ApiError;
      }
      throw new Error('no error');
    };
    expect(validatePools([{ start: '10.0.0.10', end: '10.0.0.20' }], c, '10.0.0.0/24')).toHaveLength(1);
    expect(err(() => validatePools([{ start: '10.0.0.20', end: '10.0.0.10' }], c, '10.0.0.0/24')).kind).toBe(
      'InvalidAllocationPool',
    );
    expect(err(() => validatePools([{ start: '10.0.0.0', end: '10.0.0.10' }], c, '10.0.0.0/24')).kind).toBe(
      'OutOfBoundsAllocationPool',
    );
    expect(err(() => validatePools([{ start: '10.0.0.2', end: '10.0.1.10' }], c, '10.0.0.0/24')).status).toBe(
      400,
    );
    const o = err(() =>
      validatePools(
        [
          { start: '10.0.0.2', end: '10.0.0.10' },
          { start: '10.0.0.10', end: '10.0.0.20' },
        ],
        c,
        '10.0.0.0/24',
      ),
    );
    expect([o.status, o.kind]).toEqual([409, 'OverlappingAllocationPools']);
    expect(err(() => validatePools([{ start: 'x', end: '10.0.0.1' }], c, '10.0.0.0/24')).status).toBe(400);
    expect(err(() => validatePools([{ start: '::1', end: '::2' }], c, '10.0.0.0/24')).kind).toBe(
      'InvalidAllocationPool',
    );
  });
  it('checks port addresses against the subnet', () => {
    const c = cidr('10.0.0.0/24');
    expect(checkSubnetIp(c, parseIp('10.0.0.0')!)).toBe(false);
    expect(checkSubnetIp(c, parseIp('10.0.0.255')!)).toBe(false);
    expect(checkSubnetIp(c, parseIp('10.0.0.7')!)).toBe(true);
    expect(checkSubnetIp(c, parseIp('10.0.1.7')!)).toBe(false);
  });
  it('derives SLAAC addresses (EUI-64) from the MAC', () => {
    expect(eui64(cidr('2001:db8:1:2::/64'), 'fa:16:3e:12:34:56')).toBe('2001:db8:1:2:f816:3eff:fe12:3456');
    expect(eui64(cidr('fd00::/64'), '00:00:5e:00:53:01')).toBe('fd00::200:5eff:fe00:5301');
  });
});

/** A database with the network tables, a network, a subnet and `n` ports to allocate for. */
async function fixture(db: Database, subnetCidr: string, n: number) {
  await migrate(db, { network: networkMigrations });
  const store = new NetworkStore(db);
  const now = new Date().toISOString();
  const std = { description: '', revision_number: 0, created_at: now, updated_at: now };
  const netId = `net-${randomBytes(4).toString('hex')}`;
  await store.insert('net_networks', { id: netId, project_id: 'p', status: 'ACTIVE', mtu: 1500, ...std });
  const c = parseCidr(subnetCidr)!;
  const gw = defaultGateway(c);
  const subnet: IpamSubnet = {
    id: `sub-${randomBytes(4).toString('hex')}`,
    networkId: netId,
    cidr: subnetCidr,
    ipVersion: c.version,
    gatewayIp: gw,
    allocationPools: generatePools(c, gw),
    ipv6AddressMode: null,
  };
  await store.insert('net_subnets', {
    id: subnet.id,
    project_id: 'p',
    network_id: netId,
    ip_version: c.version,
    cidr: subnetCidr,
    gateway_ip: gw,
    allocation_pools: JSON.stringify(subnet.allocationPools),
    ...std,
  });
  const ports: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `port-${i}-${randomBytes(4).toString('hex')}`;
    ports.push(id);
    await store.insert('net_ports', {
      id,
      project_id: 'p',
      network_id: netId,
      mac_address: `fa:16:3e:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
      status: 'DOWN',
      ...std,
    });
  }
  return { store, subnet, ports };
}

/** Allocate one address per port, all at once, each in its own transaction as the manager does. */
async function race(stores: NetworkStore[], subnet: IpamSubnet, ports: string[]) {
  const results = await Promise.allSettled(
    ports.map((portId, i) => {
      const store = stores[i % stores.length]!;
      return store.tx((trx) => new Ipam(store.allocationStore(trx)).allocateAny(subnet, portId));
    }),
  );
  const ok = results
    .filter((r) => r.status === 'fulfilled')
    .map((r) => (r as PromiseFulfilledResult<string>).value);
  const failed = results
    .filter((r) => r.status === 'rejected')
    .map((r) => (r as PromiseRejectedResult).reason as ApiError);
  return { ok, failed };
}

function backends(): { name: string; open: () => Promise<{ dbs: Database[]; done: () => Promise<void> }> }[] {
  const list = [
    {
      name: 'sqlite',
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), 'ipam-'));
        const db = openDatabase(`sqlite:${join(dir, 'db.sqlite')}`);
        return {
          dbs: [db],
          done: async () => {
            await db.close();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
  const pgUrl = process.env.STACKBOX_TEST_DATABASE_URL;
  if (pgUrl) {
    list.push({
      name: 'postgres (two connection pools, as two API processes)',
      open: async () => {
        const name = `sbipam_${randomBytes(5).toString('hex')}`;
        const admin = new pg.Client({ connectionString: pgUrl });
        await admin.connect();
        await admin.query(`CREATE DATABASE ${name}`);
        await admin.end();
        const u = new URL(pgUrl);
        u.pathname = `/${name}`;
        const a = openDatabase(u.toString());
        const b = openDatabase(u.toString());
        return {
          dbs: [a, b],
          done: async () => {
            await a.close();
            await b.close();
            const c = new pg.Client({ connectionString: pgUrl });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
            await c.end();
          },
        };
      },
    });
  }
  return list;
}

for (const backend of backends()) {
  describe(`allocator on ${backend.name}`, () => {
    let dbs: Database[];
    let done: () => Promise<void>;
    beforeAll(async () => {
      ({ dbs, done } = await backend.open());
    });
    afterAll(async () => done?.());

    it('50 parallel allocations on a /28 give exactly 13 distinct addresses and 37 clean 409s', async () => {
      const { store, subnet, ports } = await fixture(dbs[0]!, '10.20.30.0/28', 50);
      const stores = dbs.map((d) => new NetworkStore(d));
      const { ok, failed } = await race(stores, subnet, ports);
      expect(ok).toHaveLength(13);
      expect(new Set(ok).size).toBe(13);
      expect(ok).not.toContain('10.20.30.1');
      expect(ok).not.toContain('10.20.30.0');
      expect(ok).not.toContain('10.20.30.15');
      expect(failed).toHaveLength(37);
      for (const f of failed) {
        expect(f).toBeInstanceOf(ApiError);
        expect([f.status, f.kind]).toEqual([409, 'IpAddressGenerationFailure']);
        expect(f.message).toBe(`No more IP addresses available on network ${subnet.networkId}.`);
      }
      // Nothing lost, nothing duplicated: the table holds exactly the 13 addresses handed out.
      const rows = await store.list('net_ipallocations', {
        where: [{ eq: 'subnet_id', values: [subnet.id] }],
      });
      expect(rows.map((r) => r.ip_address).sort()).toEqual([...ok].sort());
      expect(new Set(rows.map((r) => r.port_id)).size).toBe(13);
    });

    it('a released address is handed out again; exact requests conflict cleanly', async () => {
      const { store, subnet, ports } = await fixture(dbs[0]!, '10.9.0.0/29', 8);
      const ipam = new Ipam(store.allocationStore());
      const got: string[] = [];
      for (const p of ports.slice(0, 5)) got.push(await ipam.allocateAny(subnet, p));
      expect(new Set(got)).toEqual(new Set(['10.9.0.2', '10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']));
      await expect(ipam.allocateAny(subnet, ports[5]!)).rejects.toMatchObject({ status: 409 });
      await ipam.release(subnet.id, '10.9.0.4');
      expect(await ipam.allocateAny(subnet, ports[5]!)).toBe('10.9.0.4');
      await expect(ipam.allocateSpecific(subnet, '10.9.0.4', ports[6]!)).rejects.toMatchObject({
        status: 409,
        kind: 'IpAddressAlreadyAllocated',
      });
      await expect(ipam.allocateSpecific(subnet, '10.9.0.7', ports[6]!)).rejects.toMatchObject({
        status: 400,
        kind: 'InvalidIpForSubnet',
      });
      // The gateway is outside the pools but may be requested exactly (a router interface does).
      expect(await ipam.allocateSpecific(subnet, '10.9.0.1', ports[6]!)).toBe('10.9.0.1');
    });

    it('parallel exact requests for one address: one winner', async () => {
      const { store, subnet, ports } = await fixture(dbs[0]!, '10.9.1.0/24', 20);
      const stores = dbs.map((d) => new NetworkStore(d));
      const results = await Promise.allSettled(
        ports.map((p, i) => {
          const s = stores[i % stores.length]!;
          return s.tx((trx) => new Ipam(s.allocationStore(trx)).allocateSpecific(subnet, '10.9.1.50', p));
        }),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(await store.count('net_ipallocations', [{ eq: 'subnet_id', values: [subnet.id] }])).toBe(1);
    });

    it('large IPv6 pools allocate without scanning and SLAAC uses EUI-64', async () => {
      const { store, subnet, ports } = await fixture(dbs[0]!, '2001:db8:5::/64', 40);
      const ipam = new Ipam(store.allocationStore());
      const got = await Promise.all(ports.slice(0, 30).map((p) => ipam.allocateAny(subnet, p)));
      expect(new Set(got).size).toBe(30);
      for (const a of got) expect(a.startsWith('2001:db8:5:')).toBe(true);
      const slaac = { ...subnet, ipv6AddressMode: 'slaac' };
      expect(await ipam.allocateAuto(slaac, 'fa:16:3e:00:00:01', ports[30]!)).toBe(
        '2001:db8:5:0:f816:3eff:fe00:1',
      );
      await expect(ipam.allocateAuto(slaac, 'fa:16:3e:00:00:01', ports[31]!)).rejects.toMatchObject({
        status: 409,
      });
    });
  });
}
