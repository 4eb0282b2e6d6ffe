/** Catalog endpoints (Keystone keystone/api/endpoints.py). */
import type { FastifyInstance } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { endpointView, listLinks } from '../views.js';
import { bodyOf, noContent, one, params, q, splitExtra } from './common.js';
import * as S from './schemas.js';

export function endpointRoutes(app: FastifyInstance, mgr: IdentityManager) {
  app.get('/v3/endpoints', { config: { policy: 'identity:list_endpoints' } }, async (req) => {
    req.authorize();
    const query = q(req);
    const rows = await mgr.store.listEndpoints({
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
      const row = await mgr.createEndpoint({
        service_id: b.service_id,
        interface: b.interface,
        url: b.url,
        region: b.region_id ?? b.region ?? null,
        enabled: b.enabled,
        extra: splitExtra(b, ['id', 'service_id', 'interface', 'url', 'region_id', 'region', 'enabled']),
      });
      reply.code(201);
      return { endpoint: endpointView(req, row) };
    },
  );
  app.get('/v3/endpoints/:endpoint_id', { config: { policy: 'identity:get_endpoint' } }, async (req) => {
    req.authorize();
    return { endpoint: endpointView(req, await mgr.getEndpoint(params(req).endpoint_id!)) };
  });
  app.patch(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:update_endpoint' }, schema: { body: S.endpointUpdate } },
    async (req) => {
      req.authorize();
      const b = bodyOf<Record<string, any>>(req, 'endpoint');
      const e = await mgr.updateEndpoint(params(req).endpoint_id!, {
        service_id: b.service_id,
        interface: b.interface,
        url: b.url,
        region: b.region_id ?? b.region,
        enabled: b.enabled,
      });
      return { endpoint: endpointView(req, e) };
    },
  );
  app.delete(
    '/v3/endpoints/:endpoint_id',
    { config: { policy: 'identity:delete_endpoint' } },
    async (req, reply) => {
      req.authorize();
      await mgr.deleteEndpoint(params(req).endpoint_id!);
      return noContent(reply);
    },
  );
}
