/** Compute API: routes, microversions, faults, policy and failure paths, against the fake driver. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

let c: ComputeCloud;
let member: { projectId: string; userId: string; token: string };
let reader: { token: string };
let other: { projectId: string; token: string };
let image: string;

beforeAll(async () => {
  c = await startComputeCloud();
  member = await c.projectUser('p1', 'alice', 'member');
  reader = await c.projectUser('p1r', 'rita', 'reader');
  other = await c.projectUser('p2', 'bob', 'member');
  image = await c.image();
});
afterAll(async () => c?.close());

describe('versions and microversions', () => {
  it('discovers v2.1 with min 2.1 and max 2.79 without a token', async () => {
    let r = await c.req('GET', '/compute');
    expect(r.statusCode).toBe(200);
    expect(r.json().versions[0]).toMatchObject({
      id: 'v2.1',
      status: 'CURRENT',
      min_version: '2.1',
      version: '2.79',
    });
    r = await c.req('GET', '/compute/v2.1');
    expect(r.json().version.links[0].href).toMatch(/\/compute\/v2\.1\/$/);
  });
  it('echoes the version and honours both headers, latest, 406 and 400', async () => {
    let r = await c.nova('GET', '/flavors', { mv: '2.55' });
    expect(r.headers['openstack-api-version']).toBe('compute 2.55');
    expect(r.headers['x-openstack-nova-api-version']).toBe('2.55');
    // Nova's request id under both of its names.
    expect(r.headers['x-compute-request-id']).toMatch(/^req-/);
    expect(r.headers['x-compute-request-id']).toBe(r.headers['x-openstack-request-id']);
    r = await c.req('GET', '/compute/v2.1/flavors', {
      token: c.adminToken,
      headers: { 'X-OpenStack-Nova-API-Version': '2.30' },
    });
    expect(r.headers['openstack-api-version']).toBe('compute 2.30');
    r = await c.req('GET', '/compute/v2.1/flavors', { token: c.adminToken });
    expect(r.headers['openstack-api-version']).toBe('compute 2.1');
    r = await c.nova('GET', '/flavors', { mv: 'latest' });
    expect(r.headers['openstack-api-version']).toBe('compute 2.79');
    r = await c.nova('GET', '/flavors', { mv: '2.80' });
    expect(r.statusCode).toBe(406);
    expect(r.json().computeFault.message).toContain('maximum is 2.79');
    r = await c.nova('GET', '/flavors', { mv: '2.x' });
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.code).toBe(400);
  });
  it('answers Nova faults: 401, 404 for unknown paths and servers', async () => {
    let r = await c.req('GET', '/compute/v2.1/servers');
    expect(r.statusCode).toBe(401);
    r = await c.nova('GET', '/nope');
    expect(r.statusCode).toBe(404);
    expect(r.json().itemNotFound.code).toBe(404);
    r = await c.nova('GET', '/servers/00000000-0000-0000-0000-000000000000');
    expect(r.json()).toEqual({
      itemNotFound: {
        code: 404,
        message: 'Instance 00000000-0000-0000-0000-000000000000 could not be found.',
      },
    });
    r = await c.nova('POST', '/servers', {
      body: '{bad json',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest).toBeDefined();
  });
});

describe('flavors', () => {
  it('admin creates, shows, lists and deletes; members cannot', async () => {
    let r = await c.nova('POST', '/flavors', {
      body: { flavor: { name: 'f.test', ram: 256, vcpus: 1, disk: 1, id: 'ft1', description: 'd' } },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().flavor).toMatchObject({
      id: 'ft1',
      ram: 256,
      swap: 0,
      description: 'd',
      'os-flavor-access:is_public': true,
      extra_specs: {},
    });
    r = await c.nova('POST', '/flavors', {
      body: { flavor: { name: 'f.test', ram: 256, vcpus: 1, disk: 1 } },
    });
    expect(r.statusCode).toBe(409);
    r = await c.nova('POST', '/flavors', {
      token: member.token,
      body: { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 1 } },
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().forbidden.code).toBe(403);
    r = await c.nova('POST', '/flavors', { body: { flavor: { name: 'bad', ram: -1, vcpus: 1, disk: 1 } } });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/flavors/ft1', { token: member.token, mv: '2.1' });
    expect(r.json().flavor.swap).toBe('');
    expect(r.json().flavor.description).toBeUndefined();
    r = await c.nova('GET', '/flavors/detail?minRam=256&sort_key=memory_mb', { token: member.token });
    expect(r.json().flavors.every((f: { ram: number }) => f.ram >= 256)).toBe(true);
    r = await c.nova('GET', '/flavors?limit=2');
    expect(r.json().flavors).toHaveLength(2);
    expect(r.json().flavors_links[0].href).toContain('marker=');
    r = await c.nova('PUT', '/flavors/ft1', { body: { flavor: { description: 'new' } } });
    expect(r.json().flavor.description).toBe('new');
    r = await c.nova('DELETE', '/flavors/ft1');
    expect(r.statusCode).toBe(202);
    r = await c.nova('GET', '/flavors/ft1');
    expect(r.statusCode).toBe(404);
  });
  it('private flavors need access; extra specs', async () => {
    let r = await c.nova('POST', '/flavors', {
      body: {
        flavor: {
          name: 'priv',
          ram: 128,
          vcpus: 1,
          disk: 1,
          id: 'priv1',
          'os-flavor-access:is_public': false,
        },
      },
    });
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/flavors/priv1', { token: member.token });
    expect(r.statusCode).toBe(404);
    r = await c.nova('POST', '/flavors/priv1/action', {
      body: { addTenantAccess: { tenant: member.projectId } },
    });
    expect(r.json().flavor_access).toEqual([{ flavor_id: 'priv1', tenant_id: member.projectId }]);
    r = await c.nova('POST', '/flavors/priv1/action', {
      body: { addTenantAccess: { tenant: member.projectId } },
    });
    expect(r.statusCode).toBe(409);
    r = await c.nova('GET', '/flavors/priv1', { token: member.token });
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/flavors/priv1/os-flavor-access');
    expect(r.json().flavor_access).toHaveLength(1);
    r = await c.nova('POST', '/flavors/priv1/os-extra_specs', {
      body: { extra_specs: { 'hw:cpu_policy': 'shared', k: 'v' } },
    });
    expect(r.json().extra_specs).toEqual({ 'hw:cpu_policy': 'shared', k: 'v' });
    r = await c.nova('PUT', '/flavors/priv1/os-extra_specs/k', { body: { k: 'w' } });
    expect(r.json()).toEqual({ k: 'w' });
    r = await c.nova('PUT', '/flavors/priv1/os-extra_specs/k', { body: { other: 'w' } });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/flavors/priv1/os-extra_specs/k', { token: member.token });
    expect(r.json()).toEqual({ k: 'w' });
    r = await c.nova('POST', '/flavors/priv1/os-extra_specs', {
      token: member.token,
      body: { extra_specs: { a: 'b' } },
    });
    expect(r.statusCode).toBe(403);
    r = await c.nova('DELETE', '/flavors/priv1/os-extra_specs/k');
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/flavors/priv1/os-extra_specs/k');
    expect(r.statusCode).toBe(404);
    r = await c.nova('POST', '/flavors/priv1/action', {
      body: { removeTenantAccess: { tenant: member.projectId } },
    });
    expect(r.json().flavor_access).toEqual([]);
  });
});

describe('key pairs', () => {
  it('generates an RSA key returned once, imports, lists, shows, deletes', async () => {
    let r = await c.nova('POST', '/os-keypairs', { token: member.token, body: { keypair: { name: 'gen' } } });
    expect(r.statusCode).toBe(201);
    const kp = r.json().keypair;
    expect(kp.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(kp.public_key).toMatch(/^ssh-rsa AAAA/);
    expect(kp.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(kp.type).toBe('ssh');
    r = await c.nova('GET', '/os-keypairs/gen', { token: member.token });
    expect(r.json().keypair.private_key).toBeUndefined();
    expect(r.json().keypair.user_id).toBe(member.userId);
    r = await c.nova('POST', '/os-keypairs', { token: member.token, body: { keypair: { name: 'gen' } } });
    expect(r.statusCode).toBe(409);
    const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm5jJXw8Yc1p2l1PqLSmGj7b3lO2m8C8V0aZ1w7o6kR test@x';
    r = await c.nova('POST', '/os-keypairs', {
      token: member.token,
      body: { keypair: { name: 'imp', public_key: pub } },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().keypair.private_key).toBeUndefined();
    r = await c.nova('POST', '/os-keypairs', {
      token: member.token,
      body: { keypair: { name: 'bad', public_key: 'ssh-rsa notbase64!' } },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toContain('Keypair data is invalid');
    r = await c.nova('GET', '/os-keypairs', { token: member.token });
    expect(r.json().keypairs.map((k: { keypair: { name: string } }) => k.keypair.name)).toEqual([
      'gen',
      'imp',
    ]);
    r = await c.nova('GET', '/os-keypairs', { token: other.token });
    expect(r.json().keypairs).toEqual([]);
    r = await c.nova('GET', `/os-keypairs?user_id=${member.userId}`, { token: other.token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('GET', `/os-keypairs?user_id=${member.userId}`);
    expect(r.json().keypairs).toHaveLength(2);
    r = await c.nova('DELETE', '/os-keypairs/imp', { token: member.token });
    expect(r.statusCode).toBe(204);
    r = await c.nova('DELETE', '/os-keypairs/imp', { token: member.token });
    expect(r.statusCode).toBe(404);
  });
});

describe('servers', () => {
  it('rejects bad create requests with 400s, never 500', async () => {
    const bad = [
      {},
      { server: { imageRef: image, flavorRef: '1', networks: 'none' } },
      { server: { name: 'x', imageRef: image, networks: 'none' } },
      { server: { name: 'x', imageRef: image, flavorRef: 'nope', networks: 'none' } },
      {
        server: {
          name: 'x',
          imageRef: '00000000-0000-0000-0000-000000000000',
          flavorRef: '1',
          networks: 'none',
        },
      },
      { server: { name: 'x', imageRef: 'not-a-uuid', flavorRef: '1', networks: 'none' } },
      { server: { name: 'x', imageRef: image, flavorRef: '1' } },
      { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', key_name: 'missing' } },
      { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', user_data: '!!notbase64' } },
      { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', availability_zone: 'mars' } },
      {
        server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', min_count: 3, max_count: 2 },
      },
      { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', bogus: 1 } },
      {
        server: {
          name: 'x',
          flavorRef: '1',
          networks: 'none',
          block_device_mapping_v2: [
            { boot_index: 0, uuid: image, source_type: 'image', destination_type: 'volume', volume_size: 1 },
          ],
        },
      },
      { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none', metadata: { k: 1 } } },
      { server: { name: ' lead', imageRef: image, flavorRef: '1', networks: 'none' } },
    ];
    for (const body of bad) {
      const r = await c.nova('POST', '/servers', { token: member.token, body });
      expect(r.statusCode, `${JSON.stringify(body)} → ${r.body}`).toBe(400);
      expect(r.json().badRequest.message.length).toBeGreaterThan(0);
    }
    const r = await c.nova('POST', '/servers', {
      token: member.token,
      mv: '2.36',
      body: { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'auto' } },
    });
    expect(r.statusCode).toBe(400);
    const bdm = await c.nova('POST', '/servers', {
      token: member.token,
      body: {
        server: {
          name: 'x',
          flavorRef: '1',
          networks: 'none',
          block_device_mapping_v2: [
            { boot_index: 0, uuid: image, source_type: 'image', destination_type: 'volume', volume_size: 1 },
          ],
        },
      },
    });
    expect(bdm.json().badRequest.message).toContain('block-storage');
    const queued = await c.image({ status: 'queued' });
    const q = await c.nova('POST', '/servers', {
      token: member.token,
      body: { server: { name: 'x', imageRef: queued, flavorRef: '1', networks: 'none' } },
    });
    expect(q.json().badRequest.message).toContain('is not active');
    const big = await c.image({ minRam: 100_000 });
    const m = await c.nova('POST', '/servers', {
      token: member.token,
      body: { server: { name: 'x', imageRef: big, flavorRef: '1', networks: 'none' } },
    });
    expect(m.json().badRequest.message).toContain('memory is too small');
  });

  it('boots, shows the Nova shape, and hides it from other projects', async () => {
    const r = await c.nova('POST', '/servers', {
      token: member.token,
      body: {
        server: {
          name: 'web-1',
          imageRef: image,
          flavorRef: '1',
          networks: 'none',
          metadata: { role: 'web' },
          tags: ['a', 'b'],
          description: 'hello',
          config_drive: true,
          user_data: Buffer.from('#!/bin/sh\necho hi').toString('base64'),
        },
      },
    });
    expect(r.statusCode).toBe(202);
    const created = r.json().server;
    expect(created.adminPass).toBeTruthy();
    expect(r.headers.location).toContain(`/servers/${created.id}`);
    const s = await c.waitFor(created.id, 'ACTIVE', member.token);
    expect(s).toMatchObject({
      name: 'web-1',
      status: 'ACTIVE',
      tenant_id: member.projectId,
      user_id: member.userId,
      metadata: { role: 'web' },
      tags: ['a', 'b'],
      description: 'hello',
      locked: false,
      locked_reason: null,
      config_drive: 'True',
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
      'OS-EXT-AZ:availability_zone': 'nova',
      flavor: { vcpus: 1, ram: 512, disk: 1, original_name: 'm1.tiny' },
      image: { id: image },
      server_groups: [],
    });
    expect(s.hostId).toMatch(/^[0-9a-f]{56}$/);
    expect(s['OS-EXT-SRV-ATTR:host']).toBeUndefined();
    expect(s['OS-SRV-USG:launched_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const old = await c.nova('GET', `/servers/${s.id}`, { token: member.token, mv: '2.1' });
    expect(old.json().server.flavor).toEqual({ id: '1', links: expect.any(Array) });
    expect(old.json().server.tags).toBeUndefined();
    const adm = await c.nova('GET', `/servers/${s.id}`);
    expect(adm.json().server['OS-EXT-SRV-ATTR:host']).toBeTruthy();
    expect(adm.json().server['OS-EXT-SRV-ATTR:user_data']).toBeTruthy();
    expect(adm.json().server.host_status).toBe('UP');
    expect((await c.nova('GET', `/servers/${s.id}`, { token: other.token })).statusCode).toBe(404);
    expect((await c.nova('DELETE', `/servers/${s.id}`, { token: other.token })).statusCode).toBe(404);
    expect((await c.nova('GET', '/servers', { token: other.token })).json().servers).toEqual([]);
    expect((await c.nova('GET', '/servers?all_tenants=1', { token: other.token })).statusCode).toBe(403);
    const all = await c.nova('GET', '/servers/detail?all_tenants=1');
    expect(all.json().servers.some((x: { id: string }) => x.id === s.id)).toBe(true);
    // console output and URL
    const out = await c.nova('POST', `/servers/${s.id}/action`, {
      token: member.token,
      body: { 'os-getConsoleOutput': { length: 3 } },
    });
    expect(out.statusCode).toBe(200);
    expect(out.json().output.trim().split('\n')).toHaveLength(3);
    expect(out.json().output).toContain('login:');
    const url = await c.nova('POST', `/servers/${s.id}/remote-consoles`, {
      token: member.token,
      body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
    });
    expect(url.json().remote_console).toMatchObject({
      protocol: 'vnc',
      type: 'novnc',
      url: expect.stringContaining('token'),
    });
    const legacy = await c.nova('POST', `/servers/${s.id}/action`, {
      token: member.token,
      mv: '2.1',
      body: { 'os-getVNCConsole': { type: 'novnc' } },
    });
    expect(legacy.json().console.type).toBe('novnc');
    const badType = await c.nova('POST', `/servers/${s.id}/remote-consoles`, {
      token: member.token,
      body: { remote_console: { protocol: 'vnc', type: 'spice-html5' } },
    });
    expect(badType.statusCode).toBe(400);
    // reader can read, not act
    const rd = await c.projectUser('p1-readers', 'ray', 'reader');
    void rd;
  });

  it('lists with filters, sorting and paging links', async () => {
    const ids: string[] = [];
    for (const name of ['list-a', 'list-b', 'other-c']) {
      const s = await c.boot(member.token, { name, tags: name === 'list-b' ? ['blue'] : [] });
      ids.push(s.id);
    }
    let r = await c.nova('GET', '/servers?name=^list-', { token: member.token });
    expect(
      r
        .json()
        .servers.map((s: { name: string }) => s.name)
        .sort(),
    ).toEqual(['list-a', 'list-b']);
    r = await c.nova('GET', '/servers/detail?tags=blue', { token: member.token });
    expect(r.json().servers.map((s: { name: string }) => s.name)).toEqual(['list-b']);
    r = await c.nova('GET', '/servers?not-tags=blue&name=list', { token: member.token });
    expect(r.json().servers.map((s: { name: string }) => s.name)).toEqual(['list-a']);
    r = await c.nova('GET', '/servers?tags-any=blue,green&name=list', { token: member.token });
    expect(r.json().servers.map((s: { name: string }) => s.name)).toEqual(['list-b']);
    r = await c.nova('GET', '/servers?not-tags-any=blue,green&name=list', { token: member.token });
    expect(r.json().servers.map((s: { name: string }) => s.name)).toEqual(['list-a']);
    r = await c.nova('GET', '/servers?status=SHUTOFF', { token: member.token });
    expect(r.json().servers).toEqual([]);
    r = await c.nova('GET', '/servers?status=BOGUS', { token: member.token });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/servers?sort_key=display_name&sort_dir=asc&limit=2', { token: member.token });
    const page1 = r.json();
    expect(page1.servers).toHaveLength(2);
    expect(page1.servers_links[0].rel).toBe('next');
    const next = new URL(page1.servers_links[0].href);
    r = await c.nova('GET', `/servers?${next.searchParams.toString()}`, { token: member.token });
    const names = [...page1.servers, ...r.json().servers].map((s: { name: string }) => s.name);
    expect(names).toEqual([...names].sort());
    expect(new Set(names).size).toBe(names.length);
    r = await c.nova('GET', '/servers?marker=00000000-0000-0000-0000-000000000000', { token: member.token });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/servers?limit=abc', { token: member.token });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', `/servers?changes-since=${new Date(Date.now() + 3600_000).toISOString()}`, {
      token: member.token,
    });
    expect(r.json().servers).toEqual([]);
    r = await c.nova('GET', '/servers?changes-since=garbage', { token: member.token });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/servers?unknown_filter=1', { token: member.token });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/servers?unknown_filter=1', { token: member.token, mv: '2.74' });
    expect(r.statusCode).toBe(200);
    for (const id of ids)
      expect((await c.nova('DELETE', `/servers/${id}`, { token: member.token })).statusCode).toBe(204);
    for (const id of ids) await c.waitFor(id, 'DELETED', member.token);
    r = await c.nova('GET', `/servers/${ids[0]}`, { token: member.token });
    expect(r.statusCode).toBe(404);
  });

  it('updates, metadata and tags', async () => {
    const s = await c.boot(member.token, { name: 'upd' });
    let r = await c.nova('PUT', `/servers/${s.id}`, {
      token: member.token,
      body: { server: { name: 'renamed', description: 'd2' } },
    });
    expect(r.json().server).toMatchObject({ name: 'renamed', description: 'd2' });
    r = await c.nova('PUT', `/servers/${s.id}`, { token: member.token, body: { server: { flavor: 1 } } });
    expect(r.statusCode).toBe(400);
    r = await c.nova('PUT', `/servers/${s.id}`, { token: reader.token, body: { server: { name: 'r' } } });
    expect(r.statusCode).toBe(404);
    r = await c.nova('POST', `/servers/${s.id}/metadata`, {
      token: member.token,
      body: { metadata: { a: '1' } },
    });
    expect(r.json().metadata).toEqual({ a: '1' });
    r = await c.nova('PUT', `/servers/${s.id}/metadata/b`, {
      token: member.token,
      body: { meta: { b: '2' } },
    });
    expect(r.json().meta).toEqual({ b: '2' });
    r = await c.nova('PUT', `/servers/${s.id}/metadata/b`, {
      token: member.token,
      body: { meta: { c: '2' } },
    });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', `/servers/${s.id}/metadata`, { token: member.token });
    expect(r.json().metadata).toEqual({ a: '1', b: '2' });
    r = await c.nova('DELETE', `/servers/${s.id}/metadata/a`, { token: member.token });
    expect(r.statusCode).toBe(204);
    r = await c.nova('GET', `/servers/${s.id}/metadata/a`, { token: member.token });
    expect(r.statusCode).toBe(404);
    const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    r = await c.nova('PUT', `/servers/${s.id}/metadata`, { token: member.token, body: { metadata: many } });
    expect(r.statusCode).toBe(403);
    r = await c.nova('PUT', `/servers/${s.id}/tags/t1`, { token: member.token });
    expect(r.statusCode).toBe(201);
    r = await c.nova('GET', `/servers/${s.id}/tags/t1`, { token: member.token });
    expect(r.statusCode).toBe(204);
    r = await c.nova('PUT', `/servers/${s.id}/tags`, { token: member.token, body: { tags: ['x', 'y'] } });
    expect(r.json().tags).toEqual(['x', 'y']);
    r = await c.nova('GET', `/servers/${s.id}/tags`, { token: member.token, mv: '2.25' });
    expect(r.statusCode).toBe(404);
    r = await c.nova('DELETE', `/servers/${s.id}/tags/zz`, { token: member.token });
    expect(r.statusCode).toBe(404);
    r = await c.nova('DELETE', `/servers/${s.id}/tags`, { token: member.token });
    expect(r.statusCode).toBe(204);
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
  });

  it('server actions follow Nova state rules and record instance actions', async () => {
    const s = await c.boot(member.token, { name: 'act' });
    const act = (body: unknown, token = member.token, mv?: string) =>
      c.nova('POST', `/servers/${s.id}/action`, { token, body, mv });
    expect((await act({ unpause: null })).statusCode).toBe(409);
    expect((await act({ 'os-start': null })).json().conflictingRequest.message).toBe(
      `Cannot 'os-start' instance ${s.id} while it is in vm_state active`,
    );
    expect((await act({ reboot: { type: 'WARM' } })).statusCode).toBe(400);
    expect((await act({ reboot: {} })).statusCode).toBe(400);
    expect((await act({ bogus: null })).statusCode).toBe(400);
    expect((await act({ pause: null, unpause: null })).statusCode).toBe(400);
    expect((await act({ 'os-stop': null }, reader.token)).statusCode).toBe(404);
    const steps: [unknown, string][] = [
      [{ reboot: { type: 'SOFT' } }, 'ACTIVE'],
      [{ 'os-stop': null }, 'SHUTOFF'],
      [{ reboot: { type: 'HARD' } }, 'ACTIVE'],
      [{ pause: null }, 'PAUSED'],
      [{ unpause: null }, 'ACTIVE'],
      [{ suspend: null }, 'SUSPENDED'],
      [{ resume: null }, 'ACTIVE'],
      [{ rescue: null }, 'RESCUE'],
      [{ unrescue: null }, 'ACTIVE'],
      [{ resize: { flavorRef: '2' } }, 'VERIFY_RESIZE'],
      [{ revertResize: null }, 'ACTIVE'],
      [{ resize: { flavorRef: '2' } }, 'VERIFY_RESIZE'],
      [{ confirmResize: null }, 'ACTIVE'],
      [{ rebuild: { imageRef: image, name: 'act2' } }, 'ACTIVE'],
      [{ shelve: null }, 'SHELVED_OFFLOADED'],
      [{ unshelve: null }, 'ACTIVE'],
      [{ 'os-stop': null }, 'SHUTOFF'],
      [{ 'os-start': null }, 'ACTIVE'],
    ];
    for (const [body, status] of steps) {
      const r = await act(body);
      expect(r.statusCode, `${JSON.stringify(body)}: ${r.body}`).toBeLessThan(300);
      const after = await c.waitFor(s.id, status, member.token);
      expect(after.status).toBe(status);
    }
    let r = await c.nova('GET', `/servers/${s.id}`, { token: member.token });
    expect(r.json().server.flavor.original_name).toBe('m1.small');
    expect(r.json().server.name).toBe('act2');
    // pause while paused: 409; actions while a task runs: 409
    await act({ pause: null });
    await c.waitFor(s.id, 'PAUSED', member.token);
    expect((await act({ pause: null })).statusCode).toBe(409);
    expect((await act({ 'os-stop': null })).statusCode).toBe(409);
    await act({ unpause: null });
    await c.waitFor(s.id, 'ACTIVE', member.token);
    // lock: the owner is refused, the admin is not
    expect((await act({ lock: { locked_reason: 'maintenance' } })).statusCode).toBe(202);
    r = await c.nova('GET', `/servers/${s.id}`, { token: member.token });
    expect(r.json().server).toMatchObject({ locked: true, locked_reason: 'maintenance' });
    expect((await act({ 'os-stop': null })).json().conflictingRequest.message).toContain('is locked');
    expect((await c.nova('DELETE', `/servers/${s.id}`, { token: member.token })).statusCode).toBe(409);
    expect((await act({ unlock: null })).statusCode).toBe(202);
    // snapshot → the image service
    r = await act({ createImage: { name: 'snap', metadata: { purpose: 'test' } } });
    expect(r.statusCode).toBe(202);
    const imageId = r.json().image_id;
    await c.waitFor(s.id, 'ACTIVE', member.token);
    const img = await c.req('GET', `/image/v2/images/${imageId}`, { token: member.token });
    expect(img.json()).toMatchObject({
      name: 'snap',
      status: 'active',
      owner: member.projectId,
      purpose: 'test',
      image_type: 'snapshot',
      instance_uuid: s.id,
    });
    // shelve snapshots into "<name>-shelved"; unshelve boots from it and deletes it
    r = await act({ shelve: null });
    expect(r.statusCode).toBe(202);
    await c.waitFor(s.id, 'SHELVED_OFFLOADED', member.token);
    let shelved = await c.req('GET', '/image/v2/images?name=act2-shelved', { token: member.token });
    expect(shelved.json().images).toHaveLength(1);
    expect(shelved.json().images[0].status).toBe('active');
    r = await act({ unshelve: null });
    await c.waitFor(s.id, 'ACTIVE', member.token);
    shelved = await c.req('GET', '/image/v2/images?name=act2-shelved', { token: member.token });
    expect(shelved.json().images).toHaveLength(0);
    expect((await c.nova('GET', `/servers/${s.id}`, { token: member.token })).json().server.image.id).toBe(
      image,
    );
    // reset state (admin only)
    expect((await act({ 'os-resetState': { state: 'error' } })).statusCode).toBe(403);
    expect((await act({ 'os-resetState': { state: 'error' } }, c.adminToken)).statusCode).toBe(202);
    r = await c.nova('GET', `/servers/${s.id}`, { token: member.token });
    expect(r.json().server.status).toBe('ERROR');
    expect((await act({ 'os-resetState': { state: 'active' } }, c.adminToken)).statusCode).toBe(202);
    // instance actions
    r = await c.nova('GET', `/servers/${s.id}/os-instance-actions`, { token: member.token });
    const actions = r.json().instanceActions.map((a: { action: string }) => a.action);
    for (const a of [
      'create',
      'reboot',
      'stop',
      'start',
      'pause',
      'unpause',
      'suspend',
      'resume',
      'rescue',
      'unrescue',
      'resize',
      'revertResize',
      'confirmResize',
      'rebuild',
      'shelve',
      'unshelve',
      'lock',
      'unlock',
      'createImage',
    ])
      expect(actions, a).toContain(a);
    const createReq = r
      .json()
      .instanceActions.find((a: { action: string }) => a.action === 'create').request_id;
    r = await c.nova('GET', `/servers/${s.id}/os-instance-actions/${createReq}`, { token: member.token });
    expect(r.json().instanceAction.events[0]).toMatchObject({
      event: 'compute__do_build_and_run_instance',
      result: 'Success',
    });
    expect(r.json().instanceAction.events[0].traceback).toBeUndefined();
    r = await c.nova('GET', `/servers/${s.id}/os-instance-actions/${createReq}`);
    expect(r.json().instanceAction.events[0].host).toBeTruthy();
    // force delete
    expect((await act({ forceDelete: null })).statusCode).toBe(202);
    await c.waitFor(s.id, 'DELETED', member.token);
  });

  it('a failing spawn (fake_fail) ends in ERROR with a fault; delete still works', async () => {
    const s = await c.boot(member.token, { name: 'boom', metadata: { fake_fail: 'spawn' } });
    expect(s.status).toBe('ERROR');
    expect(s.fault).toMatchObject({
      code: 500,
      message: expect.stringContaining('spawn failed as configured'),
    });
    expect(s.fault.details).toBeUndefined();
    const adm = await c.nova('GET', `/servers/${s.id}`);
    expect(adm.json().server.fault.details).toBeDefined();
    expect((await c.nova('DELETE', `/servers/${s.id}`, { token: member.token })).statusCode).toBe(204);
    await c.waitFor(s.id, 'DELETED', member.token);
  });

  it('a boot that cannot be placed ends in ERROR with "No valid host"', async () => {
    await c.nova('POST', '/flavors', {
      body: { flavor: { name: 'huge', ram: 10_000_000, vcpus: 1, disk: 1, id: 'huge' } },
    });
    await c.nova('PUT', `/os-quota-sets/${member.projectId}`, { body: { quota_set: { ram: -1 } } });
    const s = await c.boot(member.token, { name: 'nohost', flavorRef: 'huge' });
    expect(s.status).toBe('ERROR');
    expect(s.fault.message).toBe('No valid host was found. There are not enough hosts available.');
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
    await c.nova('DELETE', `/os-quota-sets/${member.projectId}`);
  });
});

describe('limits, quotas, infrastructure', () => {
  it('limits and quota sets', async () => {
    let r = await c.nova('GET', '/limits', { token: other.token });
    expect(r.json().limits.absolute).toMatchObject({
      maxTotalInstances: 10,
      maxTotalCores: 20,
      maxTotalRAMSize: 51200,
      totalInstancesUsed: 0,
    });
    expect(r.json().limits.absolute.maxSecurityGroups).toBeUndefined();
    r = await c.nova('GET', '/limits', { token: other.token, mv: '2.1' });
    expect(r.json().limits.absolute.maxSecurityGroups).toBe(10);
    r = await c.nova('GET', `/os-quota-sets/${other.projectId}`, { token: other.token });
    expect(r.json().quota_set).toEqual({
      id: other.projectId,
      instances: 10,
      cores: 20,
      ram: 51200,
      key_pairs: 100,
      metadata_items: 128,
      server_groups: 10,
      server_group_members: 10,
    });
    r = await c.nova('GET', `/os-quota-sets/${other.projectId}`, { token: member.token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('PUT', `/os-quota-sets/${other.projectId}`, {
      token: other.token,
      body: { quota_set: { instances: 50 } },
    });
    expect(r.statusCode).toBe(403);
    r = await c.nova('PUT', `/os-quota-sets/${other.projectId}`, {
      body: { quota_set: { instances: 3, cores: 'x' } },
    });
    expect(r.statusCode).toBe(400);
    r = await c.nova('PUT', `/os-quota-sets/${other.projectId}`, { body: { quota_set: { instances: 3 } } });
    expect(r.json().quota_set.instances).toBe(3);
    r = await c.nova('GET', `/os-quota-sets/${other.projectId}/detail`, { token: other.token });
    expect(r.json().quota_set.instances).toEqual({ limit: 3, in_use: 0, reserved: 0 });
    r = await c.nova('GET', `/os-quota-sets/${other.projectId}/defaults`, { token: other.token });
    expect(r.json().quota_set.instances).toBe(10);
    r = await c.nova('PUT', '/os-quota-class-sets/default', { body: { quota_class_set: { key_pairs: 7 } } });
    expect(r.json().quota_class_set.key_pairs).toBe(7);
    r = await c.nova('GET', '/os-quota-class-sets/default');
    expect(r.json().quota_class_set).toMatchObject({ id: 'default', key_pairs: 7 });
    await c.nova('PUT', '/os-quota-class-sets/default', { body: { quota_class_set: { key_pairs: 100 } } });
    r = await c.nova('DELETE', `/os-quota-sets/${other.projectId}`);
    expect(r.statusCode).toBe(202);
  });

  it('instance quota is enforced with overLimit-style 403 and server create honours max_count', async () => {
    await c.nova('PUT', `/os-quota-sets/${other.projectId}`, { body: { quota_set: { instances: 2 } } });
    let r = await c.nova('POST', '/servers', {
      token: other.token,
      body: { server: { name: 'm', imageRef: image, flavorRef: '1', networks: 'none', min_count: 3 } },
    });
    expect(r.statusCode).toBe(403);
    expect(r.json().forbidden.message).toMatch(
      /^Quota exceeded for instances: Requested 3, but already used 0 of 2 instances/,
    );
    r = await c.nova('POST', '/servers', {
      token: other.token,
      body: {
        server: {
          name: 'm',
          imageRef: image,
          flavorRef: '1',
          networks: 'none',
          min_count: 1,
          max_count: 5,
          return_reservation_id: true,
        },
      },
    });
    expect(r.json().reservation_id).toMatch(/^r-/);
    await c.compute.settle();
    r = await c.nova('GET', `/servers/detail?reservation_id=${r.json().reservation_id}`, {
      token: other.token,
    });
    expect(
      r
        .json()
        .servers.map((s: { name: string }) => s.name)
        .sort(),
    ).toEqual(['m-1', 'm-2']);
    for (const s of r.json().servers) await c.nova('DELETE', `/servers/${s.id}`, { token: other.token });
    await c.nova('DELETE', `/os-quota-sets/${other.projectId}`);
  });

  it('availability zones, hypervisors, services', async () => {
    let r = await c.nova('GET', '/os-availability-zone', { token: member.token });
    expect(r.json().availabilityZoneInfo).toEqual([
      { zoneName: 'nova', zoneState: { available: true }, hosts: null },
    ]);
    r = await c.nova('GET', '/os-availability-zone/detail', { token: member.token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('GET', '/os-availability-zone/detail');
    expect(r.json().availabilityZoneInfo.map((z: { zoneName: string }) => z.zoneName)).toEqual([
      'internal',
      'nova',
    ]);
    r = await c.nova('GET', '/os-hypervisors', { token: member.token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('GET', '/os-hypervisors/detail');
    const h = r.json().hypervisors[0];
    expect(h).toMatchObject({ hypervisor_type: 'fake', state: 'up', status: 'enabled', vcpus: 16 });
    expect(h.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof h.cpu_info).toBe('object');
    r = await c.nova('GET', '/os-hypervisors/detail', { mv: '2.1' });
    expect(typeof r.json().hypervisors[0].id).toBe('number');
    expect(typeof r.json().hypervisors[0].cpu_info).toBe('string');
    r = await c.nova('GET', `/os-hypervisors/${h.id}?with_servers=true`);
    expect(r.json().hypervisor.servers).toBeDefined();
    // pattern search (microversions before 2.53)
    const host = h.hypervisor_hostname as string;
    r = await c.nova('GET', `/os-hypervisors/${host.slice(0, 3)}/search`, { mv: '2.1' });
    expect(r.json().hypervisors.map((x: { hypervisor_hostname: string }) => x.hypervisor_hostname)).toEqual([
      host,
    ]);
    r = await c.nova('GET', `/os-hypervisors/${host.slice(0, 3)}/servers`, { mv: '2.1' });
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/os-hypervisors/no-such-host/search', { mv: '2.1' });
    expect(r.statusCode).toBe(404);
    expect(r.json().itemNotFound.message).toMatch(/No hypervisor matching/);
    r = await c.nova('GET', '/os-hypervisors/statistics');
    expect(r.json().hypervisor_statistics).toMatchObject({ count: 1, vcpus: 16 });
    r = await c.nova('GET', '/os-services');
    const svc = r.json().services[0];
    expect(svc).toMatchObject({
      binary: 'nova-compute',
      zone: 'nova',
      status: 'enabled',
      state: 'up',
      forced_down: false,
    });
    // A disabled compute service is filtered out by the scheduler.
    r = await c.nova('PUT', `/os-services/${svc.id}`, {
      body: { status: 'disabled', disabled_reason: 'maint' },
    });
    expect(r.json().service).toMatchObject({ status: 'disabled', disabled_reason: 'maint' });
    const s = await c.boot(member.token, { name: 'disabled-host' });
    expect(s.status).toBe('ERROR');
    expect(s.fault.message).toContain('No valid host');
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
    await c.nova('PUT', `/os-services/${svc.id}`, { body: { status: 'enabled' } });
  });

  it('aggregates define availability zones the scheduler honours', async () => {
    let r = await c.nova('POST', '/os-aggregates', {
      body: { aggregate: { name: 'agg1', availability_zone: 'az1' } },
    });
    expect(r.statusCode).toBe(200);
    const agg = r.json().aggregate;
    expect(agg.uuid).toBeTruthy();
    r = await c.nova('POST', '/os-aggregates', { body: { aggregate: { name: 'agg1' } } });
    expect(r.statusCode).toBe(409);
    const host = (await c.nova('GET', '/os-services')).json().services[0].host;
    r = await c.nova('POST', `/os-aggregates/${agg.id}/action`, { body: { add_host: { host } } });
    expect(r.json().aggregate.hosts).toEqual([host]);
    r = await c.nova('POST', `/os-aggregates/${agg.id}/action`, {
      body: { set_metadata: { metadata: { ssd: 'true' } } },
    });
    expect(r.json().aggregate.metadata).toEqual({ ssd: 'true', availability_zone: 'az1' });
    r = await c.nova('GET', '/os-availability-zone', { token: member.token });
    expect(r.json().availabilityZoneInfo[0].zoneName).toBe('az1');
    const s = await c.boot(member.token, { name: 'in-az1', availability_zone: 'az1' });
    expect(s).toMatchObject({ status: 'ACTIVE', 'OS-EXT-AZ:availability_zone': 'az1' });
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
    await c.waitFor(s.id, 'DELETED', member.token);
    r = await c.nova('DELETE', `/os-aggregates/${agg.id}`);
    expect(r.statusCode).toBe(400);
    await c.nova('POST', `/os-aggregates/${agg.id}/action`, { body: { remove_host: { host } } });
    r = await c.nova('DELETE', `/os-aggregates/${agg.id}`);
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/os-aggregates', { token: member.token });
    expect(r.statusCode).toBe(403);
  });

  it('server groups: anti-affinity on one host allows one member; affinity allows many', async () => {
    let r = await c.nova('POST', '/os-server-groups', {
      token: member.token,
      body: { server_group: { name: 'anti', policy: 'anti-affinity' } },
    });
    expect(r.statusCode).toBe(200);
    const anti = r.json().server_group;
    expect(anti).toMatchObject({ name: 'anti', policy: 'anti-affinity', rules: {}, members: [] });
    r = await c.nova('POST', '/os-server-groups', {
      token: member.token,
      mv: '2.1',
      body: { server_group: { name: 'aff', policies: ['affinity'] } },
    });
    const aff = r.json().server_group;
    expect(aff.policies).toEqual(['affinity']);
    r = await c.nova('POST', '/os-server-groups', {
      token: member.token,
      body: { server_group: { name: 'bad', policy: 'sideways' } },
    });
    expect(r.statusCode).toBe(400);
    const boot = async (group: string) => {
      const b = await c.nova('POST', '/servers', {
        token: member.token,
        body: {
          server: { name: 'g', imageRef: image, flavorRef: '1', networks: 'none' },
          'os:scheduler_hints': { group },
        },
      });
      expect(b.statusCode).toBe(202);
      return c.waitFor(b.json().server.id, ['ACTIVE', 'ERROR'], member.token);
    };
    const a1 = await boot(anti.id);
    const a2 = await boot(anti.id);
    expect(a1.status).toBe('ACTIVE');
    expect(a2.status).toBe('ERROR');
    expect(a2.fault.message).toContain('No valid host');
    const f1 = await boot(aff.id);
    const f2 = await boot(aff.id);
    expect([f1.status, f2.status]).toEqual(['ACTIVE', 'ACTIVE']);
    r = await c.nova('GET', `/os-server-groups/${aff.id}`, { token: member.token });
    expect(r.json().server_group.members.sort()).toEqual([f1.id, f2.id].sort());
    r = await c.nova('GET', `/servers/${f1.id}`, { token: member.token });
    expect(r.json().server.server_groups).toEqual([aff.id]);
    r = await c.nova('GET', `/os-server-groups/${aff.id}`, { token: other.token });
    expect(r.statusCode).toBe(404);
    for (const s of [a1, a2, f1, f2]) await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
    r = await c.nova('DELETE', `/os-server-groups/${anti.id}`, { token: member.token });
    expect(r.statusCode).toBe(204);
  });

  it('simple tenant usage and migrations', async () => {
    let r = await c.nova('GET', `/os-simple-tenant-usage/${member.projectId}`, { token: member.token });
    expect(r.statusCode).toBe(200);
    expect(r.json().tenant_usage.tenant_id).toBe(member.projectId);
    expect(r.json().tenant_usage.server_usages.length).toBeGreaterThan(0);
    r = await c.nova('GET', '/os-simple-tenant-usage', { token: member.token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('GET', '/os-simple-tenant-usage?detailed=1');
    expect(r.json().tenant_usages.length).toBeGreaterThan(0);
    r = await c.nova('GET', '/os-simple-tenant-usage?limit=1');
    expect(r.json().tenant_usages).toHaveLength(1);
    expect(r.json().tenant_usages_links[0].href).toContain('marker=');
    r = await c.nova('GET', `/os-simple-tenant-usage/${member.projectId}?start=garbage`, {
      token: member.token,
    });
    expect(r.statusCode).toBe(400);
    r = await c.nova('GET', '/os-migrations');
    expect(
      r
        .json()
        .migrations.some((m: { migration_type: string; status: string }) => m.migration_type === 'resize'),
    ).toBe(true);
    r = await c.nova('GET', '/os-migrations', { token: member.token });
    expect(r.statusCode).toBe(403);
  });
});

describe('personas and host liveness', () => {
  it("a project reader sees the project's servers but cannot change them", async () => {
    let r = await c.req('POST', '/identity/v3/users', {
      token: c.adminToken,
      body: { user: { name: 'p1-reader', password: 'pw-reader-1' } },
    });
    const uid = r.json().user.id;
    r = await c.req('GET', '/identity/v3/roles?name=reader', { token: c.adminToken });
    const rid = r.json().roles[0].id;
    r = await c.req('PUT', `/identity/v3/projects/${member.projectId}/users/${uid}/roles/${rid}`, {
      token: c.adminToken,
    });
    expect(r.statusCode).toBe(204);
    const token = await c.token('p1-reader', 'pw-reader-1', 'p1');
    const s = await c.boot(member.token, { name: 'read-me' });
    r = await c.nova('GET', `/servers/${s.id}`, { token });
    expect(r.statusCode).toBe(200);
    r = await c.nova('GET', '/servers/detail', { token });
    expect(r.json().servers.map((x: { id: string }) => x.id)).toContain(s.id);
    r = await c.nova('POST', `/servers/${s.id}/action`, { token, body: { 'os-stop': null } });
    expect(r.statusCode).toBe(403);
    expect(r.json().forbidden.message).toContain('os_compute_api:servers:stop');
    r = await c.nova('DELETE', `/servers/${s.id}`, { token });
    expect(r.statusCode).toBe(403);
    r = await c.nova('POST', '/servers', {
      token,
      body: { server: { name: 'x', imageRef: image, flavorRef: '1', networks: 'none' } },
    });
    expect(r.statusCode).toBe(403);
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
  });

  it('a forced-down compute service is down everywhere and never chosen', async () => {
    const svc = (await c.nova('GET', '/os-services')).json().services[0];
    let r = await c.nova('PUT', `/os-services/${svc.id}`, { body: { forced_down: true } });
    expect(r.json().service).toMatchObject({ forced_down: true, state: 'down' });
    r = await c.nova('GET', '/os-hypervisors');
    expect(r.json().hypervisors[0].state).toBe('down');
    r = await c.nova('GET', '/os-availability-zone', { token: member.token });
    expect(r.json().availabilityZoneInfo[0].zoneState.available).toBe(false);
    const s = await c.boot(member.token, { name: 'down' });
    expect(s.fault.message).toContain('No valid host');
    r = await c.nova('GET', `/servers/${s.id}`);
    expect(r.json().server.host_status).toBe('');
    await c.nova('DELETE', `/servers/${s.id}`, { token: member.token });
    await c.nova('PUT', `/os-services/${svc.id}`, { body: { forced_down: false } });
  });
});
