/** Never a 500 on bad input: every network route, with junk bodies, ids and query strings. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkService } from '../../src/services/network/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

let cloud: TestCloud;
let member: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  cloud = await startTestCloud({ services: [networkService()] });
  member = (await cloud.projectUser('rob', 'rob')).token;
  const post = async (path: string, body: unknown) => {
    const r = await cloud.req('POST', `/networking/v2.0/${path}`, { token: member, body });
    expect(r.statusCode, r.body).toBe(201);
    return Object.values(r.json() as Record<string, { id: string }>)[0]!.id;
  };
  ids.networks = await post('networks', { network: { name: 'n' } });
  ids.subnets = await post('subnets', {
    subnet: { network_id: ids.networks, cidr: '10.1.0.0/24', ip_version: 4 },
  });
  ids.ports = await post('ports', { port: { network_id: ids.networks } });
  ids.routers = await post('routers', { router: { name: 'r' } });
  ids['security-groups'] = await post('security-groups', { security_group: { name: 'g' } });
});
afterAll(async () => cloud?.close());

const JUNK: unknown[] = [
  null,
  [],
  'text',
  42,
  {},
  { network: 'x' },
  { port: { network_id: 12 } },
  { subnet: { network_id: '00000000-0000-0000-0000-000000000000', cidr: 7, ip_version: 'four' } },
  { router: { external_gateway_info: 'public', routes: 'none' } },
  { floatingip: { floating_network_id: null } },
  { security_group_rule: { security_group_id: [], direction: {}, protocol: -1, port_range_min: 'x' } },
  { security_group: { name: 'x'.repeat(300), stateful: 'sometimes' } },
  { rbac_policy: { object_type: 'network', object_id: 'x', action: 'y', target_tenant: 5 } },
  { quota: { port: 1.5 } },
  { tags: 'red' },
  { tags: [1, null] },
  { subnet_id: 'nope', port_id: {} },
  {
    port: {
      fixed_ips: [{ ip_address: '999.1.1.1' }],
      allowed_address_pairs: [{}],
      'binding:profile': [],
      mac_address: 5,
    },
  },
  { network: { mtu: 'big', 'provider:segmentation_id': 'x', availability_zone_hints: ['mars'] } },
];

describe('robustness', () => {
  it('answers 4xx in the Neutron format, never 5xx', async () => {
    const routes = cloud.server.app.routeTable.filter((r) => String(r.url).startsWith('/networking'));
    expect(routes.length).toBeGreaterThan(60);
    const failures: string[] = [];
    for (const route of routes) {
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        const collection = /\/v2\.0\/([^/]+)/.exec(String(route.url))?.[1] ?? '';
        const url = String(route.url)
          .replace(':id', ids[collection] ?? '11111111-2222-3333-4444-555555555555')
          .replace(':project_id', 'some-project')
          .replace(':tag', 'x,y')
          .replace(':alias', 'nope');
        const bodies = method === 'GET' || method === 'DELETE' ? [undefined] : JUNK;
        for (const body of bodies) {
          for (const q of [
            '',
            '?limit=x&sort_key=nope&fields=',
            '?marker=zzz&limit=1',
            '?tags=&not-tags-any=a,,b',
          ]) {
            const r = await cloud.req(method, url + q, { token: member, body });
            if (r.statusCode >= 500)
              failures.push(`${method} ${url}${q} ${JSON.stringify(body)} → ${r.statusCode} ${r.body}`);
            else if (r.statusCode >= 400 && !(r.json() as Record<string, unknown>).NeutronError)
              failures.push(`${method} ${url}${q} → ${r.statusCode} without NeutronError: ${r.body}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
