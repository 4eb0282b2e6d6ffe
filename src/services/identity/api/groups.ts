/** Groups and group membership (Keystone keystone/api/groups.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { groupView, listLinks, userView } from '../views.js';
import {
  bodyOf,
  callerDomain,
  forcedDomain,
  inexactFilter,
  noContent,
  one,
  params,
  q,
  splitExtra,
} from './common.js';
import * as S from './schemas.js';

export function groupRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  app.get('/v3/groups', { config: { policy: 'identity:list_groups' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    const domainId = forced ?? one(query, 'domain_id');
    req.authorize({ target: domainId ? { domain_id: domainId } : {} });
    const rows = inexactFilter(await store.listGroups({ domainId, name: one(query, 'name') }), query, [
      'name',
    ]);
    return { groups: rows.map((g) => groupView(req, g)), links: listLinks(req) };
  });
  app.post(
    '/v3/groups',
    { config: { policy: 'identity:create_group' }, schema: { body: S.groupCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'group');
      const domainId = b.domain_id ?? callerDomain(req);
      req.authorize({ target: { group: { domain_id: domainId } } });
      const g = await mgr.createGroup({
        ...b,
        domain_id: domainId,
        extra: splitExtra(b, ['name', 'domain_id', 'description']),
      } as never);
      reply.code(201);
      return { group: groupView(req, g) };
    },
  );
  const loadGroupFor = async (req: FastifyRequest, rule?: string) => {
    const g = await mgr.getGroup(params(req).group_id!);
    const target: Record<string, unknown> = { group: { id: g.id, domain_id: g.domain_id } };
    if (params(req).user_id) {
      const u = await mgr.getUser(params(req).user_id!);
      target.user = { id: u.id, domain_id: u.domain_id };
    }
    req.authorize({ target }, rule);
    return g;
  };
  app.get('/v3/groups/:group_id', { config: { policy: 'identity:get_group' } }, async (req) => ({
    group: groupView(req, await loadGroupFor(req)),
  }));
  app.patch(
    '/v3/groups/:group_id',
    { config: { policy: 'identity:update_group' }, schema: { body: S.groupUpdate } },
    async (req) => {
      const g = await loadGroupFor(req);
      const b = bodyOf<Record<string, any>>(req, 'group');
      return {
        group: groupView(
          req,
          await mgr.updateGroup(g.id, { ...b, extra: splitExtra(b, ['name', 'domain_id', 'description']) }),
        ),
      };
    },
  );
  app.delete('/v3/groups/:group_id', { config: { policy: 'identity:delete_group' } }, async (req, reply) => {
    const g = await loadGroupFor(req);
    await mgr.deleteGroup(g.id);
    return noContent(reply);
  });
  app.get(
    '/v3/groups/:group_id/users',
    { config: { policy: 'identity:list_users_in_group' } },
    async (req) => {
      const g = await loadGroupFor(req);
      const rows = await store.listUsers({ ids: await store.userIdsOfGroup(g.id) });
      const out = [];
      for (const u of rows) out.push(userView(req, u, await mgr.passwordExpiresAt(u.id)));
      return { users: out, links: listLinks(req) };
    },
  );
  app.put(
    '/v3/groups/:group_id/users/:user_id',
    { config: { policy: 'identity:add_user_to_group' } },
    async (req, reply) => {
      const g = await loadGroupFor(req);
      await mgr.addUserToGroup(g.id, params(req).user_id!);
      return noContent(reply);
    },
  );
  {
    app.route({
      method: ['GET', 'HEAD'],
      url: '/v3/groups/:group_id/users/:user_id',
      config: { policy: 'identity:check_user_in_group' },
      handler: async (req, reply) => {
        const g = await loadGroupFor(req);
        await mgr.checkUserInGroup(g.id, params(req).user_id!);
        return noContent(reply);
      },
    });
  }
  app.delete(
    '/v3/groups/:group_id/users/:user_id',
    { config: { policy: 'identity:remove_user_from_group' } },
    async (req, reply) => {
      const g = await loadGroupFor(req);
      await mgr.removeUserFromGroup(g.id, params(req).user_id!);
      return noContent(reply);
    },
  );
}
