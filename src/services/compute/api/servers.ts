/** /servers: create, list (Nova's filters, sorting, paging), show, update, delete, and server sub-resources. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { bool, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import type { PortInfo, RequestedNetwork } from '../facades.js';
import { now, notFoundServer, type ComputeManager, type CreateRequest } from '../manager.js';
import type { ServerRow } from '../store.js';
import {
  addressesView,
  hostId,
  naiveMicro,
  serverSummary,
  serverView,
  statesOf,
  type ViewCtx,
} from '../views.js';
import {
  bad,
  bodyKey,
  boolOf,
  callerOf,
  intOf,
  limitOf,
  metadataOf,
  mv,
  noExtra,
  q1,
  qAll,
  query,
  requireMv,
  str,
  viewCtx,
  type Obj,
} from './common.js';

type P = Record<string, string>;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

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

export function serverRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;

  async function render(req: FastifyRequest, s: ServerRow, show = true): Promise<Record<string, unknown>> {
    const c = callerOf(req, mgr);
    const v = viewCtx(req, mgr, base, c, { project_id: s.project_id });
    const tags = mv(req).ge(26) ? ((await store.tags([s.id])).get(s.id) ?? []) : undefined;
    await hostStatus(req, v, c);
    return serverView(s, v, { tags, groups: s.server_group_id ? [s.server_group_id] : [], show });
  }

  async function hostStatus(req: FastifyRequest, v: ViewCtx, c: ReturnType<typeof callerOf>) {
    if (
      !mv(req).ge(16) ||
      !mgr.can('os_compute_api:servers:show:host_status', { project_id: c.projectId }, c)
    )
      return;
    const hosts = new Map((await store.hosts()).map((h) => [h.name, h]));
    v.hostStatus = (name) => {
      const h = name ? hosts.get(name) : undefined;
      if (!h) return '';
      if (bool(h.forced_down)) return 'DOWN';
      if (!mgr.isUp(h)) return 'UNKNOWN';
      return h.enabled ? 'UP' : 'MAINTENANCE';
    };
  }

  // ------------------------------------------------------------------ list
  async function list(req: FastifyRequest, detail: boolean) {
    const c = callerOf(req, mgr);
    const rule = detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index';
    req.authorize({ project_id: c.projectId });
    const v = mv(req);
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
    let k = store.k.selectFrom('compute_server').selectAll();
    const projectFilter = f('project_id') ?? f('tenant_id');
    if (!allTenants)
      k = k.where('project_id', '=', allFilters && projectFilter ? projectFilter : c.projectId);
    else if (projectFilter) k = k.where('project_id', '=', projectFilter);
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
    if (wantDeleted) k = k.where('deleted', '=', 1);
    else if (!changesSince && !changesBefore) k = k.where('deleted', '=', 0);
    const iso = (x: string) => new Date(x).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (changesSince) k = k.where('updated_at', '>=', iso(changesSince));
    if (changesBefore) k = k.where('updated_at', '<=', iso(changesBefore));
    if (changesSince && changesBefore && Date.parse(changesSince) > Date.parse(changesBefore))
      throw bad('The value of changes-since must be less than or equal to changes-before.');
    const status = f('status');
    if (status !== undefined) {
      const st = statesOf(status);
      if (st.vm.length === 0) {
        if (v.ge(38)) throw bad(`Invalid status value`);
        return { servers: [], ...(detail ? {} : {}) };
      }
      k = k.where('vm_state', 'in', st.vm);
      if (st.task) {
        const tasks = st.task.filter((x): x is string => x !== null);
        k = k.where('task_state', 'in', tasks.length ? tasks : ['__none__']);
      }
    }
    const image = f('image');
    if (image) k = k.where('image_ref', '=', image.split('/').pop()!);
    const flavor = f('flavor');
    if (flavor) k = k.where('flavor_id', '=', flavor.split('/').pop()!);
    const rid = f('reservation_id');
    if (rid) k = k.where('reservation_id', '=', rid);
    if (allFilters || v.ge(83)) {
      for (const [qk, col] of [
        ['availability_zone', 'availability_zone'],
        ['key_name', 'key_name'],
        ['vm_state', 'vm_state'],
        ['task_state', 'task_state'],
        ['user_id', 'user_id'],
      ] as const) {
        const val = f(qk);
        if (val !== undefined) k = k.where(col, '=', val);
      }
      const ps = f('power_state');
      if (ps !== undefined && /^\d+$/.test(ps)) k = k.where('power_state', '=', Number(ps));
    }
    if (allFilters) {
      for (const [qk, col] of [
        ['host', 'host'],
        ['node', 'node'],
        ['uuid', 'id'],
        ['hostname', 'hostname'],
      ] as const) {
        const val = f(qk);
        if (val !== undefined) k = k.where(col, '=', val);
      }
    }
    const locked = v.ge(73) ? f('locked') : undefined;
    if (locked !== undefined) {
      const lv = locked.toLowerCase();
      if (!['true', 'false', '1', '0', 'yes', 'no', 't', 'f', 'y', 'n', 'on', 'off'].includes(lv))
        throw bad(
          `Unrecognized value '${locked}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'`,
        );
      k = k.where('locked', '=', ['true', '1', 'yes', 't', 'y', 'on'].includes(lv) ? 1 : 0);
    }
    const tagList = (name: string) =>
      (f(name) ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
    const tags = tagList('tags');
    const tagsAny = tagList('tags-any');
    const notTags = tagList('not-tags');
    const notTagsAny = tagList('not-tags-any');
    // The server has a tag among `any` (Nova's tags / tags-any / not-tags / not-tags-any).
    const hasTag = (eb: any, any: string[]) =>
      eb.exists(
        eb
          .selectFrom('compute_server_tag')
          .select('tag')
          .whereRef('compute_server_tag.server_id', '=', 'compute_server.id')
          .where('tag', 'in', any),
      );
    for (const t of tags) k = k.where((eb) => hasTag(eb, [t]));
    if (tagsAny.length) k = k.where((eb) => hasTag(eb, tagsAny));
    if (notTags.length) k = k.where((eb) => eb.not(eb.and(notTags.map((t) => hasTag(eb, [t])))));
    if (notTagsAny.length) k = k.where((eb) => eb.not(hasTag(eb, notTagsAny)));

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
      const m = await store.k
        .selectFrom('compute_server')
        .selectAll()
        .where('id', '=', marker)
        .executeTakeFirst();
      if (!m) throw bad(`marker [${marker}] not found`);
      const mv2 = (m as unknown as Record<string, unknown>)[col];
      const op = dir === 'desc' ? '<' : '>';
      k = k.where((eb) =>
        eb.or([
          eb(sql.ref(col), op, mv2 as never),
          eb.and([eb(sql.ref(col), '=', mv2 as never), eb('seq', op, m.seq)]),
        ]),
      );
    }
    k = k.orderBy(sql.ref(col), dir as 'asc' | 'desc').orderBy('seq', dir as 'asc' | 'desc');
    let rows: ServerRow[];
    if (!jsFilter) rows = await (limit !== undefined ? k.limit(limit) : k.limit(1000)).execute();
    else {
      // Regex/IP filters run here (SQLite has no REGEXP): scan only the columns they need, in order,
      // stop at the page size, then load the page's full rows.
      const want = limit ?? 1000;
      const ipRe = ip ? new RegExp(ip) : undefined;
      const ip6Re = ip6 ? new RegExp(ip6) : undefined;
      const picked: string[] = [];
      const slim = k.clearSelect().select(['id', 'name', 'addresses']);
      for (let offset = 0; picked.length < want; offset += 2000) {
        const chunk = await slim.limit(2000).offset(offset).execute();
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
      const full = new Map<string, ServerRow>();
      for (let i = 0; i < picked.length; i += 500)
        for (const r of await store.k
          .selectFrom('compute_server')
          .selectAll()
          .where('id', 'in', picked.slice(i, i + 500))
          .execute())
          full.set(r.id, r);
      rows = picked.map((id) => full.get(id)!).filter(Boolean);
    }
    const out: Record<string, unknown> = {};
    if (detail) {
      const cv = viewCtx(req, mgr, base, c);
      await hostStatus(req, cv, c);
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
      const params = new URLSearchParams();
      for (const [key, val] of Object.entries(qs))
        if (key !== 'marker') for (const x of Array.isArray(val) ? val : [val]) params.append(key, x);
      params.set('marker', rows[rows.length - 1]!.id);
      out.servers_links = [
        { rel: 'next', href: `${base}/v2.1/servers${detail ? '/detail' : ''}?${params.toString()}` },
      ];
    }
    return out;
  }
  app.get('/v2.1/servers', { config: { policy: 'os_compute_api:servers:index' } }, (req) => list(req, false));
  app.get('/v2.1/servers/detail', { config: { policy: 'os_compute_api:servers:detail' } }, (req) =>
    list(req, true),
  );

  // ------------------------------------------------------------------ create
  app.post('/v2.1/servers', { config: { policy: 'os_compute_api:servers:create' } }, async (req, reply) => {
    const c = callerOf(req, mgr);
    req.authorize({ project_id: c.projectId, user_id: c.userId });
    const v = mv(req);
    const body = req.body as Obj;
    const b = bodyKey(req, 'server');
    const allowedKeys = [
      'name',
      'imageRef',
      'flavorRef',
      'networks',
      'security_groups',
      'key_name',
      'user_data',
      'metadata',
      'availability_zone',
      'config_drive',
      'min_count',
      'max_count',
      'return_reservation_id',
      'adminPass',
      'OS-DCF:diskConfig',
      'accessIPv4',
      'accessIPv6',
      'block_device_mapping',
      'block_device_mapping_v2',
      'personality',
      'hostname',
    ];
    if (v.ge(19)) allowedKeys.push('description');
    if (v.ge(52)) allowedKeys.push('tags');
    if (v.ge(63)) allowedKeys.push('trusted_image_certificates');
    if (v.ge(74)) allowedKeys.push('host', 'hypervisor_hostname');
    if (v.ge(57) && b.personality !== undefined)
      throw bad(
        "Invalid input for field/attribute server. Additional properties are not allowed ('personality' was unexpected)",
      );
    noExtra(b, allowedKeys, 'server');
    const name = str(b, 'name', { required: true, min: 1, max: 255, trim: true })!;
    const flavorRefRaw = b.flavorRef;
    if (flavorRefRaw === undefined)
      throw bad("Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
    if ((typeof flavorRefRaw !== 'string' && typeof flavorRefRaw !== 'number') || String(flavorRefRaw) === '')
      throw bad('Invalid flavorRef provided.');
    const flavorRef = String(flavorRefRaw).split('/').pop()!;
    let imageRef = str(b, 'imageRef');
    if (imageRef) {
      imageRef = imageRef.split('/').pop()!;
      if (!UUID_RE.test(imageRef)) throw bad('Invalid imageRef provided.');
    }
    const bdm = b.block_device_mapping_v2 ?? b.block_device_mapping;
    if (bdm !== undefined) {
      if (!Array.isArray(bdm))
        throw bad(
          "Invalid input for field/attribute block_device_mapping_v2. Value: . is not of type 'array'",
        );
      for (const d of bdm as Obj[]) {
        const src = d?.source_type;
        const dst = d?.destination_type ?? (src === 'image' ? 'local' : 'volume');
        if (src === 'image' && dst === 'local') {
          if (!imageRef && typeof d.uuid === 'string') imageRef = d.uuid;
          continue;
        }
        if (src === 'blank' && dst === 'local') continue;
        throw bad(
          'Block device mapping with volumes (boot from volume, volume or snapshot sources, blank volumes) needs the block-storage service, which this cloud does not have yet.',
        );
      }
    }
    let networks: CreateRequest['networks'];
    if (b.networks !== undefined) {
      if (b.networks === 'auto' || b.networks === 'none') {
        if (v.lt(37))
          throw bad(
            `Invalid input for field/attribute networks. Value: ${b.networks}. '${b.networks}' is not of type 'array'`,
          );
        networks = b.networks;
      } else if (Array.isArray(b.networks)) {
        networks = (b.networks as Obj[]).map((n, i) => {
          if (!n || typeof n !== 'object')
            throw bad(
              `Invalid input for field/attribute networks[${i}]. Value: ${JSON.stringify(n)}. is not of type 'object'`,
            );
          noExtra(n, ['uuid', 'port', 'fixed_ip', 'tag'], `networks[${i}]`);
          const r: RequestedNetwork = {
            uuid: str(n, 'uuid'),
            port: str(n, 'port'),
            fixed_ip: str(n, 'fixed_ip'),
            tag: str(n, 'tag'),
          };
          if (r.uuid && !UUID_RE.test(r.uuid))
            throw bad(`Bad networks format: network uuid is not in proper format (${r.uuid})`);
          if (r.port && !UUID_RE.test(r.port))
            throw bad(
              `Invalid input for field/attribute port. Value: ${r.port}. '${r.port}' is not a 'uuid'`,
            );
          if (!r.uuid && !r.port) throw bad('Bad networks format: network uuid is not in proper format ()');
          return r;
        });
      } else
        throw bad(
          `Invalid input for field/attribute networks. Value: ${JSON.stringify(b.networks)}. is not of type 'array'`,
        );
    } else if (v.ge(37))
      throw bad("Invalid input for field/attribute server. 'networks' is a required property");
    const sgs: string[] = [];
    if (b.security_groups !== undefined) {
      if (!Array.isArray(b.security_groups))
        throw bad("Invalid input for field/attribute security_groups. is not of type 'array'");
      for (const g of b.security_groups as Obj[]) {
        const n =
          g && typeof g === 'object' ? str(g, 'name', { required: true, min: 1, max: 255 }) : undefined;
        if (!n) throw bad("Invalid input for field/attribute security_groups. 'name' is a required property");
        if (!sgs.includes(n)) sgs.push(n);
      }
    }
    if (networks !== 'none' && sgs.length === 0) sgs.push('default');
    const userData = str(b, 'user_data', { max: 65535 });
    if (userData !== undefined && userData !== null) {
      const clean = userData.replace(/\s/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
        throw bad('User data needs to be valid base 64.');
    }
    const minCount = intOf(b, 'min_count', { min: 1, allowString: true }) ?? 1;
    const maxCount = intOf(b, 'max_count', { min: 1, allowString: true }) ?? minCount;
    if (minCount > maxCount) throw bad('min_count must be <= max_count');
    const tags: string[] = [];
    if (b.tags !== undefined) {
      if (!Array.isArray(b.tags) || b.tags.length > 50)
        throw bad(
          'Invalid input for field/attribute tags. The number of tags exceeds the per-server limit 50',
        );
      for (const t of b.tags) {
        if (typeof t !== 'string' || t.length < 1 || t.length > 60 || /[,/]/.test(t))
          throw bad(
            `Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}. is not a valid tag`,
          );
        tags.push(t);
      }
    }
    const description = v.ge(19) ? str(b, 'description', { max: 255, nullable: true }) : undefined;
    const az = str(b, 'availability_zone', { min: 1, max: 255 });
    const hvHost = v.ge(74) ? str(b, 'hypervisor_hostname', { min: 1, max: 255 }) : undefined;
    const host = v.ge(74) ? (str(b, 'host', { min: 1, max: 255 }) ?? hvHost) : undefined;
    if (host) req.authorize({ project_id: c.projectId }, 'compute:servers:create:requested_destination');
    const hints = (body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints']) as Obj | undefined;
    let group: string | undefined;
    if (hints && typeof hints === 'object' && hints.group !== undefined) {
      if (typeof hints.group !== 'string' || !UUID_RE.test(hints.group))
        throw bad(
          `Invalid input for field/attribute group. Value: ${JSON.stringify(hints.group)}. is not a 'uuid'`,
        );
      group = hints.group;
    }
    const keyName = str(b, 'key_name', { min: 1, max: 255 });
    const accessIPv4 = str(b, 'accessIPv4');
    if (accessIPv4 && !/^(\d{1,3}\.){3}\d{1,3}$/.test(accessIPv4))
      throw bad(
        `Invalid input for field/attribute accessIPv4. Value: ${accessIPv4}. '${accessIPv4}' is not a 'ipv4'`,
      );
    const accessIPv6 = str(b, 'accessIPv6');
    const configDrive = boolOf(b, 'config_drive') ?? false;
    if (networks && networks !== 'none' && networks !== 'auto' && networks.length)
      req.authorize({ project_id: c.projectId }, 'os_compute_api:servers:create:attach_network');
    const hostname = str(b, 'hostname', { min: 1, max: 255 });
    const r = await mgr.createServers(c, {
      name,
      imageRef,
      flavorRef,
      networks,
      securityGroups: sgs,
      keyName,
      userData: userData ?? undefined,
      metadata: metadataOf(b.metadata),
      availabilityZone: az,
      host,
      configDrive,
      minCount,
      maxCount,
      tags,
      description,
      hostname,
      accessIPv4,
      accessIPv6,
      group,
      returnReservationId: boolOf(b, 'return_reservation_id') ?? false,
    });
    reply.code(202);
    if (boolOf(b, 'return_reservation_id')) return { reservation_id: r.reservationId };
    const s = r.servers[0]!;
    reply.header('location', `${base}/v2.1/servers/${s.id}`);
    const out: Record<string, unknown> = {
      id: s.id,
      links: serverSummary(s, viewCtx(req, mgr, base, c)).links,
      'OS-DCF:diskConfig': 'MANUAL',
      adminPass: typeof b.adminPass === 'string' ? b.adminPass : r.adminPass,
    };
    if (sgs.length) out.security_groups = sgs.map((n) => ({ name: n }));
    return { server: out };
  });

  // ------------------------------------------------------------------ show, update, delete
  app.get('/v2.1/servers/:id', { config: { policy: 'os_compute_api:servers:show' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.refreshAddresses(
      await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:show'),
    );
    return { server: await render(req, s) };
  });

  app.put('/v2.1/servers/:id', { config: { policy: 'os_compute_api:servers:update' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:update');
    const b = bodyKey(req, 'server');
    const allowed = ['name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'hostname'];
    if (mv(req).ge(19)) allowed.push('description');
    noExtra(b, allowed, 'server');
    const values: Partial<ServerRow> = { updated_at: now() };
    const name = str(b, 'name', { min: 1, max: 255, trim: true });
    if (name !== undefined) values.name = name;
    if (b.description !== undefined)
      values.description = str(b, 'description', { max: 255, nullable: true }) ?? null;
    if (b.accessIPv4 !== undefined) values.access_ip_v4 = str(b, 'accessIPv4') ?? null;
    if (b.accessIPv6 !== undefined) values.access_ip_v6 = str(b, 'accessIPv6') ?? null;
    if (b.hostname !== undefined) values.hostname = str(b, 'hostname', { min: 1, max: 63 }) ?? null;
    await store.k.updateTable('compute_server').set(values).where('id', '=', s.id).execute();
    return { server: await render(req, (await store.server(s.id))!) };
  });

  app.delete(
    '/v2.1/servers/:id',
    { config: { policy: 'os_compute_api:servers:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:delete');
      await mgr.deleteServer(c, s);
      reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ ips
  app.get('/v2.1/servers/:id/ips', { config: { policy: 'os_compute_api:ips:index' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:ips:index');
    const a = addressesView(s);
    const plain: Record<string, unknown[]> = {};
    for (const [n, l] of Object.entries(a))
      plain[n] = (l as Obj[]).map((x) => ({ version: x.version, addr: x.addr }));
    return { addresses: plain };
  });
  app.get(
    '/v2.1/servers/:id/ips/:network',
    { config: { policy: 'os_compute_api:ips:show' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:ips:show');
      const a = addressesView(s)[p.network!];
      if (!a) throw new ApiError(404, 'Instance is not a member of specified network', 'itemNotFound');
      return { [p.network!]: (a as Obj[]).map((x) => ({ version: x.version, addr: x.addr })) };
    },
  );

  // ------------------------------------------------------------------ metadata
  const md = (s: ServerRow) => json<Record<string, string>>(s.metadata, {});
  async function saveMd(c: ReturnType<typeof callerOf>, s: ServerRow, m: Record<string, string>) {
    mgr.checkLock(c, s);
    if (['building', 'deleted'].includes(s.vm_state) && s.task_state === 'deleting')
      throw new ApiError(
        409,
        `Cannot 'update metadata' instance ${s.id} while it is in task_state deleting`,
        'conflictingRequest',
      );
    mgr.checkMetadataQuota(await mgr.quotaLimits(s.project_id), m);
    await store.k
      .updateTable('compute_server')
      .set({ metadata: JSON.stringify(m), updated_at: now() })
      .where('id', '=', s.id)
      .execute();
  }
  app.get(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:index' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:server-metadata:index',
      );
      return { metadata: md(s) };
    },
  );
  app.post(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:server-metadata:create');
      const m = { ...md(s), ...metadataOf(bodyKey(req, 'metadata')) };
      await saveMd(c, s, m);
      return { metadata: m };
    },
  );
  app.put(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:update_all' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:server-metadata:update_all');
      const m = metadataOf(bodyKey(req, 'metadata'));
      await saveMd(c, s, m);
      return { metadata: m };
    },
  );
  app.get(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:show' } },
    async (req) => {
      const p = req.params as P;
      const s = await mgr.getServer(callerOf(req, mgr), p.id!, 'os_compute_api:server-metadata:show');
      const m = md(s);
      if (!(p.key! in m)) throw new ApiError(404, 'Metadata item was not found', 'itemNotFound');
      return { meta: { [p.key!]: m[p.key!] } };
    },
  );
  app.put(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:update' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:server-metadata:update');
      const meta = metadataOf(bodyKey(req, 'meta'), 'meta');
      if (Object.keys(meta).length !== 1) throw bad('Request body contains too many items');
      if (!(p.key! in meta)) throw bad('Request body and URI mismatch');
      const m = { ...md(s), ...meta };
      await saveMd(c, s, m);
      return { meta };
    },
  );
  app.delete(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:server-metadata:delete');
      const m = md(s);
      if (!(p.key! in m)) throw new ApiError(404, 'Metadata item was not found', 'itemNotFound');
      delete m[p.key!];
      await saveMd(c, s, m);
      reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ tags (2.26)
  const tagOk = (t: string) => t.length >= 1 && t.length <= 60 && !/[,/]/.test(t);
  async function tagServer(req: FastifyRequest, rule: string) {
    requireMv(req, 26);
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, rule);
    return { c, s };
  }
  const tagsOf = async (id: string) => (await store.tags([id])).get(id) ?? [];
  app.get(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:index' } },
    async (req) => {
      const { s } = await tagServer(req, 'os_compute_api:os-server-tags:index');
      return { tags: await tagsOf(s.id) };
    },
  );
  app.put(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:update_all' } },
    async (req) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:update_all');
      mgr.checkLock(c, s);
      const b = req.body as Obj | undefined;
      const tags = b?.tags;
      if (!Array.isArray(tags))
        throw bad("Invalid input for field/attribute tags. 'tags' is a required property");
      if (tags.length > 50) throw bad('The number of tags exceeded the per-server limit 50');
      for (const t of tags)
        if (typeof t !== 'string' || !tagOk(t))
          throw bad(
            `Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}. is not a valid tag`,
          );
      await store.k.deleteFrom('compute_server_tag').where('server_id', '=', s.id).execute();
      for (const t of new Set(tags as string[]))
        await store.k.insertInto('compute_server_tag').values({ server_id: s.id, tag: t }).execute();
      return { tags: await tagsOf(s.id) };
    },
  );
  app.delete(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:delete_all' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:delete_all');
      mgr.checkLock(c, s);
      await store.k.deleteFrom('compute_server_tag').where('server_id', '=', s.id).execute();
      reply.code(204).send();
    },
  );
  app.get(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:show' } },
    async (req, reply) => {
      const { s } = await tagServer(req, 'os_compute_api:os-server-tags:show');
      const tag = (req.params as P).tag!;
      if (!(await tagsOf(s.id)).includes(tag))
        throw new ApiError(404, `Tag '${tag}' could not be found for instance ${s.id}.`, 'itemNotFound');
      reply.code(204).send();
    },
  );
  app.put(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:update' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:update');
      mgr.checkLock(c, s);
      const tag = (req.params as P).tag!;
      if (!tagOk(tag)) throw bad(`Tag '${tag}' is invalid.`);
      const cur = await tagsOf(s.id);
      if (cur.includes(tag)) return reply.code(204).send();
      if (cur.length >= 50) throw bad('The number of tags exceeded the per-server limit 50');
      await store.k
        .insertInto('compute_server_tag')
        .values({ server_id: s.id, tag })
        .onConflict((oc) => oc.doNothing())
        .execute();
      reply.code(201).header('location', `${base}/v2.1/servers/${s.id}/tags/${tag}`).send();
    },
  );
  app.delete(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:delete' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:delete');
      mgr.checkLock(c, s);
      const tag = (req.params as P).tag!;
      const r = await store.k
        .deleteFrom('compute_server_tag')
        .where('server_id', '=', s.id)
        .where('tag', '=', tag)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0)
        throw new ApiError(404, `Tag '${tag}' could not be found for instance ${s.id}.`, 'itemNotFound');
      reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ instance actions
  app.get(
    '/v2.1/servers/:id/os-instance-actions',
    { config: { policy: 'os_compute_api:os-instance-actions:list' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const id = (req.params as P).id!;
      const s = (await store.server(id, { deleted: mv(req).ge(21) })) ?? undefined;
      if (!s) throw notFoundServer(id);
      req.authorize({ project_id: s.project_id });
      if (s.project_id !== c.projectId && !c.isAdmin) throw notFoundServer(id);
      let q = store.k
        .selectFrom('compute_action')
        .selectAll()
        .where('server_id', '=', id)
        .orderBy('id', 'desc');
      const limit = mv(req).ge(58) ? limitOf(req) : undefined;
      const marker = mv(req).ge(58) ? q1(req, 'marker') : undefined;
      if (marker) {
        const m = await store.k
          .selectFrom('compute_action')
          .select('id')
          .where('server_id', '=', id)
          .where('request_id', '=', marker)
          .executeTakeFirst();
        if (!m) throw bad(`Marker ${marker} could not be found.`);
        q = q.where('id', '<', m.id);
      }
      if (limit !== undefined) q = q.limit(limit);
      const rows = await q.execute();
      return {
        instanceActions: rows.map((a) => ({
          action: a.action,
          instance_uuid: a.server_id,
          message: a.message,
          project_id: a.project_id,
          request_id: a.request_id,
          start_time: naiveMicro(new Date(a.start_time).toISOString()),
          user_id: a.user_id,
          ...(mv(req).ge(58)
            ? { updated_at: naiveMicro(new Date(a.updated_at ?? a.start_time).toISOString()) }
            : {}),
        })),
      };
    },
  );
  app.get(
    '/v2.1/servers/:id/os-instance-actions/:req',
    { config: { policy: 'os_compute_api:os-instance-actions:show' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await store.server(p.id!, { deleted: mv(req).ge(21) });
      if (!s) throw notFoundServer(p.id!);
      req.authorize({ project_id: s.project_id });
      if (s.project_id !== c.projectId && !c.isAdmin) throw notFoundServer(p.id!);
      const a = await store.k
        .selectFrom('compute_action')
        .selectAll()
        .where('server_id', '=', s.id)
        .where('request_id', '=', p.req!)
        .executeTakeFirst();
      if (!a)
        throw new ApiError(
          404,
          `Action for request_id ${p.req} on instance ${s.id} not found`,
          'itemNotFound',
        );
      const out: Record<string, unknown> = {
        action: a.action,
        instance_uuid: a.server_id,
        message: a.message,
        project_id: a.project_id,
        request_id: a.request_id,
        start_time: naiveMicro(new Date(a.start_time).toISOString()),
        user_id: a.user_id,
        ...(mv(req).ge(58)
          ? { updated_at: naiveMicro(new Date(a.updated_at ?? a.start_time).toISOString()) }
          : {}),
      };
      const showEvents =
        mv(req).ge(51) ||
        mgr.can('os_compute_api:os-instance-actions:events', { project_id: s.project_id }, c);
      if (showEvents) {
        const admin = mgr.can('os_compute_api:os-instance-actions:events', { project_id: s.project_id }, c);
        const evs = await store.k
          .selectFrom('compute_action_event')
          .selectAll()
          .where('action_id', '=', a.id)
          .orderBy('id')
          .execute();
        out.events = evs.map((e) => ({
          event: e.event,
          start_time: naiveMicro(new Date(e.start_time).toISOString()),
          finish_time: e.finish_time ? naiveMicro(new Date(e.finish_time).toISOString()) : null,
          result: e.result,
          ...(admin ? { traceback: e.traceback } : {}),
          ...(mv(req).ge(62)
            ? { hostId: hostId(s.project_id, e.host), ...(admin ? { host: e.host } : {}) }
            : {}),
          ...(mv(req).ge(84) &&
          mgr.can('os_compute_api:os-instance-actions:events:details', { project_id: s.project_id }, c)
            ? { details: e.details }
            : {}),
        }));
      }
      return { instanceAction: out };
    },
  );

  // ------------------------------------------------------------------ security groups, interfaces, volumes, topology
  app.get(
    '/v2.1/servers/:id/os-security-groups',
    { config: { policy: 'os_compute_api:os-security-groups:list' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-security-groups:list',
      );
      return {
        security_groups: json<string[]>(s.security_groups, []).map((name) => ({
          id: name,
          name,
          description: '',
          tenant_id: s.project_id,
          rules: [],
        })),
      };
    },
  );
  const attachmentView = (req: FastifyRequest, p: PortInfo & { status?: string }) => ({
    port_id: p.id,
    net_id: p.networkId,
    mac_addr: p.macAddress,
    port_state: p.status ?? 'ACTIVE',
    fixed_ips: p.fixedIps.map((f) => ({ ip_address: f.ipAddress, subnet_id: f.subnetId ?? null })),
    ...(mv(req).ge(70) ? { tag: null } : {}),
  });
  app.get(
    '/v2.1/servers/:id/os-interface',
    { config: { policy: 'os_compute_api:os-attach-interfaces:list' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-attach-interfaces:list',
      );
      return { interfaceAttachments: (await mgr.serverPorts(s)).map((p) => attachmentView(req, p)) };
    },
  );
  app.get(
    '/v2.1/servers/:id/os-interface/:port',
    { config: { policy: 'os_compute_api:os-attach-interfaces:show' } },
    async (req) => {
      const p = req.params as P;
      const s = await mgr.getServer(callerOf(req, mgr), p.id!, 'os_compute_api:os-attach-interfaces:show');
      const port = (await mgr.serverPorts(s)).find((x) => x.id === p.port);
      if (!port) throw new ApiError(404, `Port ${p.port} is not attached`, 'itemNotFound');
      return { interfaceAttachment: attachmentView(req, port) };
    },
  );
  app.post(
    '/v2.1/servers/:id/os-interface',
    { config: { policy: 'os_compute_api:os-attach-interfaces:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-attach-interfaces:create');
      const b = (req.body as Obj | undefined)?.interfaceAttachment as Obj | undefined;
      const a = b && typeof b === 'object' ? b : {};
      noExtra(a, ['net_id', 'port_id', 'fixed_ips', 'tag'], 'interfaceAttachment');
      const netId = str(a, 'net_id');
      const portId = str(a, 'port_id');
      if (netId && portId) throw bad('Must not input both network_id and port_id');
      let fixedIp: string | undefined;
      if (a.fixed_ips !== undefined) {
        if (!Array.isArray(a.fixed_ips) || a.fixed_ips.length !== 1)
          throw bad('Invalid input for field/attribute fixed_ips.');
        if (!netId) throw bad('Must input network_id when request IP address');
        fixedIp = str(a.fixed_ips[0] as Obj, 'ip_address', { required: true });
      }
      if (!netId && !portId)
        throw bad('Either net_id or port_id is required: this cloud does not pick a network for you.');
      const port = await mgr.attachInterface(c, s, { networkId: netId, portId, fixedIp });
      return { interfaceAttachment: attachmentView(req, port) };
    },
  );
  app.delete(
    '/v2.1/servers/:id/os-interface/:port',
    { config: { policy: 'os_compute_api:os-attach-interfaces:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:os-attach-interfaces:delete');
      await mgr.detachInterface(c, s, p.port!);
      reply.code(202).send();
    },
  );
  app.get(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:index' } },
    async (req) => {
      await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-volumes-attachments:index',
      );
      return { volumeAttachments: [] };
    },
  );
  app.post(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-volumes-attachments:create');
      mgr.checkLock(c, s);
      const b = bodyKey(req, 'volumeAttachment');
      str(b, 'volumeId', { required: true });
      throw bad('Attaching volumes needs the block-storage service, which this cloud does not have yet.');
    },
  );
  app.get(
    '/v2.1/servers/:id/topology',
    { config: { policy: 'os_compute_api:os-server-topology:index' } },
    async (req) => {
      requireMv(req, 78);
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-server-topology:index');
      return {
        nodes: [],
        pagesize_kb: null,
        ...(mgr.can('os_compute_api:os-server-topology:host:index', { project_id: s.project_id }, c)
          ? {}
          : {}),
      };
    },
  );
}
