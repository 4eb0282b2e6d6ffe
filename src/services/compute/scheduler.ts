/**
 * The scheduler: Nova's filter scheduler in miniature (nova/scheduler/filters, weights). Runs inside a
 * serialized transaction with usage counted from the server rows, so concurrent boots never overcommit a
 * host: each choice is written (server.host) before the next request is considered.
 */
import type { HostRow, HostUsage } from './rows.js';

export interface SchedulingRequest {
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** Requested availability zone (undefined: any). */
  availabilityZone?: string;
  /** Requested host (admin `host` / forced `az:host`). */
  host?: string;
  forceHost?: boolean;
  /** Hosts this request must not use (e.g. the current host of a migration). */
  ignoreHosts?: string[];
  group?: { policy: string; rules: Record<string, unknown>; memberHosts: string[] };
  imageProperties?: Record<string, string>;
  flavorExtraSpecs?: Record<string, string>;
}

export interface HostState {
  row: HostRow;
  up: boolean;
  az: string;
  usage: HostUsage;
}

export interface Choice {
  host: string;
  az: string;
}

export class NoValidHost extends Error {
  constructor(readonly reasons: string[]) {
    super('No valid host was found. There are not enough hosts available.');
  }
}

type Filter = { name: string; pass: (h: HostState, r: SchedulingRequest) => boolean };

const FILTERS: Filter[] = [
  { name: 'ComputeFilter', pass: (h) => h.up && h.row.enabled === 1 },
  {
    name: 'ForcedHost',
    pass: (h, r) => !r.host || r.host === h.row.name || r.host === h.row.hypervisor_hostname,
  },
  { name: 'IgnoreHosts', pass: (h, r) => !r.ignoreHosts?.includes(h.row.name) },
  { name: 'AvailabilityZoneFilter', pass: (h, r) => !r.availabilityZone || r.availabilityZone === h.az },
  {
    name: 'ComputeCapabilitiesFilter',
    pass: (h, r) => {
      const want = r.flavorExtraSpecs?.['capabilities:hypervisor_type'];
      return !want || want.toLowerCase() === h.row.hypervisor_type.toLowerCase();
    },
  },
  {
    name: 'ImagePropertiesFilter',
    pass: (h, r) => {
      const want = r.imageProperties?.hypervisor_type ?? r.imageProperties?.img_hv_type;
      return !want || want.toLowerCase() === h.row.hypervisor_type.toLowerCase();
    },
  },
  { name: 'NumInstancesFilter', pass: (h) => h.usage.count < 50_000 },
  { name: 'VCPUFilter', pass: (h, r) => h.row.vcpus * h.row.cpu_allocation_ratio - h.usage.vcpus >= r.vcpus },
  {
    name: 'RamFilter',
    pass: (h, r) => h.row.memory_mb * h.row.ram_allocation_ratio - h.usage.memory_mb >= r.memoryMb,
  },
  {
    name: 'DiskFilter',
    pass: (h, r) => h.row.local_gb * h.row.disk_allocation_ratio - h.usage.disk_gb >= r.diskGb,
  },
  {
    name: 'ServerGroupAffinityFilter',
    pass: (h, r) =>
      r.group?.policy !== 'affinity' ||
      r.group.memberHosts.length === 0 ||
      r.group.memberHosts.includes(h.row.name),
  },
  {
    name: 'ServerGroupAntiAffinityFilter',
    pass: (h, r) => {
      if (r.group?.policy !== 'anti-affinity') return true;
      const max = Number(r.group.rules.max_server_per_host ?? 1);
      return r.group.memberHosts.filter((x) => x === h.row.name).length < max;
    },
  },
];

/** Pick the best host for one request, or throw NoValidHost with the filter that emptied the list. */
export function selectHost(hosts: HostState[], r: SchedulingRequest): Choice {
  let candidates = hosts;
  const reasons: string[] = [];
  for (const f of FILTERS) {
    if (r.forceHost && !['ComputeFilter', 'ForcedHost'].includes(f.name)) continue;
    const before = candidates.length;
    candidates = candidates.filter((h) => f.pass(h, r));
    if (candidates.length < before) reasons.push(`${f.name} removed ${before - candidates.length}`);
    if (candidates.length === 0) throw new NoValidHost(reasons);
  }
  // Weighers: RAMWeigher + CPUWeigher (spread), soft (anti-)affinity (nova/scheduler/weights).
  const weight = (h: HostState) => {
    const freeRam = h.row.memory_mb * h.row.ram_allocation_ratio - h.usage.memory_mb;
    const freeCpu = h.row.vcpus * h.row.cpu_allocation_ratio - h.usage.vcpus;
    let w = freeRam / Math.max(1, h.row.memory_mb) + freeCpu / Math.max(1, h.row.vcpus);
    const members = r.group?.memberHosts.filter((x) => x === h.row.name).length ?? 0;
    if (r.group?.policy === 'soft-affinity') w += members * 10;
    if (r.group?.policy === 'soft-anti-affinity') w -= members * 10;
    return w;
  };
  const best = [...candidates].sort(
    (a, b) => weight(b) - weight(a) || a.row.name.localeCompare(b.row.name),
  )[0]!;
  return { host: best.row.name, az: best.az };
}
