/**
 * The route fuzzer: every route the app registered (taken from its route table, so a new route is covered
 * without touching this file) gets malformed input — bad and huge ids, ids that are not valid UTF-8, bodies of
 * the wrong shape, fields of the wrong type, huge and negative numbers, deep nesting, oversized and unknown
 * fields, junk query parameters and microversions — and must answer without a 5xx and, for a 4xx, in the
 * fault format of its service. It runs as an admin against real fixtures, so ids resolve and the handlers
 * get past the lookups; DELETE only ever gets junk ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { fixtures, idFor, isFault, singularOf, type Fixtures } from './support.js';

let cloud: TestCloud;
let fx: Fixtures;

beforeAll(async () => {
  cloud = await startTestCloud();
  fx = await fixtures(cloud);
}, 120_000);
afterAll(async () => cloud?.close());

const JUNK_IDS = [
  'x',
  '%ff%fe',
  'a'.repeat(300),
  '-1',
  '99999999999999999999999',
  "1' OR '1'='1",
  '%00',
  '..%2f..',
];
const JUNK_VALUES: unknown[] = [
  null,
  -1,
  0,
  2 ** 63,
  1e20,
  -1e20,
  1.5,
  'x'.repeat(300),
  '',
  [],
  {},
  true,
  'ÿ\u0000\ud800',
  [[[[1]]]],
  { a: { b: { c: 1 } } },
  'not-a-uuid',
  '999.999.999.999',
];
const FIELDS = [
  'name',
  'description',
  'id',
  'project_id',
  'tenant_id',
  'domain_id',
  'parent_id',
  'enabled',
  'admin_state_up',
  'shared',
  'router:external',
  'provider:network_type',
  'provider:segmentation_id',
  'provider:physical_network',
  'mtu',
  'cidr',
  'ip_version',
  'gateway_ip',
  'allocation_pools',
  'dns_nameservers',
  'host_routes',
  'enable_dhcp',
  'ipv6_ra_mode',
  'prefixlen',
  'network_id',
  'subnet_id',
  'fixed_ips',
  'security_groups',
  'port_id',
  'device_id',
  'device_owner',
  'mac_address',
  'allowed_address_pairs',
  'binding:host_id',
  'port_security_enabled',
  'external_gateway_info',
  'routes',
  'floating_network_id',
  'floating_ip_address',
  'fixed_ip_address',
  'protocol',
  'port_range_min',
  'port_range_max',
  'direction',
  'ethertype',
  'remote_ip_prefix',
  'remote_group_id',
  'security_group_id',
  'stateful',
  'object_id',
  'object_type',
  'action',
  'target_tenant',
  'flavorRef',
  'imageRef',
  'min_count',
  'max_count',
  'networks',
  'metadata',
  'tags',
  'user_data',
  'key_name',
  'availability_zone',
  'block_device_mapping_v2',
  'config_drive',
  'accessIPv4',
  'accessIPv6',
  'adminPass',
  'ram',
  'vcpus',
  'disk',
  'swap',
  'OS-FLV-EXT-DATA:ephemeral',
  'rxtx_factor',
  'os-flavor-access:is_public',
  'public_key',
  'type',
  'policies',
  'rules',
  'policy',
  'hosts',
  'host',
  'status',
  'disabled_reason',
  'forced_down',
  'password',
  'original_password',
  'email',
  'default_project_id',
  'options',
  'url',
  'interface',
  'region_id',
  'parent_region_id',
  'service_id',
  'blob',
  'user_id',
  'roles',
  'expires_at',
  'secret',
  'unrestricted',
  'access_rules',
  'instances',
  'cores',
  'key_pairs',
  'network',
  'subnet',
  'port',
  'router',
  'floatingip',
  'security_group',
  'security_group_rule',
  'quota',
  'visibility',
  'protected',
  'disk_format',
  'container_format',
  'min_disk',
  'min_ram',
  'os_hidden',
  'member',
  'identity',
  'scope',
  'methods',
  '__proto__',
  'constructor',
];
const ACTIONS: Record<string, string[]> = {
  servers: [
    'reboot',
    'resize',
    'confirmResize',
    'revertResize',
    'rebuild',
    'os-start',
    'os-stop',
    'pause',
    'unpause',
    'suspend',
    'resume',
    'lock',
    'unlock',
    'shelve',
    'unshelve',
    'shelveOffload',
    'rescue',
    'unrescue',
    'createImage',
    'migrate',
    'os-migrateLive',
    'addSecurityGroup',
    'removeSecurityGroup',
    'os-getConsoleOutput',
    'os-getVNCConsole',
    'os-getSerialConsole',
    'trigger_crash_dump',
    'restore',
    'forceDelete',
    'os-resetState',
    'changePassword',
    'evacuate',
    'addFloatingIp',
    'removeFloatingIp',
    'createBackup',
    'os-resetNetwork',
  ],
  flavors: ['addTenantAccess', 'removeTenantAccess'],
  'os-aggregates': ['add_host', 'remove_host', 'set_metadata'],
};

interface Probe {
  method: string;
  url: string;
  body?: string;
  headers?: Record<string, string>;
}

const stats = { requests: 0, byStatus: new Map<number, number>() };
const failures: string[] = [];

async function send(p: Probe): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {
    'x-auth-token': fx.adminToken,
    ...(p.url.startsWith('/compute') ? { 'openstack-api-version': 'compute 2.79' } : {}),
    ...(p.headers ?? {}),
  };
  if (p.body !== undefined) headers['content-type'] ??= 'application/json';
  const r = await cloud.server.app.inject({
    method: p.method as 'GET',
    url: p.url,
    headers,
    ...(p.body !== undefined ? { payload: p.body } : {}),
  });
  stats.requests++;
  stats.byStatus.set(r.statusCode, (stats.byStatus.get(r.statusCode) ?? 0) + 1);
  const what = `${p.method} ${p.url.slice(0, 160)}${p.body !== undefined ? ` body=${p.body.slice(0, 120)}` : ''}`;
  if (r.statusCode >= 500) failures.push(`${r.statusCode} ${what} → ${r.body.slice(0, 200)}`);
  else if (r.statusCode >= 400 && !isFault(p.url, r, p.method))
    failures.push(`not a fault body: ${r.statusCode} ${what} → ${r.body.slice(0, 200)}`);
  return r;
}

function fill(url: string, pick: (param: string, segment: string) => string): string {
  const parts = url.split('/');
  return parts
    .map((seg, i) => (seg.startsWith(':') ? pick(seg.slice(1), parts[i - 1] ?? '') : seg))
    .join('/');
}

function routes() {
  const out: { method: string; url: string }[] = [];
  for (const r of cloud.server.app.routeTable) {
    if (r.url.includes('*') || r.url.startsWith('/metadata')) continue;
    for (const m of [r.method].flat())
      if (['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'].includes(m)) out.push({ method: m, url: r.url });
  }
  return out;
}

/** Valid bodies for the main create/update routes: the fuzzer replaces one field at a time with junk. */
function templates(): Record<string, Record<string, unknown>> {
  const ids = fx.own.ids;
  return {
    'POST /compute/v2.1/servers': {
      server: {
        name: 'fz',
        flavorRef: ids.flavors,
        imageRef: fx.imageId,
        networks: 'none',
        min_count: 1,
        max_count: 1,
        metadata: { a: 'b' },
      },
    },
    'POST /compute/v2.1/flavors': { flavor: { name: 'fzf', ram: 64, vcpus: 1, disk: 1 } },
    'POST /compute/v2.1/os-keypairs': { keypair: { name: 'fzk', type: 'ssh' } },
    'POST /compute/v2.1/os-server-groups': { server_group: { name: 'fzg', policy: 'affinity' } },
    'PUT /compute/v2.1/os-quota-sets/:project': { quota_set: { instances: 5, cores: 5 } },
    'PUT /compute/v2.1/servers/:id': { server: { name: 'fz2', accessIPv4: '1.2.3.4' } },
    'POST /networking/v2.0/networks': { network: { name: 'fzn', admin_state_up: true, mtu: 1400 } },
    'POST /networking/v2.0/subnets': {
      subnet: {
        network_id: ids.networks,
        cidr: '10.88.0.0/24',
        ip_version: 4,
        allocation_pools: [{ start: '10.88.0.10', end: '10.88.0.20' }],
      },
    },
    'POST /networking/v2.0/ports': {
      port: { network_id: ids.networks, fixed_ips: [{ subnet_id: ids.subnets }] },
    },
    'POST /networking/v2.0/routers': { router: { name: 'fzr', routes: [] } },
    'POST /networking/v2.0/security-group-rules': {
      security_group_rule: {
        security_group_id: ids['security-groups'],
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 80,
        port_range_max: 81,
        remote_ip_prefix: '10.0.0.0/8',
      },
    },
    'POST /networking/v2.0/floatingips': { floatingip: { floating_network_id: fx.extNetId } },
    'PUT /networking/v2.0/ports/:id': {
      port: { name: 'p', allowed_address_pairs: [{ ip_address: '10.77.0.50' }] },
    },
    'PUT /networking/v2.0/quotas/:project_id': { quota: { network: 5, port: 10 } },
    'POST /image/v2/images': {
      name: 'fzi',
      disk_format: 'raw',
      container_format: 'bare',
      min_disk: 0,
      tags: ['a'],
    },
    'POST /identity/v3/projects': { project: { name: 'fzp', domain_id: 'default', tags: ['a'] } },
    'POST /identity/v3/users': { user: { name: 'fzu', password: 'pw', domain_id: 'default', options: {} } },
  };
}

