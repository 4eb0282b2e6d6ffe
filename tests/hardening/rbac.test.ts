/**
 * The RBAC matrix: project 1's member makes one resource of every kind; then project 2's member and reader,
 * project 1's reader and an anonymous caller go through every route the app registered (from its route table)
 * with project 1's ids in every path parameter. It fails on
 *   - any answer to an anonymous caller on a non-public route other than 401,
 *   - any 2xx from project 2 on a route naming project 1's resources (read or write),
 *   - any of project 1's ids in a listing project 2 gets (also asking with all_tenants / project filters),
 *   - any create in project 2 that references project 1's network, subnet, port or security group,
 *   - any write by a reader (except the self-service calls OpenStack allows every role),
 * and, at the end, if anything of project 1 changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { projectResources, sharedResources, singularOf, type ProjectResources } from './support.js';

let cloud: TestCloud;
let p1: ProjectResources;
let p2: ProjectResources;
let reader1: string;
let reader2: string;
let user1: string;
let shared: { imageId: string; extNetId: string; flavorId: string };
const MV = { 'openstack-api-version': 'compute 2.79' };

/** Writes OpenStack allows any role on one's own things (Nova key pairs are per user, not per project). */
const SELF_SERVICE = new Set(['POST /identity/v3/auth/tokens', 'POST /compute/v2.1/os-keypairs']);
/** Reads that are the same for every project (Nova's quota defaults are the `@` rule). */
const GLOBAL_READS = new Set(['GET /compute/v2.1/os-quota-sets/:project/defaults']);

beforeAll(async () => {
  cloud = await startTestCloud();
  shared = await sharedResources(cloud);
  const m1 = await cloud.projectUser('rbac-p1', 'rbac-m1');
  const m2 = await cloud.projectUser('rbac-p2', 'rbac-m2');
  user1 = m1.userId;
  const addUser = async (projectId: string, project: string, name: string, role: string) => {
    const u = await cloud.req('POST', '/identity/v3/users', {
      token: cloud.adminToken,
      body: { user: { name, password: `password-${name}`, default_project_id: projectId } },
    });
    const roles = (
      await cloud.req('GET', `/identity/v3/roles?name=${role}`, { token: cloud.adminToken })
    ).json();
    await cloud.req(
      'PUT',
      `/identity/v3/projects/${projectId}/users/${u.json().user.id}/roles/${roles.roles[0].id}`,
      {
        token: cloud.adminToken,
      },
    );
    return cloud.token(name, `password-${name}`, project);
  };
  reader1 = await addUser(m1.projectId, 'rbac-p1', 'rbac-r1', 'reader');
  reader2 = await addUser(m2.projectId, 'rbac-p2', 'rbac-r2', 'reader');
  p1 = await projectResources(cloud, m1.token, m1.projectId, 'p1', shared);
  p2 = await projectResources(cloud, m2.token, m2.projectId, 'p2', shared);
}, 120_000);
afterAll(async () => cloud?.close());

