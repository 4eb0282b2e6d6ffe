/** Domains, projects, users, groups, roles, grants, role assignments, catalog, credentials. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bool, isUniqueViolation, json } from '../../../core/db/index.js';
import { badRequest, conflict, forbidden, notFound } from '../../../core/errors.js';
import { hexId, randomSecret } from '../../../core/ids.js';
import { createHash } from 'node:crypto';
import type { TokenData } from '../auth.js';
import type { IdentityManager } from '../manager.js';
import { hashPassword } from '../passwords.js';
import {
  GLOBAL_ROLE_DOMAIN,
  type AssignmentRow,
  type AssignmentType,
  type ProjectRow,
  type RoleRow,
} from '../store.js';
import {
  appCredView,
  credentialView,
  domainView,
  endpointView,
  groupView,
  listLinks,
  projectView,
  regionView,
  roleRef,
  roleView,
  serviceView,
  userView,
  v3Base,
} from '../views.js';
import { projectsOfUser } from './auth.js';
import { bodyOf, boolQuery, inexactFilter, one, q, splitExtra } from './common.js';
import * as S from './schemas.js';

type P = Record<string, string>;
const params = (req: FastifyRequest) => req.params as P;
const noContent = (reply: FastifyReply) => reply.code(204).send();

const PROJECT_KEYS = [
  'id',
  'name',
  'domain_id',
  'parent_id',
  'is_domain',
  'enabled',
  'description',
  'tags',
  'options',
];
const USER_KEYS = [
  'id',
  'name',
  'domain_id',
  'enabled',
  'password',
  'default_project_id',
  'description',
  'email',
  'options',
];

export function resourceRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  const auth = (req: FastifyRequest) => req.auth as TokenData;
  /** The domain a request acts in when it names none: the token's domain scope or its project's domain. */
  const callerDomain = (req: FastifyRequest) => auth(req).domainId ?? auth(req).projectDomainId ?? 'default';
  /** Domain readers list only their domain. */
  const forcedDomain = (req: FastifyRequest): string | undefined => {
    const a = auth(req);
    if (a.domainId && !a.creds.roles.includes('admin')) return a.domainId;
    return undefined;
  };
  const tagsOf = async (ids: string[]) => store.projectTags(ids);

  // ------------------------------------------------------------------ domains
  app.get('/v3/domains', { config: { policy: 'identity:list_domains' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    req.authorize({ target: forced ? { domain: { id: forced } } : {} });
    let rows = await store.listProjects({
      isDomain: true,
      name: one(query, 'name'),
      enabled: boolQuery(query, 'enabled'),
    });
    if (forced) rows = rows.filter((d) => d.id === forced);
    else if (auth(req).projectId && !auth(req).creds.roles.includes('admin'))
      rows = rows.filter((d) => d.id === auth(req).projectDomainId);
    rows = inexactFilter(rows, query, ['name']);
    const tags = await tagsOf(rows.map((r) => r.id));
    return { domains: rows.map((d) => domainView(req, d, tags.get(d.id))), links: listLinks(req) };
  });
  app.post(
    '/v3/domains',
    { config: { policy: 'identity:create_domain' }, schema: { body: S.domainCreate } },
    async (req, reply) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'domain');
      const d = await mgr.createDomain({ ...b, extra: splitExtra(b, PROJECT_KEYS) } as never);
      reply.code(201);
      return { domain: domainView(req, d, b.tags ?? []) };
    },
  );
  app.get('/v3/domains/:domain_id', { config: { policy: 'identity:get_domain' } }, async (req) => {
    const d = await mgr.getDomain(params(req).domain_id!);
    req.authorize({ target: { domain: { id: d.id } } });
    return { domain: domainView(req, d, (await tagsOf([d.id])).get(d.id)) };
  });
  app.patch(
    '/v3/domains/:domain_id',
    { config: { policy: 'identity:update_domain' }, schema: { body: S.domainUpdate } },
    async (req) => {
      const id = params(req).domain_id!;
      req.authorize({ target: { domain: { id } } });
      const b = bodyOf<Record<string, any>>(req, 'domain');
      const d = await mgr.updateDomain(id, { ...b, extra: splitExtra(b, PROJECT_KEYS) });
      return { domain: domainView(req, d, (await tagsOf([d.id])).get(d.id)) };
    },
  );
  app.delete(
    '/v3/domains/:domain_id',
    { config: { policy: 'identity:delete_domain' } },
    async (req, reply) => {
      const id = params(req).domain_id!;
      req.authorize({ target: { domain: { id } } });
      await mgr.deleteDomain(id);
      return noContent(reply);
    },
  );

  // ------------------------------------------------------------------ projects
  app.get('/v3/projects', { config: { policy: 'identity:list_projects' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    const domainId = forced ?? one(query, 'domain_id');
    req.authorize({ target: domainId ? { domain_id: domainId } : {} });
    if (forced && one(query, 'domain_id') && one(query, 'domain_id') !== forced)
      return { projects: [], links: listLinks(req) };
    const isDomain = boolQuery(query, 'is_domain') ?? false;
    let rows = await store.listProjects({
      isDomain,
      domainId,
      name: one(query, 'name'),
      enabled: boolQuery(query, 'enabled'),
      parentId: one(query, 'parent_id'),
    });
    const split = (k: string) => (one(query, k) ?? '').split(',').filter(Boolean);
    const [all, any, notAll, notAny] = [
      split('tags'),
      split('tags-any'),
      split('not-tags'),
      split('not-tags-any'),
    ];
    if (all.length || any.length || notAll.length || notAny.length) {
      const ok = await store.projectsWithTags(all, any, notAll, notAny);
      rows = rows.filter((p) => ok.has(p.id));
    }
    rows = inexactFilter(rows, query, ['name']);
    const tags = await tagsOf(rows.map((r) => r.id));
    return { projects: rows.map((p) => projectView(req, p, tags.get(p.id))), links: listLinks(req) };
  });
  app.post(
    '/v3/projects',
    { config: { policy: 'identity:create_project' }, schema: { body: S.projectCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'project');
      let domainId: string | undefined = b.domain_id ?? undefined;
      if (!domainId && b.parent_id) {
        const parent = await store.get('project', b.parent_id);
        if (parent) domainId = bool(parent.is_domain) ? parent.id : parent.domain_id;
      }
      domainId ??= callerDomain(req);
      req.authorize({ target: { project: { domain_id: b.is_domain ? null : domainId } } });
      const p = await mgr.createProject({
        ...b,
        domain_id: domainId,
        extra: splitExtra(b, PROJECT_KEYS),
      } as never);
      reply.code(201);
      return { project: projectView(req, p, b.tags ?? []) };
    },
  );
  const loadProjectFor = async (req: FastifyRequest) => {
    const p = await mgr.getProjectOrDomain(params(req).project_id!);
    req.authorize({ target: { project: { id: p.id, domain_id: bool(p.is_domain) ? null : p.domain_id } } });
    return p;
  };
  app.get('/v3/projects/:project_id', { config: { policy: 'identity:get_project' } }, async (req) => {
    const p = await loadProjectFor(req);
    const query = q(req);
    const view: Record<string, unknown> = projectView(req, p, (await tagsOf([p.id])).get(p.id));
    if (boolQuery(query, 'parents_as_ids') || boolQuery(query, 'parents_as_list')) {
      const anc = await mgr.ancestors(p);
      if (boolQuery(query, 'parents_as_list'))
        view.parents = anc.map((a) => ({ project: projectView(req, a) }));
      else
        view.parents = anc.reduceRight<Record<string, unknown> | null>((acc, a) => ({ [a.id]: acc }), null);
    }
    if (boolQuery(query, 'subtree_as_ids') || boolQuery(query, 'subtree_as_list')) {
      const sub = await mgr.subtree(p.id);
      if (boolQuery(query, 'subtree_as_list'))
        view.subtree = sub.map((s) => ({ project: projectView(req, s) }));
      else
        view.subtree = Object.fromEntries(sub.filter((s) => s.parent_id === p.id).map((s) => [s.id, null]));
    }
    return { project: view };
  });
  app.patch(
    '/v3/projects/:project_id',
    { config: { policy: 'identity:update_project' }, schema: { body: S.projectUpdate } },
    async (req) => {
      const p = await loadProjectFor(req);
      const b = bodyOf<Record<string, any>>(req, 'project');
      const updated = await mgr.updateProject(p.id, { ...b, extra: splitExtra(b, PROJECT_KEYS) });
      return { project: projectView(req, updated, (await tagsOf([p.id])).get(p.id)) };
    },
  );
  app.delete(
    '/v3/projects/:project_id',
    { config: { policy: 'identity:delete_project' } },
    async (req, reply) => {
      const p = await loadProjectFor(req);
      await mgr.deleteProject(p.id);
      return noContent(reply);
    },
  );
  // project tags
  app.get(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:list_project_tags' } },
    async (req) => {
      const p = await loadProjectFor(req);
      return { tags: (await tagsOf([p.id])).get(p.id) ?? [], links: listLinks(req) };
    },
  );
  app.put(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:update_project_tags' } },
    async (req) => {
      const p = await loadProjectFor(req);
      const tags = (req.body as { tags?: unknown })?.tags;
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
        throw badRequest('Expecting to find tags (a list of strings) in request body.');
      await mgr.updateProject(p.id, { tags: tags as string[] });
      return { tags: (await tagsOf([p.id])).get(p.id) ?? [], links: listLinks(req) };
    },
  );
  app.delete(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:delete_project_tags' } },
    async (req, reply) => {
      const p = await loadProjectFor(req);
      await mgr.updateProject(p.id, { tags: [] });
      return noContent(reply);
    },
  );
  for (const [method, rule] of [
    [['GET', 'HEAD'] as ('GET' | 'HEAD')[], 'identity:get_project_tag'],
    ['PUT', 'identity:create_project_tag'],
    ['DELETE', 'identity:delete_project_tag'],
  ] as [('GET' | 'HEAD')[] | 'PUT' | 'DELETE', string][]) {
    app.route({
      method,
      url: '/v3/projects/:project_id/tags/:tag',
      config: { policy: rule },
      handler: async (req, reply) => {
        const p = await loadProjectFor(req);
        const tag = decodeURIComponent(params(req).tag!);
        const tags = (await tagsOf([p.id])).get(p.id) ?? [];
        if (method === 'PUT') {
          if (!tags.includes(tag)) await mgr.updateProject(p.id, { tags: [...tags, tag] });
          reply
            .code(201)
            .header('location', `${v3Base(req)}/projects/${p.id}/tags/${encodeURIComponent(tag)}`);
          return reply.send();
        }
        if (!tags.includes(tag)) throw notFound(`Could not find tag: ${tag}.`);
        if (method === 'DELETE') await mgr.updateProject(p.id, { tags: tags.filter((t) => t !== tag) });
        return noContent(reply);
      },
    });
  }

  // ------------------------------------------------------------------ users
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
      const tags = await tagsOf(rows.map((r) => r.id));
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

  // ------------------------------------------------------------------ groups
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

  // ------------------------------------------------------------------ roles
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

  // ------------------------------------------------------------------ grants
  const grantRoutes = (
    targetKind: 'projects' | 'domains',
    actorKind: 'users' | 'groups',
    inherited: boolean,
  ) => {
    const type =
      `${actorKind === 'users' ? 'User' : 'Group'}${targetKind === 'projects' ? 'Project' : 'Domain'}` as AssignmentType;
    const prefix = inherited ? '/v3/OS-INHERIT' : '/v3';
    const base = `${prefix}/${targetKind}/:target_id/${actorKind}/:actor_id/roles`;
    const suffix = inherited ? '/inherited_to_projects' : '';
    const target = async (req: FastifyRequest, role?: RoleRow) => {
      const p = params(req);
      const t: Record<string, unknown> = {};
      if (targetKind === 'projects') {
        const proj = await mgr.getProjectOrDomain(p.target_id!);
        t.project = { id: proj.id, domain_id: bool(proj.is_domain) ? proj.id : proj.domain_id };
      } else t.domain = { id: (await mgr.getDomain(p.target_id!)).id };
      if (actorKind === 'users') {
        const u = await mgr.getUser(p.actor_id!);
        t.user = { id: u.id, domain_id: u.domain_id };
      } else {
        const g = await mgr.getGroup(p.actor_id!);
        t.group = { id: g.id, domain_id: g.domain_id };
      }
      if (role)
        t.role = {
          id: role.id,
          name: role.name,
          domain_id: role.domain_id === GLOBAL_ROLE_DOMAIN ? null : role.domain_id,
        };
      return { target: t };
    };
    const row = (req: FastifyRequest): AssignmentRow => ({
      type,
      actor_id: params(req).actor_id!,
      target_id: params(req).target_id!,
      role_id: params(req).role_id!,
      inherited: inherited ? 1 : 0,
    });
    app.get(`${base}${suffix}`, { config: { policy: 'identity:list_grants' } }, async (req) => {
      req.authorize(await target(req));
      const rows = await store.assignments({
        types: [type],
        actorIds: [params(req).actor_id!],
        targetIds: [params(req).target_id!],
        inherited,
      });
      const roles = await store.listRoles({ ids: rows.map((r) => r.role_id) });
      return { roles: roles.map((r) => roleView(req, r)), links: listLinks(req) };
    });
    app.put(
      `${base}/:role_id${suffix}`,
      { config: { policy: 'identity:create_grant' } },
      async (req, reply) => {
        const role = await mgr.getRole(params(req).role_id!);
        req.authorize(await target(req, role));
        await mgr.grant(row(req));
        return noContent(reply);
      },
    );
    {
      app.route({
        method: ['GET', 'HEAD'],
        url: `${base}/:role_id${suffix}`,
        config: { policy: 'identity:check_grant' },
        handler: async (req, reply) => {
          const role = await mgr.getRole(params(req).role_id!);
          req.authorize(await target(req, role));
          await mgr.checkGrant(row(req));
          return noContent(reply);
        },
      });
    }
    app.delete(
      `${base}/:role_id${suffix}`,
      { config: { policy: 'identity:revoke_grant' } },
      async (req, reply) => {
        const role = await mgr.getRole(params(req).role_id!);
        req.authorize(await target(req, role));
        await mgr.revokeGrant(row(req));
        return noContent(reply);
      },
    );
  };
  for (const t of ['projects', 'domains'] as const)
    for (const a of ['users', 'groups'] as const) grantRoutes(t, a, false);
  grantRoutes('domains', 'users', true);
  grantRoutes('domains', 'groups', true);
  grantRoutes('projects', 'users', true);
  grantRoutes('projects', 'groups', true);

  // system grants
  for (const actorKind of ['users', 'groups'] as const) {
    const type = (actorKind === 'users' ? 'UserSystem' : 'GroupSystem') as AssignmentType;
    const k = actorKind === 'users' ? 'user' : 'group';
    const actor = async (req: FastifyRequest) =>
      actorKind === 'users' ? mgr.getUser(params(req).actor_id!) : mgr.getGroup(params(req).actor_id!);
    app.get(
      `/v3/system/${actorKind}/:actor_id/roles`,
      { config: { policy: `identity:list_system_grants_for_${k}` } },
      async (req) => {
        await actor(req);
        req.authorize();
        const rows = await store.assignments({
          types: [type],
          actorIds: [params(req).actor_id!],
          targetIds: ['system'],
        });
        return {
          roles: (await store.listRoles({ ids: rows.map((r) => r.role_id) })).map((r) => roleView(req, r)),
          links: listLinks(req),
        };
      },
    );
    const sysRow = (req: FastifyRequest): AssignmentRow => ({
      type,
      actor_id: params(req).actor_id!,
      target_id: 'system',
      role_id: params(req).role_id!,
      inherited: 0,
    });
    app.put(
      `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
      { config: { policy: `identity:create_system_grant_for_${k}` } },
      async (req, reply) => {
        await actor(req);
        req.authorize();
        await mgr.grant(sysRow(req));
        return noContent(reply);
      },
    );
    {
      app.route({
        method: ['GET', 'HEAD'],
        url: `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
        config: { policy: `identity:check_system_grant_for_${k}` },
        handler: async (req, reply) => {
          await actor(req);
          req.authorize();
          await mgr.checkGrant(sysRow(req));
          return noContent(reply);
        },
      });
    }
    app.delete(
      `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
      { config: { policy: `identity:revoke_system_grant_for_${k}` } },
      async (req, reply) => {
        await actor(req);
        req.authorize();
        await mgr.revokeGrant(sysRow(req));
        return noContent(reply);
      },
    );
  }

  // ------------------------------------------------------------------ role assignments
  app.get('/v3/role_assignments', { config: { policy: 'identity:list_role_assignments' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    req.authorize({ target: forced ? { domain_id: forced } : {} });
    const includeSubtree = boolQuery(query, 'include_subtree') ?? false;
    if (includeSubtree) {
      const pid = one(query, 'scope.project.id');
      if (!pid)
        throw badRequest('scope.project.id needs to be specified if include_subtree is also specified.');
      const p = await mgr.getProject(pid);
      req.authorize(
        { target: { project: { domain_id: p.domain_id } } },
        'identity:list_role_assignments_for_tree',
      );
    }
    return {
      role_assignments: await listAssignments(mgr, req, query, includeSubtree),
      links: listLinks(req),
    };
  });

  // ------------------------------------------------------------------ regions
  app.get('/v3/regions', { config: { policy: 'identity:list_regions' } }, async (req) => {
    req.authorize();
    let rows = await store.listRegions();
    const parent = one(q(req), 'parent_region_id');
    if (parent) rows = rows.filter((r) => r.parent_region_id === parent);
    return { regions: rows.map((r) => regionView(req, r)), links: listLinks(req) };
  });
  const createRegion = async (req: FastifyRequest, reply: FastifyReply, id?: string) => {
    req.authorize({}, 'identity:create_region');
    const b = bodyOf<Record<string, any>>(req, 'region');
    const rid = id ?? b.id ?? hexId();
    if (b.parent_region_id && !(await store.get('region', b.parent_region_id)))
      throw notFound(`Could not find region: ${b.parent_region_id}.`);
    try {
      await store.insert('region', {
        id: rid,
        description: b.description ?? '',
        parent_region_id: b.parent_region_id ?? null,
        extra: JSON.stringify(splitExtra(b, ['id', 'description', 'parent_region_id'])),
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${rid}.`);
      throw e;
    }
    reply.code(201);
    return { region: regionView(req, (await store.get('region', rid))!) };
  };
  app.post(
    '/v3/regions',
    { config: { policy: 'identity:create_region' }, schema: { body: S.regionCreate } },
    (req, reply) => createRegion(req, reply),
  );
  app.put(
    '/v3/regions/:region_id',
    { config: { policy: 'identity:create_region' }, schema: { body: S.regionCreate } },
    (req, reply) => createRegion(req, reply, params(req).region_id),
  );
  const getRegion = async (id: string) => {
    const r = await store.get('region', id);
    if (!r) throw notFound(`Could not find region: ${id}.`);
    return r;
  };
  app.get('/v3/regions/:region_id', { config: { policy: 'identity:get_region' } }, async (req) => {
    req.authorize();
    return { region: regionView(req, await getRegion(params(req).region_id!)) };
  });
  app.patch(
    '/v3/regions/:region_id',
    { config: { policy: 'identity:update_region' }, schema: { body: S.regionUpdate } },
    async (req) => {
      req.authorize();
      const r = await getRegion(params(req).region_id!);
      const b = bodyOf<Record<string, any>>(req, 'region');
      if (b.parent_region_id === r.id)
        throw badRequest('Circular reference or a repeated entry found in region tree.');
      await store.update('region', r.id, {
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.parent_region_id !== undefined ? { parent_region_id: b.parent_region_id } : {}),
      });
      return { region: regionView(req, await getRegion(r.id)) };
    },
  );
  app.delete(
    '/v3/regions/:region_id',
    { config: { policy: 'identity:delete_region' } },
    async (req, reply) => {
      req.authorize();
      const r = await getRegion(params(req).region_id!);
      if ((await store.listRegions()).some((x) => x.parent_region_id === r.id)) {
        throw forbidden('Unable to delete region, it has child regions.');
      }
      if ((await store.listEndpoints({ regionId: r.id })).length)
        throw forbidden('Unable to delete region, it has endpoints.');
      await store.remove('region', r.id);
      return noContent(reply);
    },
  );

  // ------------------------------------------------------------------ services
  const getService = async (id: string) => {
    const s = await store.get('service', id);
    if (!s) throw notFound(`Could not find service: ${id}.`);
    return s;
  };
  app.get('/v3/services', { config: { policy: 'identity:list_services' } }, async (req) => {
    req.authorize();
    const query = q(req);
    const rows = await store.listServices({ type: one(query, 'type'), name: one(query, 'name') });
    return { services: rows.map((s) => serviceView(req, s)), links: listLinks(req) };
  });
  app.post(
    '/v3/services',
    { config: { policy: 'identity:create_service' }, schema: { body: S.serviceCreate } },
    async (req, reply) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'service');
      const row = {
        id: hexId(),
        type: b.type,
        name: b.name ?? null,
        description: b.description ?? null,
        enabled: b.enabled === false ? 0 : 1,
        extra: JSON.stringify(splitExtra(b, ['id', 'type', 'name', 'description', 'enabled'])),
      };
      await store.insert('service', row);
      mgr.generation++;
      reply.code(201);
      return { service: serviceView(req, row) };
    },
  );
  app.get('/v3/services/:service_id', { config: { policy: 'identity:get_service' } }, async (req) => {
    req.authorize();
    return { service: serviceView(req, await getService(params(req).service_id!)) };
  });
  app.patch(
    '/v3/services/:service_id',
    { config: { policy: 'identity:update_service' }, schema: { body: S.serviceUpdate } },
    async (req) => {
      req.authorize();
      const s = await getService(params(req).service_id!);
      const b = bodyOf<Record<string, any>>(req, 'service');
      await store.update('service', s.id, {
        ...(b.type !== undefined ? { type: b.type } : {}),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.description !== undefined ? { description: b.description } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled ? 1 : 0 } : {}),
      });
      mgr.generation++;
      return { service: serviceView(req, await getService(s.id)) };
    },
  );
  app.delete(
    '/v3/services/:service_id',
    { config: { policy: 'identity:delete_service' } },
    async (req, reply) => {
      req.authorize();
      const s = await getService(params(req).service_id!);
      await store.transaction(async (t) => {
        await t.db.deleteFrom('endpoint').where('service_id', '=', s.id).execute();
        await t.remove('service', s.id);
      });
      mgr.generation++;
      return noContent(reply);
    },
  );

  // ------------------------------------------------------------------ endpoints
  const getEndpoint = async (id: string) => {
    const e = await store.get('endpoint', id);
    if (!e) throw notFound(`Could not find endpoint: ${id}.`);
    return e;
  };
  app.get('/v3/endpoints', { config: { policy: 'identity:list_endpoints' } }, async (req) => {
    req.authorize();
    const query = q(req);
    const rows = await store.listEndpoints({
      serviceId: one(query, 'service_id'),
      interface: one(query, 'interface'),
      regionId: one(query, 'region_id'),
    });
    return { endpoints: rows.map((e) => endpointView(req, e)), links: listLinks(req) };
  });
  app.post(
    '/v3/endpoints',
    { config: { policy: 'identity:create_endpoint' }, schema: { body: S.endpointCreate } },
    async (req, reply) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'endpoint');
      await getService(b.service_id);
      const region = b.region_id ?? b.region ?? null;
      if (region && !(await store.get('region', region)))
        throw badRequest(`Could not find region: ${region}.`);
      const row = {
        id: hexId(),
        service_id: b.service_id,
        interface: b.interface,
        url: b.url,
        region_id: region,
        enabled: b.enabled === false ? 0 : 1,
        extra: JSON.stringify(
          splitExtra(b, ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled']),
        ),
      };
      await store.insert('endpoint', row);
      mgr.generation++;
      reply.code(201);
      return { endpoint: endpointView(req, row) };
    },
  );
  app.get('/v3/endpoints/:endpoint_id', { config: { policy: 'identity:get_endpoint' } }, async (req) => {
    req.authorize();
    return { endpoint: endpointView(req, await getEndpoint(params(req).endpoint_id!)) };
  });
  app.patch(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:update_endpoint' }, schema: { body: S.endpointUpdate } },
    async (req) => {
      req.authorize();
      const e = await getEndpoint(params(req).endpoint_id!);
      const b = bodyOf<Record<string, any>>(req, 'endpoint');
      if (b.service_id) await getService(b.service_id);
      const region = b.region_id ?? b.region;
      if (region && !(await store.get('region', region)))
        throw badRequest(`Could not find region: ${region}.`);
      await store.update('endpoint', e.id, {
        ...(b.service_id !== undefined ? { service_id: b.service_id } : {}),
        ...(b.interface !== undefined ? { interface: b.interface } : {}),
        ...(b.url !== undefined ? { url: b.url } : {}),
        ...(region !== undefined ? { region_id: region } : {}),
        ...(b.enabled !== undefined ? { enabled: b.enabled ? 1 : 0 } : {}),
      });
      mgr.generation++;
      return { endpoint: endpointView(req, await getEndpoint(e.id)) };
    },
  );
  app.delete(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:delete_endpoint' } },
    async (req, reply) => {
      req.authorize();
      await store.remove('endpoint', (await getEndpoint(params(req).endpoint_id!)).id);
      mgr.generation++;
      return noContent(reply);
    },
  );

  // ------------------------------------------------------------------ application credentials
  const appCredRoles = async (ids: { id: string }[]) =>
    (await store.listRoles({ ids: ids.map((r) => r.id) })).map((r) => ({
      id: r.id,
      name: r.name,
      domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
    }));
  const ownerTarget = (req: FastifyRequest) => ({ user_id: params(req).user_id });
  app.get(
    '/v3/users/:user_id/application_credentials',
    { config: { policy: 'identity:list_application_credentials' } },
    async (req) => {
      req.authorize(ownerTarget(req));
      await mgr.getUser(params(req).user_id!);
      const rows = await store.listAppCreds(params(req).user_id!, one(q(req), 'name'));
      const out = [];
      for (const a of rows) out.push(appCredView(req, a, await appCredRoles(json(a.roles, []))));
      return { application_credentials: out, links: listLinks(req) };
    },
  );
  app.post(
    '/v3/users/:user_id/application_credentials',
    { config: { policy: 'identity:create_application_credential' }, schema: { body: S.appCredCreate } },
    async (req, reply) => {
      req.authorize(ownerTarget(req));
      const a = auth(req);
      if (a.userId !== params(req).user_id)
        throw forbidden('You may only create application credentials for yourself.');
      if (a.appCred?.restricted)
        throw forbidden(
          'Using method application_credential is not allowed for managing additional application credentials.',
        );
      const b = bodyOf<Record<string, any>>(req, 'application_credential');
      if (!a.projectId && !a.system) throw badRequest('Application credentials need a project-scoped token.');
      const tokenRoles = a.roles;
      let roles: { id: string }[];
      if (b.roles && b.roles.length) {
        roles = [];
        for (const r of b.roles as { id?: string; name?: string }[]) {
          const match = tokenRoles.find((t) => (r.id && t.id === r.id) || (r.name && t.name === r.name));
          if (!match)
            throw notFound(`Could not find role assignment with role: ${r.id ?? r.name}, user: ${a.userId}.`);
          roles.push({ id: match.id });
        }
      } else roles = tokenRoles.map((r) => ({ id: r.id }));
      if (b.expires_at) {
        const t = Date.parse(
          b.expires_at.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(b.expires_at)
            ? b.expires_at
            : `${b.expires_at}Z`,
        );
        if (Number.isNaN(t))
          throw badRequest(`Invalid input for field 'expires_at': ${b.expires_at} is not a valid date.`);
        if (t <= Date.now())
          throw badRequest('The expiration date of an application credential cannot be in the past.');
        b.expires_at = new Date(t).toISOString();
      }
      const secret: string = b.secret ?? randomSecret(48);
      const row = {
        id: hexId(),
        name: b.name,
        user_id: a.userId,
        project_id: a.projectId ?? null,
        system: a.system ? 'all' : null,
        secret_hash: await hashPassword(secret, Math.min(mgr.config.identity.bcryptRounds, 10)),
        description: b.description ?? null,
        expires_at: b.expires_at ?? null,
        unrestricted: b.unrestricted ? 1 : 0,
        roles: JSON.stringify(roles),
        created_at: new Date().toISOString(),
      };
      try {
        await store.insert('application_credential', row);
      } catch (e) {
        if (isUniqueViolation(e))
          throw conflict(
            `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${b.name}.`,
          );
        throw e;
      }
      reply.code(201);
      return { application_credential: { ...appCredView(req, row, await appCredRoles(roles)), secret } };
    },
  );
  const getAppCred = async (req: FastifyRequest) => {
    const a = await store.get('application_credential', params(req).cred_id!);
    if (!a || a.user_id !== params(req).user_id)
      throw notFound(`Could not find Application Credential: ${params(req).cred_id}.`);
    return a;
  };
  app.get(
    '/v3/users/:user_id/application_credentials/:cred_id',
    { config: { policy: 'identity:get_application_credential' } },
    async (req) => {
      req.authorize(ownerTarget(req));
      const a = await getAppCred(req);
      return { application_credential: appCredView(req, a, await appCredRoles(json(a.roles, []))) };
    },
  );
  app.delete(
    '/v3/users/:user_id/application_credentials/:cred_id',
    { config: { policy: 'identity:delete_application_credential' } },
    async (req, reply) => {
      req.authorize(ownerTarget(req));
      const a = await getAppCred(req);
      if (auth(req).appCred?.restricted)
        throw forbidden(
          'Using method application_credential is not allowed for managing additional application credentials.',
        );
      await store.remove('application_credential', a.id);
      mgr.generation++;
      return noContent(reply);
    },
  );

  // ------------------------------------------------------------------ credentials
  const getCredential = async (id: string) => {
    const c = await store.get('credential', id);
    if (!c) throw notFound(`Could not find credential: ${id}.`);
    return c;
  };
  app.get('/v3/credentials', { config: { policy: 'identity:list_credentials' } }, async (req) => {
    const query = q(req);
    let rows = await store.listCredentials({ userId: one(query, 'user_id'), type: one(query, 'type') });
    // Keystone filters the list to what the caller may see.
    rows = rows.filter(
      (c) =>
        req.auth &&
        (() => {
          try {
            req.authorize({ target: { credential: { user_id: c.user_id } } });
            return true;
          } catch {
            return false;
          }
        })(),
    );
    return { credentials: rows.map((c) => credentialView(req, c)), links: listLinks(req) };
  });
  app.post(
    '/v3/credentials',
    { config: { policy: 'identity:create_credential' }, schema: { body: S.credentialCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'credential');
      const userId = b.user_id ?? auth(req).userId;
      req.authorize({ target: { credential: { user_id: userId } } });
      await mgr.getUser(userId);
      let id = hexId();
      if (b.type === 'ec2') {
        if (!b.project_id) throw badRequest('Project ID not found: ec2 credentials need a project_id.');
        let blob: { access?: string };
        try {
          blob = JSON.parse(b.blob);
        } catch {
          throw badRequest('Invalid blob in credential: it must be JSON for ec2 credentials.');
        }
        if (!blob.access) throw badRequest('Credential signature mismatch: ec2 blob needs an access key.');
        id = createHash('sha256').update(blob.access).digest('hex');
      }
      if (b.project_id) await mgr.getProject(b.project_id);
      const row = {
        id,
        user_id: userId,
        project_id: b.project_id ?? null,
        type: b.type,
        blob: b.blob,
        extra: JSON.stringify(splitExtra(b, ['id', 'user_id', 'project_id', 'type', 'blob'])),
      };
      try {
        await store.insert('credential', row);
      } catch (e) {
        if (isUniqueViolation(e))
          throw conflict('Conflict occurred attempting to store credential - Duplicate ID.');
        throw e;
      }
      reply.code(201);
      return { credential: credentialView(req, row) };
    },
  );
  app.get(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:get_credential' } },
    async (req) => {
      const c = await getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      return { credential: credentialView(req, c) };
    },
  );
  app.patch(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:update_credential' }, schema: { body: S.credentialUpdate } },
    async (req) => {
      const c = await getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      const b = bodyOf<Record<string, any>>(req, 'credential');
      if (b.user_id && b.user_id !== c.user_id)
        req.authorize({ target: { credential: { user_id: b.user_id } } });
      await store.update('credential', c.id, {
        ...(b.blob !== undefined ? { blob: b.blob } : {}),
        ...(b.type !== undefined ? { type: b.type } : {}),
        ...(b.user_id !== undefined ? { user_id: b.user_id } : {}),
        ...(b.project_id !== undefined ? { project_id: b.project_id } : {}),
      });
      return { credential: credentialView(req, await getCredential(c.id)) };
    },
  );
  app.delete(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:delete_credential' } },
    async (req, reply) => {
      const c = await getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      await store.remove('credential', c.id);
      return noContent(reply);
    },
  );
}

