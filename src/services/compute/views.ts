/** Row → API JSON, per microversion (nova/api/openstack/compute/views/*.py). */
import { createHash } from 'node:crypto';
import { bool, json } from '../../core/db/index.js';
import type { Address } from './manager/index.js';
import type { Mv } from './microversion.js';
import type { ActionRow, FlavorRow, HostRow, KeypairRow, ServerRow } from './rows.js';

/** vm_state + task_state → API status (nova/api/openstack/common.py _STATE_MAP). */
const STATE_MAP: Record<string, Record<string, string>> = {
  active: {
    default: 'ACTIVE',
    rebooting: 'REBOOT',
    reboot_pending: 'REBOOT',
    reboot_started: 'REBOOT',
    rebooting_hard: 'HARD_REBOOT',
    reboot_pending_hard: 'HARD_REBOOT',
    reboot_started_hard: 'HARD_REBOOT',
    updating_password: 'PASSWORD',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
    migrating: 'MIGRATING',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
  },
  building: { default: 'BUILD' },
  stopped: {
    default: 'SHUTOFF',
    resize_prep: 'RESIZE',
    resize_migrating: 'RESIZE',
    resize_migrated: 'RESIZE',
    resize_finish: 'RESIZE',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
  },
  resized: { default: 'VERIFY_RESIZE', resize_reverting: 'REVERT_RESIZE' },
  paused: { default: 'PAUSED', migrating: 'MIGRATING' },
  suspended: { default: 'SUSPENDED' },
  rescued: { default: 'RESCUE' },
  error: {
    default: 'ERROR',
    rebuilding: 'REBUILD',
    rebuild_block_device_mapping: 'REBUILD',
    rebuild_spawning: 'REBUILD',
  },
  deleted: { default: 'DELETED' },
  'soft-delete': { default: 'SOFT_DELETED' },
  shelved: { default: 'SHELVED' },
  shelved_offloaded: { default: 'SHELVED_OFFLOADED' },
};

export function statusOf(vm: string, task: string | null): string {
  const m = STATE_MAP[vm];
  if (!m) return 'UNKNOWN';
  return (task && m[task]) || m.default!;
}

/** status → the vm_states (and task states) it stands for, for the `status` list filter (common.task_and_vm_state_from_status). */
export function statesOf(status: string): { vm: string[]; task: (string | null)[] | null } {
  const vm: string[] = [];
  const task = new Set<string | null>();
  let anyTask = false;
  for (const [state, m] of Object.entries(STATE_MAP))
    for (const [t, st] of Object.entries(m)) {
      if (st !== status.toUpperCase()) continue;
      if (!vm.includes(state)) vm.push(state);
      if (t === 'default') anyTask = true;
      else task.add(t);
    }
  return { vm, task: anyTask ? null : [...task] };
}

/** Nova's launched_at/terminated_at format: naive ISO with microseconds. */
export function naiveMicro(iso: string | null): string | null {
  if (!iso) return null;
  return iso
    .replace(/Z$/, '')
    .replace(/\.(\d{3})$/, '.$1000')
    .replace(/T(\d\d:\d\d:\d\d)$/, 'T$1.000000');
}

export function hostId(projectId: string, host: string | null): string {
  return host
    ? createHash('sha224')
        .update(projectId + host)
        .digest('hex')
    : '';
}

export interface ViewCtx {
  mv: Mv;
  base: string; // e.g. http://host:8600/compute
  isAdmin: boolean;
  /** Extended attributes (OS-EXT-SRV-ATTR) allowed. */
  extended: boolean;
  hostStatus?: (host: string | null) => string;
  flavorExtraSpecs: boolean;
}

export const links = (base: string, coll: string, id: string | number) => [
  { rel: 'self', href: `${base}/v2.1/${coll}/${id}` },
  { rel: 'bookmark', href: `${base}/${coll}/${id}` },
];

export function addressesView(s: ServerRow): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const a of json<Address[]>(s.addresses, [])) {
    (out[a.network] ??= []).push({
      version: a.version,
      addr: a.addr,
      'OS-EXT-IPS:type': a.type,
      'OS-EXT-IPS-MAC:mac_addr': a.mac,
    });
  }
  return out;
}

