/** Neutron v2.0 routes (neutron/api/v2/router.py + extensions): parse, call the manager, render. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { EXPLAIN_RULE, Explainer } from './explain.js';
import { DEFS, TAGGABLE, DEFAULT_QUOTAS, type NetworkManager } from './manager.js';
import type { Query } from './query.js';
import * as v from './validate.js';

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

/** The extensions this service implements (clients probe this list and skip what is missing). */
export const EXTENSIONS: { alias: string; name: string; description: string }[] = [
  {
    alias: 'allowed-address-pairs',
    name: 'Allowed Address Pairs',
    description: 'Provides allowed address pairs',
  },
  { alias: 'availability_zone', name: 'Availability Zone', description: 'The availability zone extension.' },
  {
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
  },
  {
    alias: 'external-net',
    name: 'Neutron external network',
    description: 'Adds external network attribute to network resource.',
  },
  {
    alias: 'ext-gw-mode',
    name: 'Neutron L3 Configurable external gateway mode',
    description:
      'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  },
  {
    alias: 'extraroute',
    name: 'Neutron Extra Route',
    description: 'Extra routes configuration for L3 router',
  },
  {
    alias: 'extraroute-atomic',
    name: 'Atomically add/remove extra routes',
    description: 'Edit extra routes of a router on server side by atomically adding/removing extra routes',
  },
  {
    alias: 'fip-port-details',
    name: 'Floating IP Port Details Extension',
    description: 'Add port_details attribute to Floating IP resource',
  },
  {
    alias: 'filter-validation',
    name: 'Filter parameters validation',
    description: 'Provides validation on filter parameters.',
  },
  {
    alias: 'ip-substring-filtering',
    name: 'IP address substring filtering',
    description: 'Provides IP address substring filtering when listing ports',
  },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  {
    alias: 'net-mtu-writable',
    name: 'Network MTU (writable)',
    description: 'Provides a writable MTU attribute for a network resource.',
  },
  {
    alias: 'network_availability_zone',
    name: 'Network Availability Zone',
    description: 'Availability zone support for network.',
  },
  {
    alias: 'network-ip-availability',
    name: 'Network IP Availability',
    description: 'Provides IP availability data for each network and subnet.',
  },
  {
    alias: 'pagination',
    name: 'Pagination support',
    description: 'Extension that indicates that pagination is enabled.',
  },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  {
    alias: 'project-id',
    name: 'project_id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
  },
  {
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
  },
  {
    alias: 'quotas',
    name: 'Quota management support',
    description: 'Expose functions for quotas management per project',
  },
  {
    alias: 'quota_details',
    name: 'Quota details management support',
    description: 'Expose functions for quotas usage statistics per project',
  },
  {
    alias: 'rbac-policies',
    name: 'RBAC Policies',
    description: 'Allows creation and modification of policies that control tenant access to resources.',
  },
  {
    alias: 'revision-if-match',
    name: 'If-Match constraints based on revision_number',
    description: 'Extension indicating that If-Match based on revision_number is supported.',
  },
  {
    alias: 'router',
    name: 'Neutron L3 Router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  },
  {
    alias: 'router_availability_zone',
    name: 'Router Availability Zone',
    description: 'Availability zone support for router.',
  },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  {
    alias: 'sorting',
    name: 'Sorting support',
    description: 'Extension that indicates that sorting is enabled.',
  },
  {
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
  },
  {
    alias: 'standard-attr-revisions',
    name: 'Resource revision numbers',
    description: 'This extension will display the revision number of neutron resources.',
  },
  {
    alias: 'standard-attr-tag',
    name: 'Tag support for resources with standard attribute: subnet, trunk, network_segment_range, router, network, policy, subnetpool, port, security_group, floatingip',
    description: 'Enables to set tag on resources with standard attribute.',
  },
  {
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description:
      'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  },
  {
    alias: 'stateful-security-group',
    name: 'Stateful security group',
    description: 'Indicates if the security group is stateful or not',
  },
].map((e) => ({ ...e, updated: '2013-01-01T10:00:00-00:00', links: [] }));

/** URL segment, manager kind, singular and plural JSON keys. */
const RESOURCES = [
  { path: 'networks', kind: 'network' },
  { path: 'subnets', kind: 'subnet' },
  { path: 'ports', kind: 'port' },
  { path: 'routers', kind: 'router' },
  { path: 'floatingips', kind: 'floatingip' },
  { path: 'security-groups', kind: 'security_group' },
  { path: 'security-group-rules', kind: 'security_group_rule' },
  { path: 'rbac-policies', kind: 'rbac_policy' },
] as const;

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
      ...RESOURCES.map((r) => ({ name: DEFS[r.kind]!.member, collection: DEFS[r.kind]!.collection })),
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

  const creators: Record<string, (c: ReturnType<NetworkManager['caller']>, b: unknown) => Promise<unknown>> =
    {
      network: (c, b) => m.createNetwork(c, b),
      subnet: (c, b) => m.createSubnet(c, b),
      port: (c, b) => m.createPort(c, b),
      router: (c, b) => m.createRouter(c, b),
      floatingip: (c, b) => m.createFloatingIp(c, b),
      security_group: (c, b) => m.createSecurityGroup(c, b),
      security_group_rule: (c, b) => m.createSecurityGroupRule(c, b),
      rbac_policy: (c, b) => m.createRbac(c, b),
    };
  type C = ReturnType<NetworkManager['caller']>;
  const updaters: Record<string, (c: C, id: string, b: unknown, im?: string) => Promise<unknown>> = {
    network: (c, id, b, im) => m.updateNetwork(c, id, b, im),
    subnet: (c, id, b, im) => m.updateSubnet(c, id, b, im),
    port: (c, id, b, im) => m.updatePort(c, id, b, im),
    router: (c, id, b, im) => m.updateRouter(c, id, b, im),
    floatingip: (c, id, b, im) => m.updateFloatingIp(c, id, b, im),
    security_group: (c, id, b, im) => m.updateSecurityGroup(c, id, b, im),
    rbac_policy: (c, id, b) => m.updateRbac(c, id, b),
  };
  const deleters: Record<string, (c: C, id: string, im?: string) => Promise<void>> = {
    network: (c, id, im) => m.deleteNetwork(c, id, im),
    subnet: (c, id, im) => m.deleteSubnet(c, id, im),
    port: (c, id, im) => m.deletePort(c, id, im),
    router: (c, id, im) => m.deleteRouter(c, id, im),
    floatingip: (c, id, im) => m.deleteFloatingIp(c, id, im),
    security_group: (c, id, im) => m.deleteSecurityGroup(c, id, im),
    security_group_rule: (c, id) => m.deleteSecurityGroupRule(c, id),
    rbac_policy: (c, id) => m.deleteRbac(c, id),
  };

  for (const r of RESOURCES) {
    const def = DEFS[r.kind]!;
    const url = `/v2.0/${r.path}`;
    scope.get(url, { config: { policy: `get_${def.member}` } }, async (req) => {
      const res = await m.list(m.caller(req.auth), r.kind, query(req), `${base(req)}/v2.0`);
      return {
        [def.collection]: res.items,
        ...(res.links.length ? { [`${def.collection}_links`]: res.links } : {}),
      };
    });
    scope.get(`${url}/:id`, { config: { policy: `get_${def.member}` } }, async (req) => ({
      [def.member]: await m.show(m.caller(req.auth), r.kind, params(req).id!, query(req)),
    }));
    scope.post(url, { config: { policy: `create_${def.member}` } }, async (req, reply) => {
      const b = req.body as Record<string, unknown> | undefined;
      if (b && typeof b === 'object' && Array.isArray(b[def.collection]))
        throw new ApiError(400, 'Bulk operations are not supported.', 'HTTPBadRequest');
      reply.code(201);
      return { [def.member]: await creators[r.kind]!(m.caller(req.auth), req.body) };
    });
    const upd = updaters[r.kind];
    if (upd)
      scope.put(`${url}/:id`, { config: { policy: `update_${def.member}` } }, async (req) => ({
        [def.member]: await upd(m.caller(req.auth), params(req).id!, req.body, ifMatch(req)),
      }));
    scope.delete(`${url}/:id`, { config: { policy: `delete_${def.member}` } }, async (req, reply) => {
      await deleters[r.kind]!(m.caller(req.auth), params(req).id!, ifMatch(req));
      reply.code(204).send();
    });
  }

  // ---- routers: interfaces and extra routes
  const routerAction = (
    name: string,
    rule: string,
    fn: (c: C, id: string, body: unknown) => Promise<unknown>,
  ) =>
    scope.put(`/v2.0/routers/:id/${name}`, { config: { policy: rule } }, async (req) =>
      fn(m.caller(req.auth), params(req).id!, req.body),
    );
  routerAction('add_router_interface', 'add_router_interface', (c, id, b) => m.addRouterInterface(c, id, b));
  routerAction('remove_router_interface', 'remove_router_interface', (c, id, b) =>
    m.removeRouterInterface(c, id, b),
  );
  routerAction('add_extraroutes', 'add_extraroutes', async (c, id, b) => ({
    router: await m.changeExtraRoutes(c, id, b, true),
  }));
  routerAction('remove_extraroutes', 'remove_extraroutes', async (c, id, b) => ({
    router: await m.changeExtraRoutes(c, id, b, false),
  }));

  // ---- tags: /v2.0/{resources}/{id}/tags[/{tag}]
  for (const [path, kind] of Object.entries(TAGGABLE)) {
    const member = DEFS[kind]!.member;
    const u = `/v2.0/${path}/:id/tags`;
    scope.get(u, { config: { policy: `get_${member}:tags` } }, async (req) => ({
      tags: await m.getTags(m.caller(req.auth), path, params(req).id!),
    }));
    scope.get(`${u}/:tag`, { config: { policy: `get_${member}:tags` } }, async (req, reply) => {
      await m.hasTag(m.caller(req.auth), path, params(req).id!, params(req).tag!);
      reply.code(204).send();
    });
    scope.put(u, { config: { policy: `update_${member}:tags` } }, async (req) => ({
      tags: await m.replaceTags(m.caller(req.auth), path, params(req).id!, req.body),
    }));
    scope.put(`${u}/:tag`, { config: { policy: `update_${member}:tags` } }, async (req, reply) => {
      await m.addTag(m.caller(req.auth), path, params(req).id!, params(req).tag!);
      reply.code(201).send();
    });
    scope.delete(u, { config: { policy: `delete_${member}:tags` } }, async (req, reply) => {
      await m.removeTag(m.caller(req.auth), path, params(req).id!, undefined);
      reply.code(204).send();
    });
    scope.delete(`${u}/:tag`, { config: { policy: `delete_${member}:tags` } }, async (req, reply) => {
      await m.removeTag(m.caller(req.auth), path, params(req).id!, params(req).tag!);
      reply.code(204).send();
    });
  }

  // ---- quotas
  const quotaTarget = (projectId: string) => ({ project_id: projectId, tenant_id: projectId });
  const projectParam = (req: FastifyRequest) => params(req).project_id!.replace(/\.json$/, '');
  scope.get('/v2.0/quotas', { config: { policy: 'get_quota' } }, async (req) => {
    const c = m.caller(req.auth);
    const rows = await m.store.allQuotas();
    const projects = [...new Set(rows.map((r) => r.project_id as string))].filter((p) =>
      m.allowed(c, 'get_quota', quotaTarget(p)),
    );
    const quotas = [];
    for (const p of projects) quotas.push({ ...(await m.quotaLimits(p)), project_id: p, tenant_id: p });
    return { quotas };
  });
  scope.get('/v2.0/quotas/:project_id', { config: { policy: 'get_quota' } }, async (req) => {
    const c = m.caller(req.auth);
    const p = projectParam(req);
    m.enforce(c, 'get_quota', quotaTarget(p));
    return { quota: await m.quotaLimits(p) };
  });
  scope.get('/v2.0/quotas/:project_id/default', { config: { policy: 'get_quota' } }, async (req) => {
    m.enforce(m.caller(req.auth), 'get_quota', quotaTarget(projectParam(req)));
    return { quota: { ...DEFAULT_QUOTAS } };
  });
  scope.get('/v2.0/quotas/:project_id/details', { config: { policy: 'get_quota' } }, async (req) => {
    const p = projectParam(req);
    m.enforce(m.caller(req.auth), 'get_quota', quotaTarget(p));
    return { quota: await m.quotaUsage(p) };
  });
  scope.put('/v2.0/quotas/:project_id', { config: { policy: 'update_quota' } }, async (req) => {
    const p = projectParam(req);
    m.enforce(m.caller(req.auth), 'update_quota', quotaTarget(p));
    const b = v.resourceBody(req.body, 'quota', [...Object.keys(DEFAULT_QUOTAS), 'force', 'check_limit']);
    for (const [k, val] of Object.entries(b)) {
      if (k === 'force' || k === 'check_limit') continue;
      const n = v.int(k, val, -1, 2 ** 31 - 1);
      await m.store.setQuota(p, k, n);
    }
    return { quota: await m.quotaLimits(p) };
  });
  scope.delete('/v2.0/quotas/:project_id', { config: { policy: 'delete_quota' } }, async (req, reply) => {
    const p = projectParam(req);
    m.enforce(m.caller(req.auth), 'delete_quota', quotaTarget(p));
    await m.store.deleteQuotas(p);
    reply.code(204).send();
  });

  // ---- Stackbox's own: why a flow does or does not get through (src/services/network/explain.ts). Not a
  // Neutron extension, so not listed in /v2.0/extensions.
  const explainer = new Explainer(m, opts.compute ?? (() => undefined));
  scope.get('/v2.0/stackbox/explain', { config: { policy: EXPLAIN_RULE } }, async (req) => ({
    explanation: await explainer.explain(m.caller(req.auth), query(req)),
  }));

  // ---- network IP availability, availability zones
  scope.get(
    '/v2.0/network-ip-availabilities',
    { config: { policy: 'get_network_ip_availability' } },
    async (req) => ({
      network_ip_availabilities: await m.ipAvailability(m.caller(req.auth), query(req)),
    }),
  );
  scope.get(
    '/v2.0/network-ip-availabilities/:id',
    { config: { policy: 'get_network_ip_availability' } },
    async (req) => ({
      network_ip_availability: (await m.ipAvailability(m.caller(req.auth), {}, params(req).id))[0],
    }),
  );
  scope.get('/v2.0/availability_zones', { config: { policy: 'get_availability_zone' } }, async (req) => {
    m.enforce(m.caller(req.auth), 'get_availability_zone', {});
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