/** Every field of a template (at any depth of its one top-level object) replaced by each junk value. */
function mutations(template: Record<string, unknown>): string[] {
  const out: string[] = [];
  const [key, inner] = Object.entries(template)[0]!;
  const flat = typeof inner === 'object' && inner !== null && !Array.isArray(inner);
  const fields = flat ? Object.keys(inner as object) : Object.keys(template);
  for (const f of fields)
    for (const v of [...JUNK_VALUES, 2 ** 31, -(2 ** 31), '1e20', '0x10', ' 1 ']) {
      if (flat) out.push(JSON.stringify({ [key]: { ...(inner as object), [f]: v } }));
      else out.push(JSON.stringify({ ...template, [f]: v }));
    }
  return out;
}

function bodiesFor(method: string, url: string, seed: number): string[] {
  const segs = url.split('/').filter((s) => s && !s.startsWith(':'));
  const last = segs.at(-1) ?? '';
  const key = singularOf(last === 'action' ? (segs.at(-2) ?? '') : last);
  const bodies: string[] = [
    '{"a":',
    '[]',
    'null',
    '"str"',
    '123',
    '{}',
    '['.repeat(3000) + ']'.repeat(3000),
    JSON.stringify({ [key]: 'x'.repeat(200_000) }),
    '{"__proto__":{"admin":true}}',
    JSON.stringify({ constructor: { prototype: { admin: true } } }),
  ];
  for (const v of JUNK_VALUES) bodies.push(JSON.stringify({ [key]: v }));
  if (last === 'action') {
    const coll = segs.at(-2) ?? '';
    for (const [i, a] of (ACTIONS[coll] ?? []).entries()) {
      bodies.push(JSON.stringify({ [a]: JUNK_VALUES[(i + seed) % JUNK_VALUES.length] }));
      bodies.push(
        JSON.stringify({
          [a]: Object.fromEntries(
            FIELDS.map((f, j) => [f, JUNK_VALUES[(i + j + seed) % JUNK_VALUES.length]]),
          ),
        }),
      );
      bodies.push(JSON.stringify({ [a]: {} }));
    }
  }
  FIELDS.forEach((f, i) => {
    const v = JUNK_VALUES[(i + seed) % JUNK_VALUES.length];
    bodies.push(JSON.stringify({ [key]: { [f]: v } }));
    bodies.push(JSON.stringify({ [f]: v }));
  });
  const t = templates()[`${method} ${url}`];
  if (t) bodies.push(...mutations(t));
  // Glance PATCH speaks JSON patch.
  if (method === 'PATCH' && url.startsWith('/image'))
    for (const v of JUNK_VALUES)
      bodies.push(
        JSON.stringify([
          { op: 'replace', path: '/name', value: v },
          { op: v, path: v },
        ]),
      );
  return bodies;
}