export function serverSummary(s: ServerRow, v: ViewCtx) {
  return { id: s.id, name: s.name, links: links(v.base, 'servers', s.id) };
}

export function serverView(
  s: ServerRow,
  v: ViewCtx,
  extra: { tags?: string[]; groups?: string[]; show?: boolean; volumes?: string[] } = {},
) {
  const mv = v.mv;
  const f = json<FlavorRow>(s.flavor, {} as FlavorRow);
  const status = statusOf(s.vm_state, s.task_state);
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status,
    tenant_id: s.project_id,
    user_id: s.user_id,
    metadata: json(s.metadata, {}),
    hostId: hostId(s.project_id, s.host),
    image: s.image_ref
      ? { id: s.image_ref, links: [{ rel: 'bookmark', href: `${v.base}/images/${s.image_ref}` }] }
      : '',
    flavor: mv.ge(47)
      ? {
          vcpus: f.vcpus,
          ram: f.ram,
          disk: f.disk,
          ephemeral: f.ephemeral,
          swap: f.swap,
          original_name: f.name,
          ...(v.flavorExtraSpecs ? { extra_specs: json(f.extra_specs, {}) } : {}),
        }
      : { id: s.flavor_id, links: [{ rel: 'bookmark', href: `${v.base}/flavors/${s.flavor_id}` }] },
    created: s.created_at,
    updated: s.updated_at,
    addresses: addressesView(s),
    accessIPv4: s.access_ip_v4 ?? '',
    accessIPv6: s.access_ip_v6 ?? '',
    links: links(v.base, 'servers', s.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': s.availability_zone ?? '',
    config_drive: bool(s.config_drive) ? 'True' : '',
    key_name: s.key_name,
    'OS-SRV-USG:launched_at': naiveMicro(s.launched_at),
    'OS-SRV-USG:terminated_at': naiveMicro(s.terminated_at),
    'OS-EXT-STS:task_state': s.task_state,
    'OS-EXT-STS:vm_state': s.vm_state,
    'OS-EXT-STS:power_state': s.power_state,
    // Nova: [{id}], plus delete_on_termination from 2.3 (never set here yet).
    'os-extended-volumes:volumes_attached': (extra.volumes ?? []).map((id) =>
      v.mv.ge(3) ? { id, delete_on_termination: false } : { id },
    ),
  };
  if (['BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING', 'ACTIVE'].includes(status))
    out.progress = s.progress;
  const sgs = json<string[]>(s.security_groups, []);
  if (sgs.length) out.security_groups = sgs.map((name) => ({ name }));
  if (v.extended) {
    out['OS-EXT-SRV-ATTR:host'] = s.host;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.node;
    out['OS-EXT-SRV-ATTR:instance_name'] = `instance-${s.seq.toString(16).padStart(8, '0')}`;
    if (mv.ge(3)) {
      out['OS-EXT-SRV-ATTR:reservation_id'] = s.reservation_id;
      out['OS-EXT-SRV-ATTR:launch_index'] = s.launch_index;
      out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
      out['OS-EXT-SRV-ATTR:kernel_id'] = '';
      out['OS-EXT-SRV-ATTR:ramdisk_id'] = '';
      out['OS-EXT-SRV-ATTR:root_device_name'] = '/dev/vda';
      out['OS-EXT-SRV-ATTR:user_data'] = s.user_data;
    }
  }
  if (mv.ge(9)) out.locked = bool(s.locked);
  if (mv.ge(16) && v.hostStatus) out.host_status = v.hostStatus(s.host);
  if (mv.ge(19)) out.description = s.description;
  if (mv.ge(26)) out.tags = extra.tags ?? [];
  if (mv.ge(63)) out.trusted_image_certificates = null;
  if (mv.ge(71) && extra.show) out.server_groups = extra.groups ?? [];
  if (mv.ge(73)) out.locked_reason = s.locked_reason;
  if (s.fault && ['error', 'deleted'].includes(s.vm_state)) {
    const fault = json<{ code: number; message: string; details?: string; created: string }>(s.fault, {
      code: 500,
      message: '',
      created: s.updated_at,
    });
    out.fault = {
      code: fault.code,
      created: fault.created,
      message: fault.message,
      ...(v.isAdmin || fault.code !== 500 ? { details: fault.details ?? '' } : {}),
    };
  }
  return out;
}

