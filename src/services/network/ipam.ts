/**
 * IP address management: address math (IPv4 and IPv6 as BigInt), allocation pools, gateways, SLAAC (EUI-64)
 * and an allocator that is exact under concurrency.
 *
 * Exactness comes from the database, not from this process: every allocation is one row of a table whose
 * primary key is (subnet_id, ip_address), inserted with "ON CONFLICT DO NOTHING". A request reads the
 * addresses in use, picks a free candidate and tries to insert it; when another request won that address
 * (the insert affected no row) it reads again and picks another. Each lost race means another request got an
 * address, so the loop ends: either with an address or, when the pools hold no free address any more, with a
 * clean IpAddressGenerationFailure. This holds across processes sharing one PostgreSQL database too.
 *
 * Follows neutron/ipam/utils.py (generate_pools, check_subnet_ip), neutron/db/ipam_backend_mixin.py
 * (validate_allocation_pools, gateway checks) and neutron/ipam/drivers/neutrondb_ipam (random choice
 * within a window of free addresses).
 */
import ipaddr from 'ipaddr.js';
import { ApiError } from '../../core/errors.js';

export type IpVersion = 4 | 6;

export interface Ip {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  prefixlen: number;
  /** Network address. */
  first: bigint;
  /** Last address (broadcast in IPv4). */
  last: bigint;
}

export interface IpRange {
  start: string;
  end: string;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };

/** Parse an IP address literal (strict dotted quad for IPv4); undefined when it is not one. */
export function parseIp(s: unknown): Ip | undefined {
  if (typeof s !== 'string' || s.length > 64) return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) {
    const bytes = ipaddr.IPv4.parse(s).toByteArray();
    return { version: 4, value: bytesToBig(bytes) };
  }
  if (s.includes(':') && ipaddr.IPv6.isValid(s) && !s.includes('%')) {
    const bytes = ipaddr.IPv6.parse(s).toByteArray();
    return { version: 6, value: bytesToBig(bytes) };
  }
  return undefined;
}

function bytesToBig(bytes: number[]): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

/** Canonical text of an address (IPv6 compressed, lower case, as netaddr prints it). */
export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => Number((value >> s) & 0xffn)).join('.');
  }
  const bytes: number[] = [];
  for (let i = 15; i >= 0; i--) bytes.push(Number((value >> BigInt(i * 8)) & 0xffn));
  return ipaddr.fromByteArray(bytes).toString();
}

/** Canonical form of an address literal, or undefined. */
export function normalizeIp(s: unknown): string | undefined {
  const ip = parseIp(s);
  return ip ? formatIp(ip.version, ip.value) : undefined;
}

