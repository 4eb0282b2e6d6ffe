/** GET /extensions (deprecated; an empty list keeps old clients happy). */
import type { FastifyInstance } from 'fastify';

export function extensionRoutes(app: FastifyInstance) {
  app.get('/v2.1/extensions', { config: { policy: 'os_compute_api:extensions' } }, async (req) => {
    req.authorize({});
    return { extensions: [] };
  });
}
