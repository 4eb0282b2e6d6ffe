import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool } from '../../../core/db/index.js';
import { notFound, unauthorized } from '../../../core/errors.js';
import { isoMicro } from '../../../core/ids.js';
import type { AuthRequest, TokenData, TokenService } from '../auth.js';
import type { IdentityManager } from '../manager.js';
import { domainView, listLinks, projectView } from '../views.js';
import { boolQuery, q } from './common.js';
import { authRequest } from './schemas.js';

export const V3_MEDIA = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];

export function versionV3(req: FastifyRequest) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${req.protocol}://${req.host}/identity/v3/` }],
    'media-types': V3_MEDIA,
  };
}

/** The service catalog in the token format; `$(project_id)s` / `%(tenant_id)s` are filled in. */
export async function buildCatalog(mgr: IdentityManager, projectId?: string) {
  const services = (await mgr.store.listServices()).filter((s) => bool(s.enabled));
  const endpoints = (await mgr.store.listEndpoints()).filter((e) => bool(e.enabled));
  return services.map((s) => ({
    endpoints: endpoints
      .filter((e) => e.service_id === s.id)
      .flatMap((e) => {
        let url = e.url;
        if (/\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/.test(url)) {
          if (!projectId) return [];
          url = url.replace(/\$\((project_id|tenant_id)\)s|%\((project_id|tenant_id)\)s/g, projectId);
        }
        return [{ id: e.id, interface: e.interface, region_id: e.region_id, url, region: e.region_id }];
      }),
    id: s.id,
    type: s.type,
    name: s.name ?? '',
  }));
}

export async function tokenBody(mgr: IdentityManager, d: TokenData, nocatalog: boolean) {
  const token: Record<string, unknown> = {
    methods: d.methods,
    user: {
      domain: { id: d.userDomain.id, name: d.userDomain.name },
      id: d.user.id,
      name: d.user.name,
      password_expires_at: d.passwordExpiresAt ? isoMicro(new Date(d.passwordExpiresAt)) : null,
    },
    audit_ids: d.auditIds,
    expires_at: isoMicro(d.expiresAt),
    issued_at: isoMicro(d.issuedAt),
  };
  if (d.project) {
    token.project = {
      domain: { id: d.projectDomain!.id, name: d.projectDomain!.name },
      id: d.project.id,
      name: d.project.name,
    };
    token.is_domain = bool(d.project.is_domain);
  } else if (d.domain) {
    token.domain = { id: d.domain.id, name: d.domain.name };
  } else if (d.system) {
    token.system = { all: true };
  }
  if (d.payload.scope !== 'unscoped') {
    token.roles = d.roles.map((r) => ({ id: r.id, name: r.name }));
    if (!nocatalog) token.catalog = await buildCatalog(mgr, d.project?.id);
  }
  if (d.appCred) {
    token.application_credential = {
      id: d.appCred.id,
      name: d.appCred.name,
      restricted: d.appCred.restricted,
    };
  }
  return { token };
}

