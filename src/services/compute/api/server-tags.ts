/** /servers/{id}/tags, 2.26 (nova/api/openstack/compute/server_tags.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import { bad, callerOf, requireMv, type Obj, type P } from './common.js';

export function serverTagRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;
  const tagOk = (t: string) => t.length >= 1 && t.length <= 60 && !/[,/]/.test(t);
  async function tagServer(req: FastifyRequest, rule: string) {
    requireMv(req, 26);
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, rule);
    return { c, s };
  }
  const tagsOf = (id: string) => mgr.tagsOf(id);
  app.get(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:index' } },
    async (req) => {
      const { s } = await tagServer(req, 'os_compute_api:os-server-tags:index');
      return { tags: await tagsOf(s.id) };
    },
  );
  app.put(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:update_all' } },
    async (req) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:update_all');
      mgr.checkLock(c, s);
      const b = req.body as Obj | undefined;
      const tags = b?.tags;
      if (!Array.isArray(tags))
        throw bad("Invalid input for field/attribute tags. 'tags' is a required property");
      if (tags.length > 50) throw bad('The number of tags exceeded the per-server limit 50');
      for (const t of tags)
        if (typeof t !== 'string' || !tagOk(t))
          throw bad(
            `Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}. is not a valid tag`,
          );
      await store.setTags(s.id, [...new Set(tags as string[])]);
      return { tags: await tagsOf(s.id) };
    },
  );
  app.delete(
    '/v2.1/servers/:id/tags',
    { config: { policy: 'os_compute_api:os-server-tags:delete_all' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:delete_all');
      mgr.checkLock(c, s);
      await store.deleteTags(s.id);
      reply.code(204).send();
    },
  );
  app.get(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:show' } },
    async (req, reply) => {
      const { s } = await tagServer(req, 'os_compute_api:os-server-tags:show');
      const tag = (req.params as P).tag!;
      if (!(await tagsOf(s.id)).includes(tag))
        throw new ApiError(404, `Tag '${tag}' could not be found for instance ${s.id}.`, 'itemNotFound');
      reply.code(204).send();
    },
  );
  app.put(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:update' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:update');
      mgr.checkLock(c, s);
      const tag = (req.params as P).tag!;
      if (!tagOk(tag)) throw bad(`Tag '${tag}' is invalid.`);
      const cur = await tagsOf(s.id);
      if (cur.includes(tag)) return reply.code(204).send();
      if (cur.length >= 50) throw bad('The number of tags exceeded the per-server limit 50');
      await store.addTag(s.id, tag);
      reply.code(201).header('location', `${base}/v2.1/servers/${s.id}/tags/${tag}`).send();
    },
  );
  app.delete(
    '/v2.1/servers/:id/tags/:tag',
    { config: { policy: 'os_compute_api:os-server-tags:delete' } },
    async (req, reply) => {
      const { c, s } = await tagServer(req, 'os_compute_api:os-server-tags:delete');
      mgr.checkLock(c, s);
      const tag = (req.params as P).tag!;
      if (!(await store.deleteTag(s.id, tag)))
        throw new ApiError(404, `Tag '${tag}' could not be found for instance ${s.id}.`, 'itemNotFound');
      reply.code(204).send();
    },
  );
}
