/** The metadata service (/metadata, what guests reach at 169.254.169.254 through the network agent's proxy). */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  METADATA_SECRET_FILE,
  metadataSecret,
  signInstanceId,
  signProxyRequest,
  verifyInstanceId,
  verifyProxyRequest,
} from '../../src/core/metadata-secret.js';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('metadata proxy secret', () => {
  it('is created once (0600, 32 random bytes in hex) and read back unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stackbox-mdsecret-'));
    try {
      const a = metadataSecret(dir);
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      const file = join(dir, METADATA_SECRET_FILE);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(metadataSecret(dir)).toBe(a);
      // a fresh directory gets another secret; a nested one is created
      expect(metadataSecret(join(dir, 'sub'))).not.toBe(a);
      const sig = signProxyRequest(a, 'net1', '10.0.0.5');
      expect(sig).toMatch(/^[0-9a-f]{64}$/);
      expect(verifyProxyRequest(a, 'net1', '10.0.0.5', sig)).toBe(true);
      expect(verifyProxyRequest(a, 'net2', '10.0.0.5', sig)).toBe(false);
      expect(verifyProxyRequest(a, 'net1', '10.0.0.6', sig)).toBe(false);
      expect(verifyProxyRequest(a, 'net1', '10.0.0.5', sig.slice(1))).toBe(false);
      expect(verifyProxyRequest(a, 'net1', '10.0.0.5', undefined)).toBe(false);
      expect(verifyInstanceId(a, 'uuid1', signInstanceId(a, 'uuid1'))).toBe(true);
      expect(verifyInstanceId(a, 'uuid2', signInstanceId(a, 'uuid1'))).toBe(false);
      // an empty secret file is refused, never used as a key
      writeFileSync(file, '\n');
      expect(() => metadataSecret(dir)).toThrow(/empty/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('metadata service', () => {
  let c: ComputeCloud;
  let p: { projectId: string; token: string };
  let q: { projectId: string; token: string };
  let secret: string;
  let net: string;
  let subnet: string;
  let vm: any;
  let ip: string;
  let mac: string;
  let publicKey: string;
  const userData = Buffer.concat([Buffer.from('#!/bin/sh\necho hello\n'), Buffer.from([0xff, 0x00, 0xfe])]);

  const signed = (networkId: string, address: string) => ({
    'X-Forwarded-For': address,
    'X-Neutron-Network-ID': networkId,
    'X-Stackbox-Proxy-Signature': signProxyRequest(secret, networkId, address),
  });
  const get = (path: string, headers: Record<string, string> = signed(net, ip), method = 'GET') =>
    c.req(method, `/metadata${path}`, { headers });
  const text = async (path: string) => {
    const r = await get(path);
    expect(r.statusCode, `${path}: ${r.body}`).toBe(200);
    return r.body;
  };
  const neutron = async (method: string, path: string, token: string, body?: unknown) => {
    const r = await c.req(method, `/networking/v2.0${path}`, { token, body });
    expect(r.statusCode, r.body).toBeLessThan(300);
    return r.json();
  };
  const network = async (token: string, name: string, cidr: string) => {
    const n = (await neutron('POST', '/networks', token, { network: { name } })).network;
    const s = (
      await neutron('POST', '/subnets', token, { subnet: { network_id: n.id, cidr, ip_version: 4 } })
    ).subnet;
    return { id: n.id as string, subnet: s.id as string };
  };

  beforeAll(async () => {
    c = await startComputeCloud();
    secret = metadataSecret(c.dataDir);
    p = await c.projectUser('mdp', 'mdu');
    q = await c.projectUser('mdq', 'mdv');
    ({ id: net, subnet } = await network(p.token, 'mdnet', '10.20.0.0/24'));
    const kp = await c.nova('POST', '/os-keypairs', { token: p.token, body: { keypair: { name: 'k1' } } });
    expect(kp.statusCode, kp.body).toBe(201);
    publicKey = kp.json().keypair.public_key;
    vm = await c.boot(p.token, {
      name: 'mdvm',
      networks: [{ uuid: net }],
      key_name: 'k1',
      user_data: userData.toString('base64'),
      metadata: { role: 'web' },
    });
    expect(vm.status, JSON.stringify(vm.fault)).toBe('ACTIVE');
    ip = vm.addresses.mdnet[0].addr;
    mac = vm.addresses.mdnet[0]['OS-EXT-IPS-MAC:mac_addr'];
  });
  afterAll(async () => c?.close());

  it('lists the EC2 versions at / without a signature, as Nova', async () => {
    const r = await c.req('GET', '/metadata/');
    expect(r.statusCode).toBe(200);
    expect(r.body.split('\n')).toEqual([
      '1.0',
      '2007-01-19',
      '2007-03-01',
      '2007-08-29',
      '2007-10-10',
      '2007-12-15',
      '2008-02-01',
      '2008-09-01',
      '2009-04-04',
      'latest',
    ]);
    expect((await c.req('GET', '/metadata')).body).toBe(r.body);
  });

  it('serves the OpenStack versions and the listing of a version', async () => {
    const versions = (await text('/openstack')).split('\n');
    expect(versions[0]).toBe('2012-08-10');
    expect(versions).toContain('2018-08-27');
    expect(versions.at(-1)).toBe('latest');
    expect((await text('/openstack/latest/')).split('\n')).toEqual([
      'meta_data.json',
      'user_data',
      'password',
      'vendor_data.json',
      'network_data.json',
      'vendor_data2.json',
    ]);
    expect((await text('/openstack/2012-08-10')).split('\n')).toEqual(['meta_data.json', 'user_data']);
    expect(await text('/openstack/latest/vendor_data.json')).toBe('{}');
    expect(await text('/openstack/latest/vendor_data2.json')).toBe('{}');
    expect(await text('/openstack/latest/password')).toBe('');
  });

  it('meta_data.json: uuid, keys, hostname, metadata, project (version-dependent fields)', async () => {
    const r = await get('/openstack/latest/meta_data.json');
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const md = r.json();
    expect(md).toMatchObject({
      uuid: vm.id,
      hostname: 'mdvm',
      name: 'mdvm',
      launch_index: 0,
      availability_zone: 'nova',
      project_id: p.projectId,
      meta: { role: 'web' },
      public_keys: { k1: publicKey },
      keys: [{ name: 'k1', type: 'ssh', data: publicKey }],
      devices: [],
      dedicated_cpus: [],
    });
    expect(Buffer.from(md.random_seed, 'base64')).toHaveLength(512);
    const folsom = JSON.parse(await text('/openstack/2012-08-10/meta_data.json'));
    expect(folsom.uuid).toBe(vm.id);
    expect(folsom).not.toHaveProperty('project_id');
    expect(folsom).not.toHaveProperty('random_seed');
    expect(folsom).not.toHaveProperty('devices');
  });

  it('user_data round-trips byte for byte (OpenStack and EC2 trees)', async () => {
    for (const path of ['/openstack/latest/user_data', '/latest/user-data', '/2009-04-04/user-data']) {
      const r = await get(path);
      expect(r.statusCode, path).toBe(200);
      expect(r.rawPayload.equals(userData), path).toBe(true);
    }
  });

  it('network_data.json lists the port as a link with its MAC, on its network', async () => {
    const nd = JSON.parse(await text('/openstack/latest/network_data.json'));
    expect(nd.links).toHaveLength(1);
    expect(nd.links[0]).toMatchObject({ ethernet_mac_address: mac, type: 'bridge' });
    const ports = await neutron('GET', `/ports?device_id=${vm.id}`, p.token);
    expect(nd.links[0].vif_id).toBe(ports.ports[0].id);
    expect(nd.networks).toEqual([
      { id: 'network0-0', type: 'ipv4_dhcp', link: nd.links[0].id, network_id: net },
    ]);
  });

  it('the EC2 tree: listings, public keys, addresses, ids', async () => {
    expect(await text('/latest')).toBe('meta-data/\nuser-data');
    const listing = (await text('/latest/meta-data/')).split('\n');
    expect(listing).toEqual([
      'ami-id',
      'ami-launch-index',
      'ami-manifest-path',
      'block-device-mapping/',
      'hostname',
      'instance-action',
      'instance-id',
      'instance-type',
      'local-hostname',
      'local-ipv4',
      'placement/',
      'public-hostname',
      'public-ipv4',
      'public-keys/',
      'reservation-id',
      'security-groups',
    ]);
    expect(await text('/latest/meta-data/public-keys')).toBe('0=k1');
    expect(await text('/latest/meta-data/public-keys/0/')).toBe('openssh-key');
    expect(await text('/latest/meta-data/public-keys/0/openssh-key')).toBe(publicKey);
    expect(await text('/latest/meta-data/hostname')).toBe('mdvm');
    expect(await text('/latest/meta-data/local-hostname')).toBe('mdvm');
    expect(await text('/latest/meta-data/local-ipv4')).toBe(ip);
    expect(await text('/latest/meta-data/public-ipv4')).toBe('');
    expect(await text('/latest/meta-data/instance-type')).toBe(vm.flavor.original_name);
    expect(await text('/latest/meta-data/security-groups')).toBe('default');
    expect(await text('/latest/meta-data/placement/availability-zone')).toBe('nova');
    expect(await text('/latest/meta-data/instance-action')).toBe('none');
    expect(await text('/latest/meta-data/ami-launch-index')).toBe('0');
    expect(await text('/latest/meta-data/block-device-mapping/')).toBe('ami\nroot');
    expect(await text('/latest/meta-data/block-device-mapping/root')).toBe('/dev/vda');
    const admin = (await c.nova('GET', `/servers/${vm.id}`)).json().server;
    expect(await text('/latest/meta-data/reservation-id')).toBe(admin['OS-EXT-SRV-ATTR:reservation_id']);
    const id = await text('/latest/meta-data/instance-id');
    expect(id).toMatch(/^i-[0-9a-f]{8}$/);
    expect(await text('/2009-04-04/meta-data/instance-id')).toBe(id);
    expect(await text('/ec2/latest/meta-data/instance-id')).toBe(id);
    expect(await text('/latest/meta-data/ami-id')).toMatch(/^ami-[0-9a-f]{8}$/);
    // older versions carry less
    const v1 = (await text('/1.0/meta-data/')).split('\n');
    expect(v1).not.toContain('public-ipv4');
    expect(v1).not.toContain('placement/');
    expect(v1).toContain('public-keys/');
  });

  it('public-ipv4 is the floating IP once one is associated', async () => {
    const pub = (
      await neutron('POST', '/networks', c.adminToken, {
        network: { name: 'md-public', 'router:external': true },
      })
    ).network;
    await neutron('POST', '/subnets', c.adminToken, {
      subnet: { network_id: pub.id, cidr: '192.168.77.0/24', ip_version: 4 },
    });
    const router = (
      await neutron('POST', '/routers', p.token, {
        router: { name: 'md-r', external_gateway_info: { network_id: pub.id } },
      })
    ).router;
    await neutron('PUT', `/routers/${router.id}/add_router_interface`, p.token, { subnet_id: subnet });
    const port = (await neutron('GET', `/ports?device_id=${vm.id}`, p.token)).ports[0];
    const fip = (
      await neutron('POST', '/floatingips', p.token, {
        floatingip: { floating_network_id: pub.id, port_id: port.id },
      })
    ).floatingip;
    expect(await text('/latest/meta-data/public-ipv4')).toBe(fip.floating_ip_address);
    // the router's interface holds the gateway address: not an instance
    const r = await get('/latest/meta-data/instance-id', signed(net, '10.20.0.1'));
    expect(r.statusCode).toBe(404);
  });

  it('refuses a missing or bad signature with 403', async () => {
    const cases: Record<string, string>[] = [
      {},
      { 'X-Forwarded-For': ip, 'X-Neutron-Network-ID': net },
      { ...signed(net, ip), 'X-Stackbox-Proxy-Signature': 'f'.repeat(64) },
      { ...signed(net, ip), 'X-Stackbox-Proxy-Signature': 'nonsense' },
      { ...signed(net, '10.20.0.99'), 'X-Forwarded-For': ip },
      { ...signed(net, ip), 'X-Neutron-Network-ID': '00000000-0000-0000-0000-000000000000' },
      {
        'X-Forwarded-For': ip,
        'X-Neutron-Network-ID': net,
        'X-Stackbox-Proxy-Signature': signProxyRequest('another-secret', net, ip),
      },
      { 'X-Instance-ID': vm.id, 'X-Tenant-ID': p.projectId, 'X-Instance-ID-Signature': '0'.repeat(64) },
    ];
    for (const h of cases) {
      const r = await get('/openstack/latest/meta_data.json', h);
      expect(r.statusCode, JSON.stringify(h)).toBe(403);
      expect(r.headers['content-type']).toMatch(/^text\/plain/);
      expect(r.body).toContain('Invalid proxy request signature.');
      expect(r.body).not.toContain(vm.id);
    }
  });

  it('an address that is no instance, or the same address on another network, is a 404', async () => {
    // a free address, and an address held by a port without a device
    expect((await get('/latest/meta-data/', signed(net, '10.20.0.200'))).statusCode).toBe(404);
    const spare = (await neutron('POST', '/ports', p.token, { port: { network_id: net } })).port;
    const spareIp = spare.fixed_ips[0].ip_address;
    expect((await get('/openstack/latest/meta_data.json', signed(net, spareIp))).statusCode).toBe(404);
    // a second network with the same CIDR, no server on it
    const other = await network(p.token, 'mdnet2', '10.20.0.0/24');
    expect((await get('/openstack/latest/meta_data.json', signed(other.id, ip))).statusCode).toBe(404);
    // garbage in the signed headers is a 404, not an error
    expect((await get('/latest/meta-data/', signed(net, 'not-an-ip'))).statusCode).toBe(404);
    expect((await get('/latest/meta-data/', signed('x'.repeat(300), ip))).statusCode).toBe(404);
    // signed headers that are missing are a 400, as Nova's
    const { 'X-Forwarded-For': _drop, ...noAddress } = signed(net, ip);
    void _drop;
    expect((await get('/latest/meta-data/', noAddress)).statusCode).toBe(400);
  });

  it("another project's server on another network is not readable with the first network's id", async () => {
    const qnet = await network(q.token, 'qnet', '10.20.0.0/24');
    const qvm = await c.boot(q.token, { name: 'qvm', networks: [{ uuid: qnet.id }] });
    expect(qvm.status, JSON.stringify(qvm.fault)).toBe('ACTIVE');
    const qip: string = qvm.addresses.qnet[0].addr;
    // its own network names it
    const own = JSON.parse((await get('/openstack/latest/meta_data.json', signed(qnet.id, qip))).body) as {
      uuid: string;
    };
    expect(own.uuid).toBe(qvm.id);
    // the first network's id with its address: the first network's server (same address), or nobody
    const r = await get('/openstack/latest/meta_data.json', signed(net, qip));
    if (qip === ip) expect(r.json().uuid).toBe(vm.id);
    else expect(r.statusCode).toBe(404);
    expect(r.body).not.toContain(qvm.id);
    // Nova's scheme: the instance id must belong to the tenant named
    const nova = (id: string, tenant: string) => ({
      'X-Instance-ID': id,
      'X-Tenant-ID': tenant,
      'X-Instance-ID-Signature': signInstanceId(secret, id),
      'X-Forwarded-For': qip,
    });
    expect((await get('/openstack/latest/meta_data.json', nova(qvm.id, p.projectId))).statusCode).toBe(404);
    const ok = await get('/openstack/latest/meta_data.json', nova(qvm.id, q.projectId));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().uuid).toBe(qvm.id);
    const { 'X-Tenant-ID': _t, ...noTenant } = nova(qvm.id, q.projectId);
    void _t;
    const bad = await get('/openstack/latest/meta_data.json', noTenant);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('X-Tenant-ID header is missing from request.');
  });

  it('unknown paths are 404, other methods 405, odd paths never a 500', async () => {
    for (const path of [
      '/openstack/2099-01-01/meta_data.json',
      '/openstack/latest/nothing',
      '/openstack/latest/meta_data.json/more',
      '/openstack/2012-08-10/password',
      '/openstack/content/0000',
      '/2099-01-01/meta-data/',
      '/latest/meta-data/nothing',
      '/latest/meta-data/hostname/more',
      '/latest/meta-data/security-groups/default',
      '/latest/meta-data/public-keys/0/_name',
      '/latest/meta-data/public-keys/1',
      '/latest/meta-data/constructor',
      '/latest/meta-data/__proto__',
      '/nothing',
    ]) {
      const r = await get(path);
      expect(r.statusCode, path).toBe(404);
      expect(r.headers['content-type'], path).toMatch(/^text\/plain/);
    }
    // bytes that are no UTF-8: refused before routing, as a client error
    for (const path of ['/%ff%fe', '/latest/%E2%82', '/openstack/%00', '/%2e%2e/nothing']) {
      const r = await get(path);
      expect(r.statusCode, path).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, path).toBeLessThan(500);
    }
    // paths are normalized as Nova's posixpath.normpath
    expect(await text('/openstack/../latest/./meta-data//hostname/')).toBe('mdvm');
    expect((await get('/latest/meta-data/hostname', signed(net, ip), 'HEAD')).statusCode).toBe(200);
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      const r = await c.req(method, '/metadata/openstack/latest/password', {
        headers: { ...signed(net, ip), 'content-type': 'application/x-whatever' },
        body: 'secret',
      });
      expect(r.statusCode, method).toBe(405);
      expect(r.headers.allow).toBe('GET, HEAD');
    }
  });

  it('a deleted server is a 404', async () => {
    const gone = await c.boot(p.token, { name: 'gone', networks: [{ uuid: net }] });
    const gip: string = gone.addresses.mdnet[0].addr;
    expect((await get('/latest/meta-data/hostname', signed(net, gip))).body).toBe('gone');
    await c.nova('DELETE', `/servers/${gone.id}`, { token: p.token });
    await c.waitFor(gone.id, 'DELETED', p.token);
    expect((await get('/latest/meta-data/hostname', signed(net, gip))).statusCode).toBe(404);
    const nova = {
      'X-Instance-ID': gone.id,
      'X-Tenant-ID': p.projectId,
      'X-Instance-ID-Signature': signInstanceId(secret, gone.id),
    };
    expect((await get('/latest/meta-data/hostname', nova)).statusCode).toBe(404);
  });
});