export function flavorView(
  f: FlavorRow,
  base: string,
  mv: Mv,
  o: { extraSpecs?: boolean; summary?: boolean } = {},
) {
  if (o.summary) {
    return {
      id: f.id,
      name: f.name,
      links: links(base, 'flavors', f.id),
      ...(mv.ge(55) ? { description: f.description } : {}),
    };
  }
  return {
    id: f.id,
    name: f.name,
    ram: f.ram,
    disk: f.disk,
    swap: f.swap === 0 && mv.lt(75) ? '' : f.swap,
    'OS-FLV-EXT-DATA:ephemeral': f.ephemeral,
    'OS-FLV-DISABLED:disabled': bool(f.disabled),
    vcpus: f.vcpus,
    'os-flavor-access:is_public': bool(f.is_public),
    rxtx_factor: f.rxtx_factor,
    links: links(base, 'flavors', f.id),
    ...(mv.ge(55) ? { description: f.description } : {}),
    ...(mv.ge(61) && o.extraSpecs ? { extra_specs: json(f.extra_specs, {}) } : {}),
  };
}

export function keypairView(k: KeypairRow, mv: Mv, detail: boolean) {
  const base: Record<string, unknown> = {
    name: k.name,
    public_key: k.public_key,
    fingerprint: k.fingerprint,
  };
  if (mv.ge(2)) base.type = k.type;
  if (!detail) return base;
  return {
    ...base,
    user_id: k.user_id,
    created_at: naiveMicro(k.created_at),
    deleted: false,
    deleted_at: null,
    updated_at: null,
    id: k.id,
  };
}

export function hypervisorView(
  h: HostRow,
  mv: Mv,
  o: {
    detail: boolean;
    up: boolean;
    usage: { vcpus: number; memory_mb: number; disk_gb: number; count: number };
    servers?: { uuid: string; name: string }[];
  },
) {
  const out: Record<string, unknown> = {
    id: mv.ge(53) ? h.hypervisor_uuid : h.id,
    hypervisor_hostname: h.hypervisor_hostname,
    state: o.up ? 'up' : 'down',
    status: h.enabled ? 'enabled' : 'disabled',
  };
  if (o.servers) out.servers = o.servers;
  if (!o.detail) return out;
  const cpuInfo = json<Record<string, unknown>>(h.cpu_info, {});
  return {
    ...out,
    hypervisor_type: h.hypervisor_type,
    hypervisor_version: h.hypervisor_version,
    host_ip: h.host_ip,
    service: { host: h.name, id: mv.ge(53) ? h.service_uuid : h.id, disabled_reason: h.disabled_reason },
    vcpus: h.vcpus,
    memory_mb: h.memory_mb,
    local_gb: h.local_gb,
    vcpus_used: o.usage.vcpus,
    memory_mb_used: o.usage.memory_mb,
    local_gb_used: o.usage.disk_gb,
    free_ram_mb: h.memory_mb - o.usage.memory_mb,
    free_disk_gb: h.local_gb - o.usage.disk_gb,
    current_workload: 0,
    running_vms: o.usage.count,
    disk_available_least: h.local_gb - o.usage.disk_gb,
    cpu_info: mv.ge(28) ? cpuInfo : JSON.stringify(cpuInfo),
  };
}

/** An instance action (os-instance-actions list and show). */
export function actionView(a: ActionRow, mv: Mv) {
  return {
    action: a.action,
    instance_uuid: a.server_id,
    message: a.message,
    project_id: a.project_id,
    request_id: a.request_id,
    start_time: naiveMicro(new Date(a.start_time).toISOString()),
    user_id: a.user_id,
    ...(mv.ge(58) ? { updated_at: naiveMicro(new Date(a.updated_at ?? a.start_time).toISOString()) } : {}),
  };
}
