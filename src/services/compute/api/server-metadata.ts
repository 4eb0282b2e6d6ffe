/** /servers/{id}/metadata (nova/api/openstack/compute/server_metadata.py). */
import type { FastifyInstance } from 'fastify';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import type { Caller } from '../../../core/auth/caller.js';
import { type ComputeManager } from '../manager/index.js';
import type { ServerRow } from '../rows.js';
import { bad, bodyKey, callerOf, metadataOf, type P } from './common.js';

export function serverMetadataRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const md = (s: ServerRow) => json<Record<string, string>>(s.metadata, {});
  const saveMd = (c: Caller, s: ServerRow, m: Record<string, string>) => mgr.setMetadata(c, s, m);
  app.get(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:index' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:server-metadata:index',
      );
      return { metadata: md(s) };
    },
  );
  app.post(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:server-metadata:create');
      const m = { ...md(s), ...metadataOf(bodyKey(req, 'metadata')) };
      await saveMd(c, s, m);
      return { metadata: m };
    },
  );
  app.put(
    '/v2.1/servers/:id/metadata',
    { config: { policy: 'os_compute_api:server-metadata:update_all' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:server-metadata:update_all');
      const m = metadataOf(bodyKey(req, 'metadata'));
      await saveMd(c, s, m);
      return { metadata: m };
    },
  );
  app.get(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:show' } },
    async (req) => {
      const p = req.params as P;
      const s = await mgr.getServer(callerOf(req, mgr), p.id!, 'os_compute_api:server-metadata:show');
      const m = md(s);
      if (!(p.key! in m)) throw new ApiError(404, 'Metadata item was not found', 'itemNotFound');
      return { meta: { [p.key!]: m[p.key!] } };
    },
  );
  app.put(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:update' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:server-metadata:update');
      const meta = metadataOf(bodyKey(req, 'meta'), 'meta');
      if (Object.keys(meta).length !== 1) throw bad('Request body contains too many items');
      if (!(p.key! in meta)) throw bad('Request body and URI mismatch');
      const m = { ...md(s), ...meta };
      await saveMd(c, s, m);
      return { meta };
    },
  );
  app.delete(
    '/v2.1/servers/:id/metadata/:key',
    { config: { policy: 'os_compute_api:server-metadata:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:server-metadata:delete');
      const m = md(s);
      if (!(p.key! in m)) throw new ApiError(404, 'Metadata item was not found', 'itemNotFound');
      delete m[p.key!];
      await saveMd(c, s, m);
      reply.code(204).send();
    },
  );
}
