/**
 * Fixtures and checks shared by the attack suites (fuzzer, RBAC matrix): one resource of every kind the
 * services serve, a map from a route's path parameter to a real id, and each service's fault format.
 */
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestCloud } from '../support/cloud.js';

/** The resources one project owns (made with that project's token), by the URL segment that names them. */
export interface ProjectResources {
  projectId: string;
  token: string;
  ids: Record<string, string>;
}

export interface Fixtures {
  adminToken: string;
  imageId: string;
  extNetId: string;
  /** Identity resources (admin-made, for the fuzzer's identity routes). */
  identity: Record<string, string>;
  /** Project resources of the admin project (fuzzer). */
  own: ProjectResources;
}

const MV = { 'openstack-api-version': 'compute 2.79' };

async function ok(r: Promise<LightMyRequestResponse>, what: string): Promise<any> {
  const res = await r;
  expect(res.statusCode, `${what}: ${res.body.slice(0, 300)}`).toBeLessThan(300);
  return res.body ? res.json() : {};
}

/** Make one resource of every project-scoped kind with `token`. */
export async function projectResources(
  cloud: TestCloud,
  token: string,
  projectId: string,
  tag: string,
  shared: { imageId: string; extNetId: string; flavorId: string },
): Promise<ProjectResources> {
  const req = (m: string, u: string, body?: unknown, headers?: Record<string, string>) =>
    cloud.req(m, u, { token, body, headers });
  const net = (
    await ok(req('POST', '/networking/v2.0/networks', { network: { name: `net-${tag}` } }), 'network')
  ).network.id as string;
  const subnet = (
    await ok(
      req('POST', '/networking/v2.0/subnets', {
        subnet: { network_id: net, cidr: '10.77.0.0/24', ip_version: 4, name: `sub-${tag}` },
      }),
      'subnet',
    )
  ).subnet.id as string;
  const port = (
    await ok(
      req('POST', '/networking/v2.0/ports', { port: { network_id: net, name: `port-${tag}` } }),
      'port',
    )
  ).port.id as string;
  const router = (
    await ok(
      req('POST', '/networking/v2.0/routers', {
        router: { name: `router-${tag}`, external_gateway_info: { network_id: shared.extNetId } },
      }),
      'router',
    )
  ).router.id as string;
  await ok(
    req('PUT', `/networking/v2.0/routers/${router}/add_router_interface`, { subnet_id: subnet }),
    'interface',
  );
  const sg = (
    await ok(req('POST', '/networking/v2.0/security-groups', { security_group: { name: `sg-${tag}` } }), 'sg')
  ).security_group.id as string;
  const rule = (
    await ok(
      req('POST', '/networking/v2.0/security-group-rules', {
        security_group_rule: {
          security_group_id: sg,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
        },
      }),
      'rule',
    )
  ).security_group_rule.id as string;
  const fip = (
    await ok(
      req('POST', '/networking/v2.0/floatingips', { floatingip: { floating_network_id: shared.extNetId } }),
      'fip',
    )
  ).floatingip.id as string;
  const image = (
    await ok(
      req('POST', '/image/v2/images', {
        name: `img-${tag}`,
        disk_format: 'raw',
        container_format: 'bare',
        visibility: 'private',
      }),
      'image',
    )
  ).id as string;
  const keypair = (
    await ok(req('POST', '/compute/v2.1/os-keypairs', { keypair: { name: `kp-${tag}` } }, MV), 'keypair')
  ).keypair.name as string;
  const group = (
    await ok(
      req(
        'POST',
        '/compute/v2.1/os-server-groups',
        { server_group: { name: `sg-${tag}`, policy: 'anti-affinity' } },
        MV,
      ),
      'server group',
    )
  ).server_group.id as string;
  const server = (
    await ok(
      req(
        'POST',
        '/compute/v2.1/servers',
        {
          server: {
            name: `vm-${tag}`,
            flavorRef: shared.flavorId,
            imageRef: shared.imageId,
            networks: [{ uuid: net }],
            metadata: { k: 'v' },
            tags: ['t'],
          },
        },
        MV,
      ),
      'server',
    )
  ).server.id as string;
  return {
    projectId,
    token,
    ids: {
      networks: net,
      subnets: subnet,
      ports: port,
      routers: router,
      'security-groups': sg,
      'security-group-rules': rule,
      floatingips: fip,
      images: image,
      'os-keypairs': keypair,
      'os-server-groups': group,
      servers: server,
      'os-interface': port,
    },
  };
}

