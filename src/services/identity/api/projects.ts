/** Projects (Keystone keystone/api/projects.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool } from '../../../core/db/index.js';
import type { IdentityManager } from '../manager.js';
import { listLinks, projectView } from '../views.js';
import {
  PROJECT_KEYS,
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

/** The project (or domain) named by `:project_id`, authorized against the route's rule. */
export async function loadProjectFor(mgr: IdentityManager, req: FastifyRequest) {
  const p = await mgr.getProjectOrDomain(params(req).project_id!);
  req.authorize({ target: { project: { id: p.id, domain_id: bool(p.is_domain) ? null : p.domain_id } } });
  return p;
}

export function projectRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
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
    const tags = await store.projectTags(rows.map((r) => r.id));
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
  app.get('/v3/projects/:project_id', { config: { policy: 'identity:get_project' } }, async (req) => {
    const p = await loadProjectFor(mgr, req);
    const query = q(req);
    const view: Record<string, unknown> = projectView(req, p, (await store.projectTags([p.id])).get(p.id));
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
      const p = await loadProjectFor(mgr, req);
      const b = bodyOf<Record<string, any>>(req, 'project');
      const updated = await mgr.updateProject(p.id, { ...b, extra: splitExtra(b, PROJECT_KEYS) });
      return { project: projectView(req, updated, (await store.projectTags([p.id])).get(p.id)) };
    },
  );
  app.delete(
    '/v3/projects/:project_id',
    { config: { policy: 'identity:delete_project' } },
    async (req, reply) => {
      const p = await loadProjectFor(mgr, req);
      await mgr.deleteProject(p.id);
      return noContent(reply);
    },
  );
}
