/** os-quota-sets and os-quota-class-sets (nova/api/openstack/compute/quota_sets.py, quota_classes.py). */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import type { Mv } from '../microversion.js';
import { bad, bodyKey, boolOf, callerOf, mv, noExtra, q1, type P } from './common.js';

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

export function quotaRoutes(app: FastifyInstance, mgr: ComputeManager) {
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
      const u = await mgr.usage(project, q1(req, 'user_id') ?? callerOf(req, mgr).userId);
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
        const u = await mgr.usage(project);
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
}
