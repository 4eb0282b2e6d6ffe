/** Users, their projects and groups, password change (Keystone keystone/api/users.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool } from '../../../core/db/index.js';
import type { IdentityManager } from '../manager.js';
import { groupView, listLinks, projectView, userView } from '../views.js';
import { projectsOfUser } from './auth.js';
import {
  USER_KEYS,
  bodyOf,
  boolQuery,
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

export function userRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  app.get('/v3/users', { config: { policy: 'identity:list_users' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    const domainId = forced ?? one(query, 'domain_id');
    req.authorize({ target: domainId ? { domain_id: domainId } : {} });
    let rows = await store.listUsers({
      domainId,
      name: one(query, 'name'),
      enabled: boolQuery(query, 'enabled'),
    });
    rows = inexactFilter(rows, query, ['name']);
    const out = [];
    for (const u of rows) out.push(userView(req, u, await mgr.passwordExpiresAt(u.id)));
    return { users: out, links: listLinks(req) };
  });
  app.post(
    '/v3/users',
    { config: { policy: 'identity:create_user' }, schema: { body: S.userCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'user');
      const domainId = b.domain_id ?? callerDomain(req);
      req.authorize({ target: { user: { domain_id: domainId } } });
      const u = await mgr.createUser({ ...b, domain_id: domainId, extra: splitExtra(b, USER_KEYS) } as never);
      reply.code(201);
      return { user: userView(req, u, await mgr.passwordExpiresAt(u.id)) };
    },
  );
  const loadUserFor = async (req: FastifyRequest) => {
    const u = await mgr.getUser(params(req).user_id!);
    req.authorize({ target: { user: { id: u.id, domain_id: u.domain_id } }, user_id: u.id });
    return u;
  };
  app.get('/v3/users/:user_id', { config: { policy: 'identity:get_user' } }, async (req) => {
    const u = await loadUserFor(req);
    return { user: userView(req, u, await mgr.passwordExpiresAt(u.id)) };
  });
  app.patch(
    '/v3/users/:user_id',
    { config: { policy: 'identity:update_user' }, schema: { body: S.userUpdate } },
    async (req) => {
      const u = await loadUserFor(req);
      const b = bodyOf<Record<string, any>>(req, 'user');
      const updated = await mgr.updateUser(u.id, { ...b, extra: splitExtra(b, USER_KEYS) });
      return { user: userView(req, updated, await mgr.passwordExpiresAt(u.id)) };
    },
  );
  app.delete('/v3/users/:user_id', { config: { policy: 'identity:delete_user' } }, async (req, reply) => {
    const u = await loadUserFor(req);
    await mgr.deleteUser(u.id);
    return noContent(reply);
  });
  // Self-service password change: Keystone allows it without a token for expired passwords.
  app.post(
    '/v3/users/:user_id/password',
    { config: { public: true }, schema: { body: S.passwordChange } },
    async (req, reply) => {
      const b = bodyOf<{ original_password: string; password: string }>(req, 'user');
      await mgr.changePassword(params(req).user_id!, b.original_password, b.password);
      return noContent(reply);
    },
  );
  app.get(
    '/v3/users/:user_id/projects',
    { config: { policy: 'identity:list_user_projects' } },
    async (req) => {
      const u = await mgr.getUser(params(req).user_id!);
      req.authorize({ user_id: u.id, target: { user: { id: u.id, domain_id: u.domain_id } } });
      let rows = await projectsOfUser(mgr, u.id);
      const query = q(req);
      if (one(query, 'domain_id')) rows = rows.filter((p) => p.domain_id === one(query, 'domain_id'));
      if (one(query, 'name')) rows = rows.filter((p) => p.name === one(query, 'name'));
      const en = boolQuery(query, 'enabled');
      if (en !== undefined) rows = rows.filter((p) => bool(p.enabled) === en);
      const tags = await store.projectTags(rows.map((r) => r.id));
      return { projects: rows.map((p) => projectView(req, p, tags.get(p.id))), links: listLinks(req) };
    },
  );
  app.get(
    '/v3/users/:user_id/groups',
    { config: { policy: 'identity:list_groups_for_user' } },
    async (req) => {
      const u = await mgr.getUser(params(req).user_id!);
      req.authorize({ user_id: u.id, target: { user: { id: u.id, domain_id: u.domain_id } } });
      const rows = await store.listGroups({ ids: await store.groupIdsOfUser(u.id) });
      return { groups: rows.map((g) => groupView(req, g)), links: listLinks(req) };
    },
  );
}
