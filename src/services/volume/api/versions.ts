/** Version discovery (cinder/api/versions.py): GET /volume/ (300 Multiple Choices) and GET /volume/v3/. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { VERSIONS } from './common.js';

export function versionDoc(req: FastifyRequest) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: `${VERSIONS.major}.${VERSIONS.maxMinor}`,
    min_version: `${VERSIONS.major}.${VERSIONS.minMinor}`,
    updated: '2023-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${req.protocol}://${req.host}/volume/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** The root documents (public), mounted at /volume. */
export function rootVersionRoutes(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req, reply) => {
    reply.code(300);
    return { versions: [versionDoc(req)] };
  });
}

/** GET /volume/v3/ (public). */
export function v3VersionRoutes(app: FastifyInstance): void {
  app.get('/', { config: { public: true } }, async (req) => ({ versions: [versionDoc(req)] }));
}
