/** Project tags (Keystone keystone/api/projects.py, ProjectTagsResource). */
import type { FastifyInstance } from 'fastify';
import { badRequest, notFound } from '../../../core/errors.js';
import type { IdentityManager } from '../manager.js';
import { listLinks, v3Base } from '../views.js';
import { noContent, params } from './common.js';

import { loadProjectFor } from './projects.js';

export function projectTagRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  // project tags
  app.get(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:list_project_tags' } },
    async (req) => {
      const p = await loadProjectFor(mgr, req);
      return { tags: (await store.projectTags([p.id])).get(p.id) ?? [], links: listLinks(req) };
    },
  );
  app.put(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:update_project_tags' } },
    async (req) => {
      const p = await loadProjectFor(mgr, req);
      const tags = (req.body as { tags?: unknown })?.tags;
      if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))
        throw badRequest('Expecting to find tags (a list of strings) in request body.');
      await mgr.updateProject(p.id, { tags: tags as string[] });
      return { tags: (await store.projectTags([p.id])).get(p.id) ?? [], links: listLinks(req) };
    },
  );
  app.delete(
    '/v3/projects/:project_id/tags',
    { config: { policy: 'identity:delete_project_tags' } },
    async (req, reply) => {
      const p = await loadProjectFor(mgr, req);
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
        const p = await loadProjectFor(mgr, req);
        const tag = decodeURIComponent(params(req).tag!);
        const tags = (await store.projectTags([p.id])).get(p.id) ?? [];
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
}
