/** GET /servers and /servers/detail: Nova's filters, sorting and keyset paging (nova/api/openstack/compute/servers.py). */
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { pageHref } from '../../../core/http/collection.js';
import { json } from '../../../core/db/index.js';
import type { ComputeManager } from '../manager/index.js';
import type { ServerQuery, ServerRow } from '../rows.js';
import { serverSummary, serverView, statesOf } from '../views.js';
import { hostStatus } from './server-render.js';
import { bad, callerOf, limitOf, mv, q1, qAll, query, viewCtx } from './common.js';

const SORT_KEYS: Record<string, string> = {
  created_at: 'created_at',
  updated_at: 'updated_at',
  display_name: 'name',
  name: 'name',
  uuid: 'id',
  vm_state: 'vm_state',
  task_state: 'task_state',
  power_state: 'power_state',
  launched_at: 'launched_at',
  terminated_at: 'terminated_at',
  host: 'host',
  node: 'node',
  availability_zone: 'availability_zone',
  project_id: 'project_id',
  user_id: 'user_id',
  key_name: 'key_name',
  image_ref: 'image_ref',
  instance_type_id: 'flavor_id',
  hostname: 'hostname',
  locked: 'locked',
  launch_index: 'launch_index',
  reservation_id: 'reservation_id',
  display_description: 'description',
};
const IGNORED_SORT = [
  'architecture',
  'cell_name',
  'cleaned',
  'default_ephemeral_device',
  'default_swap_device',
  'deleted',
  'deleted_at',
  'disable_terminate',
  'ephemeral_gb',
  'ephemeral_key_uuid',
  'id',
  'key_data',
  'launched_on',
  'locked_by',
  'memory_mb',
  'os_type',
  'reservation_id',
  'root_gb',
  'shutdown_terminate',
  'user_data',
  'vcpus',
  'vm_mode',
];

const ADMIN_ONLY_FILTERS = [
  'all_tenants',
  'project_id',
  'tenant_id',
  'host',
  'node',
  'deleted',
  'task_state',
  'vm_state',
  'power_state',
  'launched_at',
  'terminated_at',
  'uuid',
  'hostname',
  'kernel_id',
  'ramdisk_id',
  'launch_index',
  'config_drive',
  'created_at',
  'key_name',
  'progress',
  'access_ip_v4',
  'access_ip_v6',
  'user_id',
  'availability_zone',
  'description',
  'locked_by',
  'root_device_name',
  'auto_disk_config',
  'vm_state',
  'updated_at',
  'display_description',
];
const USER_FILTERS = [
  'reservation_id',
  'name',
  'status',
  'image',
  'flavor',
  'ip',
  'changes-since',
  'changes-before',
  'ip6',
  'tags',
  'tags-any',
  'not-tags',
  'not-tags-any',
  'locked',
  'all_tenants',
  'limit',
  'marker',
  'sort_key',
  'sort_dir',
  'fields',
];
const USER_FILTERS_283 = [
  'availability_zone',
  'config_drive',
  'key_name',
  'created_at',
  'launched_at',
  'terminated_at',
  'power_state',
  'task_state',
  'vm_state',
  'progress',
  'user_id',
];

