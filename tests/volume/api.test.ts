/** Block storage (Cinder v3) in-process: API shapes, statuses, quotas, policy, bad input — fake volume driver. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

let cloud: TestCloud;
let alice: { projectId: string; token: string };
let bob: { projectId: string; token: string };
let reader: { token: string };
const V = '/volume/v3';

const req = (method: string, url: string, token: string, body?: unknown, headers?: Record<string, string>) =>
  cloud.req(method, url, { token, body, headers });

async function waitVolume(
  token: string,
  id: string,
  until: (s: string) => boolean = (s) => s !== 'creating',
) {
  for (let i = 0; i < 200; i++) {
    const r = await req('GET', `${V}/volumes/${id}`, token);
    if (r.statusCode === 404) return undefined;
    const v = r.json().volume;
    if (until(v.status)) return v;
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error(`volume ${id} did not settle`);
}

async function createVolume(token: string, body: Record<string, unknown>) {
  const r = await req('POST', `${V}/volumes`, token, { volume: body });
  expect(r.statusCode, r.body).toBe(202);
  return waitVolume(token, r.json().volume.id);
}

beforeAll(async () => {
  cloud = await startTestCloud({ env: { STACKBOX_VOLUME_DRIVER: 'fake' } });
  alice = await cloud.projectUser('vol-alice', 'alice');
  bob = await cloud.projectUser('vol-bob', 'bob');
  const r = await cloud.projectUser('vol-reader', 'rita', 'reader');
  // the reader reads alice's project
  const roles = await cloud.req('GET', '/identity/v3/roles?name=reader', { token: cloud.adminToken });
  await cloud.req(
    'PUT',
    `/identity/v3/projects/${alice.projectId}/users/${r.userId}/roles/${roles.json().roles[0].id}`,
    { token: cloud.adminToken },
  );
  reader = { token: await cloud.token('rita', r.password, 'vol-alice') };
});
afterAll(async () => cloud?.close());

describe('discovery and microversions', () => {
  it('serves versions without a token, both URL forms, and echoes the microversion', async () => {
    let r = await cloud.req('GET', '/volume/');
    expect(r.statusCode).toBe(300);
    expect(r.json().versions[0]).toMatchObject({ id: 'v3.0', version: '3.70', min_version: '3.0' });
    r = await cloud.req('GET', `${V}/`);
    expect(r.statusCode).toBe(200);
    r = await req('GET', `${V}/${alice.projectId}/volumes`, alice.token, undefined, {
      'openstack-api-version': 'volume 3.50',
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers['openstack-api-version']).toBe('volume 3.50');
    r = await req('GET', `${V}/volumes`, alice.token, undefined, { 'openstack-api-version': 'volume 3.99' });
    expect(r.statusCode).toBe(406);
    expect(r.json().computeFault ?? r.json().notAcceptable ?? r.json()).toBeTruthy();
    r = await req('GET', `${V}/volumes`, alice.token, undefined, { 'openstack-api-version': 'volume 3.x' });
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.code).toBe(400);
    r = await req('GET', `${V}/${bob.projectId}/volumes`, alice.token);
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toBe('Malformed request url');
  });
  it('is in the catalog as block-storage, volumev3 and volume', async () => {
    const r = await cloud.req('GET', '/identity/v3/auth/catalog', { token: alice.token });
    const types = r.json().catalog.map((s: { type: string }) => s.type);
    expect(types).toEqual(expect.arrayContaining(['block-storage', 'volumev3', 'volume']));
  });
  it('lists an availability zone, limits, the default type', async () => {
    let r = await req('GET', `${V}/os-availability-zone`, alice.token);
    expect(r.json().availabilityZoneInfo).toEqual([{ zoneName: 'nova', zoneState: { available: true } }]);
    r = await req('GET', `${V}/limits`, alice.token);
    expect(r.json().limits.absolute).toMatchObject({ maxTotalVolumes: 10, totalVolumesUsed: 0 });
    r = await req('GET', `${V}/types/default`, alice.token);
    expect(r.json().volume_type.name).toBe('__DEFAULT__');
    r = await req('GET', `${V}/os-services`, cloud.adminToken);
    expect(r.json().services.map((s: { binary: string }) => s.binary)).toEqual([
      'cinder-scheduler',
      'cinder-volume',
    ]);
    r = await req('GET', `${V}/os-services`, alice.token);
    expect(r.statusCode).toBe(403);
  });
});

describe('volumes', () => {
  it('creates, shows, lists, updates, sets metadata and deletes', async () => {
    const v = await createVolume(alice.token, { size: 1, name: 'v1', metadata: { a: '1' } });
    expect(v).toMatchObject({
      status: 'available',
      size: 1,
      name: 'v1',
      bootable: 'false',
      volume_type: '__DEFAULT__',
      metadata: { a: '1' },
    });
    expect(v.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    let r = await req('GET', `${V}/volumes?name=v1`, alice.token);
    expect(r.json().volumes.map((x: { id: string }) => x.id)).toEqual([v.id]);
    r = await req('PUT', `${V}/volumes/${v.id}`, alice.token, { volume: { name: 'v1b', description: 'd' } });
    expect(r.json().volume).toMatchObject({ name: 'v1b', description: 'd' });
    r = await req('POST', `${V}/volumes/${v.id}/metadata`, alice.token, { metadata: { b: '2' } });
    expect(r.json().metadata).toEqual({ a: '1', b: '2' });
    r = await req('GET', `${V}/volumes/detail?metadata=${encodeURIComponent('{"b":"2"}')}`, alice.token);
    expect(r.json().volumes).toHaveLength(1);
    r = await req('DELETE', `${V}/volumes/${v.id}/metadata/a`, alice.token);
    expect(r.statusCode).toBe(200);
    r = await req('GET', `${V}/volumes/${v.id}/metadata/a`, alice.token);
    expect(r.statusCode).toBe(404);
    r = await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
    expect(r.statusCode).toBe(202);
    expect(await waitVolume(alice.token, v.id, () => false).catch(() => 'gone')).toBeUndefined();
  });

  it('pages with limit and marker, sorts, and counts (3.45)', async () => {
    const ids: string[] = [];
    for (const n of ['p1', 'p2', 'p3']) ids.push((await createVolume(bob.token, { size: 1, name: n })).id);
    let r = await req('GET', `${V}/volumes?limit=2&sort=name:asc`, bob.token);
    expect(r.json().volumes.map((x: { name: string }) => x.name)).toEqual(['p1', 'p2']);
    const next = r.json().volumes_links[0].href as string;
    expect(next).toContain(`marker=${ids[1]}`);
    r = await req('GET', `${V}/volumes?limit=2&sort=name:asc&marker=${ids[1]}`, bob.token);
    expect(r.json().volumes.map((x: { name: string }) => x.name)).toEqual(['p3']);
    r = await req('GET', `${V}/volumes/detail?with_count=true&limit=1`, bob.token, undefined, {
      'openstack-api-version': 'volume 3.45',
    });
    expect(r.json().count).toBe(3);
    r = await req('GET', `${V}/volumes/summary`, bob.token, undefined, {
      'openstack-api-version': 'volume 3.12',
    });
    expect(r.json()['volume-summary']).toMatchObject({ total_count: 3, total_size: 3 });
    r = await req('GET', `${V}/volumes?sort=bogus:asc`, bob.token);
    expect(r.statusCode).toBe(400);
    for (const id of ids) await req('DELETE', `${V}/volumes/${id}`, bob.token);
  });

  it('refuses bad input in Cinder fault bodies and changes nothing', async () => {
    for (const size of [0, -1]) {
      const r = await req('POST', `${V}/volumes`, alice.token, { volume: { size } });
      expect(r.statusCode).toBe(400);
      expect(r.json().badRequest.code).toBe(400);
    }
    let r = await req('POST', `${V}/volumes`, alice.token, {
      volume: { size: 1, availability_zone: 'nope' },
    });
    expect(r.statusCode).toBe(400);
    r = await req('POST', `${V}/volumes`, alice.token, { volume: { size: 1, volume_type: 'nope' } });
    expect(r.statusCode).toBe(404);
    expect(r.json().itemNotFound.message).toContain('nope');
    const v = await createVolume(alice.token, { size: 2 });
    r = await req('POST', `${V}/volumes/${v.id}/action`, alice.token, { 'os-extend': { new_size: 1 } });
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toContain('New size for extend must be greater than current size');
    r = await req('POST', `${V}/volumes/${v.id}/action`, alice.token, { 'os-extend': { new_size: 3 } });
    expect(r.statusCode).toBe(202);
    expect((await waitVolume(alice.token, v.id, (s) => s === 'available'))!.size).toBe(3);
    r = await req('GET', `${V}/volumes`, alice.token);
    expect(r.json().volumes).toHaveLength(1);
    await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
    await waitVolume(alice.token, v.id, () => false).catch(() => undefined);
  });

  it("hides another project's volume (404) and a reader cannot write (403)", async () => {
    const v = await createVolume(alice.token, { size: 1, name: 'private' });
    let r = await req('GET', `${V}/volumes/${v.id}`, bob.token);
    expect(r.statusCode).toBe(404);
    expect(r.json().itemNotFound).toEqual({ message: `Volume ${v.id} could not be found.`, code: 404 });
    r = await req('DELETE', `${V}/volumes/${v.id}`, bob.token);
    expect(r.statusCode).toBe(404);
    r = await req('GET', `${V}/volumes?all_tenants=1`, bob.token);
    expect(r.json().volumes).toEqual([]);
    r = await req('GET', `${V}/volumes/${v.id}`, reader.token);
    expect(r.statusCode).toBe(200);
    r = await req('PUT', `${V}/volumes/${v.id}`, reader.token, { volume: { name: 'x' } });
    expect(r.statusCode).toBe(403);
    expect(r.json().forbidden.code).toBe(403);
    r = await req('POST', `${V}/volumes`, reader.token, { volume: { size: 1 } });
    expect(r.statusCode).toBe(403);
    r = await req('GET', `${V}/volumes?all_tenants=1`, cloud.adminToken);
    expect(r.json().volumes.map((x: { id: string }) => x.id)).toContain(v.id);
    r = await req('POST', `${V}/volumes/${v.id}/action`, alice.token, {
      'os-reset_status': { status: 'error' },
    });
    expect(r.statusCode).toBe(403);
    r = await req('POST', `${V}/volumes/${v.id}/action`, cloud.adminToken, {
      'os-reset_status': { status: 'error' },
    });
    expect(r.statusCode).toBe(202);
    r = await req('POST', `${V}/volumes/${v.id}/action`, cloud.adminToken, { 'os-force_delete': {} });
    expect(r.statusCode).toBe(202);
    expect(await waitVolume(alice.token, v.id, () => false).catch(() => undefined)).toBeUndefined();
  });

  it('sets bootable and readonly flags', async () => {
    const v = await createVolume(alice.token, { size: 1 });
    let r = await req('POST', `${V}/volumes/${v.id}/action`, alice.token, {
      'os-set_bootable': { bootable: true },
    });
    expect(r.statusCode).toBe(200);
    r = await req('POST', `${V}/volumes/${v.id}/action`, alice.token, {
      'os-update_readonly_flag': { readonly: true },
    });
    expect(r.statusCode).toBe(202);
    r = await req('GET', `${V}/volumes/${v.id}`, alice.token);
    expect(r.json().volume.bootable).toBe('true');
    await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
  });
});

describe('attach: legacy actions and the attachments API', () => {
  it('walks reserve → initialize_connection → attach → begin_detaching → detach, and refuses delete in-use', async () => {
    const v = await createVolume(alice.token, { size: 1 });
    const act = (body: unknown) => req('POST', `${V}/volumes/${v.id}/action`, alice.token, body);
    expect((await act({ 'os-reserve': null })).statusCode).toBe(202);
    expect((await waitVolume(alice.token, v.id, () => true))!.status).toBe('attaching');
    let r = await act({ 'os-initialize_connection': { connector: { host: 'h1' } } });
    expect(r.statusCode).toBe(200);
    expect(r.json().connection_info).toMatchObject({
      driver_volume_type: 'file',
      data: { format: 'raw', serial: v.id },
    });
    r = await act({
      'os-attach': { instance_uuid: '11111111-2222-3333-4444-555555555555', mountpoint: '/dev/vdb' },
    });
    expect(r.statusCode).toBe(202);
    const inUse = await waitVolume(alice.token, v.id, () => true);
    expect(inUse!.status).toBe('in-use');
    expect(inUse!.attachments[0]).toMatchObject({
      server_id: '11111111-2222-3333-4444-555555555555',
      device: '/dev/vdb',
    });
    r = await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toMatch(/attached/);
    expect((await act({ 'os-begin_detaching': null })).statusCode).toBe(202);
    expect(
      (await act({ 'os-detach': { attachment_id: inUse!.attachments[0].attachment_id } })).statusCode,
    ).toBe(202);
    expect((await waitVolume(alice.token, v.id, () => true))!.status).toBe('available');
    await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
  });

  it('attachments API: create reserves, update connects, complete makes it in-use, delete frees it', async () => {
    const v = await createVolume(alice.token, { size: 1 });
    const h = { 'openstack-api-version': 'volume 3.44' };
    let r = await req(
      'POST',
      `${V}/attachments`,
      alice.token,
      { attachment: { volume_uuid: v.id, instance_uuid: '21111111-2222-3333-4444-555555555555' } },
      h,
    );
    expect(r.statusCode, r.body).toBe(200);
    const a = r.json().attachment;
    expect(a.status).toBe('reserved');
    expect((await waitVolume(alice.token, v.id, () => true))!.status).toBe('reserved');
    // a second attach of a non-multiattach volume loses
    r = await req(
      'POST',
      `${V}/attachments`,
      alice.token,
      { attachment: { volume_uuid: v.id, instance_uuid: '31111111-2222-3333-4444-555555555555' } },
      h,
    );
    expect(r.statusCode).toBe(400);
    r = await req(
      'PUT',
      `${V}/attachments/${a.id}`,
      alice.token,
      { attachment: { connector: { host: 'h1', mountpoint: '/dev/vdc' } } },
      h,
    );
    expect(r.statusCode).toBe(200);
    expect(r.json().attachment.connection_info.driver_volume_type).toBe('file');
    r = await req('POST', `${V}/attachments/${a.id}/action`, alice.token, { 'os-complete': null }, h);
    expect(r.statusCode).toBe(204);
    expect((await waitVolume(alice.token, v.id, () => true))!.status).toBe('in-use');
    r = await req('GET', `${V}/attachments?volume_id=${v.id}`, alice.token, undefined, h);
    expect(r.json().attachments).toHaveLength(1);
    r = await req('GET', `${V}/attachments/${a.id}`, bob.token, undefined, h);
    expect(r.statusCode).toBe(404);
    r = await req('DELETE', `${V}/attachments/${a.id}`, alice.token, undefined, h);
    expect(r.statusCode).toBe(200);
    expect((await waitVolume(alice.token, v.id, () => true))!.status).toBe('available');
    r = await req('GET', `${V}/attachments`, alice.token);
    expect(r.statusCode).toBe(404); // needs 3.27
    await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
  });
});

describe('snapshots, clones, revert', () => {
  it('snapshots a volume, makes volumes from the snapshot and the volume, and blocks delete with snapshots', async () => {
    const v = await createVolume(alice.token, { size: 1, name: 'src' });
    let r = await req('POST', `${V}/snapshots`, alice.token, { snapshot: { volume_id: v.id, name: 's1' } });
    expect(r.statusCode).toBe(202);
    const sid = r.json().snapshot.id;
    for (let i = 0; i < 100; i++) {
      r = await req('GET', `${V}/snapshots/${sid}`, alice.token);
      if (r.json().snapshot.status === 'available') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(r.json().snapshot).toMatchObject({
      status: 'available',
      size: 1,
      volume_id: v.id,
      'os-extended-snapshot-attributes:progress': '100%',
    });
    r = await req('DELETE', `${V}/volumes/${v.id}`, alice.token);
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toContain('dependent snapshots');
    const fromSnap = await createVolume(alice.token, { snapshot_id: sid, size: 2 });
    expect(fromSnap).toMatchObject({ status: 'available', size: 2, snapshot_id: sid });
    const clone = await createVolume(alice.token, { source_volid: v.id });
    expect(clone).toMatchObject({ status: 'available', size: 1, source_volid: v.id });
    r = await req(
      'POST',
      `${V}/volumes/${v.id}/action`,
      alice.token,
      { revert: { snapshot_id: sid } },
      { 'openstack-api-version': 'volume 3.40' },
    );
    expect(r.statusCode).toBe(202);
    expect((await waitVolume(alice.token, v.id, (s) => s === 'available'))!.status).toBe('available');
    r = await req('GET', `${V}/snapshots/detail`, bob.token);
    expect(r.json().snapshots).toEqual([]);
    r = await req('DELETE', `${V}/volumes/${v.id}?cascade=true`, alice.token);
    expect(r.statusCode).toBe(202);
    await waitVolume(alice.token, v.id, () => false).catch(() => undefined);
    // the copies outlive their sources
    expect((await waitVolume(alice.token, fromSnap!.id, () => true))!.status).toBe('available');
    for (const x of [fromSnap!.id, clone!.id]) await req('DELETE', `${V}/volumes/${x}`, alice.token);
  });
});

describe('volume types', () => {
  it('creates private types with extra specs and project access; refuses deleting the default', async () => {
    let r = await req('POST', `${V}/types`, alice.token, { volume_type: { name: 'gold' } });
    expect(r.statusCode).toBe(403);
    r = await req('POST', `${V}/types`, cloud.adminToken, {
      volume_type: { name: 'gold', 'os-volume-type-access:is_public': false, extra_specs: { tier: 'gold' } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const t = r.json().volume_type;
    expect(t).toMatchObject({ name: 'gold', is_public: false, extra_specs: { tier: 'gold' } });
    r = await req('POST', `${V}/volumes`, alice.token, { volume: { size: 1, volume_type: 'gold' } });
    expect(r.statusCode).toBe(404);
    r = await req('POST', `${V}/types/${t.id}/action`, cloud.adminToken, {
      addProjectAccess: { project: alice.projectId },
    });
    expect(r.statusCode).toBe(202);
    r = await req('GET', `${V}/types/${t.id}/os-volume-type-access`, cloud.adminToken);
    expect(r.json().volume_type_access).toEqual([{ volume_type_id: t.id, project_id: alice.projectId }]);
    r = await req('GET', `${V}/types`, alice.token);
    expect(
      r
        .json()
        .volume_types.map((x: { name: string }) => x.name)
        .sort(),
    ).toEqual(['__DEFAULT__', 'gold']);
    const v = await createVolume(alice.token, { size: 1, volume_type: 'gold' });
    expect(v!.volume_type).toBe('gold');
    r = await req('POST', `${V}/types/${t.id}/extra_specs`, cloud.adminToken, { extra_specs: { x: 'y' } });
    expect(r.json().extra_specs).toEqual({ x: 'y' });
    r = await req('DELETE', `${V}/types/${t.id}`, cloud.adminToken);
    expect(r.statusCode).toBe(400);
    const def = (await req('GET', `${V}/types/default`, cloud.adminToken)).json().volume_type;
    r = await req('DELETE', `${V}/types/${def.id}`, cloud.adminToken);
    expect(r.statusCode).toBe(400);
    expect(r.json().badRequest.message).toBe('Default volume type can not be deleted.');
    r = await req('POST', `${V}/volumes/${v!.id}/action`, alice.token, {
      'os-retype': { new_type: '__DEFAULT__' },
    });
    expect(r.statusCode).toBe(202);
    await req('DELETE', `${V}/volumes/${v!.id}`, alice.token);
    await waitVolume(alice.token, v!.id, () => false).catch(() => undefined);
    r = await req('DELETE', `${V}/types/${t.id}`, cloud.adminToken);
    expect(r.statusCode).toBe(202);
  });
});

describe('quotas', () => {
  it('concurrent creates against a quota are exact, and limits show usage', async () => {
    const p = await cloud.projectUser('vol-quota', 'quinn');
    let r = await req('PUT', `${V}/os-quota-sets/${p.projectId}`, cloud.adminToken, {
      quota_set: { volumes: 3, gigabytes: 100 },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().quota_set.volumes).toBe(3);
    r = await req('PUT', `${V}/os-quota-sets/${p.projectId}`, p.token, { quota_set: { volumes: 30 } });
    expect(r.statusCode).toBe(403);
    const results = await Promise.all(
      Array.from({ length: 8 }, () => req('POST', `${V}/volumes`, p.token, { volume: { size: 1 } })),
    );
    const codes = results.map((x) => x.statusCode).sort();
    expect(codes.filter((c) => c === 202)).toHaveLength(3);
    expect(codes.filter((c) => c === 413)).toHaveLength(5);
    const over = results.find((x) => x.statusCode === 413)!.json();
    expect(over.overLimit.message).toContain(
      "Maximum number of volumes allowed (3) exceeded for quota 'volumes'",
    );
    r = await req('POST', `${V}/volumes`, p.token, { volume: { size: 1000 } });
    expect(r.statusCode).toBe(413);
    r = await req('GET', `${V}/os-quota-sets/${p.projectId}?usage=true`, p.token);
    expect(r.json().quota_set.volumes).toMatchObject({ limit: 3, in_use: 3 });
    expect(r.json().quota_set.gigabytes).toMatchObject({ limit: 100, in_use: 3 });
    r = await req('GET', `${V}/os-quota-sets/${p.projectId}`, alice.token);
    expect(r.statusCode).toBe(403);
    r = await req('GET', `${V}/limits`, p.token);
    expect(r.json().limits.absolute).toMatchObject({
      maxTotalVolumes: 3,
      totalVolumesUsed: 3,
      totalGigabytesUsed: 3,
    });
    r = await req('GET', `${V}/os-quota-sets/${p.projectId}/defaults`, p.token);
    expect(r.json().quota_set.volumes).toBe(10);
    r = await req('PUT', `${V}/os-quota-class-sets/default`, cloud.adminToken, {
      quota_class_set: { snapshots: 20 },
    });
    expect(r.json().quota_class_set.snapshots).toBe(20);
  });
});

describe('transfers', () => {
  it('moves a volume to another project with the auth key', async () => {
    const v = await createVolume(alice.token, { size: 1, name: 'gift' });
    let r = await req('POST', `${V}/os-volume-transfer`, alice.token, {
      transfer: { volume_id: v!.id, name: 't1' },
    });
    expect(r.statusCode).toBe(202);
    const t = r.json().transfer;
    expect(t.auth_key).toMatch(/^[0-9a-f]{16}$/);
    expect((await waitVolume(alice.token, v!.id, () => true))!.status).toBe('awaiting-transfer');
    r = await req('GET', `${V}/os-volume-transfer/detail`, alice.token);
    expect(r.json().transfers.map((x: { id: string }) => x.id)).toEqual([t.id]);
    r = await req('POST', `${V}/os-volume-transfer/${t.id}/accept`, bob.token, {
      accept: { auth_key: 'wrong' },
    });
    expect(r.statusCode).toBe(400);
    r = await req('POST', `${V}/os-volume-transfer/${t.id}/accept`, bob.token, {
      accept: { auth_key: t.auth_key },
    });
    expect(r.statusCode).toBe(202);
    expect(r.json().transfer).toMatchObject({ id: t.id, volume_id: v!.id });
    r = await req('GET', `${V}/volumes/${v!.id}`, bob.token);
    expect(r.json().volume.status).toBe('available');
    r = await req('GET', `${V}/volumes/${v!.id}`, alice.token);
    expect(r.statusCode).toBe(404);
    await req('DELETE', `${V}/volumes/${v!.id}`, bob.token);
  });
});