/** GET /v3/role_assignments with Keystone's filters, `effective`, `include_names` and `include_subtree`. */
async function listAssignments(
  mgr: IdentityManager,
  req: FastifyRequest,
  query: Record<string, any>,
  includeSubtree: boolean,
) {
  const store = mgr.store;
  const effective = boolQuery(query, 'effective') ?? false;
  const includeNames = boolQuery(query, 'include_names') ?? false;
  const userId = one(query, 'user.id');
  const groupId = one(query, 'group.id');
  const roleId = one(query, 'role.id');
  const projectId = one(query, 'scope.project.id');
  const domainId = one(query, 'scope.domain.id');
  const system = one(query, 'scope.system');
  const inheritedOnly = one(query, 'scope.OS-INHERIT:inherited_to') === 'projects';
  if (effective && groupId)
    throw badRequest('Combining effective and group filter will always result in an empty list.');
  if ((projectId || domainId) && system)
    throw badRequest('Specify a project, a domain or the system, not both.');

  interface Out {
    role: string;
    user?: string;
    group?: string;
    project?: string;
    domain?: string;
    system?: boolean;
    inherited: boolean;
    viaGroup?: string;
    prior?: string;
  }
  const typeOf = (a: AssignmentRow) => ({
    actor: a.type.startsWith('User') ? 'user' : 'group',
    target: a.type.endsWith('Project') ? 'project' : a.type.endsWith('Domain') ? 'domain' : 'system',
  });
  let rows = await store.assignments({});
  let out: Out[] = [];
  if (!effective) {
    for (const a of rows) {
      const t = typeOf(a);
      out.push({
        role: a.role_id,
        [t.actor]: a.actor_id,
        ...(t.target === 'system' ? { system: true } : { [t.target]: a.target_id }),
        inherited: bool(a.inherited),
      } as Out);
    }
  } else {
    // Expand groups into their members, inherited assignments into the projects below, implied roles.
    const members = new Map<string, string[]>();
    for (const a of rows)
      if (a.type.startsWith('Group') && !members.has(a.actor_id))
        members.set(a.actor_id, await store.userIdsOfGroup(a.actor_id));
    const allProjects = await store.listProjects({ isDomain: false });
    for (const a of rows) {
      const t = typeOf(a);
      const users =
        t.actor === 'user'
          ? [{ u: a.actor_id }]
          : (members.get(a.actor_id) ?? []).map((u) => ({ u, via: a.actor_id }));
      let targets: { project?: string; domain?: string; system?: boolean }[];
      if (t.target === 'system') targets = [{ system: true }];
      else if (!bool(a.inherited)) targets = [{ [t.target]: a.target_id }];
      else if (t.target === 'domain')
        targets = allProjects.filter((p) => p.domain_id === a.target_id).map((p) => ({ project: p.id }));
      else targets = (await mgr.subtree(a.target_id)).map((p) => ({ project: p.id }));
      for (const { u, via } of users as { u: string; via?: string }[])
        for (const tg of targets)
          out.push({ role: a.role_id, user: u, ...tg, inherited: false, viaGroup: via });
    }
    const rules = await store.impliedRules();
    const expanded: Out[] = [];
    for (const o of out) {
      expanded.push(o);
      const seen = new Set([o.role]);
      let frontier = [o.role];
      while (frontier.length) {
        const next: string[] = [];
        for (const r of rules)
          if (frontier.includes(r.prior_role_id) && !seen.has(r.implied_role_id)) {
            seen.add(r.implied_role_id);
            next.push(r.implied_role_id);
            expanded.push({ ...o, role: r.implied_role_id, prior: o.role });
          }
        frontier = next;
      }
    }
    out = expanded;
  }
  let projectIds: string[] | undefined;
  if (projectId)
    projectIds = includeSubtree
      ? [projectId, ...(await mgr.subtree(projectId)).map((p) => p.id)]
      : [projectId];
  out = out.filter(
    (o) =>
      (!userId || o.user === userId) &&
      (!groupId || o.group === groupId) &&
      (!roleId || o.role === roleId) &&
      (!projectIds || (o.project !== undefined && projectIds.includes(o.project))) &&
      (!domainId || o.domain === domainId) &&
      (!system || o.system) &&
      (!inheritedOnly || o.inherited),
  );
  rows = [];
  const base = v3Base(req);
  const names = includeNames ? await nameMaps(mgr) : undefined;
  const ref = (kind: 'user' | 'group' | 'project' | 'domain' | 'role', id: string) => {
    if (!names) return { id };
    const n = names[kind].get(id);
    if (!n) return { id };
    return n.domain ? { id, name: n.name, domain: n.domain } : { id, name: n.name };
  };
  return out.map((o) => {
    const scope = o.system
      ? { system: { all: true } }
      : o.project
        ? { project: ref('project', o.project) }
        : { domain: ref('domain', o.domain!) };
    if (o.inherited) (scope as Record<string, unknown>)['OS-INHERIT:inherited_to'] = 'projects';
    const scopePath = o.system ? 'system' : o.project ? `projects/${o.project}` : `domains/${o.domain}`;
    const actorPath = o.user && !o.viaGroup ? `users/${o.user}` : `groups/${o.group ?? o.viaGroup}`;
    const links: Record<string, string> = {
      assignment: `${base}/${o.inherited ? 'OS-INHERIT/' : ''}${scopePath}/${actorPath}/roles/${o.prior ?? o.role}${o.inherited ? '/inherited_to_projects' : ''}`,
    };
    if (o.viaGroup) links.membership = `${base}/groups/${o.viaGroup}/users/${o.user}`;
    if (o.prior) links.prior_role = `${base}/roles/${o.prior}`;
    return {
      role: ref('role', o.role),
      ...(o.user ? { user: ref('user', o.user) } : { group: ref('group', o.group!) }),
      scope,
      links,
    };
  });
}

async function nameMaps(mgr: IdentityManager) {
  const s = mgr.store;
  const domains = new Map((await s.listProjects({ isDomain: true })).map((d) => [d.id, d]));
  const dref = (id: string) => ({ id, name: domains.get(id)?.name ?? id });
  type N = Map<string, { name: string; domain?: { id: string; name: string } }>;
  const project: N = new Map(
    (await s.listProjects({ isDomain: false })).map((p: ProjectRow) => [
      p.id,
      { name: p.name, domain: dref(p.domain_id) },
    ]),
  );
  const domain: N = new Map([...domains.values()].map((d) => [d.id, { name: d.name }]));
  const user: N = new Map(
    (await s.listUsers({})).map((u) => [u.id, { name: u.name, domain: dref(u.domain_id) }]),
  );
  const group: N = new Map(
    (await s.listGroups({})).map((g) => [g.id, { name: g.name, domain: dref(g.domain_id) }]),
  );
  const role: N = new Map(
    (await s.listRoles()).map((r) => [
      r.id,
      r.domain_id === GLOBAL_ROLE_DOMAIN ? { name: r.name } : { name: r.name, domain: dref(r.domain_id) },
    ]),
  );
  return { project, domain, user, group, role };
}
