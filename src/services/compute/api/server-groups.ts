/** os-server-groups (nova/api/openstack/compute/server_groups.py). */
import type { Caller } from '../../../core/auth/caller.js';
import type { GroupRow } from '../rows.js';
import type { FastifyInstance } from 'fastify';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import type { Mv } from '../microversion.js';
import { bad, bodyKey, callerOf, flag, limitOf, mv, noExtra, q1, str, type Obj, type P } from './common.js';

export function serverGroupRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;
  /** A group the caller may see (404 for another project's, as Nova). */
  async function visibleGroup(c: Caller, id: string): Promise<GroupRow> {
    const g = await store.group(id);
    if (!g || (g.project_id !== c.projectId && !c.isAdmin))
      throw new ApiError(404, `Instance group ${id} could not be found.`, 'itemNotFound');
    return g;
  }
  const groupView = async (
    g: { id: string; name: string; project_id: string; user_id: string; policy: string; rules: string },
    v: Mv,
  ) => {
    const members = await store.groupMembers(g.id);
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
      const all = flag(req, 'all_projects');
      if (all)
        req.authorize({ project_id: c.projectId }, 'os_compute_api:os-server-groups:index:all_projects');
      let rows = await store.groups(all ? undefined : c.projectId);
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
      const g = await visibleGroup(c, id);
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
      const g = await mgr.createServerGroup(c, { name, policy, rules });
      return { server_group: await groupView(g, v) };
    },
  );
  app.delete(
    '/v2.1/os-server-groups/:id',
    { config: { policy: 'os_compute_api:os-server-groups:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const id = (req.params as P).id!;
      const g = await visibleGroup(c, id);
      req.authorize({ project_id: g.project_id, user_id: g.user_id });
      await store.deleteGroup(id);
      reply.code(204).send();
    },
  );
}