const QUERIES = [
  'limit=99999999999999999999999',
  'limit=-1',
  'limit=0',
  'limit=abc',
  'limit=1e3',
  'marker=nonexistent',
  'marker=%ff',
  'sort_key=x%3Bdrop&sort_dir=sideways',
  'sort_key=name&sort_dir=desc&limit=1',
  `tags=${Array.from({ length: 1000 }, (_, i) => `t${i}`).join(',')}`,
  `${Array.from({ length: 300 }, (_, i) => `tag=t${i}`).join('&')}`,
  'changes-since=notadate&changes-before=2020-13-45',
  'all_tenants=maybe&all_projects=2',
  'fields=%ff&fields=id',
  `name=${'n'.repeat(5000)}`,
  'id=1&id=2&id=%00',
  'deleted=perhaps&is_public=sometimes&minRam=-5&minDisk=1e99',
  'page_reverse=True&limit=2&marker=x',
  'size_min=-1&size_max=abc&created_at=gte:nope',
  'status=%ff&member_status=all&visibility=everything',
  'ip_version=7&enable_dhcp=maybe&admin_state_up=2',
];

describe('route fuzzer', () => {
  it('answers every malformed request to every route with a 4xx in its service format, never a 5xx', async () => {
    const all = routes();
    expect(all.length).toBeGreaterThan(300);
    let seed = 0;
    for (const r of all) {
      seed++;
      const real = fill(r.url, (p, s) => idFor(fx, p, s, r.url));
      // Junk ids in every position (DELETE gets only these).
      for (const j of JUNK_IDS) await send({ method: r.method, url: fill(r.url, () => j) });
      if (r.method === 'GET' || r.method === 'HEAD') {
        for (const q of QUERIES) await send({ method: r.method, url: `${real}?${q}` });
        if (r.url.startsWith('/compute'))
          for (const mv of ['compute 2.999', 'compute abc', 'compute 2.1.1', 'compute 3.0', 'volume 3.0'])
            await send({ method: r.method, url: real, headers: { 'openstack-api-version': mv } });
        await send({ method: r.method, url: real });
        continue;
      }
      if (r.method === 'DELETE') continue;
      for (const body of bodiesFor(r.method, r.url, seed)) await send({ method: r.method, url: real, body });
      await send({ method: r.method, url: real, body: '{"x":1}', headers: { 'content-type': 'text/plain' } });
    }
    const summary = `${stats.requests} requests, by status ${JSON.stringify(Object.fromEntries(stats.byStatus))}`;
    console.log(`fuzz: ${summary}`);
    expect(
      failures,
      `${failures.length} bad answers of ${summary}:\n${failures.slice(0, 60).join('\n')}`,
    ).toEqual([]);
  });
});