/** Parse `addr/len`. With `strict`, the address must be the network address (Neutron's validate_subnet). */
export function parseCidr(s: unknown, strict = false): Cidr | undefined {
  if (typeof s !== 'string') return undefined;
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const ip = parseIp(m ? m[1] : s);
  if (!ip) return undefined;
  const bits = BITS[ip.version];
  const prefixlen = m ? Number(m[2]) : bits;
  if (prefixlen > bits) return undefined;
  const hostBits = BigInt(bits - prefixlen);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << hostBits) - 1n);
  const first = ip.value & mask;
  if (strict && first !== ip.value) return undefined;
  return { version: ip.version, prefixlen, first, last: first | ((1n << hostBits) - 1n) };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.version, c.first)}/${c.prefixlen}`;
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return ip.version === c.version && ip.value >= c.first && ip.value <= c.last;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.first <= b.last && b.first <= a.last;
}

export function cidrSize(c: Cidr): bigint {
  return c.last - c.first + 1n;
}

/** Neutron's default gateway: the first address after the network address. */
export function defaultGateway(c: Cidr): string | null {
  if (c.last - c.first < 1n) return null;
  return formatIp(c.version, c.first + 1n);
}

/** Usable bounds of a subnet for pools (neutron validate_allocation_pools / generate_pools). */
export function usableBounds(c: Cidr): { first: bigint; last: bigint } {
  if (c.version === 4) {
    if (c.prefixlen <= 30) return { first: c.first + 1n, last: c.last - 1n };
    return { first: c.first, last: c.last };
  }
  return { first: c.first + 1n, last: c.last };
}

interface BigRange {
  first: bigint;
  last: bigint;
}

/** neutron.ipam.utils.generate_pools: the usable range minus the gateway, as ranges. */
export function generatePools(c: Cidr, gatewayIp: string | null): IpRange[] {
  if (c.first === c.last) return [{ start: formatIp(c.version, c.first), end: formatIp(c.version, c.last) }];
  const b = usableBounds(c);
  let ranges: BigRange[] = [{ first: b.first, last: b.last }];
  const gw = gatewayIp ? parseIp(gatewayIp) : undefined;
  if (gw && gw.version === c.version) ranges = subtract(ranges, gw.value);
  return ranges.map((r) => ({ start: formatIp(c.version, r.first), end: formatIp(c.version, r.last) }));
}

function subtract(ranges: BigRange[], v: bigint): BigRange[] {
  const out: BigRange[] = [];
  for (const r of ranges) {
    if (v < r.first || v > r.last) out.push(r);
    else {
      if (r.first < v) out.push({ first: r.first, last: v - 1n });
      if (v < r.last) out.push({ first: v + 1n, last: r.last });
    }
  }
  return out;
}

const invalidPool = (p: unknown) =>
  new ApiError(400, `The allocation pool ${poolText(p)} is not valid.`, 'InvalidAllocationPool');

function poolText(p: unknown): string {
  const r = p as { start?: unknown; end?: unknown } | undefined;
  return `${String(r?.start)}-${String(r?.end)}`;
}

/** Parse and validate allocation pools against a subnet, as ipam_backend_mixin.validate_allocation_pools. */
export function validatePools(pools: unknown, c: Cidr, cidrText: string): IpRange[] {
  if (!Array.isArray(pools)) {
    throw new ApiError(
      400,
      `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${String(pools)}'.`,
      'HTTPBadRequest',
    );
  }
  const b = usableBounds(c);
  const parsed: (BigRange & { text: string })[] = [];
  for (const p of pools) {
    const r = p as Record<string, unknown>;
    if (
      !r ||
      typeof r !== 'object' ||
      Array.isArray(r) ||
      Object.keys(r).some((k) => k !== 'start' && k !== 'end')
    ) {
      throw new ApiError(
        400,
        `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(p)}'.`,
        'HTTPBadRequest',
      );
    }
    const s = parseIp(r.start);
    const e = parseIp(r.end);
    if (!s || !e) {
      throw new ApiError(
        400,
        `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(p)}'.`,
        'HTTPBadRequest',
      );
    }
    if (s.version !== c.version || e.version !== c.version || s.value > e.value) throw invalidPool(p);
    if (s.value < b.first || e.value > b.last) {
      throw new ApiError(
        400,
        `The allocation pool ${poolText(p)} spans beyond the subnet cidr ${cidrText}.`,
        'OutOfBoundsAllocationPool',
      );
    }
    parsed.push({ first: s.value, last: e.value, text: poolText(p) });
  }
  for (let i = 0; i < parsed.length; i++)
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i]!;
      const z = parsed[j]!;
      if (a.first <= z.last && z.first <= a.last) {
        throw new ApiError(
          409,
          `Found overlapping allocation pools: ${a.text} ${z.text} for subnet ${cidrText}.`,
          'OverlappingAllocationPools',
        );
      }
    }
  return parsed.map((r) => ({ start: formatIp(c.version, r.first), end: formatIp(c.version, r.last) }));
}

/** Neutron check_gateway_invalid_in_subnet: gateway may not be the network or (IPv4) broadcast address. */
export function gatewayInvalidInSubnet(c: Cidr, gw: Ip): boolean {
  return cidrContains(c, gw) && c.version === 4 && (gw.value === c.first || gw.value === c.last);
}

