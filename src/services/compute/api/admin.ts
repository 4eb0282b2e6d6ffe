/**
 * limits, os-quota-sets, os-quota-class-sets, os-availability-zone, os-hypervisors, os-services,
 * os-aggregates, os-server-groups, os-simple-tenant-usage, os-migrations, extensions.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import { now, QUOTA_DEFAULTS, type ComputeManager } from '../manager.js';
import type { Mv } from '../microversion.js';
import type { AggregateRow, HostRow } from '../store.js';
import { hypervisorView, naiveMicro } from '../views.js';
import {
  bad,
  bodyKey,
  boolOf,
  callerOf,
  limitOf,
  mv,
  noExtra,
  q1,
  requireMv,
  str,
  type Obj,
} from './common.js';

type P = Record<string, string>;

/** Quota resources shown at a microversion (2.36 drops network ones, 2.57 drops injected files). */
function quotaKeys(v: Mv, classSet = false): string[] {
  const keys = [
    'instances',
    'cores',
    'ram',
    'key_pairs',
    'metadata_items',
    'server_groups',
    'server_group_members',
  ];
  if (v.lt(57)) keys.push('injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes');
  if (v.lt(36)) keys.push('fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules');
  if (classSet && v.lt(50))
    return keys
      .filter((k) => !['server_groups', 'server_group_members'].includes(k))
      .concat(v.lt(36) ? [] : []);
  return keys;
}