/** Things every project uses: a public active image, an external network with a subnet, a flavor. */
export async function sharedResources(cloud: TestCloud) {
  const t = cloud.adminToken;
  const img = (
    await ok(
      cloud.req('POST', '/image/v2/images', {
        token: t,
        body: { name: 'shared-img', disk_format: 'raw', container_format: 'bare', visibility: 'public' },
      }),
      'image',
    )
  ).id as string;
  const up = await cloud.server.app.inject({
    method: 'PUT',
    url: `/image/v2/images/${img}/file`,
    headers: { 'x-auth-token': t, 'content-type': 'application/octet-stream' },
    payload: Buffer.alloc(1024 * 1024),
  });
  expect(up.statusCode, up.body).toBe(204);
  const ext = (
    await ok(
      cloud.req('POST', '/networking/v2.0/networks', {
        token: t,
        body: {
          network: {
            name: 'ext',
            'router:external': true,
            'provider:network_type': 'flat',
            'provider:physical_network': 'public',
          },
        },
      }),
      'external network',
    )
  ).network.id as string;
  await ok(
    cloud.req('POST', '/networking/v2.0/subnets', {
      token: t,
      body: { subnet: { network_id: ext, cidr: '172.30.0.0/24', ip_version: 4, enable_dhcp: false } },
    }),
    'external subnet',
  );
  const flavors = (await ok(cloud.req('GET', '/compute/v2.1/flavors', { token: t, headers: MV }), 'flavors'))
    .flavors as {
    id: string;
    name: string;
  }[];
  const flavorId = (flavors.find((f) => f.name === 'm1.nano') ?? flavors[0]!).id;
  return { imageId: img, extNetId: ext, flavorId };
}

export async function fixtures(cloud: TestCloud): Promise<Fixtures> {
  const t = cloud.adminToken;
  const post = async (u: string, body: unknown, pick: (j: any) => string) =>
    pick(await ok(cloud.req('POST', `/identity/v3${u}`, { token: t, body }), u));
  const domain = await post('/domains', { domain: { name: 'fuzz-domain' } }, (j) => j.domain.id);
  const project = await post(
    '/projects',
    { project: { name: 'fuzz-project', domain_id: 'default' } },
    (j) => j.project.id,
  );
  const user = await post(
    '/users',
    { user: { name: 'fuzz-user', password: 'fuzz-password', domain_id: 'default' } },
    (j) => j.user.id,
  );
  const group = await post(
    '/groups',
    { group: { name: 'fuzz-group', domain_id: 'default' } },
    (j) => j.group.id,
  );
  const role = await post('/roles', { role: { name: 'fuzz-role' } }, (j) => j.role.id);
  const role2 = await post('/roles', { role: { name: 'fuzz-role-2' } }, (j) => j.role.id);
  const region = await post('/regions', { region: { id: 'fuzz-region' } }, (j) => j.region.id);
  const service = await post('/services', { service: { type: 'fuzz', name: 'fuzz' } }, (j) => j.service.id);
  const endpoint = await post(
    '/endpoints',
    {
      endpoint: {
        service_id: service,
        interface: 'public',
        url: 'http://127.0.0.1:1/fuzz',
        region_id: region,
      },
    },
    (j) => j.endpoint.id,
  );
  const credential = await post(
    '/credentials',
    {
      credential: {
        type: 'ec2',
        user_id: user,
        project_id: project,
        blob: JSON.stringify({ access: 'a', secret: 's' }),
      },
    },
    (j) => j.credential.id,
  );
  const shared = await sharedResources(cloud);
  const adminProject = cloud.server.bootstrap.adminProjectId;
  const own = await projectResources(cloud, t, adminProject, 'fuzz', shared);
  const agg = (
    await ok(
      cloud.req('POST', '/compute/v2.1/os-aggregates', {
        token: t,
        body: { aggregate: { name: 'fuzz-agg' } },
        headers: MV,
      }),
      'aggregate',
    )
  ).aggregate.id;
  own.ids['os-aggregates'] = String(agg);
  own.ids.flavors = shared.flavorId;
  return {
    adminToken: t,
    imageId: shared.imageId,
    extNetId: shared.extNetId,
    identity: {
      domains: domain,
      projects: project,
      users: user,
      groups: group,
      roles: role,
      implies: role2,
      regions: region,
      services: service,
      endpoints: endpoint,
      credentials: credential,
    },
    own,
  };
}