/** The pool containing the gateway, if any (GatewayConflictWithAllocationPools). */
export function poolContaining(pools: IpRange[], ip: Ip): IpRange | undefined {
  return pools.find((p) => {
    const s = parseIp(p.start)!;
    const e = parseIp(p.end)!;
    return s.version === ip.version && ip.value >= s.value && ip.value <= e.value;
  });
}

/** neutron.ipam.utils.check_subnet_ip: valid address for a port on this subnet. */
export function checkSubnetIp(c: Cidr, ip: Ip, routerOwner = false): boolean {
  if (!cidrContains(c, ip)) return false;
  if (c.version === 4) return ip.value !== c.first && ip.value !== c.last;
  return routerOwner || ip.value !== c.first;
}

/** Number of addresses in the pools. */
export function poolsSize(pools: IpRange[]): bigint {
  let n = 0n;
  for (const p of pools) n += parseIp(p.end)!.value - parseIp(p.start)!.value + 1n;
  return n;
}

/** Neutron's port MAC: base fa:16:3e plus three random bytes. */
export function randomMac(base = 'fa:16:3e'): string {
  const parts = base.split(':');
  while (parts.length < 6)
    parts.push(
      Math.floor(Math.random() * 256)
        .toString(16)
        .padStart(2, '0'),
    );
  return parts.join(':');
}

export function normalizeMac(s: unknown): string | undefined {
  if (typeof s !== 'string') return undefined;
  const m =
    /^([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})[:-]([0-9a-fA-F]{2})$/.exec(
      s,
    );
  if (!m) return undefined;
  const mac = m.slice(1).join(':').toLowerCase();
  // Neutron rejects all-zero, broadcast and multicast MACs for ports.
  if (mac === '00:00:00:00:00:00' || (Number.parseInt(m[1]!, 16) & 1) === 1) return undefined;
  return mac;
}

/** IPv6 SLAAC address from a /64 prefix and a MAC (EUI-64, universal/local bit flipped). */
export function eui64(prefix: Cidr, mac: string): string {
  if (prefix.version !== 6) throw new Error('EUI-64 needs an IPv6 prefix');
  const b = mac.split(':').map((x) => Number.parseInt(x, 16));
  const iid = [b[0]! ^ 0x02, b[1]!, b[2]!, 0xff, 0xfe, b[3]!, b[4]!, b[5]!];
  let v = 0n;
  for (const x of iid) v = (v << 8n) | BigInt(x);
  const mask = (1n << 64n) - 1n;
  return formatIp(6, (prefix.first & ~mask) | v);
}

export const IPV6_AUTO_MODES = ['slaac', 'dhcpv6-stateless'];

/** True when ports get their IPv6 address from the prefix and the MAC (no allocation from pools). */
export function isAutoAddressSubnet(s: { ipVersion: number; ipv6AddressMode: string | null }): boolean {
  return s.ipVersion === 6 && !!s.ipv6AddressMode && IPV6_AUTO_MODES.includes(s.ipv6AddressMode);
}

// ------------------------------------------------------------------------------------------------
// Allocation

export interface IpamSubnet {
  id: string;
  networkId: string;
  cidr: string;
  ipVersion: number;
  gatewayIp: string | null;
  allocationPools: IpRange[];
  ipv6AddressMode: string | null;
}

/** What the allocator needs from storage (implemented by the store on a connection or a transaction). */
export interface AllocationStore {
  /** Addresses of the subnet that are allocated. */
  allocated(subnetId: string): Promise<string[]>;
  /** Record an allocation; false when the address is already taken (unique constraint). */
  tryInsert(a: { subnetId: string; networkId: string; ipAddress: string; portId: string }): Promise<boolean>;
  release(subnetId: string, ipAddress: string): Promise<void>;
}

export const generationFailure = (networkId: string) =>
  new ApiError(409, `No more IP addresses available on network ${networkId}.`, 'IpAddressGenerationFailure');

/** Free addresses are picked at random among the first WINDOW free ones, as Neutron's DB IPAM does. */
const WINDOW = 16;
/** Above this many free addresses, random probes are tried before reading every allocation. */
const LARGE = 1024n;

export class Ipam {
  constructor(private readonly store: AllocationStore) {}

