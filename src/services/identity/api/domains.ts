/** Domains (Keystone keystone/api/domains.py). */
import type { FastifyInstance } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { domainView, listLinks } from '../views.js';
import {
  PROJECT_KEYS,
  bodyOf,
  boolQuery,
  forcedDomain,
  inexactFilter,
  noContent,
  one,
  params,
  q,
  splitExtra,
  tokenOf,
} from './common.js';
import * as S from './schemas.js';

export function domainRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
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
    else if (tokenOf(req).projectId && !tokenOf(req).creds.roles.includes('admin'))
      rows = rows.filter((d) => d.id === tokenOf(req).projectDomainId);
    rows = inexactFilter(rows, query, ['name']);
    const tags = await store.projectTags(rows.map((r) => r.id));
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
    return { domain: domainView(req, d, (await store.projectTags([d.id])).get(d.id)) };
  });
  app.patch(
    '/v3/domains/:domain_id',
    { config: { policy: 'identity:update_domain' }, schema: { body: S.domainUpdate } },
    async (req) => {
      const id = params(req).domain_id!;
      req.authorize({ target: { domain: { id } } });
      const b = bodyOf<Record<string, any>>(req, 'domain');
      const d = await mgr.updateDomain(id, { ...b, extra: splitExtra(b, PROJECT_KEYS) });
      return { domain: domainView(req, d, (await store.projectTags([d.id])).get(d.id)) };
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
}