/** GET /servers (detail: /servers/detail). */
export async function listServers(req: FastifyRequest, mgr: ComputeManager, base: string, detail: boolean) {
  const c = callerOf(req, mgr);
  const rule = detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index';
  req.authorize({ project_id: c.projectId });
  const v = mv(req);
  const store = mgr.store;
  const qs = query(req);
  const allFilters = mgr.can('os_compute_api:servers:allow_all_filters', { project_id: c.projectId }, c);
  if (v.ge(75)) {
    const known = new Set([
      ...USER_FILTERS,
      ...USER_FILTERS_283,
      ...ADMIN_ONLY_FILTERS,
      'deleted',
      'soft_deleted',
    ]);
    for (const k of Object.keys(qs))
      if (!known.has(k))
        throw bad(
          `Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`,
        );
  }
  const allowed = new Set([...USER_FILTERS, ...(v.ge(83) ? USER_FILTERS_283 : [])]);
  const f = (k: string) => (allFilters || allowed.has(k) ? q1(req, k) : undefined);
  const allTenantsRaw = q1(req, 'all_tenants');
  const allTenants =
    allTenantsRaw !== undefined && !['0', 'false', 'f', 'no', 'off'].includes(allTenantsRaw.toLowerCase());
  if (allTenants) req.authorize({ project_id: c.projectId }, `${rule}:get_all_tenants`);
  const k: ServerQuery = {
    deleted: 'live',
    equals: {},
    tags: [],
    tagsAny: [],
    notTags: [],
    notTagsAny: [],
    sort: 'created_at',
    dir: 'desc',
  };
  const projectFilter = f('project_id') ?? f('tenant_id');
  if (!allTenants) k.projectId = allFilters && projectFilter ? projectFilter : c.projectId;
  else if (projectFilter) k.projectId = projectFilter;
  const changesSince = f('changes-since');
  const changesBefore = v.ge(66) ? f('changes-before') : undefined;
  for (const [name, val] of [
    ['changes-since', changesSince],
    ['changes-before', changesBefore],
  ] as const)
    if (val !== undefined && Number.isNaN(Date.parse(val)))
      throw bad(`Invalid input for query parameters ${name}. Value: ${val}. '${val}' is not a 'date-time'`);
  const deletedQ = allFilters ? f('deleted') : undefined;
  const wantDeleted = deletedQ !== undefined && ['true', '1', 'yes'].includes(deletedQ.toLowerCase());
  k.deleted = wantDeleted ? 'only' : !changesSince && !changesBefore ? 'live' : 'any';
  const iso = (x: string) => new Date(x).toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (changesSince) k.updatedSince = iso(changesSince);
  if (changesBefore) k.updatedBefore = iso(changesBefore);
  if (changesSince && changesBefore && Date.parse(changesSince) > Date.parse(changesBefore))
    throw bad('The value of changes-since must be less than or equal to changes-before.');
  const status = f('status');
  if (status !== undefined) {
    const st = statesOf(status);
    if (st.vm.length === 0) {
      if (v.ge(38)) throw bad(`Invalid status value`);
      return { servers: [], ...(detail ? {} : {}) };
    }
    k.vmStates = st.vm;
    if (st.task) k.taskStates = st.task.filter((x): x is string => x !== null);
  }
  const image = f('image');
  if (image) k.equals.image_ref = image.split('/').pop()!;
  const flavor = f('flavor');
  if (flavor) k.equals.flavor_id = flavor.split('/').pop()!;
  const rid = f('reservation_id');
  if (rid) k.equals.reservation_id = rid;
  if (allFilters || v.ge(83)) {
    for (const [qk, col] of [
      ['availability_zone', 'availability_zone'],
      ['key_name', 'key_name'],
      ['vm_state', 'vm_state'],
      ['task_state', 'task_state'],
      ['user_id', 'user_id'],
    ] as const) {
      const val = f(qk);
      if (val !== undefined) k.equals[col] = val;
    }
    const ps = f('power_state');
    if (ps !== undefined && /^\d+$/.test(ps)) k.powerState = Number(ps);
  }
  if (allFilters) {
    for (const [qk, col] of [
      ['host', 'host'],
      ['node', 'node'],
      ['uuid', 'id'],
      ['hostname', 'hostname'],
    ] as const) {
      const val = f(qk);
      if (val !== undefined) k.equals[col] = val;
    }
  }
  const locked = v.ge(73) ? f('locked') : undefined;
  if (locked !== undefined) {
    const lv = locked.toLowerCase();
    if (!['true', 'false', '1', '0', 'yes', 'no', 't', 'f', 'y', 'n', 'on', 'off'].includes(lv))
      throw bad(
        `Unrecognized value '${locked}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,
      );
    k.locked = ['true', '1', 'yes', 't', 'y', 'on'].includes(lv) ? 1 : 0;
  }
  const tagList = (name: string) =>
    (f(name) ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  k.tags = tagList('tags');
  k.tagsAny = tagList('tags-any');
  k.notTags = tagList('not-tags');
  k.notTagsAny = tagList('not-tags-any');

  // sorting and paging: keyset on (sort column, seq)
  const sortKeys = qAll(req, 'sort_key');
  const sortDirs = qAll(req, 'sort_dir');
  let col = 'created_at';
  for (const sk of sortKeys) {
    if (IGNORED_SORT.includes(sk)) continue;
    if (!SORT_KEYS[sk])
      throw bad(
        `Invalid input for query parameters sort_key. Value: ${sk}. '${sk}' is not one of the allowed values`,
      );
    if (!allFilters && ['host', 'node'].includes(sk))
      throw new ApiError(403, `Only administrators can sort servers by ${sk}`, 'forbidden');
    col = SORT_KEYS[sk]!;
    break;
  }
  const dir = (sortDirs[0] ?? 'desc').toLowerCase();
  if (!['asc', 'desc'].includes(dir))
    throw bad(
      `Invalid input for query parameters sort_dir. Value: ${dir}. '${dir}' is not one of ['asc', 'desc']`,
    );
  const limit = limitOf(req);
  const marker = q1(req, 'marker');
  const nameRe = f('name');
  const ip = f('ip');
  const ip6 = v.ge(5) || allFilters ? f('ip6') : undefined;
  let re: RegExp | undefined;
  if (nameRe !== undefined) {
    try {
      re = new RegExp(nameRe);
    } catch {
      re = new RegExp(nameRe.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    }
  }
  const jsFilter = re || ip || ip6;
  if (marker) {
    const m = await store.server(marker, { deleted: true });
    if (!m) throw bad(`marker [${marker}] not found`);
    k.after = m;
  }
  k.sort = col;
  k.dir = dir as 'asc' | 'desc';
  let rows: ServerRow[];
  if (!jsFilter) rows = await store.listServers(k, limit ?? 1000);
  else {
    // Regex/IP filters run here (SQLite has no REGEXP): scan only the columns they need, in order,
    // stop at the page size, then load the page's full rows.
    const want = limit ?? 1000;
    const ipRe = ip ? new RegExp(ip) : undefined;
    const ip6Re = ip6 ? new RegExp(ip6) : undefined;
    const picked: string[] = [];
    for (let offset = 0; picked.length < want; offset += 2000) {
      const chunk = await store.scanServers(k, offset, 2000);
      for (const x of chunk) {
        if (re && !re.test(x.name)) continue;
        if (ipRe || ip6Re) {
          const addrs = json<{ addr: string; version: number }[]>(x.addresses, []);
          if (ipRe && !addrs.some((a) => a.version === 4 && ipRe.test(a.addr))) continue;
          if (ip6Re && !addrs.some((a) => a.version === 6 && ip6Re.test(a.addr))) continue;
        }
        picked.push(x.id);
        if (picked.length >= want) break;
      }
      if (chunk.length < 2000) break;
    }
    const full = new Map((await store.serversByIds(picked)).map((r) => [r.id, r]));
    rows = picked.map((id) => full.get(id)!).filter(Boolean);
  }
  const out: Record<string, unknown> = {};
  if (detail) {
    const cv = viewCtx(req, mgr, base, c);
    await hostStatus(req, mgr, cv, c);
    const tagMap = v.ge(26) ? await store.tags(rows.map((r) => r.id)) : new Map<string, string[]>();
    // One policy decision per project, not per server.
    const ext = new Map<string, boolean>();
    const extended = (p: string) => {
      if (!ext.has(p))
        ext.set(p, mgr.can('os_compute_api:os-extended-server-attributes', { project_id: p }, c));
      return ext.get(p)!;
    };
    out.servers = rows.map((s) =>
      serverView(s, { ...cv, extended: extended(s.project_id) }, { tags: tagMap.get(s.id) ?? [] }),
    );
  } else {
    const cv = viewCtx(req, mgr, base, c);
    out.servers = rows.map((s) => serverSummary(s, cv));
  }
  const pageSize = limit ?? 1000;
  if (rows.length === pageSize && rows.length > 0) {
    out.servers_links = [
      {
        rel: 'next',
        href: pageHref(`${base}/v2.1/servers${detail ? '/detail' : ''}`, qs, {
          marker: rows[rows.length - 1]!.id,
        }),
      },
    ];
  }
  return out;
}
