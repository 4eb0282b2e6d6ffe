/** Implied roles and role inferences (Keystone keystone/api/roles.py, role_inferences.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type RoleRow, type IdentityManager } from '../manager.js';
import { listLinks, roleRef, v3Base } from '../views.js';
import { noContent, params } from './common.js';

export function impliedRoleRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  // implied roles
  const impliedView = async (req: FastifyRequest, prior: RoleRow, implied: RoleRow[]) => ({
    role_inference: { prior_role: roleRef(req, prior), implies: implied.map((r) => roleRef(req, r)) },
    links: { self: `${v3Base(req)}/roles/${prior.id}/implies` },
  });
  app.get(
    '/v3/roles/:prior_role_id/implies',
    { config: { policy: 'identity:list_implied_roles' } },
    async (req) => {
      req.authorize();
      const prior = await mgr.getRole(params(req).prior_role_id!);
      const ids = (await store.impliedRules())
        .filter((r) => r.prior_role_id === prior.id)
        .map((r) => r.implied_role_id);
      return impliedView(req, prior, await store.listRoles({ ids }));
    },
  );
  app.put(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    { config: { policy: 'identity:create_implied_role' } },
    async (req, reply) => {
      req.authorize();
      const { prior_role_id: p, implied_role_id: i } = params(req) as {
        prior_role_id: string;
        implied_role_id: string;
      };
      await mgr.createImpliedRole(p, i);
      reply.code(201);
      return {
        role_inference: {
          prior_role: roleRef(req, await mgr.getRole(p)),
          implies: roleRef(req, await mgr.getRole(i)),
        },
        links: { self: `${v3Base(req)}/roles/${p}/implies/${i}` },
      };
    },
  );
  app.get(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    { exposeHeadRoute: false, config: { policy: 'identity:get_implied_role' } },
    async (req) => {
      req.authorize();
      const { prior_role_id: p, implied_role_id: i } = params(req) as {
        prior_role_id: string;
        implied_role_id: string;
      };
      await mgr.checkImpliedRole(p, i);
      return {
        role_inference: {
          prior_role: roleRef(req, await mgr.getRole(p)),
          implies: roleRef(req, await mgr.getRole(i)),
        },
        links: { self: `${v3Base(req)}/roles/${p}/implies/${i}` },
      };
    },
  );
  app.head(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    { config: { policy: 'identity:check_implied_role' } },
    async (req, reply) => {
      req.authorize();
      await mgr.checkImpliedRole(params(req).prior_role_id!, params(req).implied_role_id!);
      return noContent(reply);
    },
  );
  app.delete(
    '/v3/roles/:prior_role_id/implies/:implied_role_id',
    { config: { policy: 'identity:delete_implied_role' } },
    async (req, reply) => {
      req.authorize();
      await mgr.deleteImpliedRole(params(req).prior_role_id!, params(req).implied_role_id!);
      return noContent(reply);
    },
  );
  app.get(
    '/v3/role_inferences',
    { config: { policy: 'identity:list_role_inference_rules' } },
    async (req) => {
      req.authorize();
      const rules = await store.impliedRules();
      const roles = new Map((await store.listRoles()).map((r) => [r.id, r]));
      const byPrior = new Map<string, RoleRow[]>();
      for (const r of rules)
        byPrior.set(r.prior_role_id, [
          ...(byPrior.get(r.prior_role_id) ?? []),
          roles.get(r.implied_role_id)!,
        ]);
      return {
        role_inferences: [...byPrior].map(([p, implied]) => ({
          prior_role: roleRef(req, roles.get(p)!),
          implies: implied.map((r) => roleRef(req, r)),
        })),
        links: listLinks(req),
      };
    },
  );
}
