/** Regions (Keystone keystone/api/regions.py). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hexId } from '../../../core/ids.js';
import type { IdentityManager } from '../manager.js';
import { listLinks, regionView } from '../views.js';
import { bodyOf, noContent, one, params, q, splitExtra } from './common.js';
import * as S from './schemas.js';

export function regionRoutes(app: FastifyInstance, mgr: IdentityManager) {
  app.get('/v3/regions', { config: { policy: 'identity:list_regions' } }, async (req) => {
    req.authorize();
    let rows = await mgr.store.listRegions();
    const parent = one(q(req), 'parent_region_id');
    if (parent) rows = rows.filter((r) => r.parent_region_id === parent);
    return { regions: rows.map((r) => regionView(req, r)), links: listLinks(req) };
  });
  const createRegion = async (req: FastifyRequest, reply: FastifyReply, id?: string) => {
    req.authorize({}, 'identity:create_region');
    const b = bodyOf<Record<string, any>>(req, 'region');
    const r = await mgr.createRegion(id ?? b.id ?? hexId(), {
      description: b.description,
      parent_region_id: b.parent_region_id,
      extra: splitExtra(b, ['id', 'description', 'parent_region_id']),
    });
    reply.code(201);
    return { region: regionView(req, r) };
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
  app.get('/v3/regions/:region_id', { config: { policy: 'identity:get_region' } }, async (req) => {
    req.authorize();
    return { region: regionView(req, await mgr.getRegion(params(req).region_id!)) };
  });
  app.patch(
    '/v3/regions/:region_id',
    { config: { policy: 'identity:update_region' }, schema: { body: S.regionUpdate } },
    async (req) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'region');
      const r = await mgr.updateRegion(params(req).region_id!, {
        description: b.description,
        parent_region_id: b.parent_region_id,
      });
      return { region: regionView(req, r) };
    },
  );
  app.delete(
    '/v3/regions/:region_id',
    { config: { policy: 'identity:delete_region' } },
    async (req, reply) => {
      req.authorize();
      await mgr.deleteRegion(params(req).region_id!);
      return noContent(reply);
    },
  );
}