function routes() {
  const out: { method: string; url: string; public: boolean }[] = [];
  for (const r of cloud.server.app.routeTable) {
    if (r.url.includes('*') || r.url.startsWith('/metadata')) continue;
    for (const m of [r.method].flat())
      if (['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(m))
        out.push({ method: m, url: r.url, public: !!r.public });
  }
  return out;
}

/** Project 1's id for a path parameter (identity ids: project 1 and its member). */
function p1Id(param: string, segment: string, url: string): string {
  if (url.startsWith('/identity')) {
    if (['projects', 'target_id', 'project_id', 'members'].includes(segment) || param === 'target_id')
      return p1.projectId;
    if (segment === 'users' || param === 'actor_id' || param === 'user_id') return user1;
  }
  if (['project_id', 'project', 'member_id'].includes(param)) return p1.projectId;
  if (['tag', 'tag_value'].includes(param)) return 't';
  if (param === 'key') return 'k';
  return p1.ids[segment] ?? p1.ids[param] ?? '00000000-0000-4000-8000-000000000000';
}

function fill(url: string): string {
  const parts = url.split('/');
  return parts.map((s, i) => (s.startsWith(':') ? p1Id(s.slice(1), parts[i - 1] ?? '', url) : s)).join('/');
}

function writeBody(url: string): unknown {
  const segs = url.split('/').filter((s) => s && !s.startsWith(':'));
  const last = segs.at(-1) ?? '';
  if (last === 'action') return { 'os-stop': null };
  if (url.startsWith('/image/v2/images/:image_id') && !url.endsWith('members'))
    return [{ op: 'replace', path: '/name', value: 'pwned' }];
  if (url.startsWith('/image')) return { name: 'pwned', member: p2.projectId };
  if (last === 'tags') return { tags: ['pwned'] };
  if (last === 'metadata') return { metadata: { pwned: 'yes' } };
  if (last.endsWith('router_interface')) return { subnet_id: p1.ids.subnets };
  return { [singularOf(last)]: { name: 'pwned' } };
}

const p1Secrets = () => [...Object.values(p1.ids).filter((v) => v.length >= 32), 'kp-p1', 'vm-p1', 'net-p1'];

interface Seen {
  who: string;
  method: string;
  url: string;
  status: number;
  body: string;
}
const bad: string[] = [];
let attempts = 0;

async function call(
  who: string,
  token: string | undefined,
  method: string,
  url: string,
  body?: unknown,
): Promise<Seen> {
  const headers: Record<string, string> = url.startsWith('/compute') ? { ...MV } : {};
  if (method === 'PATCH' && url.startsWith('/image'))
    headers['content-type'] = 'application/openstack-images-v2.1-json-patch';
  const r = await cloud.req(method, url, { token, body, headers });
  attempts++;
  return { who, method, url, status: r.statusCode, body: r.body };
}

describe('RBAC matrix', () => {
  it('no anonymous access, no cross-project reach, no reader writes', async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(300);
    const secrets = p1Secrets();
    for (const r of all) {
      const url = fill(r.url);
      const hasParams = r.url.includes(':');
      const isWrite = !['GET', 'HEAD'].includes(r.method);
      const body = isWrite && r.method !== 'DELETE' ? writeBody(r.url) : undefined;
      const key = `${r.method} ${r.url}`;

      // Anonymous.
      if (!r.public) {
        const s = await call('anonymous', undefined, r.method, url, body);
        if (s.status !== 401) bad.push(`anonymous got ${s.status}: ${key}`);
      }
      // Project 2 (member and reader) with project 1's ids.
      for (const [who, token] of [
        ['p2-member', p2.token],
        ['p2-reader', reader2],
      ] as const) {
        if (hasParams) {
          const s = await call(who, token, r.method, url, body);
          if (s.status < 400 && !r.public && !GLOBAL_READS.has(`GET ${r.url}`))
            bad.push(`${who} got ${s.status} on project 1's resource: ${r.method} ${url}`);
        } else if (!isWrite) {
          for (const q of [
            '',
            '?all_tenants=1',
            '?all_projects=true',
            `?project_id=${p1.projectId}`,
            `?tenant_id=${p1.projectId}`,
            `?owner=${p1.projectId}`,
          ]) {
            const s = await call(who, token, r.method, `${url}${q}`);
            const leaked = secrets.filter((x) => s.body.includes(x));
            if (s.status < 300 && leaked.length)
              bad.push(`${who} sees project 1's ${leaked.join(', ')} in ${r.method} ${url}${q}`);
          }
        }
      }
      // A reader of project 1 writes nothing.
      if (isWrite && !SELF_SERVICE.has(key)) {
        const s = await call('p1-reader', reader1, r.method, url, body);
        if (s.status < 400) bad.push(`p1-reader wrote (${s.status}): ${r.method} ${url}`);
      }
    }

    // Creates in project 2 that name project 1's resources.
    const refs: [string, unknown][] = [
      ['/networking/v2.0/ports', { port: { network_id: p1.ids.networks } }],
      [
        '/networking/v2.0/subnets',
        { subnet: { network_id: p1.ids.networks, cidr: '10.99.0.0/24', ip_version: 4 } },
      ],
      [
        '/networking/v2.0/ports',
        { port: { network_id: p2.ids.networks, security_groups: [p1.ids['security-groups']] } },
      ],
      [
        '/networking/v2.0/security-group-rules',
        {
          security_group_rule: {
            security_group_id: p2.ids['security-groups'],
            direction: 'ingress',
            remote_group_id: p1.ids['security-groups'],
          },
        },
      ],
      [
        '/networking/v2.0/security-group-rules',
        { security_group_rule: { security_group_id: p1.ids['security-groups'], direction: 'ingress' } },
      ],
      ['/networking/v2.0/floatingips', { floatingip: { floating_network_id: p1.ids.networks } }],
      [
        '/networking/v2.0/rbac-policies',
        {
          rbac_policy: {
            object_type: 'network',
            object_id: p1.ids.networks,
            action: 'access_as_shared',
            target_tenant: '*',
          },
        },
      ],
    ];
    const server = (extra: Record<string, unknown>) => ({
      server: { name: 'x', flavorRef: shared.flavorId, imageRef: shared.imageId, ...extra },
    });
    refs.push(
      ['/compute/v2.1/servers', server({ networks: [{ uuid: p1.ids.networks }] })],
      ['/compute/v2.1/servers', server({ networks: [{ port: p1.ids.ports }] })],
      [
        '/compute/v2.1/servers',
        server({
          networks: [{ uuid: p2.ids.networks }],
          security_groups: [{ name: p1.ids['security-groups'] }],
        }),
      ],
      [
        '/compute/v2.1/servers',
        server({
          networks: [{ uuid: p2.ids.networks }],
          security_groups: [{ name: 'no-such-group-anywhere' }],
        }),
      ],
    );
    for (const [url, body] of refs) {
      const s = await call('p2-member', p2.token, 'POST', url, body);
      if (s.status < 400) bad.push(`p2-member created ${url} referencing project 1: ${JSON.stringify(body)}`);
    }
    const fip = p2.ids.floatingips;
    const s1 = await call('p2-member', p2.token, 'PUT', `/networking/v2.0/floatingips/${fip}`, {
      floatingip: { port_id: p1.ids.ports },
    });
    if (s1.status < 400) bad.push('p2-member associated its floating IP with project 1 port');
    const s2 = await call(
      'p2-member',
      p2.token,
      'PUT',
      `/networking/v2.0/routers/${p2.ids.routers}/add_router_interface`,
      { port_id: p1.ids.ports },
    );
    if (s2.status < 400) bad.push('p2-member plugged project 1 port into its router');
    const s3 = await call('p2-member', p2.token, 'GET', `/compute/v2.1/os-keypairs?user_id=${user1}`);
    if (s3.status !== 403) bad.push(`p2-member listed another user's key pairs: ${s3.status}`);

    console.log(`rbac: ${attempts} attempts, ${bad.length} leaks or wrong answers`);
    expect(bad, bad.slice(0, 80).join('\n')).toEqual([]);

    // Nothing of project 1 changed.
    for (const [seg, id] of Object.entries(p1.ids)) {
      const base =
        seg === 'images'
          ? `/image/v2/images/${id}`
          : seg.startsWith('os-') || seg === 'servers'
            ? `/compute/v2.1/${seg}/${id}`
            : `/networking/v2.0/${seg}/${id}`;
      if (seg === 'os-interface') continue;
      const r = await cloud.req('GET', base, { token: p1.token, headers: MV });
      expect(r.statusCode, `${base} after the attacks`).toBe(200);
      expect(r.body).not.toContain('pwned');
    }
  });
});
