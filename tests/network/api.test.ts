/** Neutron v2.0 API: every route and its failure paths, as a member, a second project and the admin. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { networkService } from '../../src/services/network/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { expectFault, neutron, poster, publicNetwork, type Json } from './support.js';

let cloud: TestCloud;
let api: ReturnType<typeof neutron>;
let admin: string;
let u1: { token: string; projectId: string };
let u2: { token: string; projectId: string };
let pub: Json;
let pubSubnet: Json;

beforeAll(async () => {
  cloud = await startTestCloud({ services: [networkService()] });
  api = neutron(cloud);
  admin = cloud.adminToken;
  u1 = await cloud.projectUser('p1', 'u1');
  u2 = await cloud.projectUser('p2', 'u2');
  ({ network: pub, subnet: pubSubnet } = await publicNetwork(poster(api, admin), {
    cidr: '192.168.1.0/24',
    enable_dhcp: false,
    allocation_pools: [{ start: '192.168.1.100', end: '192.168.1.200' }],
  }));
});
afterAll(async () => cloud?.close());

const net = async (token: string, body: Json = {}) =>
  (await api.ok(201, 'POST', '/networks', token, { network: { name: 'n', ...body } })).network as Json;
const subnet = async (token: string, networkId: string, cidr: string, body: Json = {}) =>
  (
    await api.ok(201, 'POST', '/subnets', token, {
      subnet: { network_id: networkId, cidr, ip_version: cidr.includes(':') ? 6 : 4, ...body },
    })
  ).subnet as Json;
const port = async (token: string, networkId: string, body: Json = {}) =>
  (await api.ok(201, 'POST', '/ports', token, { port: { network_id: networkId, ...body } })).port as Json;

describe('discovery and faults', () => {
  it('serves versions, resources and exactly the implemented extensions', async () => {
    let r = await cloud.req('GET', '/networking');
    expect(r.statusCode).toBe(200);
    expect(r.json().versions[0]).toMatchObject({ id: 'v2.0', status: 'CURRENT' });
    r = await cloud.req('GET', '/networking/v2.0');
    expect(r.json().resources.map((x: Json) => x.collection)).toContain('security_groups');
    const ext = await api.ok(200, 'GET', '/extensions', u1.token);
    const aliases = ext.extensions.map((e: Json) => e.alias);
    for (const a of [
      'router',
      'external-net',
      'security-group',
      'quotas',
      'standard-attr-tag',
      'provider',
      'binding',
    ])
      expect(aliases).toContain(a);
    for (const a of ['qos', 'trunk', 'dvr', 'l3-ha', 'dns-integration', 'agent'])
      expect(aliases).not.toContain(a);
    expect((await api.ok(200, 'GET', '/extensions/router', u1.token)).extension.alias).toBe('router');
    await api.fails(404, 'HTTPNotFound', 'GET', '/extensions/qos', u1.token);
  });
  it('rejects missing tokens, unknown paths and bad bodies in the Neutron format', async () => {
    expectFault(await cloud.req('GET', '/networking/v2.0/networks'), 401, 'HTTPUnauthorized');
    expectFault(await api.call('GET', '/nothing-here', u1.token), 404, /NotFound/);
    expectFault(
      await cloud.req('POST', '/networking/v2.0/networks', {
        token: u1.token,
        body: '{bad json',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      /Malformed|BadRequest/,
    );
    await api.fails(400, 'HTTPBadRequest', 'POST', '/networks', u1.token, { nope: {} });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/networks', u1.token, { network: { colour: 'red' } });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/networks', u1.token, {
      network: { admin_state_up: 'maybe' },
    });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/networks', u1.token, { network: { name: 42 } });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/networks', u1.token, [1, 2]);
    await api.fails(400, 'HTTPBadRequest', 'POST', '/ports', u1.token, {
      port: { network_id: 'not-a-uuid' },
    });
  });
});

describe('networks', () => {
  it('member creates a tenant network (VXLAN segment allocated, provider attributes hidden)', async () => {
    const n = await net(u1.token, { name: 'net-a' });
    expect(n).toMatchObject({
      name: 'net-a',
      status: 'ACTIVE',
      shared: false,
      'router:external': false,
      mtu: 1450,
    });
    expect(n).not.toHaveProperty('provider:network_type');
    const asAdmin = (await api.ok(200, 'GET', `/networks/${n.id}`, admin)).network;
    expect(asAdmin['provider:network_type']).toBe('vxlan');
    expect(asAdmin['provider:segmentation_id']).toBeGreaterThan(0);
    const n2 = (await api.ok(200, 'GET', `/networks/${(await net(u1.token)).id}`, admin)).network;
    expect(n2['provider:segmentation_id']).not.toBe(asAdmin['provider:segmentation_id']);
  });
  it('only admins create external, shared or provider networks', async () => {
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/networks', u1.token, {
      network: { 'router:external': true },
    });
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/networks', u1.token, { network: { shared: true } });
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/networks', u1.token, {
      network: { 'provider:network_type': 'vxlan' },
    });
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/networks', u1.token, {
      network: { project_id: u2.projectId },
    });
  });
  it('validates provider segments and keeps them exclusive', async () => {
    await api.fails(409, 'FlatNetworkInUse', 'POST', '/networks', admin, {
      network: { 'provider:network_type': 'flat', 'provider:physical_network': 'extnet' },
    });
    const v = await net(admin, {
      'provider:network_type': 'vlan',
      'provider:physical_network': 'physnet1',
      'provider:segmentation_id': 100,
    });
    expect(v['provider:segmentation_id']).toBe(100);
    await api.fails(409, 'VlanIdInUse', 'POST', '/networks', admin, {
      network: {
        'provider:network_type': 'vlan',
        'provider:physical_network': 'physnet1',
        'provider:segmentation_id': 100,
      },
    });
    await api.fails(400, 'InvalidInput', 'POST', '/networks', admin, {
      network: {
        'provider:network_type': 'vlan',
        'provider:physical_network': 'physnet1',
        'provider:segmentation_id': 5000,
      },
    });
    await api.fails(400, 'InvalidInput', 'POST', '/networks', admin, {
      network: { 'provider:network_type': 'gre' },
    });
    await api.fails(400, 'InvalidInput', 'POST', '/networks', admin, {
      network: { 'provider:network_type': 'flat' },
    });
    await api.fails(400, 'InvalidInput', 'POST', '/networks', admin, {
      network: { 'provider:network_type': 'vxlan', 'provider:physical_network': 'x' },
    });
  });
  it('hides other projects’ networks, shows shared and external ones', async () => {
    const mine = await net(u1.token, { name: 'private-1' });
    const shared = await net(admin, { name: 'shared-1', shared: true });
    await api.fails(404, 'NetworkNotFound', 'GET', `/networks/${mine.id}`, u2.token);
    await api.fails(404, 'NetworkNotFound', 'PUT', `/networks/${mine.id}`, u2.token, {
      network: { name: 'x' },
    });
    await api.fails(404, 'NetworkNotFound', 'DELETE', `/networks/${mine.id}`, u2.token);
    const names = (await api.ok(200, 'GET', '/networks', u2.token)).networks.map((n: Json) => n.name);
    expect(names).toContain('public');
    expect(names).toContain('shared-1');
    expect(names).not.toContain('private-1');
    // visible but not theirs: 403 on change
    await api.fails(403, 'PolicyNotAuthorized', 'PUT', `/networks/${shared.id}`, u2.token, {
      network: { name: 'x' },
    });
    await api.fails(403, 'PolicyNotAuthorized', 'DELETE', `/networks/${pub.id}`, u2.token);
    await api.fails(
      404,
      'NetworkNotFound',
      'GET',
      '/networks/00000000-0000-0000-0000-000000000000',
      u1.token,
    );
    // admin sees everything
    const all = (await api.ok(200, 'GET', '/networks', admin)).networks.map((n: Json) => n.name);
    expect(all).toContain('private-1');
  });
  it('updates with revision numbers and If-Match; deletes only unused networks', async () => {
    const n = await net(u1.token, { name: 'rev' });
    expect(n.revision_number).toBe(0);
    const up = (
      await api.ok(200, 'PUT', `/networks/${n.id}`, u1.token, { network: { name: 'rev2', description: 'd' } })
    ).network;
    expect(up).toMatchObject({ name: 'rev2', description: 'd', revision_number: 1 });
    await api.fails(
      412,
      'RevisionNumberConstraintFailed',
      'PUT',
      `/networks/${n.id}`,
      u1.token,
      { network: { name: 'x' } },
      {
        'if-match': 'revision_number=0',
      },
    );
    await api.ok(
      200,
      'PUT',
      `/networks/${n.id}`,
      u1.token,
      { network: { name: 'rev3' } },
      { 'if-match': 'revision_number=1' },
    );
    await api.fails(400, 'HTTPBadRequest', 'PUT', `/networks/${n.id}`, u1.token, { network: { id: 'x' } });
    await api.fails(400, 'InvalidInput', 'PUT', `/networks/${n.id}`, u1.token, { network: { mtu: 9000 } });
    const s = await subnet(u1.token, n.id, '10.50.0.0/24', { enable_dhcp: false });
    const p = await port(u1.token, n.id);
    await api.fails(409, 'NetworkInUse', 'DELETE', `/networks/${n.id}`, u1.token);
    await api.fails(409, 'SubnetInUse', 'DELETE', `/subnets/${s.id}`, u1.token);
    await api.ok(204, 'DELETE', `/ports/${p.id}`, u1.token);
    await api.fails(
      412,
      'RevisionNumberConstraintFailed',
      'DELETE',
      `/networks/${n.id}`,
      u1.token,
      undefined,
      {
        'if-match': 'revision_number=0',
      },
    );
    await api.ok(204, 'DELETE', `/networks/${n.id}`, u1.token);
    await api.fails(404, 'NetworkNotFound', 'GET', `/networks/${n.id}`, u1.token);
    await api.fails(404, 'SubnetNotFound', 'GET', `/subnets/${s.id}`, u1.token);
  });
});

describe('collections: filters, fields, sorting, pagination', () => {
  let ids: string[];
  beforeAll(async () => {
    const p = await cloud.projectUser('plist', 'ulist');
    ids = [];
    for (const name of ['c', 'a', 'e', 'b', 'd'])
      ids.push((await net(p.token, { name, description: `x-${name}` })).id);
    (u1 as Json).list = p.token;
  });
  const tok = () => (u1 as Json).list as string;
  it('filters on attributes and rejects unknown filters', async () => {
    const r = await api.ok(200, 'GET', '/networks?name=b&name=c', tok());
    expect(r.networks.map((n: Json) => n.name).sort()).toEqual(['b', 'c']);
    expect(
      (await api.ok(200, 'GET', '/networks?router:external=true', tok())).networks.map((n: Json) => n.name),
    ).toEqual(['public']);
    expect((await api.ok(200, 'GET', '/networks?admin_state_up=false', tok())).networks).toEqual([]);
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?colour=red', tok());
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?admin_state_up=perhaps', tok());
  });
  it('selects fields', async () => {
    const r = await api.ok(200, 'GET', '/networks?fields=id&fields=name&name=a', tok());
    expect(Object.keys(r.networks[0]).sort()).toEqual(['id', 'name']);
    const one = await api.ok(200, 'GET', `/networks/${ids[0]}?fields=name`, tok());
    expect(one.network).toEqual({ name: 'c' });
  });
  it('sorts and pages with markers and links', async () => {
    const r = await api.ok(
      200,
      'GET',
      '/networks?sort_key=name&sort_dir=desc&description=x-a&description=x-b&description=x-c&description=x-d&description=x-e',
      tok(),
    );
    expect(r.networks.map((n: Json) => n.name)).toEqual(['e', 'd', 'c', 'b', 'a']);
    const seen: string[] = [];
    let url =
      '/networks?sort_key=name&sort_dir=asc&limit=2&fields=name&fields=id&shared=false&router:external=false';
    for (let i = 0; i < 5 && url; i++) {
      const page = await api.ok(200, 'GET', url, tok());
      seen.push(...page.networks.map((n: Json) => n.name));
      const next = (page.networks_links ?? []).find((l: Json) => l.rel === 'next');
      url = next ? next.href.replace(/^.*\/v2\.0/, '') : '';
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    const p2 = await api.ok(
      200,
      'GET',
      `/networks?limit=2&sort_key=name&marker=${ids[3]}&router:external=false&shared=false`,
      tok(),
    );
    expect(p2.networks.map((n: Json) => n.name)).toEqual(['c', 'd']);
    expect(p2.networks_links.map((l: Json) => l.rel).sort()).toEqual(['next', 'previous']);
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?limit=-1', tok());
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?limit=abc', tok());
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?sort_key=colour', tok());
    await api.fails(400, 'HTTPBadRequest', 'GET', '/networks?sort_key=name&sort_dir=up', tok());
  });
  it('tags: replace, add, check, remove, filter', async () => {
    const id = ids[0]!;
    expect((await api.ok(200, 'PUT', `/networks/${id}/tags`, tok(), { tags: ['red', 'blue'] })).tags).toEqual(
      ['blue', 'red'],
    );
    await api.ok(201, 'PUT', `/networks/${id}/tags/green`, tok());
    await api.ok(204, 'GET', `/networks/${id}/tags/green`, tok());
    await api.fails(404, 'TagNotFound', 'GET', `/networks/${id}/tags/purple`, tok());
    expect((await api.ok(200, 'GET', `/networks/${id}/tags`, tok())).tags).toEqual(['blue', 'green', 'red']);
    await api.ok(204, 'DELETE', `/networks/${id}/tags/blue`, tok());
    await api.fails(404, 'TagNotFound', 'DELETE', `/networks/${id}/tags/blue`, tok());
    await api.fails(400, 'HTTPBadRequest', 'PUT', `/networks/${id}/tags`, tok(), { tags: ['a,b'] });
    await api.ok(201, 'PUT', `/networks/${ids[1]}/tags/red`, tok());
    const f = async (q: string) =>
      (await api.ok(200, 'GET', `/networks?${q}`, tok())).networks.map((n: Json) => n.name).sort();
    expect(await f('tags=red')).toEqual(['a', 'c']);
    expect(await f('tags=red,green')).toEqual(['c']);
    expect(await f('tags-any=green,red')).toEqual(['a', 'c']);
    expect(await f('not-tags=red&router:external=false&shared=false')).toEqual(['b', 'd', 'e']);
    const n = (await api.ok(200, 'GET', `/networks/${id}`, tok())).network;
    expect(n.tags).toEqual(['green', 'red']);
    await api.fails(404, 'NetworkNotFound', 'PUT', `/networks/${id}/tags/x`, u2.token);
    await api.ok(204, 'DELETE', `/networks/${id}/tags`, tok());
    expect((await api.ok(200, 'GET', `/networks/${id}/tags`, tok())).tags).toEqual([]);
  });
});

describe('subnets', () => {
  let n: Json;
  beforeAll(async () => {
    n = await net(u1.token, { name: 'subnets' });
  });
  it('defaults gateway and pools; validates cidr, pools, gateway and overlap', async () => {
    const s = await subnet(u1.token, n.id, '10.60.0.0/24', { dns_nameservers: ['192.0.2.1'] });
    expect(s).toMatchObject({
      gateway_ip: '10.60.0.1',
      allocation_pools: [{ start: '10.60.0.2', end: '10.60.0.254' }],
      enable_dhcp: true,
      ip_version: 4,
      dns_nameservers: ['192.0.2.1'],
    });
    const bad = (body: Json) =>
      api.call('POST', '/subnets', u1.token, { subnet: { network_id: n.id, ip_version: 4, ...body } });
    expectFault(await bad({ cidr: '10.61.0.5/24' }), 400, 'HTTPBadRequest');
    expectFault(await bad({ cidr: 'banana' }), 400, 'HTTPBadRequest');
    expectFault(await bad({ cidr: '2001:db8::/64' }), 400, 'InvalidInput');
    expectFault(await bad({ cidr: '10.60.0.128/25' }), 400, 'InvalidInput'); // overlaps on the same network
    expectFault(
      await bad({ cidr: '10.62.0.0/24', allocation_pools: [{ start: '10.62.0.10', end: '10.62.1.5' }] }),
      400,
      'OutOfBoundsAllocationPool',
    );
    expectFault(
      await bad({ cidr: '10.62.0.0/24', allocation_pools: [{ start: '10.62.0.1', end: '10.62.0.5' }] }),
      409,
      'GatewayConflictWithAllocationPools',
    );
    expectFault(
      await bad({
        cidr: '10.62.0.0/24',
        allocation_pools: [
          { start: '10.62.0.10', end: '10.62.0.20' },
          { start: '10.62.0.15', end: '10.62.0.30' },
        ],
      }),
      409,
      'OverlappingAllocationPools',
    );
    expectFault(await bad({ cidr: '10.62.0.0/24', gateway_ip: '10.62.0.255' }), 400, 'InvalidInput');
    expectFault(await bad({ cidr: '10.62.0.0/24', dns_nameservers: ['x'] }), 400, 'HTTPBadRequest');
    expectFault(
      await bad({ cidr: '10.62.0.0/24', host_routes: [{ destination: '1.2.3.0/24' }] }),
      400,
      'HTTPBadRequest',
    );
    expectFault(await bad({ cidr: '10.62.0.0/24', ipv6_address_mode: 'slaac' }), 400, 'InvalidInput');
    expectFault(await bad({ cidr: undefined }), 400, 'HTTPBadRequest');
    // the same range on another network is fine (overlapping IPs across networks)
    const other = await net(u1.token);
    await subnet(u1.token, other.id, '10.60.0.0/24');
    // no gateway
    const nogw = await subnet(u1.token, other.id, '10.63.0.0/29', { gateway_ip: null });
    expect(nogw.gateway_ip).toBeNull();
    expect(nogw.allocation_pools).toEqual([{ start: '10.63.0.1', end: '10.63.0.6' }]);
    // the network lists its subnets
    expect((await api.ok(200, 'GET', `/networks/${other.id}`, u1.token)).network.subnets).toHaveLength(2);
    // a subnet on someone else's network: not found
    await api.fails(404, 'NetworkNotFound', 'POST', '/subnets', u2.token, {
      subnet: { network_id: n.id, cidr: '10.9.9.0/24', ip_version: 4 },
    });
  });
  it('updates and keeps read-only attributes', async () => {
    const s = await subnet(u1.token, n.id, '10.64.0.0/24');
    const up = await api.ok(200, 'PUT', `/subnets/${s.id}`, u1.token, {
      subnet: {
        name: 's2',
        dns_nameservers: ['192.0.2.9'],
        allocation_pools: [{ start: '10.64.0.10', end: '10.64.0.20' }],
        host_routes: [{ destination: '172.16.0.0/16', nexthop: '10.64.0.254' }],
      },
    });
    expect(up.subnet).toMatchObject({
      name: 's2',
      dns_nameservers: ['192.0.2.9'],
      allocation_pools: [{ start: '10.64.0.10', end: '10.64.0.20' }],
      revision_number: 1,
    });
    await api.fails(400, 'HTTPBadRequest', 'PUT', `/subnets/${s.id}`, u1.token, {
      subnet: { cidr: '10.65.0.0/24' },
    });
    await api.fails(409, 'GatewayConflictWithAllocationPools', 'PUT', `/subnets/${s.id}`, u1.token, {
      subnet: { gateway_ip: '10.64.0.15' },
    });
    await api.fails(404, 'SubnetNotFound', 'GET', `/subnets/${s.id}`, u2.token);
  });
  it('dual stack: one IPv4, one stateful IPv6 and every SLAAC address', async () => {
    const ds = await net(u1.token, { name: 'dual' });
    const v4 = await subnet(u1.token, ds.id, '10.66.0.0/24');
    const st1 = await subnet(u1.token, ds.id, '2001:db8:a::/64', { ipv6_address_mode: 'dhcpv6-stateful' });
    await subnet(u1.token, ds.id, '2001:db8:b::/64', { ipv6_address_mode: 'dhcpv6-stateful' });
    const sl = await subnet(u1.token, ds.id, '2001:db8:c::/64', {
      ipv6_address_mode: 'slaac',
      ipv6_ra_mode: 'slaac',
    });
    const p = await port(u1.token, ds.id, { mac_address: 'fa:16:3e:aa:bb:cc' });
    expect(p.fixed_ips.map((f: Json) => f.subnet_id).sort()).toEqual([v4.id, st1.id, sl.id].sort());
    expect(p.fixed_ips.find((f: Json) => f.subnet_id === sl.id).ip_address).toBe(
      '2001:db8:c:0:f816:3eff:feaa:bbcc',
    );
  });
  it('IPv6: SLAAC addresses from the MAC; stateful from pools', async () => {
    const n6 = await net(u1.token, { name: 'v6' });
    const s6 = await subnet(u1.token, n6.id, '2001:db8:1::/64', {
      ipv6_address_mode: 'slaac',
      ipv6_ra_mode: 'slaac',
    });
    expect(s6.gateway_ip).toBe('2001:db8:1::1');
    const p = await port(u1.token, n6.id, { mac_address: 'fa:16:3e:00:11:22' });
    expect(p.fixed_ips).toEqual([{ subnet_id: s6.id, ip_address: '2001:db8:1:0:f816:3eff:fe00:1122' }]);
    await api.fails(400, 'InvalidInput', 'POST', '/subnets', u1.token, {
      subnet: { network_id: n6.id, cidr: '2001:db8:2::/80', ip_version: 6, ipv6_address_mode: 'slaac' },
    });
  });
});

describe('ports', () => {
  let n: Json;
  let s: Json;
  beforeAll(async () => {
    n = await net(u1.token, { name: 'ports' });
    s = await subnet(u1.token, n.id, '10.70.0.0/24');
  });
  it('allocates addresses, takes exact ones and rejects taken or foreign ones', async () => {
    const a = await port(u1.token, n.id, { name: 'a' });
    expect(a).toMatchObject({
      status: 'DOWN',
      device_owner: '',
      'binding:vnic_type': 'normal',
      admin_state_up: true,
    });
    expect(a.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(a.fixed_ips[0].subnet_id).toBe(s.id);
    const b = await port(u1.token, n.id, { fixed_ips: [{ ip_address: '10.70.0.77' }] });
    expect(b.fixed_ips).toEqual([{ subnet_id: s.id, ip_address: '10.70.0.77' }]);
    await api.fails(409, 'IpAddressAlreadyAllocated', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, fixed_ips: [{ ip_address: '10.70.0.77' }] },
    });
    await api.fails(400, 'InvalidIpForNetwork', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, fixed_ips: [{ ip_address: '10.99.0.7' }] },
    });
    await api.fails(400, 'InvalidIpForSubnet', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, fixed_ips: [{ subnet_id: s.id, ip_address: '10.70.0.255' }] },
    });
    await api.fails(400, 'InvalidInput', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, fixed_ips: [{ subnet_id: pubSubnet.id }] },
    });
    await api.fails(409, 'MacAddressInUse', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, mac_address: a.mac_address },
    });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, mac_address: 'ff:ff:ff:ff:ff:ff' },
    });
    // filters on addresses and device
    const byIp = await api.ok(200, 'GET', `/ports?fixed_ips=ip_address%3D10.70.0.77`, u1.token);
    expect(byIp.ports.map((p: Json) => p.id)).toEqual([b.id]);
    const bySubnet = await api.ok(200, 'GET', `/ports?fixed_ips=subnet_id%3D${s.id}&device_owner=`, u1.token);
    expect(bySubnet.ports.map((p: Json) => p.id).sort()).toEqual([a.id, b.id].sort());
    // update fixed IPs: keep none, take a new exact address
    const up = await api.ok(200, 'PUT', `/ports/${b.id}`, u1.token, {
      port: { fixed_ips: [{ ip_address: '10.70.0.78' }] },
    });
    expect(up.port.fixed_ips).toEqual([{ subnet_id: s.id, ip_address: '10.70.0.78' }]);
    await port(u1.token, n.id, { fixed_ips: [{ ip_address: '10.70.0.77' }] }); // released address reused
  });
  it('security groups, port security and address pairs', async () => {
    const sgs = (await api.ok(200, 'GET', '/security-groups?name=default', u1.token)).security_groups;
    const p = await port(u1.token, n.id);
    expect(p.security_groups).toEqual([sgs[0].id]);
    const bare = await port(u1.token, n.id, { port_security_enabled: false });
    expect(bare.security_groups).toEqual([]);
    await api.fails(400, 'PortSecurityAndIPRequiredForSecurityGroups', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, port_security_enabled: false, security_groups: [sgs[0].id] },
    });
    await api.fails(409, 'PortSecurityPortHasSecurityGroup', 'PUT', `/ports/${p.id}`, u1.token, {
      port: { port_security_enabled: false },
    });
    await api.fails(404, 'SecurityGroupNotFound', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, security_groups: ['00000000-0000-0000-0000-000000000000'] },
    });
    const pair = await port(u1.token, n.id, { allowed_address_pairs: [{ ip_address: '10.70.0.200/32' }] });
    expect(pair.allowed_address_pairs).toEqual([
      { ip_address: '10.70.0.200/32', mac_address: pair.mac_address },
    ]);
    await api.fails(409, 'AddressPairAndPortSecurityRequired', 'POST', '/ports', u1.token, {
      port: {
        network_id: n.id,
        port_security_enabled: false,
        allowed_address_pairs: [{ ip_address: '10.0.0.1' }],
      },
    });
  });
  it('binding is for admins; bound ports go ACTIVE when the driver reports', async () => {
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/ports', u1.token, {
      port: { network_id: n.id, 'binding:host_id': 'h1' },
    });
    const p = await port(u1.token, n.id);
    await api.fails(403, 'PolicyNotAuthorized', 'PUT', `/ports/${p.id}`, u1.token, {
      port: { 'binding:host_id': 'h1' },
    });
    expect(p).not.toHaveProperty('binding:host_id');
    const up = (
      await api.ok(200, 'PUT', `/ports/${p.id}`, admin, {
        port: { 'binding:host_id': 'h1', device_id: 'vm-1', device_owner: 'compute:nova' },
      })
    ).port;
    expect(up).toMatchObject({ 'binding:host_id': 'h1', 'binding:vif_type': 'tap' });
    await (cloud.server.ctx.services.network as { settle(): Promise<void> }).settle();
    expect((await api.ok(200, 'GET', `/ports/${p.id}`, u1.token)).port.status).toBe('ACTIVE');
    // the second project sees nothing of it
    await api.fails(404, 'PortNotFound', 'GET', `/ports/${p.id}`, u2.token);
    expect((await api.ok(200, 'GET', '/ports', u2.token)).ports).toEqual([]);
    // members may not create ports on others' private networks
    await api.fails(404, 'NetworkNotFound', 'POST', '/ports', u2.token, { port: { network_id: n.id } });
  });
});

describe('routers and floating IPs', () => {
  let n: Json;
  let s: Json;
  let r: Json;
  let vm: Json;
  it('router with external gateway; interfaces by subnet and by port', async () => {
    n = await net(u1.token, { name: 'r-net' });
    s = await subnet(u1.token, n.id, '10.80.0.0/24');
    await api.fails(400, 'BadRequest', 'POST', '/routers', u1.token, {
      router: { external_gateway_info: { network_id: n.id } },
    });
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/routers', u1.token, {
      router: { external_gateway_info: { network_id: pub.id, enable_snat: false } },
    });
    r = (
      await api.ok(201, 'POST', '/routers', u1.token, {
        router: { name: 'r1', external_gateway_info: { network_id: pub.id } },
      })
    ).router;
    expect(r.external_gateway_info).toMatchObject({ network_id: pub.id, enable_snat: true });
    expect(r.external_gateway_info.external_fixed_ips[0].subnet_id).toBe(pubSubnet.id);
    const add = await api.ok(200, 'PUT', `/routers/${r.id}/add_router_interface`, u1.token, {
      subnet_id: s.id,
    });
    expect(add).toMatchObject({ id: r.id, subnet_id: s.id, subnet_ids: [s.id], network_id: n.id });
    const rp = (await api.ok(200, 'GET', `/ports/${add.port_id}`, u1.token)).port;
    expect(rp).toMatchObject({
      device_owner: 'network:router_interface',
      device_id: r.id,
      fixed_ips: [{ subnet_id: s.id, ip_address: '10.80.0.1' }],
    });
    await api.fails(400, 'BadRequest', 'PUT', `/routers/${r.id}/add_router_interface`, u1.token, {
      subnet_id: s.id,
    });
    await api.fails(400, 'BadRequest', 'PUT', `/routers/${r.id}/add_router_interface`, u1.token, {});
    await api.fails(409, 'PortInUse', 'DELETE', `/ports/${add.port_id}`, u1.token);
    const gw = (
      await api.ok(200, 'GET', `/ports?device_id=${r.id}&device_owner=network:router_gateway`, admin)
    ).ports;
    expect(gw).toHaveLength(1);
    expect(gw[0].project_id).toBe('');
    await api.fails(409, 'PortInUse', 'DELETE', `/ports/${gw[0].id}`, admin);
    expect((await api.ok(200, 'GET', `/ports?device_id=${r.id}`, u1.token)).ports).toHaveLength(1);
    // the same subnet on a second router: its gateway address is taken
    const r2 = (await api.ok(201, 'POST', '/routers', u1.token, { router: { name: 'r2' } })).router;
    await api.fails(
      409,
      'IpAddressAlreadyAllocated',
      'PUT',
      `/routers/${r2.id}/add_router_interface`,
      u1.token,
      { subnet_id: s.id },
    );
    // by port
    const n2 = await net(u1.token);
    const s2 = await subnet(u1.token, n2.id, '10.81.0.0/24');
    const p2 = await port(u1.token, n2.id);
    const add2 = await api.ok(200, 'PUT', `/routers/${r.id}/add_router_interface`, u1.token, {
      port_id: p2.id,
    });
    expect(add2).toMatchObject({ port_id: p2.id, subnet_ids: [s2.id] });
    await api.ok(200, 'PUT', `/routers/${r.id}/remove_router_interface`, u1.token, { port_id: p2.id });
    await api.fails(404, 'PortNotFound', 'GET', `/ports/${p2.id}`, u1.token);
    await api.fails(
      404,
      'RouterInterfaceNotFoundForSubnet',
      'PUT',
      `/routers/${r.id}/remove_router_interface`,
      u1.token,
      { subnet_id: s2.id },
    );
    await api.fails(404, 'RouterNotFound', 'PUT', `/routers/${r.id}/add_router_interface`, u2.token, {
      subnet_id: s2.id,
    });
    await api.ok(204, 'DELETE', `/routers/${r2.id}`, u1.token);
  });
  it('static routes need a connected next hop', async () => {
    await api.fails(400, 'InvalidRoutes', 'PUT', `/routers/${r.id}`, u1.token, {
      router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.99.0.5' }] },
    });
    const up = await api.ok(200, 'PUT', `/routers/${r.id}`, u1.token, {
      router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.80.0.5' }] },
    });
    expect(up.router.routes).toEqual([{ destination: '172.16.0.0/16', nexthop: '10.80.0.5' }]);
    const add = await api.ok(200, 'PUT', `/routers/${r.id}/add_extraroutes`, u1.token, {
      router: { routes: [{ destination: '172.17.0.0/16', nexthop: '10.80.0.6' }] },
    });
    expect(add.router.routes).toHaveLength(2);
    const rm = await api.ok(200, 'PUT', `/routers/${r.id}/remove_extraroutes`, u1.token, {
      router: { routes: [{ destination: '172.16.0.0/16', nexthop: '10.80.0.5' }] },
    });
    expect(rm.router.routes).toEqual([{ destination: '172.17.0.0/16', nexthop: '10.80.0.6' }]);
    await api.ok(200, 'PUT', `/routers/${r.id}`, u1.token, { router: { routes: [] } });
  });
  it('floating IPs: allocate, associate only through a router gateway, disassociate, delete', async () => {
    vm = await port(u1.token, n.id, { name: 'vm' });
    await api.fails(400, 'BadRequest', 'POST', '/floatingips', u1.token, {
      floatingip: { floating_network_id: n.id },
    });
    await api.fails(404, 'NetworkNotFound', 'POST', '/floatingips', u1.token, {
      floatingip: { floating_network_id: '00000000-0000-0000-0000-000000000000' },
    });
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/floatingips', u1.token, {
      floatingip: { floating_network_id: pub.id, floating_ip_address: '192.168.1.150' },
    });
    const f = (
      await api.ok(201, 'POST', '/floatingips', u1.token, {
        floatingip: { floating_network_id: pub.id, description: 'web' },
      })
    ).floatingip;
    expect(f).toMatchObject({
      status: 'DOWN',
      port_id: null,
      router_id: null,
      fixed_ip_address: null,
      description: 'web',
    });
    expect(f.floating_ip_address).toMatch(/^192\.168\.1\.\d+$/);
    const a = (await api.ok(200, 'PUT', `/floatingips/${f.id}`, u1.token, { floatingip: { port_id: vm.id } }))
      .floatingip;
    expect(a).toMatchObject({
      port_id: vm.id,
      router_id: r.id,
      fixed_ip_address: vm.fixed_ips[0].ip_address,
    });
    expect(a.port_details).toMatchObject({ network_id: n.id, mac_address: vm.mac_address });
    await (cloud.server.ctx.services.network as { settle(): Promise<void> }).settle();
    expect((await api.ok(200, 'GET', `/floatingips/${f.id}`, u1.token)).floatingip.status).toBe('ACTIVE');
    // a second floating IP for the same fixed address
    await api.fails(409, 'FloatingIPPortAlreadyAssociated', 'POST', '/floatingips', u1.token, {
      floatingip: { floating_network_id: pub.id, port_id: vm.id },
    });
    // unreachable: a port on a network without a router
    const lone = await net(u1.token);
    await subnet(u1.token, lone.id, '10.82.0.0/24');
    const lp = await port(u1.token, lone.id);
    await api.fails(404, 'ExternalGatewayForFloatingIPNotFound', 'PUT', `/floatingips/${f.id}`, u1.token, {
      floatingip: { port_id: lp.id },
    });
    // the interface and the gateway are in use while the floating IP needs them
    await api.fails(
      409,
      'RouterInterfaceInUseByFloatingIP',
      'PUT',
      `/routers/${r.id}/remove_router_interface`,
      u1.token,
      { subnet_id: s.id },
    );
    await api.fails(409, 'RouterExternalGatewayInUseByFloatingIp', 'PUT', `/routers/${r.id}`, u1.token, {
      router: { external_gateway_info: {} },
    });
    await api.fails(409, 'RouterInUse', 'DELETE', `/routers/${r.id}`, u1.token);
    // others see nothing
    await api.fails(404, 'FloatingIPNotFound', 'GET', `/floatingips/${f.id}`, u2.token);
    expect((await api.ok(200, 'GET', '/floatingips', u2.token)).floatingips).toEqual([]);
    expect((await api.ok(200, 'GET', `/floatingips?port_id=${vm.id}`, u1.token)).floatingips).toHaveLength(1);
    const d = (await api.ok(200, 'PUT', `/floatingips/${f.id}`, u1.token, { floatingip: { port_id: null } }))
      .floatingip;
    expect(d).toMatchObject({ port_id: null, router_id: null, status: 'DOWN' });
    await api.ok(204, 'DELETE', `/floatingips/${f.id}`, u1.token);
    await api.fails(404, 'FloatingIPNotFound', 'DELETE', `/floatingips/${f.id}`, u1.token);
    // now the router can be taken apart
    await api.ok(200, 'PUT', `/routers/${r.id}`, u1.token, { router: { external_gateway_info: {} } });
    await api.ok(200, 'PUT', `/routers/${r.id}/remove_router_interface`, u1.token, { subnet_id: s.id });
    await api.ok(204, 'DELETE', `/routers/${r.id}`, u1.token);
  });
});

describe('security groups', () => {
  let sg: Json;
  it('every project gets a default group with Neutron’s default rules', async () => {
    const p = await cloud.projectUser('psg', 'usg');
    const list = (await api.ok(200, 'GET', '/security-groups', p.token)).security_groups;
    expect(list).toHaveLength(1);
    const d = list[0];
    expect(d.name).toBe('default');
    const rules = d.security_group_rules.map(
      (x: Json) => `${x.direction}/${x.ethertype}/${x.remote_group_id === d.id ? 'self' : 'any'}`,
    );
    expect(rules.sort()).toEqual([
      'egress/IPv4/any',
      'egress/IPv6/any',
      'ingress/IPv4/self',
      'ingress/IPv6/self',
    ]);
    // concurrent first use: still exactly one default group
    const again = await Promise.all([1, 2, 3].map(() => api.ok(200, 'GET', '/security-groups', p.token)));
    for (const a of again) expect(a.security_groups).toHaveLength(1);
    await api.fails(409, 'SecurityGroupCannotRemoveDefault', 'DELETE', `/security-groups/${d.id}`, p.token);
    await api.fails(409, 'SecurityGroupCannotUpdateDefault', 'PUT', `/security-groups/${d.id}`, p.token, {
      security_group: { name: 'x' },
    });
    await api.fails(409, 'SecurityGroupDefaultAlreadyExists', 'POST', '/security-groups', p.token, {
      security_group: { name: 'default' },
    });
  });
  it('validates rules and rejects duplicates', async () => {
    sg = (
      await api.ok(201, 'POST', '/security-groups', u1.token, {
        security_group: { name: 'web', description: 'w' },
      })
    ).security_group;
    expect(sg.security_group_rules).toHaveLength(2);
    expect(sg.stateful).toBe(true);
    const rule = (body: Json) =>
      api.call('POST', '/security-group-rules', u1.token, {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress', ...body },
      });
    let r = await rule({
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    expect(r.statusCode, r.body).toBe(201);
    const ssh = r.json().security_group_rule;
    expect(ssh).toMatchObject({
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      ethertype: 'IPv4',
      remote_ip_prefix: '0.0.0.0/0',
    });
    r = await rule({ protocol: '6', port_range_min: 22, port_range_max: 22, remote_ip_prefix: '0.0.0.0/0' });
    expectFault(r, 409, 'SecurityGroupRuleExists');
    expect(r.json().NeutronError.message).toContain(ssh.id);
    expect((await rule({ protocol: 'icmp', port_range_min: 8, port_range_max: 0 })).statusCode).toBe(201);
    expect((await rule({ protocol: '132' })).statusCode).toBe(201);
    expect((await rule({ ethertype: 'IPv6', protocol: 'ipv6-icmp' })).statusCode).toBe(201);
    expect(
      (await rule({ remote_group_id: sg.id, protocol: 'udp', port_range_min: 53, port_range_max: 53 }))
        .statusCode,
    ).toBe(201);
    expectFault(await rule({ protocol: 'banana' }), 400, 'SecurityGroupRuleInvalidProtocol');
    expectFault(await rule({ protocol: 300 }), 400, 'SecurityGroupRuleInvalidProtocol');
    expectFault(
      await rule({ protocol: 'tcp', port_range_min: 90, port_range_max: 80 }),
      400,
      'SecurityGroupInvalidPortRange',
    );
    expectFault(
      await rule({ protocol: 'tcp', port_range_min: 0, port_range_max: 80 }),
      400,
      'SecurityGroupInvalidPortValue',
    );
    expectFault(await rule({ protocol: 'icmp', port_range_min: 300 }), 400, 'SecurityGroupInvalidIcmpValue');
    expectFault(await rule({ protocol: 'icmp', port_range_max: 3 }), 400, 'SecurityGroupMissingIcmpType');
    expectFault(
      await rule({ protocol: 'gre', port_range_min: 1, port_range_max: 2 }),
      400,
      'SecurityGroupInvalidProtocolForPortRange',
    );
    expectFault(
      await rule({ port_range_min: 1, port_range_max: 2 }),
      400,
      'SecurityGroupProtocolRequiredWithPorts',
    );
    expectFault(await rule({ remote_ip_prefix: '2001:db8::/64' }), 400, 'SecurityGroupRuleParameterConflict');
    expectFault(
      await rule({ remote_ip_prefix: '10.0.0.0/8', remote_group_id: sg.id }),
      400,
      'SecurityGroupRemoteGroupAndRemoteIpPrefix',
    );
    expectFault(await rule({ protocol: 'ipv6-icmp' }), 400, 'SecurityGroupEthertypeConflictWithProtocol');
    expectFault(await rule({ direction: 'sideways' }), 400, 'HTTPBadRequest');
    expectFault(await rule({ ethertype: 'IPv5' }), 400, 'HTTPBadRequest');
    expectFault(await rule({ remote_ip_prefix: '10.0.0.0/99' }), 400, 'HTTPBadRequest');
    // another project can neither see nor add to it
    expectFault(
      await api.call('POST', '/security-group-rules', u2.token, {
        security_group_rule: { security_group_id: sg.id, direction: 'ingress' },
      }),
      404,
      'SecurityGroupNotFound',
    );
    await api.fails(404, 'SecurityGroupRuleNotFound', 'GET', `/security-group-rules/${ssh.id}`, u2.token);
    await api.fails(404, 'SecurityGroupRuleNotFound', 'DELETE', `/security-group-rules/${ssh.id}`, u2.token);
    const listed = (
      await api.ok(200, 'GET', `/security-group-rules?security_group_id=${sg.id}&direction=ingress`, u1.token)
    ).security_group_rules;
    expect(listed).toHaveLength(5);
    await api.ok(204, 'DELETE', `/security-group-rules/${ssh.id}`, u1.token);
    await api.fails(404, 'SecurityGroupRuleNotFound', 'GET', `/security-group-rules/${ssh.id}`, u1.token);
  });
  it('updates, and refuses to delete groups in use', async () => {
    const up = (
      await api.ok(200, 'PUT', `/security-groups/${sg.id}`, u1.token, {
        security_group: { description: 'web servers' },
      })
    ).security_group;
    expect(up.description).toBe('web servers');
    const n = await net(u1.token);
    const p = await port(u1.token, n.id, { security_groups: [sg.id] });
    expect(p.security_groups).toEqual([sg.id]);
    await api.fails(409, 'SecurityGroupInUse', 'DELETE', `/security-groups/${sg.id}`, u1.token);
    await api.ok(200, 'PUT', `/ports/${p.id}`, u1.token, { port: { security_groups: [] } });
    await api.fails(404, 'SecurityGroupNotFound', 'DELETE', `/security-groups/${sg.id}`, u2.token);
    await api.ok(204, 'DELETE', `/security-groups/${sg.id}`, u1.token);
    await api.fails(404, 'SecurityGroupNotFound', 'GET', `/security-groups/${sg.id}`, u1.token);
  });
});

describe('quotas, RBAC, IP availability, availability zones', () => {
  it('quotas: show, set, enforce, details, reset', async () => {
    const p = await cloud.projectUser('pq', 'uq');
    const q = (await api.ok(200, 'GET', `/quotas/${p.projectId}`, admin)).quota;
    expect(q).toMatchObject({
      network: 100,
      subnet: 100,
      port: 500,
      router: 10,
      floatingip: 50,
      security_group: 10,
      security_group_rule: 100,
    });
    await api.fails(403, 'PolicyNotAuthorized', 'GET', `/quotas/${p.projectId}`, p.token);
    await api.fails(403, 'PolicyNotAuthorized', 'PUT', `/quotas/${p.projectId}`, p.token, {
      quota: { port: 1 },
    });
    expect(
      (await api.ok(200, 'PUT', `/quotas/${p.projectId}`, admin, { quota: { port: 2, network: 1 } })).quota,
    ).toMatchObject({ port: 2, network: 1 });
    await api.fails(400, 'HTTPBadRequest', 'PUT', `/quotas/${p.projectId}`, admin, {
      quota: { port: 'lots' },
    });
    await api.fails(400, 'HTTPBadRequest', 'PUT', `/quotas/${p.projectId}`, admin, { quota: { widgets: 1 } });
    const n = await net(p.token);
    await api.fails(409, 'OverQuota', 'POST', '/networks', p.token, { network: {} });
    await port(p.token, n.id);
    await port(p.token, n.id);
    await api.fails(409, 'OverQuota', 'POST', '/ports', p.token, { port: { network_id: n.id } });
    const d = (await api.ok(200, 'GET', `/quotas/${p.projectId}/details`, admin)).quota;
    expect(d.port).toEqual({ limit: 2, used: 2, reserved: 0 });
    expect((await api.ok(200, 'GET', '/quotas', admin)).quotas.map((x: Json) => x.project_id)).toContain(
      p.projectId,
    );
    expect((await api.ok(200, 'GET', `/quotas/${p.projectId}/default`, admin)).quota.port).toBe(500);
    await api.ok(204, 'DELETE', `/quotas/${p.projectId}`, admin);
    expect((await api.ok(200, 'GET', `/quotas/${p.projectId}`, admin)).quota.port).toBe(500);
  });
  it('RBAC: share a network with one project', async () => {
    const n = await net(u1.token, { name: 'to-share' });
    await subnet(u1.token, n.id, '10.90.0.0/24');
    await api.fails(404, 'NetworkNotFound', 'GET', `/networks/${n.id}`, u2.token);
    await api.fails(403, 'PolicyNotAuthorized', 'POST', '/rbac-policies', u1.token, {
      rbac_policy: {
        object_type: 'network',
        object_id: n.id,
        action: 'access_as_shared',
        target_tenant: '*',
      },
    });
    const rb = (
      await api.ok(201, 'POST', '/rbac-policies', u1.token, {
        rbac_policy: {
          object_type: 'network',
          object_id: n.id,
          action: 'access_as_shared',
          target_tenant: u2.projectId,
        },
      })
    ).rbac_policy;
    expect(rb).toMatchObject({ object_id: n.id, target_tenant: u2.projectId, action: 'access_as_shared' });
    await api.fails(409, 'DuplicateRbacPolicy', 'POST', '/rbac-policies', u1.token, {
      rbac_policy: {
        object_type: 'network',
        object_id: n.id,
        action: 'access_as_shared',
        target_tenant: u2.projectId,
      },
    });
    await api.fails(400, 'HTTPBadRequest', 'POST', '/rbac-policies', u1.token, {
      rbac_policy: {
        object_type: 'qos_policy',
        object_id: n.id,
        action: 'access_as_shared',
        target_tenant: u2.projectId,
      },
    });
    const seen = (await api.ok(200, 'GET', `/networks/${n.id}`, u2.token)).network;
    expect(seen.shared).toBe(true);
    expect((await api.ok(200, 'GET', `/networks/${n.id}`, u1.token)).network.shared).toBe(false);
    const p = await port(u2.token, n.id);
    expect((await api.ok(200, 'GET', '/rbac-policies', u1.token)).rbac_policies).toHaveLength(1);
    expect((await api.ok(200, 'GET', '/rbac-policies', u2.token)).rbac_policies).toHaveLength(0);
    await api.fails(409, 'RbacPolicyInUse', 'DELETE', `/rbac-policies/${rb.id}`, u1.token);
    await api.ok(204, 'DELETE', `/ports/${p.id}`, u2.token);
    await api.ok(204, 'DELETE', `/rbac-policies/${rb.id}`, u1.token);
    await api.fails(404, 'NetworkNotFound', 'GET', `/networks/${n.id}`, u2.token);
  });
  it('RBAC: an external network for one project only', async () => {
    const ext = await net(admin, { name: 'ext-for-u2' });
    await subnet(admin, ext.id, '198.51.100.0/24');
    await api.fails(400, 'BadRequest', 'POST', '/floatingips', admin, {
      floatingip: { floating_network_id: ext.id, project_id: u2.projectId },
    });
    await api.fails(404, 'NetworkNotFound', 'POST', '/rbac-policies', u1.token, {
      rbac_policy: {
        object_type: 'network',
        object_id: ext.id,
        action: 'access_as_external',
        target_tenant: u2.projectId,
      },
    });
    await api.ok(201, 'POST', '/rbac-policies', admin, {
      rbac_policy: {
        object_type: 'network',
        object_id: ext.id,
        action: 'access_as_external',
        target_tenant: u2.projectId,
      },
    });
    const seen = (await api.ok(200, 'GET', `/networks/${ext.id}`, u2.token)).network;
    expect(seen).toMatchObject({ name: 'ext-for-u2', 'router:external': true });
    expect((await api.ok(200, 'GET', `/subnets?network_id=${ext.id}`, u2.token)).subnets).toHaveLength(1);
    const f = (
      await api.ok(201, 'POST', '/floatingips', u2.token, { floatingip: { floating_network_id: ext.id } })
    ).floatingip;
    expect(f.floating_ip_address).toMatch(/^198\.51\.100\./);
    await api.fails(404, 'NetworkNotFound', 'POST', '/floatingips', u1.token, {
      floatingip: { floating_network_id: ext.id },
    });
  });
  it('network IP availability (admin) and availability zones', async () => {
    const all = (await api.ok(200, 'GET', '/network-ip-availabilities', admin)).network_ip_availabilities;
    const p = all.find((x: Json) => x.network_id === pub.id);
    expect(p.total_ips).toBe(101);
    expect(p.subnet_ip_availability[0]).toMatchObject({
      subnet_id: pubSubnet.id,
      cidr: '192.168.1.0/24',
      ip_version: 4,
    });
    const one = (await api.ok(200, 'GET', `/network-ip-availabilities/${pub.id}`, admin))
      .network_ip_availability;
    expect(one.network_name).toBe('public');
    await api.fails(403, 'PolicyNotAuthorized', 'GET', '/network-ip-availabilities', u1.token);
    const az = (await api.ok(200, 'GET', '/availability_zones', u1.token)).availability_zones;
    expect(az).toEqual([
      { name: 'nova', resource: 'network', state: 'available' },
      { name: 'nova', resource: 'router', state: 'available' },
    ]);
    expect(
      (await api.ok(200, 'GET', '/availability_zones?resource=router', u1.token)).availability_zones,
    ).toHaveLength(1);
  });
});