export function authRoutes(app: FastifyInstance, mgr: IdentityManager, tokens: TokenService) {
  app.get('/v3', { config: { public: true } }, async (req) => ({ version: versionV3(req) }));

  app.post(
    '/v3/auth/tokens',
    { config: { public: true }, schema: { body: authRequest } },
    async (req, reply) => {
      const body = req.body as { auth: AuthRequest };
      const { token, data } = await tokens.authenticate(body.auth, { source: req.ip });
      const nocatalog = boolQuery(q(req), 'nocatalog') ?? false;
      reply.code(201).header('x-subject-token', token);
      return tokenBody(mgr, data, nocatalog);
    },
  );

  const subject = async (req: FastifyRequest) => {
    const st = req.headers['x-subject-token'];
    if (typeof st !== 'string' || !st) throw notFound('Could not find token.', 'TokenNotFound');
    const allowExpired = boolQuery(q(req), 'allow_expired') ?? false;
    return tokens.validate(st, { allowExpired });
  };

  app.get(
    '/v3/auth/tokens',
    { exposeHeadRoute: false, config: { policy: 'identity:validate_token' } },
    async (req, reply) => {
      const st = String(req.headers['x-subject-token'] ?? '');
      const data = await subject(req);
      req.authorize({ target: { token: { user_id: data.userId } } });
      reply.header('x-subject-token', st);
      return tokenBody(mgr, data, boolQuery(q(req), 'nocatalog') ?? false);
    },
  );

  app.head('/v3/auth/tokens', { config: { policy: 'identity:check_token' } }, async (req, reply) => {
    const data = await subject(req);
    req.authorize({ target: { token: { user_id: data.userId } } });
    reply.code(200).header('x-subject-token', String(req.headers['x-subject-token']));
    return reply.send();
  });

  app.delete('/v3/auth/tokens', { config: { policy: 'identity:revoke_token' } }, async (req, reply) => {
    const data = await subject(req);
    req.authorize({ target: { token: { user_id: data.userId } } });
    await tokens.revokeToken(data.token);
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', { config: { policy: 'identity:get_auth_catalog' } }, async (req) => {
    req.authorize();
    const a = req.auth as TokenData;
    if (a.payload.scope === 'unscoped') throw unauthorized('The authenticated token is not scoped.');
    return { catalog: await buildCatalog(mgr, a.projectId), links: listLinks(req) };
  });

  app.get('/v3/auth/projects', { config: { policy: 'identity:get_auth_projects' } }, async (req) => {
    req.authorize();
    const projects = await projectsOfUser(mgr, req.auth!.userId);
    return { projects: projects.map((p) => projectView(req, p)), links: listLinks(req) };
  });

  app.get('/v3/auth/domains', { config: { policy: 'identity:get_auth_domains' } }, async (req) => {
    req.authorize();
    const uid = req.auth!.userId;
    const groups = await mgr.store.groupIdsOfUser(uid);
    const rows = await mgr.store.assignments({
      types: ['UserDomain', 'GroupDomain'],
      actorIds: [uid, ...groups],
      inherited: false,
    });
    const domains = (
      await mgr.store.listProjects({ ids: [...new Set(rows.map((r) => r.target_id))], isDomain: true })
    ).filter((d) => bool(d.enabled));
    return { domains: domains.map((d) => domainView(req, d)), links: listLinks(req) };
  });

  app.get('/v3/auth/system', { config: { policy: 'identity:get_auth_system' } }, async (req) => {
    req.authorize();
    const roles = await mgr.effectiveRoleIds(req.auth!.userId, { system: true });
    return { system: roles.size > 0 ? [{ all: true }] : [], links: listLinks(req) };
  });
}

/** Enabled projects on which a user has a role (directly, by group, or inherited). */
export async function projectsOfUser(mgr: IdentityManager, userId: string) {
  const groups = await mgr.store.groupIdsOfUser(userId);
  const actors = [userId, ...groups];
  const direct = await mgr.store.assignments({ types: ['UserProject', 'GroupProject'], actorIds: actors });
  const ids = new Set<string>();
  for (const a of direct) {
    ids.add(a.target_id);
    if (bool(a.inherited)) for (const p of await mgr.subtree(a.target_id)) ids.add(p.id);
  }
  const inheritedDomains = await mgr.store.assignments({
    types: ['UserDomain', 'GroupDomain'],
    actorIds: actors,
    inherited: true,
  });
  for (const a of inheritedDomains)
    for (const p of await mgr.store.listProjects({ domainId: a.target_id, isDomain: false })) ids.add(p.id);
  const rows = await mgr.store.listProjects({ ids: [...ids] });
  const out = [];
  for (const p of rows) {
    if (!bool(p.enabled) || bool(p.is_domain)) continue;
    const d = await mgr.store.get('project', p.domain_id);
    if (d && bool(d.enabled)) out.push(p);
  }
  return out;
}