/** A real id for a path parameter, from the segment before it (or the parameter's name). */
export function idFor(fx: Fixtures, param: string, segment: string, url: string): string {
  const byName: Record<string, string | undefined> = {
    actor_id: url.includes('/groups/:actor_id') ? fx.identity.groups : fx.identity.users,
    target_id: url.includes('/domains/:target_id') ? fx.identity.domains : fx.identity.projects,
    role_id: fx.identity.roles,
    prior_role_id: fx.identity.roles,
    implied_role_id: fx.identity.implies,
    member_id: fx.identity.projects,
    project_id: fx.identity.projects,
    project: fx.identity.projects,
    tag: 't',
    tag_value: 't',
    key: 'k',
  };
  if (url.startsWith('/identity') && fx.identity[segment]) return fx.identity[segment]!;
  if (byName[param] !== undefined && !['id', 'image_id', 'name', 'port'].includes(param))
    return byName[param]!;
  return fx.own.ids[segment] ?? byName[param] ?? '00000000-0000-4000-8000-000000000000';
}

/** The JSON key a collection's member is sent under (`security-groups` → `security_group`). */
export function singularOf(collection: string): string {
  const special: Record<string, string> = {
    'rbac-policies': 'rbac_policy',
    policies: 'policy',
    'os-keypairs': 'keypair',
    'os-aggregates': 'aggregate',
    'os-server-groups': 'server_group',
    'os-quota-sets': 'quota_set',
    'os-quota-class-sets': 'quota_class_set',
    'os-services': 'service',
    'os-interface': 'interfaceAttachment',
    'os-volume_attachments': 'volumeAttachment',
    'os-extra_specs': 'extra_specs',
    'remote-consoles': 'remote_console',
    metadata: 'metadata',
    tags: 'tags',
    quotas: 'quota',
    tokens: 'auth',
    password: 'user',
    add_router_interface: 'subnet_id',
    remove_router_interface: 'subnet_id',
    add_extraroutes: 'router',
    remove_extraroutes: 'router',
  };
  if (special[collection]) return special[collection]!;
  const base = collection.replace(/-/g, '_');
  return base.endsWith('ies') ? `${base.slice(0, -3)}y` : base.endsWith('s') ? base.slice(0, -1) : base;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Whether a 4xx body is in the fault format of the service the URL belongs to. */
export function isFault(url: string, r: LightMyRequestResponse, method = 'GET'): boolean {
  let b: unknown;
  try {
    b = r.json();
  } catch {
    return method === 'HEAD' && r.body === '';
  }
  if (!isObj(b)) return false;
  if (url.startsWith('/identity'))
    return isObj(b.error) && typeof b.error.code === 'number' && typeof b.error.message === 'string';
  if (url.startsWith('/networking'))
    return (
      isObj(b.NeutronError) &&
      typeof b.NeutronError.message === 'string' &&
      typeof b.NeutronError.type === 'string'
    );
  if (url.startsWith('/image'))
    return typeof b.message === 'string' && typeof b.code === 'string' && /^\d{3} /.test(b.code);
  if (url.startsWith('/compute')) {
    const keys = Object.keys(b);
    const v = b[keys[0]!];
    return keys.length === 1 && isObj(v) && typeof v.code === 'number' && typeof v.message === 'string';
  }
  return true;
}