export function adminRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;

  async function usageOf(projectId: string, userId?: string) {
    const u = await store.projectUsage(store.k, projectId, userId);
    const groups = await store.k
      .selectFrom('compute_server_group')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    const kp = userId
      ? await store.k
          .selectFrom('compute_keypair')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      : { n: 0 };
    return {
      instances: u.instances,
      cores: u.cores,
      ram: u.ram,
      server_groups: Number(groups.n),
      key_pairs: Number(kp.n),
    } as Record<string, number>;
  }

  // ------------------------------------------------------------------ limits
  app.get('/v2.1/limits', { config: { policy: 'os_compute_api:limits' } }, async (req) => {
    const c = callerOf(req, mgr);
    let projectId = c.projectId;
    const other = q1(req, 'tenant_id');
    if (other && other !== c.projectId) {
      req.authorize({ project_id: other }, 'os_compute_api:limits:other_project');
      projectId = other;
    }
    req.authorize({});
    const l = await mgr.quotaLimits(projectId);
    const u = await usageOf(projectId, c.userId);
    const v = mv(req);
    const abs: Record<string, number> = {
      maxServerMeta: l.metadata_items!,
      maxTotalInstances: l.instances!,
      maxTotalRAMSize: l.ram!,
      maxTotalCores: l.cores!,
      maxTotalKeypairs: l.key_pairs!,
      maxServerGroups: l.server_groups!,
      maxServerGroupMembers: l.server_group_members!,
      totalInstancesUsed: u.instances!,
      totalCoresUsed: u.cores!,
      totalRAMUsed: u.ram!,
      totalServerGroupsUsed: u.server_groups!,
    };
    if (v.lt(57))
      Object.assign(abs, {
        maxPersonality: l.injected_files,
        maxPersonalitySize: l.injected_file_content_bytes,
      });
    if (v.lt(39)) abs.maxImageMeta = l.metadata_items!;
    if (v.lt(36))
      Object.assign(abs, {
        maxSecurityGroups: l.security_groups,
        maxSecurityGroupRules: l.security_group_rules,
        maxTotalFloatingIps: l.floating_ips,
        totalFloatingIpsUsed: 0,
        totalSecurityGroupsUsed: 0,
      });
    return { limits: { rate: [], absolute: abs } };
  });

  // ------------------------------------------------------------------ quota sets
  const quotaValues = (v: Mv, l: Record<string, number>, id: string, classSet = false) => {
    const out: Record<string, unknown> = { id };
    for (const k of quotaKeys(v, classSet)) out[k] = l[k];
    return out;
  };
  app.get(
    '/v2.1/os-quota-sets/:project/defaults',
    { config: { policy: 'os_compute_api:os-quota-sets:defaults' } },
    async (req) => {
      req.authorize({});
      return {
        quota_set: quotaValues(mv(req), await mgr.classLimits('default'), (req.params as P).project!),
      };
    },
  );
  app.get(
    '/v2.1/os-quota-sets/:project',
    { config: { policy: 'os_compute_api:os-quota-sets:show' } },
    async (req) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      return { quota_set: quotaValues(mv(req), await mgr.quotaLimits(project), project) };
    },
  );
  app.get(
    '/v2.1/os-quota-sets/:project/detail',
    { config: { policy: 'os_compute_api:os-quota-sets:detail' } },
    async (req) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      const l = await mgr.quotaLimits(project);
      const u = await usageOf(project, q1(req, 'user_id') ?? callerOf(req, mgr).userId);
      const out: Record<string, unknown> = { id: project };
      for (const k of quotaKeys(mv(req))) out[k] = { limit: l[k], in_use: u[k] ?? 0, reserved: 0 };
      return { quota_set: out };
    },
  );
  app.put(
    '/v2.1/os-quota-sets/:project',
    { config: { policy: 'os_compute_api:os-quota-sets:update' } },
    async (req) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      const b = bodyKey(req, 'quota_set');
      const keys = quotaKeys(mv(req));
      noExtra(b, [...keys, 'force'], 'quota_set');
      const force = boolOf(b, 'force') ?? false;
      const values: Record<string, number> = {};
      for (const k of keys) {
        if (b[k] === undefined) continue;
        const raw = b[k];
        const n = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < -1)
          throw bad(
            `Invalid input for field/attribute ${k}. Value: ${raw}. ${raw} is less than the minimum of -1`,
          );
        values[k] = n;
      }
      if (!force) {
        const u = await usageOf(project);
        for (const [k, n] of Object.entries(values))
          if (n >= 0 && (u[k] ?? 0) > n)
            throw bad(
              `Quota limit ${n} for ${k} must be greater than or equal to already used and reserved ${u[k]}.`,
            );
      }
      await mgr.setQuota('project', project, values);
      const out = quotaValues(mv(req), await mgr.quotaLimits(project), project);
      delete out.id;
      return { quota_set: out };
    },
  );
  app.delete(
    '/v2.1/os-quota-sets/:project',
    { config: { policy: 'os_compute_api:os-quota-sets:delete' } },
    async (req, reply) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      await mgr.deleteQuotas(project);
      reply.code(202).send();
    },
  );
  app.get(
    '/v2.1/os-quota-class-sets/:id',
    { config: { policy: 'os_compute_api:os-quota-class-sets:show' } },
    async (req) => {
      req.authorize({});
      const id = (req.params as P).id!;
      return { quota_class_set: quotaValues(mv(req), await mgr.classLimits(id), id, true) };
    },
  );
  app.put(
    '/v2.1/os-quota-class-sets/:id',
    { config: { policy: 'os_compute_api:os-quota-class-sets:update' } },
    async (req) => {
      req.authorize({});
      const id = (req.params as P).id!;
      if (id.length > 255) throw bad('The id is too long');
      const b = bodyKey(req, 'quota_class_set');
      const keys = quotaKeys(mv(req), true);
      noExtra(b, keys, 'quota_class_set');
      const values: Record<string, number> = {};
      for (const k of keys) {
        if (b[k] === undefined) continue;
        const n = b[k];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < -1)
          throw bad(`Invalid input for field/attribute ${k}. Value: ${n}.`);
        values[k] = n;
      }
      await mgr.setQuota('class', id, values);
      const out = quotaValues(mv(req), await mgr.classLimits(id), id, true);
      delete out.id;
      return { quota_class_set: out };
    },
  );

  // ------------------------------------------------------------------ availability zones
  app.get(
    '/v2.1/os-availability-zone',
    { config: { policy: 'os_compute_api:os-availability-zone:list' } },
    async (req) => {
      req.authorize({});
      const zones = await mgr.hostZones();
      const hosts = await store.hosts();
      const avail = new Set<string>();
      const unavail = new Set<string>();
      for (const h of hosts) (h.enabled && mgr.isUp(h) ? avail : unavail).add(zones.get(h.name)!);
      for (const z of avail) unavail.delete(z);
      return {
        availabilityZoneInfo: [
          ...[...avail].map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
          ...[...unavail].map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
        ],
      };
    },
  );
  app.get(
    '/v2.1/os-availability-zone/detail',
    { config: { policy: 'os_compute_api:os-availability-zone:detail' } },
    async (req) => {
      req.authorize({});
      const zones = await mgr.hostZones();
      const byZone = new Map<string, Record<string, unknown>>();
      for (const h of await store.hosts()) {
        const z = zones.get(h.name)!;
        const hostsOf = byZone.get(z) ?? {};
        hostsOf[h.name] = {
          'nova-compute': {
            available: mgr.isUp(h),
            active: bool(h.enabled),
            updated_at: naiveMicro(h.heartbeat_at),
          },
        };
        byZone.set(z, hostsOf);
      }
      const out = [...byZone.entries()].map(([z, hosts]) => ({
        zoneName: z,
        zoneState: {
          available: Object.values(hosts).some(
            (x) => (x as { 'nova-compute': { available: boolean } })['nova-compute'].available,
          ),
        },
        hosts,
      }));
      out.unshift({
        zoneName: 'internal',
        zoneState: { available: true },
        hosts: {
          [Object.keys(byZone.values().next().value ?? {})[0] ?? 'localhost']: {
            'nova-conductor': {
              available: true,
              active: true,
              updated_at: naiveMicro(new Date().toISOString()),
            },
            'nova-scheduler': {
              available: true,
              active: true,
              updated_at: naiveMicro(new Date().toISOString()),
            },
          },
        },
      });
      return { availabilityZoneInfo: out };
    },
  );

  // ------------------------------------------------------------------ hypervisors
  async function hostStates() {
    const usage = await store.hostUsage(store.k);
    return (await store.hosts()).map((h) => ({
      h,
      up: mgr.isUp(h),
      usage: usage.get(h.name) ?? { host: h.name, count: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 },
    }));
  }
  async function serversOn(host: string) {
    const rows = await store.k
      .selectFrom('compute_server')
      .select(['id', 'seq'])
      .where('host', '=', host)
      .where('deleted', '=', 0)
      .execute();
    return rows.map((r) => ({ uuid: r.id, name: `instance-${r.seq.toString(16).padStart(8, '0')}` }));
  }
  async function listHypervisors(req: FastifyRequest, detail: boolean) {
    req.authorize({});
    const v = mv(req);
    let hs = await hostStates();
    const pattern = v.ge(53) ? q1(req, 'hypervisor_hostname_pattern') : undefined;
    if (pattern) {
      hs = hs.filter((x) => x.h.hypervisor_hostname.includes(pattern));
      if (hs.length === 0)
        throw new ApiError(404, `No hypervisor matching '${pattern}' could be found.`, 'itemNotFound');
    }
    const marker = v.ge(33) ? q1(req, 'marker') : undefined;
    if (marker) {
      const i = hs.findIndex((x) => (v.ge(53) ? x.h.hypervisor_uuid : String(x.h.id)) === marker);
      if (i < 0) throw bad(`marker [${marker}] not found`);
      hs = hs.slice(i + 1);
    }
    const limit = v.ge(33) ? limitOf(req) : undefined;
    if (limit !== undefined) hs = hs.slice(0, limit);
    const withServers =
      v.ge(53) && ['true', '1', 'yes'].includes((q1(req, 'with_servers') ?? '').toLowerCase());
    const out = [];
    for (const x of hs)
      out.push(
        hypervisorView(x.h, v, {
          detail,
          up: x.up,
          usage: x.usage,
          servers: withServers ? await serversOn(x.h.name) : undefined,
        }),
      );
    const res: Record<string, unknown> = { hypervisors: out };
    if (limit !== undefined && out.length === limit && out.length > 0)
      res.hypervisors_links = [
        {
          rel: 'next',
          href: `${base}/v2.1/os-hypervisors${detail ? '/detail' : ''}?limit=${limit}&marker=${(out[out.length - 1] as { id: unknown }).id}`,
        },
      ];
    return res;
  }
  app.get('/v2.1/os-hypervisors', { config: { policy: 'os_compute_api:os-hypervisors:list' } }, (req) =>
    listHypervisors(req, false),
  );
  app.get(
    '/v2.1/os-hypervisors/detail',
    { config: { policy: 'os_compute_api:os-hypervisors:list-detail' } },
    (req) => listHypervisors(req, true),
  );
  app.get(
    '/v2.1/os-hypervisors/statistics',
    { config: { policy: 'os_compute_api:os-hypervisors:statistics' } },
    async (req) => {
      req.authorize({});
      const hs = await hostStates();
      const sum = (f: (x: (typeof hs)[number]) => number) => hs.reduce((a, x) => a + f(x), 0);
      return {
        hypervisor_statistics: {
          count: hs.length,
          vcpus: sum((x) => x.h.vcpus),
          memory_mb: sum((x) => x.h.memory_mb),
          local_gb: sum((x) => x.h.local_gb),
          vcpus_used: sum((x) => x.usage.vcpus),
          memory_mb_used: sum((x) => x.usage.memory_mb),
          local_gb_used: sum((x) => x.usage.disk_gb),
          free_ram_mb: sum((x) => x.h.memory_mb - x.usage.memory_mb),
          free_disk_gb: sum((x) => x.h.local_gb - x.usage.disk_gb),
          current_workload: 0,
          running_vms: sum((x) => x.usage.count),
          disk_available_least: sum((x) => x.h.local_gb - x.usage.disk_gb),
        },
      };
    },
  );
  async function oneHypervisor(req: FastifyRequest): Promise<{
    h: HostRow;
    up: boolean;
    usage: { host: string; count: number; vcpus: number; memory_mb: number; disk_gb: number };
  }> {
    const id = (req.params as P).id!;
    const x = (await hostStates()).find((y) =>
      mv(req).ge(53) ? y.h.hypervisor_uuid === id : String(y.h.id) === id,
    );
    if (!x) {
      if (mv(req).ge(53) && !/^[0-9a-f-]{36}$/i.test(id)) throw bad(`Invalid uuid ${id}`);
      throw new ApiError(404, `Hypervisor with ID ${id} could not be found.`, 'itemNotFound');
    }
    return x;
  }
  app.get(
    '/v2.1/os-hypervisors/:id',
    { config: { policy: 'os_compute_api:os-hypervisors:show' } },
    async (req) => {
      req.authorize({});
      const x = await oneHypervisor(req);
      const withServers =
        mv(req).ge(53) && ['true', '1', 'yes'].includes((q1(req, 'with_servers') ?? '').toLowerCase());
      return {
        hypervisor: hypervisorView(x.h, mv(req), {
          detail: true,
          up: x.up,
          usage: x.usage,
          servers: withServers ? await serversOn(x.h.name) : undefined,
        }),
      };
    },
  );
  app.get(
    '/v2.1/os-hypervisors/:id/uptime',
    { config: { policy: 'os_compute_api:os-hypervisors:uptime' } },
    async (req) => {
      req.authorize({});
      const x = await oneHypervisor(req);
      const secs = Math.floor(process.uptime());
      const up = ` ${new Date().toISOString().slice(11, 19)} up ${Math.floor(secs / 60)} min,  1 user,  load average: 0.00, 0.00, 0.00`;
      return {
        hypervisor: {
          ...hypervisorView(x.h, mv(req), { detail: false, up: x.up, usage: x.usage }),
          uptime: up,
        },
      };
    },
  );
  /** Hypervisors whose hostname contains the pattern; 404 when none does (Nova's search). */
  const matching = async (p: string) => {
    const hs = (await hostStates()).filter((x) => x.h.hypervisor_hostname.includes(p));
    if (!hs.length) throw new ApiError(404, `No hypervisor matching '${p}' could be found.`, 'itemNotFound');
    return hs;
  };
  app.get(
    '/v2.1/os-hypervisors/:pattern/search',
    { config: { policy: 'os_compute_api:os-hypervisors:search' } },
    async (req) => {
      requireMv(req, 1, 52);
      req.authorize({});
      const hs = await matching((req.params as P).pattern!);
      return {
        hypervisors: hs.map((x) => hypervisorView(x.h, mv(req), { detail: false, up: x.up, usage: x.usage })),
      };
    },
  );
  app.get(
    '/v2.1/os-hypervisors/:pattern/servers',
    { config: { policy: 'os_compute_api:os-hypervisors:servers' } },
    async (req) => {
      requireMv(req, 1, 52);
      req.authorize({});
      const hs = await matching((req.params as P).pattern!);
      const out = [];
      for (const x of hs)
        out.push(
          hypervisorView(x.h, mv(req), {
            detail: false,
            up: x.up,
            usage: x.usage,
            servers: await serversOn(x.h.name),
          }),
        );
      return { hypervisors: out };
    },
  );

  // ------------------------------------------------------------------ services
  const zonesP = () => mgr.hostZones();
  function serviceView(h: HostRow, v: Mv, zone: string) {
    return {
      id: v.ge(53) ? h.service_uuid : h.id,
      binary: 'nova-compute',
      host: h.name,
      zone,
      status: h.enabled ? 'enabled' : 'disabled',
      state: mgr.isUp(h) ? 'up' : 'down',
      updated_at: naiveMicro(h.heartbeat_at),
      disabled_reason: h.disabled_reason,
      ...(v.ge(11) ? { forced_down: bool(h.forced_down) } : {}),
    };
  }
  app.get('/v2.1/os-services', { config: { policy: 'os_compute_api:os-services:list' } }, async (req) => {
    req.authorize({});
    const zones = await zonesP();
    let hosts = await store.hosts();
    const host = q1(req, 'host');
    const binary = q1(req, 'binary');
    if (host) hosts = hosts.filter((h) => h.name === host);
    if (binary && binary !== 'nova-compute') hosts = [];
    return { services: hosts.map((h) => serviceView(h, mv(req), zones.get(h.name)!)) };
  });
  app.put(
    '/v2.1/os-services/:id',
    { config: { policy: 'os_compute_api:os-services:update' } },
    async (req) => {
      requireMv(req, 53);
      req.authorize({});
      const id = (req.params as P).id!;
      const h = (await store.hosts()).find((x) => x.service_uuid === id);
      if (!h) throw new ApiError(404, `Service ${id} could not be found.`, 'itemNotFound');
      const b = req.body as Obj;
      if (!b || typeof b !== 'object') throw bad('Invalid body');
      noExtra(b, ['status', 'disabled_reason', 'forced_down'], 'service');
      const values: Partial<HostRow> = { updated_at: now() };
      if (b.status !== undefined) {
        if (!['enabled', 'disabled'].includes(String(b.status)))
          throw bad(`Invalid input for field/attribute status. Value: ${b.status}.`);
        values.enabled = b.status === 'enabled' ? 1 : 0;
        values.disabled_reason =
          b.status === 'enabled' ? null : (str(b, 'disabled_reason', { max: 255 }) ?? null);
      } else if (b.disabled_reason !== undefined)
        throw bad('Specifying a disabled_reason is only supported when the status is disabled.');
      if (b.forced_down !== undefined) values.forced_down = boolOf(b, 'forced_down') ? 1 : 0;
      await store.k.updateTable('compute_host').set(values).where('name', '=', h.name).execute();
      const fresh = (await store.host(h.name))!;
      return { service: serviceView(fresh, mv(req), (await zonesP()).get(h.name)!) };
    },
  );
  // Legacy (< 2.53) enable/disable by host.
  for (const action of ['enable', 'disable', 'disable-log-reason', 'force-down']) {
    app.put(
      `/v2.1/os-services/${action}`,
      { config: { policy: 'os_compute_api:os-services:update' } },
      async (req) => {
        requireMv(req, 1, 52);
        req.authorize({});
        const b = (req.body ?? {}) as Obj;
        const host = str(b, 'host', { required: true })!;
        const h = await store.host(host);
        if (!h) throw new ApiError(404, `Host '${host}' is not mapped to any cell`, 'itemNotFound');
        const values: Partial<HostRow> = {};
        if (action === 'enable') Object.assign(values, { enabled: 1, disabled_reason: null });
        if (action === 'disable') values.enabled = 0;
        if (action === 'disable-log-reason')
          Object.assign(values, {
            enabled: 0,
            disabled_reason: str(b, 'disabled_reason', { required: true }),
          });
        if (action === 'force-down') values.forced_down = boolOf(b, 'forced_down') ? 1 : 0;
        await store.k.updateTable('compute_host').set(values).where('name', '=', host).execute();
        return {
          service: {
            host,
            binary: 'nova-compute',
            ...(action === 'force-down'
              ? { forced_down: !!values.forced_down }
              : { status: values.enabled ? 'enabled' : 'disabled' }),
            ...(values.disabled_reason ? { disabled_reason: values.disabled_reason } : {}),
          },
        };
      },
    );
  }
  app.delete(
    '/v2.1/os-services/:id',
    { config: { policy: 'os_compute_api:os-services:delete' } },
    async (req, reply) => {
      req.authorize({});
      const id = (req.params as P).id!;
      const h = (await store.hosts()).find((x) =>
        mv(req).ge(53) ? x.service_uuid === id : String(x.id) === id,
      );
      if (!h) throw new ApiError(404, `Service ${id} could not be found.`, 'itemNotFound');
      const n = await store.k
        .selectFrom('compute_server')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('host', '=', h.name)
        .where('deleted', '=', 0)
        .executeTakeFirstOrThrow();
      if (Number(n.n) > 0)
        throw new ApiError(
          409,
          `Unable to delete compute service that is hosting instances. Migrate or delete the instances first.`,
          'conflictingRequest',
        );
      await store.k.deleteFrom('compute_host').where('name', '=', h.name).execute();
      reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ aggregates
  const aggView = (a: AggregateRow, v: Mv) => ({
    id: a.id,
    name: a.name,
    availability_zone: a.availability_zone,
    hosts: json<string[]>(a.hosts, []),
    metadata: {
      ...json<Record<string, string>>(a.metadata, {}),
      ...(a.availability_zone ? { availability_zone: a.availability_zone } : {}),
    },
    created_at: naiveMicro(new Date(a.created_at).toISOString()),
    updated_at: a.updated_at ? naiveMicro(new Date(a.updated_at).toISOString()) : null,
    deleted_at: null,
    deleted: false,
    ...(v.ge(41) ? { uuid: a.uuid } : {}),
  });
  const aggNotFound = (id: string) =>
    new ApiError(404, `Aggregate ${id} could not be found.`, 'itemNotFound');
  async function agg(id: string): Promise<AggregateRow> {
    if (!/^\d+$/.test(id)) throw aggNotFound(id);
    const a = await store.k
      .selectFrom('compute_aggregate')
      .selectAll()
      .where('id', '=', Number(id))
      .executeTakeFirst();
    if (!a) throw aggNotFound(id);
    return a;
  }
  app.get(
    '/v2.1/os-aggregates',
    { config: { policy: 'os_compute_api:os-aggregates:index' } },
    async (req) => {
      req.authorize({});
      const rows = await store.k.selectFrom('compute_aggregate').selectAll().orderBy('id').execute();
      return { aggregates: rows.map((a) => aggView(a, mv(req))) };
    },
  );
  app.post(
    '/v2.1/os-aggregates',
    { config: { policy: 'os_compute_api:os-aggregates:create' } },
    async (req) => {
      req.authorize({});
      const b = bodyKey(req, 'aggregate');
      noExtra(b, ['name', 'availability_zone'], 'aggregate');
      const name = str(b, 'name', { required: true, min: 1, max: 255, trim: true })!;
      const az = str(b, 'availability_zone', { min: 1, max: 255, nullable: true }) ?? null;
      if (az?.includes(':'))
        throw bad("Invalid input for field/attribute availability_zone. It must not contain ':'");
      const t = new Date().toISOString();
      try {
        const r = await store.k
          .insertInto('compute_aggregate')
          .values({
            uuid: uuid(),
            name,
            availability_zone: az,
            metadata: '{}',
            hosts: '[]',
            created_at: t,
            updated_at: null,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        const a = await agg(String(r.id));
        const v = aggView(a, mv(req));
        return {
          aggregate: {
            id: v.id,
            name: v.name,
            availability_zone: v.availability_zone,
            created_at: v.created_at,
            updated_at: null,
            deleted_at: null,
            deleted: false,
            ...(mv(req).ge(41) ? { uuid: a.uuid } : {}),
          },
        };
      } catch (e) {
        if (mgr.uniqueViolation(e))
          throw new ApiError(409, `Aggregate ${name} already exists.`, 'conflictingRequest');
        throw e;
      }
    },
  );
  app.get(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:show' } },
    async (req) => {
      req.authorize({});
      return { aggregate: aggView(await agg((req.params as P).id!), mv(req)) };
    },
  );
  app.put(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:update' } },
    async (req) => {
      req.authorize({});
      const a = await agg((req.params as P).id!);
      const b = bodyKey(req, 'aggregate');
      noExtra(b, ['name', 'availability_zone'], 'aggregate');
      if (Object.keys(b).length === 0)
        throw bad('Invalid input for field/attribute aggregate. {} does not have enough properties');
      const values: Partial<AggregateRow> = { updated_at: new Date().toISOString() };
      if (b.name !== undefined) values.name = str(b, 'name', { min: 1, max: 255, trim: true })!;
      if (b.availability_zone !== undefined)
        values.availability_zone = str(b, 'availability_zone', { min: 1, max: 255, nullable: true }) ?? null;
      try {
        await store.k.updateTable('compute_aggregate').set(values).where('id', '=', a.id).execute();
      } catch (e) {
        if (mgr.uniqueViolation(e))
          throw new ApiError(409, `Aggregate ${values.name} already exists.`, 'conflictingRequest');
        throw e;
      }
      return { aggregate: aggView(await agg(String(a.id)), mv(req)) };
    },
  );
  app.delete(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:delete' } },
    async (req, reply) => {
      req.authorize({});
      const a = await agg((req.params as P).id!);
      if (json<string[]>(a.hosts, []).length)
        throw bad(`Cannot remove aggregate ${a.id}: it still has hosts`);
      await store.k.deleteFrom('compute_aggregate').where('id', '=', a.id).execute();
      reply.code(200).send();
    },
  );
  app.post(
    '/v2.1/os-aggregates/:id/action',
    { config: { policy: 'os_compute_api:os-aggregates:add_host' } },
    async (req) => {
      const b = req.body as Obj | undefined;
      const action = b && Object.keys(b).length === 1 ? Object.keys(b)[0]! : '';
      const rules: Record<string, string> = {
        add_host: 'os_compute_api:os-aggregates:add_host',
        remove_host: 'os_compute_api:os-aggregates:remove_host',
        set_metadata: 'os_compute_api:os-aggregates:set_metadata',
      };
      if (!rules[action])
        throw bad('Invalid request body: expected one of add_host, remove_host, set_metadata');
      req.authorize({}, rules[action]);
      const a = await agg((req.params as P).id!);
      const arg = b![action] as Obj;
      if (!arg || typeof arg !== 'object') throw bad(`Invalid input for field/attribute ${action}.`);
      const hosts = json<string[]>(a.hosts, []);
      const values: Partial<AggregateRow> = { updated_at: new Date().toISOString() };
      if (action === 'add_host' || action === 'remove_host') {
        const host = str(arg, 'host', { required: true, min: 1, max: 255 })!;
        if (!(await store.host(host)))
          throw new ApiError(404, `Compute host ${host} could not be found.`, 'itemNotFound');
        if (action === 'add_host') {
          if (hosts.includes(host))
            throw new ApiError(
              409,
              `Cannot add host ${host} in aggregate ${a.id}: host exists`,
              'conflictingRequest',
            );
          hosts.push(host);
        } else {
          if (!hosts.includes(host))
            throw new ApiError(404, `Cannot remove host ${host} in aggregate ${a.id}`, 'itemNotFound');
          hosts.splice(hosts.indexOf(host), 1);
        }
        values.hosts = JSON.stringify(hosts);
      } else {
        const md = arg.metadata as Obj;
        if (!md || typeof md !== 'object')
          throw bad("Invalid input for field/attribute metadata. 'metadata' is a required property");
        const cur = json<Record<string, string>>(a.metadata, {});
        for (const [k, v] of Object.entries(md)) {
          if (k === 'availability_zone') {
            values.availability_zone = v === null ? null : String(v);
            continue;
          }
          if (v === null) delete cur[k];
          else cur[k] = String(v);
        }
        values.metadata = JSON.stringify(cur);
      }
      await store.k.updateTable('compute_aggregate').set(values).where('id', '=', a.id).execute();
      return { aggregate: aggView(await agg(String(a.id)), mv(req)) };
    },
  );

  // ------------------------------------------------------------------ server groups
  const groupView = async (
    g: { id: string; name: string; project_id: string; user_id: string; policy: string; rules: string },
    v: Mv,
  ) => {
    const members = (
      await store.k
        .selectFrom('compute_server')
        .select('id')
        .where('server_group_id', '=', g.id)
        .where('deleted', '=', 0)
        .execute()
    ).map((m) => m.id);
    const out: Record<string, unknown> = { id: g.id, name: g.name, members };
    if (v.ge(64)) Object.assign(out, { policy: g.policy, rules: json(g.rules, {}) });
    else Object.assign(out, { policies: [g.policy], metadata: {} });
    if (v.ge(13)) Object.assign(out, { project_id: g.project_id, user_id: g.user_id });
    return out;
  };
  app.get(
    '/v2.1/os-server-groups',
    { config: { policy: 'os_compute_api:os-server-groups:index' } },
    async (req) => {
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId });
      let q = store.k.selectFrom('compute_server_group').selectAll().orderBy('created_at').orderBy('id');
      const all = ['true', '1', 'yes'].includes((q1(req, 'all_projects') ?? '').toLowerCase());
      if (all)
        req.authorize({ project_id: c.projectId }, 'os_compute_api:os-server-groups:index:all_projects');
      else q = q.where('project_id', '=', c.projectId);
      let rows = await q.execute();
      const offset = Number(q1(req, 'offset') ?? 0);
      const limit = limitOf(req);
      if (offset > 0) rows = rows.slice(offset);
      if (limit !== undefined) rows = rows.slice(0, limit);
      const out = [];
      for (const g of rows) out.push(await groupView(g, mv(req)));
      return { server_groups: out };
    },
  );
  app.get(
    '/v2.1/os-server-groups/:id',
    { config: { policy: 'os_compute_api:os-server-groups:show' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const id = (req.params as P).id!;
      const g = await store.k
        .selectFrom('compute_server_group')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!g || (g.project_id !== c.projectId && !c.isAdmin))
        throw new ApiError(404, `Instance group ${id} could not be found.`, 'itemNotFound');
      req.authorize({ project_id: g.project_id });
      return { server_group: await groupView(g, mv(req)) };
    },
  );
  app.post(
    '/v2.1/os-server-groups',
    { config: { policy: 'os_compute_api:os-server-groups:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId, user_id: c.userId });
      const b = bodyKey(req, 'server_group');
      const v = mv(req);
      let policy: string;
      let rules: Record<string, unknown> = {};
      const valid = v.ge(15)
        ? ['anti-affinity', 'affinity', 'soft-anti-affinity', 'soft-affinity']
        : ['anti-affinity', 'affinity'];
      if (v.ge(64)) {
        noExtra(b, ['name', 'policy', 'rules'], 'server_group');
        policy = str(b, 'policy', { required: true })!;
        if (b.rules !== undefined) {
          if (!b.rules || typeof b.rules !== 'object')
            throw bad("Invalid input for field/attribute rules. is not of type 'object'");
          rules = b.rules as Record<string, unknown>;
          noExtra(rules as Obj, ['max_server_per_host'], 'rules');
          if (rules.max_server_per_host !== undefined) {
            if (policy !== 'anti-affinity')
              throw bad("Only anti-affinity policy supports the 'max_server_per_host' rule.");
            const m = Number(rules.max_server_per_host);
            if (!Number.isInteger(m) || m < 1)
              throw bad('Invalid input for field/attribute max_server_per_host.');
            rules = { max_server_per_host: m };
          }
        }
      } else {
        noExtra(b, ['name', 'policies'], 'server_group');
        const ps = b.policies;
        if (!Array.isArray(ps) || ps.length !== 1)
          throw bad("Invalid input for field/attribute policies. 'policies' must have exactly one item");
        policy = String(ps[0]);
      }
      if (!valid.includes(policy))
        throw bad(
          `Invalid input for field/attribute policy. Value: ${policy}. '${policy}' is not one of ${JSON.stringify(valid)}`,
        );
      const name = str(b, 'name', { required: true, min: 1, max: 255, trim: true })!;
      const limits = await mgr.quotaLimits(c.projectId);
      const id = uuid();
      await store.locked([`quota:${c.projectId}`], async (trx) => {
        const n = await trx
          .selectFrom('compute_server_group')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('project_id', '=', c.projectId)
          .executeTakeFirstOrThrow();
        if (limits.server_groups! >= 0 && Number(n.n) + 1 > limits.server_groups!)
          throw new ApiError(403, 'Quota exceeded, too many server groups.', 'forbidden');
        await trx
          .insertInto('compute_server_group')
          .values({
            id,
            name,
            project_id: c.projectId,
            user_id: c.userId,
            policy,
            rules: JSON.stringify(rules),
            created_at: new Date().toISOString(),
          })
          .execute();
      });
      const g = (await store.k
        .selectFrom('compute_server_group')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst())!;
      return { server_group: await groupView(g, v) };
    },
  );
  app.delete(
    '/v2.1/os-server-groups/:id',
    { config: { policy: 'os_compute_api:os-server-groups:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const id = (req.params as P).id!;
      const g = await store.k
        .selectFrom('compute_server_group')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!g || (g.project_id !== c.projectId && !c.isAdmin))
        throw new ApiError(404, `Instance group ${id} could not be found.`, 'itemNotFound');
      req.authorize({ project_id: g.project_id, user_id: g.user_id });
      await store.k.deleteFrom('compute_server_group').where('id', '=', id).execute();
      await store.k
        .updateTable('compute_server')
        .set({ server_group_id: null })
        .where('server_group_id', '=', id)
        .execute();
      reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ simple tenant usage
  function period(req: FastifyRequest): [Date, Date] {
    const parse = (s: string | undefined, d: Date) => {
      if (!s) return d;
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
      if (Number.isNaN(t)) throw bad(`Invalid input for query parameters. Invalid timestamp for date ${s}`);
      return new Date(t);
    };
    const end = parse(q1(req, 'end'), new Date());
    const start = parse(q1(req, 'start'), new Date(end.getTime() - 30 * 86400_000));
    if (start > end) throw bad('Invalid start time. The start time cannot occur after the end time.');
    return [start, end];
  }
  async function usageFor(projectId: string | undefined, start: Date, end: Date, detailed: boolean) {
    let q = store.k
      .selectFrom('compute_server')
      .selectAll()
      .where('created_at', '<=', end.toISOString().replace(/\.\d{3}Z$/, 'Z'));
    if (projectId) q = q.where('project_id', '=', projectId);
    const rows = (await q.execute()).filter(
      (s) => !s.deleted_at || Date.parse(s.deleted_at) >= start.getTime(),
    );
    const byProject = new Map<string, typeof rows>();
    for (const s of rows) byProject.set(s.project_id, [...(byProject.get(s.project_id) ?? []), s]);
    const out = [];
    for (const [pid, servers] of byProject) {
      let hours = 0;
      let vcpuHours = 0;
      let mbHours = 0;
      let gbHours = 0;
      const serverUsages = [];
      for (const s of servers) {
        const from = Math.max(start.getTime(), Date.parse(s.created_at));
        const to = Math.min(end.getTime(), s.deleted_at ? Date.parse(s.deleted_at) : end.getTime());
        const h = Math.max(0, (to - from) / 3600_000);
        hours += h;
        vcpuHours += h * s.vcpus;
        mbHours += h * s.memory_mb;
        gbHours += h * s.disk_gb;
        if (detailed) {
          const f = json<{ name?: string; disk?: number }>(s.flavor, {});
          serverUsages.push({
            instance_id: s.id,
            name: s.name,
            hours: h,
            memory_mb: s.memory_mb,
            local_gb: f.disk ?? s.disk_gb,
            vcpus: s.vcpus,
            tenant_id: s.project_id,
            flavor: f.name ?? s.flavor_id,
            started_at: naiveMicro(new Date(s.created_at).toISOString()),
            ended_at: s.deleted_at ? naiveMicro(new Date(s.deleted_at).toISOString()) : null,
            state: s.deleted ? 'terminated' : s.vm_state,
            uptime: Math.floor((Date.now() - Date.parse(s.created_at)) / 1000),
          });
        }
      }
      out.push({
        tenant_id: pid,
        start: naiveMicro(start.toISOString()),
        stop: naiveMicro(end.toISOString()),
        total_hours: hours,
        total_vcpus_usage: vcpuHours,
        total_memory_mb_usage: mbHours,
        total_local_gb_usage: gbHours,
        ...(detailed ? { server_usages: serverUsages } : {}),
      });
    }
    return out;
  }
  app.get(
    '/v2.1/os-simple-tenant-usage',
    { config: { policy: 'os_compute_api:os-simple-tenant-usage:list' } },
    async (req) => {
      req.authorize({});
      const [start, end] = period(req);
      const detailed = ['1', 'true'].includes((q1(req, 'detailed') ?? '').toLowerCase());
      let usages = (await usageFor(undefined, start, end, detailed)).sort((a, b) =>
        a.tenant_id.localeCompare(b.tenant_id),
      );
      // 2.40: paging by tenant (marker = tenant id).
      const limit = mv(req).ge(40) ? limitOf(req) : undefined;
      const marker = mv(req).ge(40) ? q1(req, 'marker') : undefined;
      if (marker) {
        const i = usages.findIndex((u) => u.tenant_id === marker);
        if (i < 0) throw bad(`marker [${marker}] not found`);
        usages = usages.slice(i + 1);
      }
      const out: Record<string, unknown> = {
        tenant_usages: limit !== undefined ? usages.slice(0, limit) : usages,
      };
      if (limit !== undefined && usages.length > limit)
        out.tenant_usages_links = [
          {
            rel: 'next',
            href: `${base}/v2.1/os-simple-tenant-usage?limit=${limit}&marker=${usages[limit - 1]!.tenant_id}`,
          },
        ];
      return out;
    },
  );
  app.get(
    '/v2.1/os-simple-tenant-usage/:project',
    { config: { policy: 'os_compute_api:os-simple-tenant-usage:show' } },
    async (req) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      const [start, end] = period(req);
      const u = await usageFor(project, start, end, true);
      return { tenant_usage: u[0] ?? {} };
    },
  );

  // ------------------------------------------------------------------ migrations
  app.get(
    '/v2.1/os-migrations',
    { config: { policy: 'os_compute_api:os-migrations:index' } },
    async (req) => {
      req.authorize({});
      const v = mv(req);
      let q = store.k
        .selectFrom('compute_migration')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc');
      for (const [k, col] of [
        ['instance_uuid', 'server_id'],
        ['status', 'status'],
        ['migration_type', 'migration_type'],
        ['source_compute', 'source_compute'],
      ] as const) {
        const val = q1(req, k);
        if (val) q = q.where(col, '=', val);
      }
      if (v.ge(80)) {
        const p = q1(req, 'project_id');
        if (p) q = q.where('project_id', '=', p);
      }
      const limit = v.ge(59) ? limitOf(req) : undefined;
      if (limit !== undefined) q = q.limit(limit);
      const rows = await q.execute();
      return {
        migrations: rows.map((m) => ({
          id: m.id,
          instance_uuid: m.server_id,
          source_compute: m.source_compute,
          dest_compute: m.dest_compute,
          source_node: m.source_node,
          dest_node: m.dest_node,
          dest_host: m.dest_host,
          old_instance_type_id: m.old_flavor_id,
          new_instance_type_id: m.new_flavor_id,
          status: m.status,
          created_at: naiveMicro(new Date(m.created_at).toISOString()),
          updated_at: m.updated_at ? naiveMicro(new Date(m.updated_at).toISOString()) : null,
          ...(v.ge(23)
            ? {
                migration_type: m.migration_type,
                links: m.migration_type === 'live-migration' ? [] : undefined,
              }
            : {}),
          ...(v.ge(59) ? { uuid: m.uuid } : {}),
          ...(v.ge(80) ? { project_id: m.project_id, user_id: m.user_id } : {}),
        })),
      };
    },
  );

  // ------------------------------------------------------------------ extensions (deprecated; an empty-ish list keeps old clients happy)
  app.get('/v2.1/extensions', { config: { policy: 'os_compute_api:extensions' } }, async (req) => {
    req.authorize({});
    return { extensions: [] };
  });

  void QUOTA_DEFAULTS;
}
