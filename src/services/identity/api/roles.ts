/** Roles and domain-specific roles (Keystone keystone/api/roles.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GLOBAL_ROLE_DOMAIN, type IdentityManager } from '../manager.js';
import { listLinks, roleView } from '../views.js';
import { bodyOf, inexactFilter, noContent, one, params, q, splitExtra } from './common.js';
import * as S from './schemas.js';

export function roleRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  app.get('/v3/roles', { config: { policy: 'identity:list_roles' } }, async (req) => {
    req.authorize();
    const query = q(req);
    const domainId = one(query, 'domain_id') ?? GLOBAL_ROLE_DOMAIN;
    const rows = inexactFilter(await store.listRoles({ domainId, name: one(query, 'name') }), query, [
      'name',
    ]);
    return { roles: rows.map((r) => roleView(req, r)), links: listLinks(req) };
  });
  app.post(
    '/v3/roles',
    { config: { policy: 'identity:create_role' }, schema: { body: S.roleCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'role');
      req.authorize({}, b.domain_id ? 'identity:create_domain_role' : undefined);
      const r = await mgr.createRole({
        ...b,
        extra: splitExtra(b, ['id', 'name', 'domain_id', 'description', 'options']),
      } as never);
      reply.code(201);
      return { role: roleView(req, r) };
    },
  );
  const loadRoleFor = async (req: FastifyRequest, globalRule: string, domainRule: string) => {
    const r = await mgr.getRole(params(req).role_id!);
    req.authorize({}, r.domain_id === GLOBAL_ROLE_DOMAIN ? globalRule : domainRule);
    return r;
  };
  app.get('/v3/roles/:role_id', { config: { policy: 'identity:get_role' } }, async (req) => ({
    role: roleView(req, await loadRoleFor(req, 'identity:get_role', 'identity:get_domain_role')),
  }));
  app.patch(
    '/v3/roles/:role_id',
    { config: { policy: 'identity:update_role' }, schema: { body: S.roleUpdate } },
    async (req) => {
      const r = await loadRoleFor(req, 'identity:update_role', 'identity:update_domain_role');
      const b = bodyOf<Record<string, any>>(req, 'role');
      return {
        role: roleView(
          req,
          await mgr.updateRole(r.id, {
            ...b,
            extra: splitExtra(b, ['id', 'name', 'domain_id', 'description', 'options']),
          }),
        ),
      };
    },
  );
  app.delete('/v3/roles/:role_id', { config: { policy: 'identity:delete_role' } }, async (req, reply) => {
    const r = await loadRoleFor(req, 'identity:delete_role', 'identity:delete_domain_role');
    await mgr.deleteRole(r.id);
    return noContent(reply);
  });
}