  /** Allocate any free address of the subnet's pools. */
  async allocateAny(subnet: IpamSubnet, portId: string): Promise<string> {
    const version = subnet.ipVersion as IpVersion;
    const ranges = subnet.allocationPools.map((p) => ({
      first: parseIp(p.start)!.value,
      last: parseIp(p.end)!.value,
    }));
    const gw = subnet.gatewayIp ? parseIp(subnet.gatewayIp)?.value : undefined;
    const total = ranges.reduce((n, r) => n + (r.last - r.first + 1n), 0n);
    const insert = (value: bigint) =>
      this.store.tryInsert({
        subnetId: subnet.id,
        networkId: subnet.networkId,
        ipAddress: formatIp(version, value),
        portId,
      });
    if (total > LARGE) {
      // Big pools: random probes almost always succeed at once, without reading the whole table.
      for (let i = 0; i < 4; i++) {
        const v = pickNth(ranges, randomBig(total));
        if (v !== gw && (await insert(v))) return formatIp(version, v);
      }
    }
    for (let guard = 0; guard < 100_000; guard++) {
      const used = new Set<bigint>();
      for (const a of await this.store.allocated(subnet.id)) {
        const ip = parseIp(a);
        if (ip) used.add(ip.value);
      }
      if (gw !== undefined) used.add(gw);
      const free: bigint[] = [];
      outer: for (const r of ranges) {
        for (let v = r.first; v <= r.last; v++) {
          if (!used.has(v)) free.push(v);
          if (free.length >= WINDOW) break outer;
        }
      }
      if (free.length === 0) throw generationFailure(subnet.networkId);
      const v = free[Math.floor(Math.random() * free.length)]!;
      if (await insert(v)) return formatIp(version, v);
    }
    throw generationFailure(subnet.networkId);
  }

  /** Allocate one given address (must be a valid address of the subnet; pools do not matter, as Neutron). */
  async allocateSpecific(
    subnet: IpamSubnet,
    address: string,
    portId: string,
    routerOwner = false,
  ): Promise<string> {
    const c = parseCidr(subnet.cidr)!;
    const ip = parseIp(address);
    if (!ip || !checkSubnetIp(c, ip, routerOwner)) {
      throw new ApiError(
        400,
        `IP address ${address} is not a valid IP for the specified subnet.`,
        'InvalidIpForSubnet',
      );
    }
    const text = formatIp(ip.version, ip.value);
    if (
      !(await this.store.tryInsert({
        subnetId: subnet.id,
        networkId: subnet.networkId,
        ipAddress: text,
        portId,
      }))
    ) {
      throw new ApiError(
        409,
        `IP address ${text} already allocated in subnet ${subnet.id}`,
        'IpAddressAlreadyAllocated',
      );
    }
    return text;
  }

  /** SLAAC / DHCPv6-stateless: the EUI-64 address from the MAC. */
  async allocateAuto(subnet: IpamSubnet, mac: string, portId: string): Promise<string> {
    const address = eui64(parseCidr(subnet.cidr)!, mac);
    if (
      !(await this.store.tryInsert({
        subnetId: subnet.id,
        networkId: subnet.networkId,
        ipAddress: address,
        portId,
      }))
    ) {
      throw new ApiError(
        409,
        `Unable to complete operation for network ${subnet.networkId}. The IP address ${address} is in use.`,
        'IpAddressInUse',
      );
    }
    return address;
  }

  async release(subnetId: string, address: string): Promise<void> {
    await this.store.release(subnetId, address);
  }
}

function randomBig(n: bigint): bigint {
  // Uniform enough for picking probe addresses.
  let r = 0n;
  for (let i = 0; i < 5; i++) r = (r << 30n) | BigInt(Math.floor(Math.random() * 2 ** 30));
  return r % n;
}

function pickNth(ranges: BigRange[], n: bigint): bigint {
  for (const r of ranges) {
    const size = r.last - r.first + 1n;
    if (n < size) return r.first + n;
    n -= size;
  }
  return ranges[0]!.first;
}
