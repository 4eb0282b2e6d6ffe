/** Neutron v2.0 routes (neutron/api/v2/router.py + extensions): parse, call the manager, render. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../../core/auth/caller.js';
import { ApiError } from '../../core/errors.js';
import { EXPLAIN_RULE, Explainer } from './explain/index.js';
import { EXTENSIONS } from './extensions.js';
import type { NetworkManager } from './manager.js';
import type { Query } from './query.js';
import { taggable } from './resources/tags.js';

/** Rule for what any authenticated caller may read (extensions); not one of Neutron's rules. */
export const AUTHENTICATED_RULE = 'network:authenticated';

type P = Record<string, string>;
const params = (req: FastifyRequest) => req.params as P;
const query = (req: FastifyRequest) => (req.query ?? {}) as Query;
const ifMatch = (req: FastifyRequest) => {
  const h = req.headers['if-match'];
  return Array.isArray(h) ? h.join(',') : h;
};
export const base = (req: FastifyRequest) => `${req.protocol}://${req.host}/networking`;

/** `compute`: the compute facade (ctx.services.compute) once it is there, for explain's server lookups. */
export function networkRoutes(
  scope: FastifyInstance,
  m: NetworkManager,
  opts: { compute?: () => unknown } = {},
): void {
  scope.get('/', { config: { public: true } }, async (req) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base(req)}/v2.0/`, rel: 'self' }] }],
  }));
  scope.get('/v2.0', { config: { public: true } }, async (req) => ({
    resources: [
      ...m.resources().map((r) => ({ name: r.def.member, collection: r.def.collection })),
      { name: 'quota', collection: 'quotas' },
    ].map((r) => ({
      ...r,
      links: [{ href: `${base(req)}/v2.0/${r.collection.replace(/_/g, '-')}`, rel: 'self' }],
    })),
  }));
  scope.get('/v2.0/extensions', { config: { policy: AUTHENTICATED_RULE } }, async () => ({
    extensions: EXTENSIONS,
  }));
  scope.get('/v2.0/extensions/:alias', { config: { policy: AUTHENTICATED_RULE } }, async (req) => {
    const e = EXTENSIONS.find((x) => x.alias === params(req).alias);
    if (!e)
      throw new ApiError(404, `Extension with alias ${params(req).alias} does not exist`, 'HTTPNotFound');
    return { extension: e };
  });

  const caller = (req: FastifyRequest): Caller => callerOf(req.auth, m.policy);

  for (const r of m.resources()) {
    const def = r.def;
    const url = `/v2.0/${def.path}`;
    scope.get(url, { config: { policy: `get_${def.member}` } }, async (req) => {
      const res = await m.list(caller(req), def.kind, query(req), `${base(req)}/v2.0`);
      return {
        [def.collection]: res.items,
        ...(res.links.length ? { [`${def.collection}_links`]: res.links } : {}),
      };
    });
    scope.get(`${url}/:id`, { config: { policy: `get_${def.member}` } }, async (req) => ({
      [def.member]: await m.show(caller(req), def.kind, params(req).id!, query(req)),
    }));
    scope.post(url, { config: { policy: `create_${def.member}` } }, async (req, reply) => {
      const b = req.body as Record<string, unknown> | undefined;
      if (b && typeof b === 'object' && Array.isArray(b[def.collection]))
        throw new ApiError(400, 'Bulk operations are not supported.', 'HTTPBadRequest');
      reply.code(201);
      return { [def.member]: await r.create!(caller(req), req.body) };
    });
    const upd = r.update?.bind(r);
    if (upd)
      scope.put(`${url}/:id`, { config: { policy: `update_${def.member}` } }, async (req) => ({
        [def.member]: await upd(caller(req), params(req).id!, req.body, ifMatch(req)),
      }));
    scope.delete(`${url}/:id`, { config: { policy: `delete_${def.member}` } }, async (req, reply) => {
      await r.delete!(caller(req), params(req).id!, ifMatch(req));
      reply.code(204).send();
    });
  }

  // ---- routers: interfaces and extra routes
  const routerAction = (
    name: string,
    rule: string,
    fn: (c: Caller, id: string, body: unknown) => Promise<unknown>,
  ) =>
    scope.put(`/v2.0/routers/:id/${name}`, { config: { policy: rule } }, async (req) =>
      fn(caller(req), params(req).id!, req.body),
    );
  routerAction('add_router_interface', 'add_router_interface', (c, id, b) =>
    m.routers.addRouterInterface(c, id, b),
  );
  routerAction('remove_router_interface', 'remove_router_interface', (c, id, b) =>
    m.routers.removeRouterInterface(c, id, b),
  );
  routerAction('add_extraroutes', 'add_extraroutes', async (c, id, b) => ({
    router: await m.routers.changeExtraRoutes(c, id, b, true),
  }));
  routerAction('remove_extraroutes', 'remove_extraroutes', async (c, id, b) => ({
    router: await m.routers.changeExtraRoutes(c, id, b, false),
  }));

  // ---- tags: /v2.0/{resources}/{id}/tags[/{tag}]
  for (const [path, kind] of Object.entries(taggable(m))) {
    const member = m.resource(kind).def.member;
    const u = `/v2.0/${path}/:id/tags`;
    scope.get(u, { config: { policy: `get_${member}:tags` } }, async (req) => ({
      tags: await m.tags.getTags(caller(req), path, params(req).id!),
    }));
    scope.get(`${u}/:tag`, { config: { policy: `get_${member}:tags` } }, async (req, reply) => {
      await m.tags.hasTag(caller(req), path, params(req).id!, params(req).tag!);
      reply.code(204).send();
    });
    scope.put(u, { config: { policy: `update_${member}:tags` } }, async (req) => ({
      tags: await m.tags.replaceTags(caller(req), path, params(req).id!, req.body),
    }));
    scope.put(`${u}/:tag`, { config: { policy: `update_${member}:tags` } }, async (req, reply) => {
      await m.tags.addTag(caller(req), path, params(req).id!, params(req).tag!);
      reply.code(201).send();
    });
    scope.delete(u, { config: { policy: `delete_${member}:tags` } }, async (req, reply) => {
      await m.tags.removeTag(caller(req), path, params(req).id!, undefined);
      reply.code(204).send();
    });
    scope.delete(`${u}/:tag`, { config: { policy: `delete_${member}:tags` } }, async (req, reply) => {
      await m.tags.removeTag(caller(req), path, params(req).id!, params(req).tag!);
      reply.code(204).send();
    });
  }

  // ---- quotas
  const projectParam = (req: FastifyRequest) => params(req).project_id!.replace(/\.json$/, '');
  scope.get('/v2.0/quotas', { config: { policy: 'get_quota' } }, async (req) => ({
    quotas: await m.quotas.list(caller(req)),
  }));
  scope.get('/v2.0/quotas/:project_id', { config: { policy: 'get_quota' } }, async (req) => ({
    quota: await m.quotas.show(caller(req), projectParam(req)),
  }));
  scope.get('/v2.0/quotas/:project_id/default', { config: { policy: 'get_quota' } }, async (req) => ({
    quota: m.quotas.defaults(caller(req), projectParam(req)),
  }));
  scope.get('/v2.0/quotas/:project_id/details', { config: { policy: 'get_quota' } }, async (req) => ({
    quota: await m.quotas.details(caller(req), projectParam(req)),
  }));
  scope.put('/v2.0/quotas/:project_id', { config: { policy: 'update_quota' } }, async (req) => ({
    quota: await m.quotas.update(caller(req), projectParam(req), req.body),
  }));
  scope.delete('/v2.0/quotas/:project_id', { config: { policy: 'delete_quota' } }, async (req, reply) => {
    await m.quotas.delete(caller(req), projectParam(req));
    reply.code(204).send();
  });

  // ---- Stackbox's own: why a flow does or does not get through (src/services/network/explain/). Not a
  // Neutron extension, so not listed in /v2.0/extensions.
  const explainer = new Explainer(m, opts.compute ?? (() => undefined));
  scope.get('/v2.0/stackbox/explain', { config: { policy: EXPLAIN_RULE } }, async (req) => ({
    explanation: await explainer.explain(caller(req), query(req)),
  }));

  // ---- network IP availability, availability zones
  scope.get(
    '/v2.0/network-ip-availabilities',
    { config: { policy: 'get_network_ip_availability' } },
    async (req) => ({
      network_ip_availabilities: await m.ipAvailability.list(caller(req), query(req)),
    }),
  );
  scope.get(
    '/v2.0/network-ip-availabilities/:id',
    { config: { policy: 'get_network_ip_availability' } },
    async (req) => ({
      network_ip_availability: (await m.ipAvailability.list(caller(req), {}, params(req).id))[0],
    }),
  );
  scope.get('/v2.0/availability_zones', { config: { policy: 'get_availability_zone' } }, async (req) => {
    m.enforce(caller(req), 'get_availability_zone', {});
    const q = query(req);
    const zones = ['network', 'router'].map((resource) => ({ name: 'nova', resource, state: 'available' }));
    return {
      availability_zones: zones.filter(
        (z) =>
          (q.resource === undefined || [q.resource].flat().includes(z.resource)) &&
          (q.name === undefined || [q.name].flat().includes(z.name)) &&
          (q.state === undefined || [q.state].flat().includes(z.state)),
      ),
    };
  });
}
