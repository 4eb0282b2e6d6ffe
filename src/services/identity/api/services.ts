/** Catalog services (Keystone keystone/api/services.py). */
import type { FastifyInstance } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { listLinks, serviceView } from '../views.js';
import { bodyOf, noContent, one, params, q, splitExtra } from './common.js';
import * as S from './schemas.js';

export function serviceRoutes(app: FastifyInstance, mgr: IdentityManager) {
  app.get('/v3/services', { config: { policy: 'identity:list_services' } }, async (req) => {
    req.authorize();
    const query = q(req);
    const rows = await mgr.store.listServices({ type: one(query, 'type'), name: one(query, 'name') });
    return { services: rows.map((s) => serviceView(req, s)), links: listLinks(req) };
  });
  app.post(
    '/v3/services',
    { config: { policy: 'identity:create_service' }, schema: { body: S.serviceCreate } },
    async (req, reply) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'service');
      const row = await mgr.createService({
        type: b.type,
        name: b.name,
        description: b.description,
        enabled: b.enabled,
        extra: splitExtra(b, ['id', 'type', 'name', 'description', 'enabled']),
      });
      reply.code(201);
      return { service: serviceView(req, row) };
    },
  );
  app.get('/v3/services/:service_id', { config: { policy: 'identity:get_service' } }, async (req) => {
    req.authorize();
    return { service: serviceView(req, await mgr.getService(params(req).service_id!)) };
  });
  app.patch(
    '/v3/services/:service_id',
    { config: { policy: 'identity:update_service' }, schema: { body: S.serviceUpdate } },
    async (req) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'service');
      const s = await mgr.updateService(params(req).service_id!, {
        type: b.type,
        name: b.name,
        description: b.description,
        enabled: b.enabled,
      });
      return { service: serviceView(req, s) };
    },
  );
  app.delete(
    '/v3/services/:service_id',
    { config: { policy: 'identity:delete_service' } },
    async (req, reply) => {
      req.authorize();
      await mgr.deleteService(params(req).service_id!);
      return noContent(reply);
    },
  );
}
