/** Glance v2 API in-process: every route, its failure paths, visibility and policy. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import {
  OCTET,
  PATCH20,
  PATCH21,
  createImage,
  fault,
  hasQemuImg,
  md5,
  qemuImage,
  sha512,
  upload,
  workDir,
} from './helpers.js';

let cloud: TestCloud;
let a: { projectId: string; token: string };
let b: { projectId: string; token: string };
let reader: { projectId: string; token: string };
const admin = () => cloud.adminToken;

beforeAll(async () => {
  cloud = await startTestCloud();
  a = await cloud.projectUser('img-a', 'img-a-user');
  b = await cloud.projectUser('img-b', 'img-b-user');
  reader = await cloud.projectUser('img-r', 'img-r-user', 'reader');
});
afterAll(async () => cloud?.close());

describe('versions, schemas, info', () => {
  it('GET /image is 300 with versions, /image/versions 200, no token needed', async () => {
    let r = await cloud.req('GET', '/image');
    expect(r.statusCode).toBe(300);
    const v = r.json().versions as { id: string; status: string; links: { href: string }[] }[];
    expect(v.find((x) => x.status === 'CURRENT')!.id).toBe('v2.17');
    expect(v.map((x) => x.id)).toContain('v2.0');
    expect(v[0]!.links[0]!.href).toMatch(/\/image\/v2\/$/);
    r = await cloud.req('GET', '/image/versions');
    expect(r.statusCode).toBe(200);
  });
  it('schemas and info need a token; 401 has WWW-Authenticate and a Glance fault', async () => {
    const r = await cloud.req('GET', '/image/v2/schemas/image');
    expect(r.statusCode).toBe(401);
    expect(r.headers['www-authenticate']).toBeTruthy();
    expect(fault(r).title).toBe('Unauthorized');
    for (const [path, name] of [
      ['image', 'image'],
      ['images', 'images'],
      ['member', 'member'],
      ['members', 'members'],
    ]) {
      const s = await cloud.req('GET', `/image/v2/schemas/${path}`, { token: a.token });
      expect(s.statusCode).toBe(200);
      expect(s.json().name).toBe(name);
    }
    const img = (await cloud.req('GET', '/image/v2/schemas/image', { token: a.token })).json();
    expect(img.additionalProperties).toEqual({ type: 'string' });
    expect(img.properties.disk_format.enum).toContain('qcow2');
    const imp = await cloud.req('GET', '/image/v2/info/import', { token: a.token });
    expect(imp.json()['import-methods'].value).toEqual(['glance-direct']);
    const st = await cloud.req('GET', '/image/v2/info/stores', { token: a.token });
    expect(st.json().stores).toEqual([expect.objectContaining({ id: 'file', default: 'true' })]);
    expect((await cloud.req('GET', '/image/v2/info/stores/detail', { token: a.token })).statusCode).toBe(403);
    const d = await cloud.req('GET', '/image/v2/info/stores/detail', { token: admin() });
    expect(d.json().stores[0].type).toBe('file');
  });
  it('wrong method is 405 with Allow; unknown path is a Glance 404', async () => {
    const r = await cloud.req('POST', '/image/v2/schemas/image', { token: a.token });
    expect(r.statusCode).toBe(405);
    expect(r.headers.allow).toBe('GET');
    expect((await cloud.req('PUT', '/image/v2/images', { token: a.token })).headers.allow).toBe('GET, POST');
    const n = await cloud.req('GET', '/image/v2/nothing', { token: a.token });
    expect(n.statusCode).toBe(404);
    expect(fault(n).code).toBe('404 Not Found');
  });
});

describe('create / show / delete', () => {
  it('creates a queued image with Glance fields and headers', async () => {
    const r = await cloud.req('POST', '/image/v2/images', {
      token: a.token,
      body: {
        name: 'c1',
        disk_format: 'qcow2',
        container_format: 'bare',
        tags: ['t2', 't1', 't1'],
        os_distro: 'debian',
        min_ram: 512,
      },
    });
    expect(r.statusCode).toBe(201);
    const img = r.json();
    expect(r.headers.location).toMatch(new RegExp(`/image/v2/images/${img.id}$`));
    expect(r.headers['openstack-image-import-methods']).toBe('glance-direct');
    expect(r.headers['openstack-image-store-ids']).toBe('file');
    expect(img).toMatchObject({
      name: 'c1',
      status: 'queued',
      visibility: 'shared',
      owner: a.projectId,
      protected: false,
      os_hidden: false,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_ram: 512,
      min_disk: 0,
      os_distro: 'debian',
      tags: ['t1', 't2'],
      self: `/v2/images/${img.id}`,
      file: `/v2/images/${img.id}/file`,
      schema: '/v2/schemas/image',
    });
    expect(img.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(img).not.toHaveProperty('locations');
    expect(img).not.toHaveProperty('direct_url');
    const s = await cloud.req('GET', `/image/v2/images/${img.id}`, { token: a.token });
    expect(s.json()).toEqual(img);
  });
  it('creates with a given id; a duplicate id is 409', async () => {
    const id = '11111111-2222-3333-4444-555555555555';
    await createImage(cloud, a.token, { id });
    const r = await cloud.req('POST', '/image/v2/images', { token: a.token, body: { id } });
    expect(r.statusCode).toBe(409);
  });
  it('rejects bad create bodies with Glance codes, never 500', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ disk_format: 'exe' }, 400, /does not match schema 'image': 'exe' is not one of/],
      [{ container_format: 'zip' }, 400, /is not one of/],
      [{ visibility: 'everyone' }, 400, /is not one of/],
      [{ name: 'x'.repeat(256) }, 400, /is too long/],
      [{ min_ram: '512' }, 400, /'512' is not of type 'integer'/],
      [{ min_disk: -1 }, 400, /Cannot be a negative value/],
      [{ protected: 'yes' }, 400, /is not of type 'boolean'/],
      [{ tags: 'a' }, 400, /is not of type 'array'/],
      [{ id: 'not-a-uuid' }, 400, /does not match/],
      [{ custom: 5 }, 400, /5 is not of type 'string'/],
      [{ ['k'.repeat(256)]: 'v' }, 400, /Custom property should not be greater than 255/],
      [[1, 2], 400, /is not of type 'object'/],
      [{ size: 5 }, 403, /Attribute 'size' is read-only/],
      [{ status: 'active' }, 403, /read-only/],
      [{ self: 'x' }, 403, /read-only/],
      [{ locations: [] }, 403, /reserved/],
      [{ deleted: 'x' }, 403, /Attribute 'deleted' is reserved/],
      [{ os_glance_foo: 'x' }, 403, /reserved/],
      [{ owner: b.projectId }, 403, /not permitted to create images owned by/],
      [{ visibility: 'public' }, 403, /publicize_image/],
    ];
    for (const [body, code, msg] of cases) {
      const r = await cloud.req('POST', '/image/v2/images', { token: a.token, body: body as object });
      expect(r.statusCode, JSON.stringify(body)).toBe(code);
      expect(fault(r).message).toMatch(msg);
    }
    let r = await cloud.req('POST', '/image/v2/images', {
      token: a.token,
      body: '{bad',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(400);
    expect(fault(r).message).toBe('Malformed JSON in request body.');
    r = await cloud.req('POST', '/image/v2/images', { token: a.token });
    expect(r.statusCode).toBe(400);
    expect(fault(r).message).toBe('Body expected in request.');
    // JSON is read whatever the content type, as Glance does
    r = await cloud.req('POST', '/image/v2/images', {
      token: a.token,
      body: '{"name":"plain"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.statusCode).toBe(201);
  });
  it('community is allowed to owners, public only to admins; a reader cannot create', async () => {
    expect((await createImage(cloud, a.token, { visibility: 'community' })).visibility).toBe('community');
    expect((await createImage(cloud, admin(), { visibility: 'public' })).visibility).toBe('public');
    const r = await cloud.req('POST', '/image/v2/images', { token: reader.token, body: {} });
    expect(r.statusCode).toBe(403);
    const o = await createImage(cloud, admin(), { owner: b.projectId });
    expect(o.owner).toBe(b.projectId);
  });
  it('show/delete of a missing or invisible image is 404; protected is 403; bytes go with the image', async () => {
    expect((await cloud.req('GET', '/image/v2/images/nope', { token: a.token })).statusCode).toBe(404);
    expect((await cloud.req('DELETE', '/image/v2/images/nope', { token: a.token })).statusCode).toBe(404);
    const priv = await createImage(cloud, a.token, { visibility: 'private' });
    const r = await cloud.req('GET', `/image/v2/images/${priv.id}`, { token: b.token });
    expect(r.statusCode).toBe(404);
    expect(fault(r).message).toBe(`No image found with ID ${priv.id}`);
    expect((await cloud.req('DELETE', `/image/v2/images/${priv.id}`, { token: b.token })).statusCode).toBe(
      404,
    );
    // a public image: others see it but may not delete it (403)
    const pub = await createImage(cloud, admin(), { visibility: 'public', protected: true });
    expect((await cloud.req('GET', `/image/v2/images/${pub.id}`, { token: b.token })).statusCode).toBe(200);
    expect((await cloud.req('DELETE', `/image/v2/images/${pub.id}`, { token: b.token })).statusCode).toBe(
      403,
    );
    let d = await cloud.req('DELETE', `/image/v2/images/${pub.id}`, { token: admin() });
    expect(d.statusCode).toBe(403);
    expect(fault(d).message).toBe(`Image ${pub.id} is protected and cannot be deleted.`);
    await cloud.req('PATCH', `/image/v2/images/${pub.id}`, {
      token: admin(),
      headers: PATCH21,
      body: [{ op: 'replace', path: '/protected', value: false }],
    });
    await upload(cloud, admin(), pub.id, Buffer.from('bytes'));
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(`${cloud.dataDir}/images`)).toContain(pub.id);
    d = await cloud.req('DELETE', `/image/v2/images/${pub.id}`, { token: admin() });
    expect(d.statusCode).toBe(204);
    expect(readdirSync(`${cloud.dataDir}/images`)).not.toContain(pub.id);
    expect((await cloud.req('GET', `/image/v2/images/${pub.id}`, { token: admin() })).statusCode).toBe(404);
  });
});

describe('JSON patch', () => {
  it('replace/add/remove with both media types', async () => {
    const img = await createImage(cloud, a.token, { name: 'p', foo: 'bar' });
    let r = await cloud.req('PATCH', `/image/v2/images/${img.id}`, {
      token: a.token,
      headers: PATCH21,
      body: [
        { op: 'replace', path: '/name', value: 'p2' },
        { op: 'add', path: '/os_distro', value: 'cirros' },
        { op: 'add', path: '/name', value: 'p3' },
        { op: 'replace', path: '/foo', value: 'baz' },
        { op: 'remove', path: '/foo' },
        { op: 'replace', path: '/tags', value: ['x', 'y'] },
        { op: 'replace', path: '/min_disk', value: 2 },
        { op: 'replace', path: '/visibility', value: 'private' },
        { op: 'add', path: '/a~1b', value: 'slash' },
      ],
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({
      name: 'p3',
      os_distro: 'cirros',
      tags: ['x', 'y'],
      min_disk: 2,
      visibility: 'private',
      'a/b': 'slash',
    });
    expect(r.json()).not.toHaveProperty('foo');
    // draft 4 (v2.0): {"add": "/path", "value": ...}; add of an existing property is a 409 there
    r = await cloud.req('PATCH', `/image/v2/images/${img.id}`, {
      token: a.token,
      headers: PATCH20,
      body: [{ replace: '/name', value: 'p4' }],
    });
    expect(r.json().name).toBe('p4');
    r = await cloud.req('PATCH', `/image/v2/images/${img.id}`, {
      token: a.token,
      headers: PATCH20,
      body: [{ add: '/os_distro', value: 'x' }],
    });
    expect(r.statusCode).toBe(409);
    expect(fault(r).message).toBe('Property os_distro already present.');
  });
  it('refuses bad patches with Glance codes', async () => {
    const img = await createImage(cloud, a.token, { name: 'bad' });
    const url = `/image/v2/images/${img.id}`;
    let r = await cloud.req('PATCH', url, { token: a.token, body: [] });
    expect(r.statusCode).toBe(415);
    expect(r.headers['accept-patch']).toBe(
      'application/openstack-images-v2.0-json-patch, application/openstack-images-v2.1-json-patch',
    );
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /must be a JSON array/],
      [[1], 400, /Operations must be JSON objects/],
      [[{ path: '/name', value: 'x' }], 400, /Unable to find `op`/],
      [[{ op: 'move', path: '/name' }], 400, /Invalid operation: `move`/],
      [[{ op: 'replace', value: 'x' }], 400, /Unable to find 'path'/],
      [[{ op: 'replace', path: 'name', value: 'x' }], 400, /does not start with "\/"/],
      [[{ op: 'replace', path: '/a//b', value: 'x' }], 400, /adjacent/],
      [[{ op: 'replace', path: '/name/x', value: 'x' }], 400, /Invalid JSON pointer/],
      [[{ op: 'replace', path: '/name' }], 400, /requires a member named "value"/],
      [[{ op: 'replace', path: '/name~2', value: 'x' }], 400, /recognized escape/],
      [[{ op: 'replace', path: '/disk_format', value: 'exe' }], 400, /is not one of/],
      [[{ op: 'replace', path: '/custom', value: 1 }], 400, /not of type 'string'/],
      [[{ op: 'replace', path: '/status', value: 'active' }], 403, /read-only/],
      [[{ op: 'replace', path: '/id', value: 'x' }], 403, /read-only/],
      [[{ op: 'add', path: '/deleted', value: 'x' }], 403, /reserved/],
      [[{ op: 'remove', path: '/name' }], 403, /may not be removed/],
      [[{ op: 'remove', path: '/nope' }], 409, /Property nope does not exist/],
      [[{ op: 'replace', path: '/nope', value: 'x' }], 409, /does not exist/],
      [[{ op: 'replace', path: '/owner', value: b.projectId }], 403, /Owner can't be updated by non admin/],
      [[{ op: 'replace', path: '/visibility', value: 'public' }], 403, /publicize_image/],
      [[{ op: 'replace', path: '/locations', value: [] }], 403, /locations/],
      [[{ op: 'replace', path: '/min_ram', value: -5 }], 400, /negative/],
    ];
    for (const [body, code, msg] of cases) {
      r = await cloud.req('PATCH', url, { token: a.token, headers: PATCH21, body: body as object });
      expect(r.statusCode, JSON.stringify(body)).toBe(code);
      expect(fault(r).message).toMatch(msg);
    }
    r = await cloud.req('PATCH', url, { token: a.token, headers: PATCH21, body: '[{' });
    expect(r.statusCode).toBe(400);
    // another project: 404 (cannot see a shared image it is not a member of); reader: 403 on a visible one
    r = await cloud.req('PATCH', url, {
      token: b.token,
      headers: PATCH21,
      body: [{ op: 'replace', path: '/name', value: 'x' }],
    });
    expect(r.statusCode).toBe(404);
    const pub = await createImage(cloud, admin(), { visibility: 'public' });
    r = await cloud.req('PATCH', `/image/v2/images/${pub.id}`, {
      token: a.token,
      headers: PATCH21,
      body: [{ op: 'replace', path: '/name', value: 'x' }],
    });
    expect(r.statusCode).toBe(403);
    // admin may change owner and publicize
    r = await cloud.req('PATCH', url, {
      token: admin(),
      headers: PATCH21,
      body: [
        { op: 'replace', path: '/owner', value: b.projectId },
        { op: 'replace', path: '/visibility', value: 'public' },
      ],
    });
    expect(r.json()).toMatchObject({ owner: b.projectId, visibility: 'public' });
  });
  it('disk_format can only change while queued', async () => {
    const img = await createImage(cloud, a.token);
    await upload(cloud, a.token, img.id, Buffer.alloc(1024));
    const r = await cloud.req('PATCH', `/image/v2/images/${img.id}`, {
      token: a.token,
      headers: PATCH21,
      body: [{ op: 'replace', path: '/disk_format', value: 'qcow2' }],
    });
    expect(r.statusCode).toBe(403);
    expect(fault(r).message).toBe('Attribute disk_format can be only replaced for a queued image.');
  });
});

describe('upload and download', () => {
  it('uploads raw, computes md5 + sha512, serves it back with Content-MD5 and ranges', async () => {
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const img = await createImage(cloud, a.token);
    let r = await upload(cloud, a.token, img.id, data);
    expect(r.statusCode, r.body).toBe(204);
    const s = (await cloud.req('GET', `/image/v2/images/${img.id}`, { token: a.token })).json();
    expect(s).toMatchObject({
      status: 'active',
      size: data.length,
      virtual_size: data.length,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
      stores: 'file',
    });
    r = await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: a.token });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-md5']).toBe(md5(data));
    expect(r.headers['content-length']).toBe(String(data.length));
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(md5(r.rawPayload)).toBe(md5(data));
    const range = async (h: string) =>
      cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: a.token, headers: { range: h } });
    r = await range('bytes=10-19');
    expect(r.statusCode).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 10-19/${data.length}`);
    expect(r.rawPayload.equals(data.subarray(10, 20))).toBe(true);
    r = await range('bytes=299990-');
    expect(r.headers['content-range']).toBe(`bytes 299990-299999/${data.length}`);
    expect(r.rawPayload.equals(data.subarray(299990))).toBe(true);
    r = await range('bytes=-5');
    expect(r.rawPayload.equals(data.subarray(data.length - 5))).toBe(true);
    r = await range('bytes=5-999999999');
    expect(r.rawPayload.length).toBe(data.length - 5);
    expect((await range('bytes=400000-')).statusCode).toBe(416);
    expect((await range('bytes=9-3')).statusCode).toBe(416);
    expect((await range('pages=1-2')).statusCode).toBe(416);
    expect((await range('bytes=1-2,5-6')).statusCode).toBe(400);
    // members of nothing: another project cannot download a shared image it is not a member of
    expect((await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: b.token })).statusCode).toBe(
      404,
    );
  });
  it('download of an image without data is 204; upload refusals', async () => {
    const img = await createImage(cloud, a.token);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: a.token })).statusCode).toBe(
      204,
    );
    const nofmt = await createImage(cloud, a.token, { disk_format: null, container_format: null });
    let r = await upload(cloud, a.token, nofmt.id, Buffer.from('x'));
    expect(r.statusCode).toBe(400);
    expect(fault(r).message).toBe(
      'Properties disk_format, container_format must be set prior to saving data.',
    );
    r = await upload(cloud, b.token, img.id, Buffer.from('x'));
    expect(r.statusCode).toBe(404);
    r = await cloud.req('PUT', `/image/v2/images/${img.id}/file`, {
      token: a.token,
      body: Buffer.from('x'),
      headers: { ...OCTET, 'x-openstack-image-size': 'abc' },
    });
    expect(r.statusCode).toBe(400);
    const pub = await createImage(cloud, admin(), { visibility: 'public' });
    expect((await upload(cloud, a.token, pub.id, Buffer.from('x'))).statusCode).toBe(403);
    await upload(cloud, a.token, img.id, Buffer.from('abc'));
    r = await upload(cloud, a.token, img.id, Buffer.from('abc'));
    expect(r.statusCode).toBe(409);
    // any content type is accepted on PUT /file
    const any = await createImage(cloud, a.token);
    r = await cloud.req('PUT', `/image/v2/images/${any.id}/file`, {
      token: a.token,
      body: Buffer.from('data'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.statusCode).toBe(204);
  });
  it.skipIf(!hasQemuImg)(
    'verifies formats with qemu-img: match, mismatch, backing file, data file',
    async () => {
      const dir = workDir();
      const q = await createImage(cloud, a.token, { disk_format: 'qcow2' });
      let r = await upload(cloud, a.token, q.id, qemuImage(dir, 'ok.qcow2', 'qcow2', '64M'));
      expect(r.statusCode, r.body).toBe(204);
      expect((await cloud.req('GET', `/image/v2/images/${q.id}`, { token: a.token })).json()).toMatchObject({
        status: 'active',
        virtual_size: 64 * 1024 * 1024,
      });
      const v = await createImage(cloud, a.token, { disk_format: 'vmdk' });
      r = await upload(cloud, a.token, v.id, qemuImage(dir, 'ok.vmdk', 'vmdk', '8M'));
      expect(r.statusCode, r.body).toBe(204);
      // raw bytes claimed as qcow2: refused, image back to queued, no file kept
      const mm = await createImage(cloud, a.token, { disk_format: 'qcow2' });
      r = await upload(cloud, a.token, mm.id, Buffer.alloc(4096, 1));
      expect(r.statusCode).toBe(415);
      expect(fault(r).message).toBe('Image disk_format qcow2 does not match stream data raw');
      expect((await cloud.req('GET', `/image/v2/images/${mm.id}`, { token: a.token })).json()).toMatchObject({
        status: 'queued',
        size: null,
      });
      // qcow2 with a backing file (even when claimed raw) and with an external data file: refused
      qemuImage(dir, 'base.raw', 'raw', '1M');
      for (const [fmt, opts] of [
        ['qcow2', `backing_file=${dir}/base.raw,backing_fmt=raw`],
        ['raw', `backing_file=${dir}/base.raw,backing_fmt=raw`],
        ['qcow2', `data_file=${dir}/data.raw`],
      ]) {
        const bad = await createImage(cloud, a.token, { disk_format: fmt });
        r = await upload(
          cloud,
          a.token,
          bad.id,
          qemuImage(dir, `bad-${fmt}-${opts.length}.qcow2`, 'qcow2', '1M', opts),
        );
        expect(r.statusCode, opts).toBe(415);
        expect(fault(r).message).toBe('Image failed safety checks');
        expect((await cloud.req('GET', `/image/v2/images/${bad.id}`, { token: a.token })).json().status).toBe(
          'queued',
        );
      }
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(`${cloud.dataDir}/images/.tmp`)).toEqual([]);
      // qcow2 bytes uploaded as raw are accepted (Glance lets Nova boot them as raw)
      const asRaw = await createImage(cloud, a.token, { disk_format: 'raw' });
      expect(
        (await upload(cloud, a.token, asRaw.id, qemuImage(dir, 'r.qcow2', 'qcow2', '1M'))).statusCode,
      ).toBe(204);
      // ISO must really be an ISO; ami accepts raw bytes
      const iso = await createImage(cloud, a.token, { disk_format: 'iso' });
      expect((await upload(cloud, a.token, iso.id, Buffer.alloc(40000))).statusCode).toBe(415);
      const isoData = Buffer.alloc(40000);
      isoData.write('CD001', 0x8001, 'latin1');
      const iso2 = await createImage(cloud, a.token, { disk_format: 'iso' });
      expect((await upload(cloud, a.token, iso2.id, isoData)).statusCode).toBe(204);
      const ami = await createImage(cloud, a.token, { disk_format: 'ami', container_format: 'ami' });
      expect((await upload(cloud, a.token, ami.id, Buffer.alloc(1000))).statusCode).toBe(204);
    },
  );
});

describe('deactivate / reactivate / tags', () => {
  it('deactivated images cannot be downloaded by non-admins', async () => {
    const img = await createImage(cloud, a.token);
    let r = await cloud.req('POST', `/image/v2/images/${img.id}/actions/deactivate`, { token: a.token });
    expect(r.statusCode).toBe(403);
    expect(fault(r).message).toBe("Not allowed to deactivate image in status 'queued'");
    await upload(cloud, a.token, img.id, Buffer.from('data'));
    expect(
      (await cloud.req('POST', `/image/v2/images/${img.id}/actions/deactivate`, { token: a.token }))
        .statusCode,
    ).toBe(204);
    expect(
      (await cloud.req('POST', `/image/v2/images/${img.id}/actions/deactivate`, { token: a.token }))
        .statusCode,
    ).toBe(204);
    r = await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: a.token });
    expect(r.statusCode).toBe(403);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: admin() })).statusCode).toBe(
      200,
    );
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: a.token })).json().status).toBe(
      'deactivated',
    );
    expect(
      (await cloud.req('POST', `/image/v2/images/${img.id}/actions/reactivate`, { token: b.token }))
        .statusCode,
    ).toBe(404);
    expect(
      (await cloud.req('POST', `/image/v2/images/${img.id}/actions/reactivate`, { token: a.token }))
        .statusCode,
    ).toBe(204);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}/file`, { token: a.token })).statusCode).toBe(
      200,
    );
  });
  it('adds and removes tags', async () => {
    const img = await createImage(cloud, a.token);
    expect(
      (await cloud.req('PUT', `/image/v2/images/${img.id}/tags/blue`, { token: a.token })).statusCode,
    ).toBe(204);
    expect(
      (await cloud.req('PUT', `/image/v2/images/${img.id}/tags/blue`, { token: a.token })).statusCode,
    ).toBe(204);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: a.token })).json().tags).toEqual([
      'blue',
    ]);
    expect(
      (await cloud.req('DELETE', `/image/v2/images/${img.id}/tags/red`, { token: a.token })).statusCode,
    ).toBe(404);
    expect((await cloud.req('PUT', `/image/v2/images/${img.id}/tags/x`, { token: b.token })).statusCode).toBe(
      404,
    );
    expect(
      (await cloud.req('DELETE', `/image/v2/images/${img.id}/tags/blue`, { token: a.token })).statusCode,
    ).toBe(204);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: a.token })).json().tags).toEqual(
      [],
    );
  });
});

describe('members and sharing', () => {
  it('shares a shared image, the member accepts, sees it in lists; non-members never do', async () => {
    const img = await createImage(cloud, a.token, { name: 'to-share' });
    const base = `/image/v2/images/${img.id}/members`;
    let r = await cloud.req('POST', base, { token: a.token, body: { member: b.projectId } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      member_id: b.projectId,
      image_id: img.id,
      status: 'pending',
      schema: '/v2/schemas/member',
    });
    expect(
      (await cloud.req('POST', base, { token: a.token, body: { member: b.projectId } })).statusCode,
    ).toBe(409);
    for (const [body, msg] of [
      [{}, 'Member to be added not specified'],
      [{ member: '' }, "Member can't be empty"],
      [[1], 'Expected a member in the form: {"member": "image_id"}'],
    ] as const) {
      r = await cloud.req('POST', base, { token: a.token, body: body as object });
      expect(r.statusCode).toBe(400);
      expect(fault(r).message).toBe(msg);
    }
    // pending: b can GET it but it is not in b's default list; it is with member_status=pending
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: b.token })).statusCode).toBe(200);
    const ids = async (token: string, q = '') =>
      (
        (await cloud.req('GET', `/image/v2/images?limit=1000${q}`, { token })).json().images as {
          id: string;
        }[]
      ).map((i) => i.id);
    expect(await ids(b.token)).not.toContain(img.id);
    expect(await ids(b.token, '&member_status=pending')).toContain(img.id);
    expect(await ids(reader.token, '&member_status=all')).not.toContain(img.id);
    // the owner may not accept on the member's behalf; the member may
    r = await cloud.req('PUT', `${base}/${b.projectId}`, { token: a.token, body: { status: 'accepted' } });
    expect(r.statusCode).toBe(403);
    r = await cloud.req('PUT', `${base}/${b.projectId}`, { token: b.token, body: { status: 'bogus' } });
    expect(r.statusCode).toBe(400);
    r = await cloud.req('PUT', `${base}/${b.projectId}`, { token: b.token, body: {} });
    expect(fault(r).message).toBe('Status not specified');
    r = await cloud.req('PUT', `${base}/${b.projectId}`, { token: b.token, body: { status: 'accepted' } });
    expect(r.statusCode).toBe(200);
    expect(r.json().status).toBe('accepted');
    expect(await ids(b.token)).toContain(img.id);
    // members list: owner sees all, member sees itself, others 404
    await cloud.req('POST', base, { token: a.token, body: { member: reader.projectId } });
    expect((await cloud.req('GET', base, { token: a.token })).json().members).toHaveLength(2);
    r = await cloud.req('GET', base, { token: b.token });
    expect(r.json()).toMatchObject({ schema: '/v2/schemas/members', members: [{ member_id: b.projectId }] });
    expect((await cloud.req('GET', `${base}/${reader.projectId}`, { token: b.token })).statusCode).toBe(404);
    expect((await cloud.req('GET', `${base}/${b.projectId}`, { token: b.token })).json().status).toBe(
      'accepted',
    );
    const outsider = await cloud.projectUser('img-o', 'img-o-user');
    expect((await cloud.req('GET', base, { token: outsider.token })).statusCode).toBe(404);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: outsider.token })).statusCode).toBe(
      404,
    );
    // a member may not add members nor delete them; the owner may
    expect(
      (await cloud.req('POST', base, { token: b.token, body: { member: outsider.projectId } })).statusCode,
    ).toBe(403);
    expect((await cloud.req('DELETE', `${base}/${b.projectId}`, { token: b.token })).statusCode).toBe(403);
    expect((await cloud.req('DELETE', `${base}/nobody`, { token: a.token })).statusCode).toBe(404);
    expect((await cloud.req('DELETE', `${base}/${b.projectId}`, { token: a.token })).statusCode).toBe(204);
    expect((await cloud.req('GET', `/image/v2/images/${img.id}`, { token: b.token })).statusCode).toBe(404);
  });
  it('only shared images have members', async () => {
    const img = await createImage(cloud, a.token, { visibility: 'private' });
    let r = await cloud.req('POST', `/image/v2/images/${img.id}/members`, {
      token: a.token,
      body: { member: b.projectId },
    });
    expect(r.statusCode).toBe(403);
    r = await cloud.req('GET', `/image/v2/images/${img.id}/members`, { token: a.token });
    expect(r.statusCode).toBe(403);
    expect(fault(r).message).toMatch(/Only shared images have members/);
  });
});

describe('list: filters, sorting, pagination, isolation', () => {
  let ids: Record<string, string> = {};
  let listToken = '';
  let listOwner = '';
  beforeAll(async () => {
    const p = await cloud.projectUser('img-list', 'img-list-user');
    const t = p.token;
    const mk = async (name: string, extra: Record<string, unknown> = {}, data?: Buffer) => {
      const i = await createImage(cloud, t, { name, ...extra });
      if (data) await upload(cloud, t, i.id, data);
      return i.id;
    };
    ids = {
      alpha: await mk('alpha', { tags: ['x', 'y'], os_distro: 'debian' }, Buffer.alloc(100)),
      beta: await mk('beta', { tags: ['x'], visibility: 'private' }, Buffer.alloc(2000)),
      gamma: await mk('gamma', { os_hidden: true }),
      delta: await mk('delta', { protected: true, disk_format: 'qcow2' }),
      comm: await mk('comm', { visibility: 'community' }),
    };
    listToken = t;
    listOwner = p.projectId;
  });
  /** Lists this project's images (public images of other tests are filtered out by owner). */
  const list = async (q: string, token = listToken) => {
    const owner = listOwner;
    const url = token === listToken && q !== '?limit=0' ? `${q}${q ? '&' : '?'}owner=${owner}` : q;
    const r = await cloud.req('GET', `/image/v2/images${url}`, { token });
    if (r.statusCode !== 200) return { status: r.statusCode, names: [] as string[], body: r.json() };
    return { status: 200, names: (r.json().images as { name: string }[]).map((i) => i.name), body: r.json() };
  };
  it('filters by name, status, visibility, tag, property, size range, os_hidden, protected', async () => {
    expect((await list('?sort=name:asc')).names).toEqual(['alpha', 'beta', 'comm', 'delta']);
    expect((await list('?name=alpha')).names).toEqual(['alpha']);
    expect((await list('?name=in:alpha,"beta"&sort=name:asc')).names).toEqual(['alpha', 'beta']);
    expect((await list('?status=active&sort=name:asc')).names).toEqual(['alpha', 'beta']);
    expect((await list('?visibility=private')).names).toEqual(['beta']);
    expect((await list('?visibility=community')).names).toEqual(['comm']);
    expect((await list('?tag=x&tag=y')).names).toEqual(['alpha']);
    expect((await list('?tag=x&sort=name')).names).toEqual(['beta', 'alpha']);
    expect((await list('?os_distro=debian')).names).toEqual(['alpha']);
    expect((await list('?size_min=500')).names).toEqual(['beta']);
    expect((await list('?size_max=500')).names).toEqual(['alpha']);
    expect((await list('?os_hidden=true')).names).toEqual(['gamma']);
    expect((await list('?protected=true')).names).toEqual(['delta']);
    expect((await list('?disk_format=qcow2')).names).toEqual(['delta']);
    expect((await list('?created_at=gte:2000-01-01T00:00:00Z&sort=name:asc')).names).toHaveLength(4);
    expect((await list('?created_at=lt:2000-01-01T00:00:00Z')).names).toEqual([]);
    expect((await list('?updated_at=gt:2999-01-01T00:00:00Z')).names).toEqual([]);
    expect((await list('?updated_at=neq:2999-01-01T00:00:00Z')).names).toHaveLength(4);
  });
  it('refuses bad list queries with 400', async () => {
    for (const q of [
      '?limit=abc',
      '?limit=-1',
      '?sort_key=bogus',
      '?sort_dir=up',
      '?sort=name:up',
      '?sort=name&sort_key=id',
      '?sort_key=name&sort_dir=asc&sort_dir=desc&sort_dir=asc',
      '?member_status=maybe',
      '?visibility=world',
      '?os_hidden=maybe',
      '?protected=1',
      '?size_min=big',
      '?created_at=gt:yesterday',
      '?created_at=around:2020-01-01T00:00:00Z',
      '?name=like:a',
      '?changes-since=2020-01-01',
      '?marker=00000000-0000-0000-0000-000000000000',
      '?min_ram=lots',
    ]) {
      const r = await list(q);
      expect(r.status, q).toBe(400);
    }
  });
  it('sorts and paginates with marker and the next link', async () => {
    expect((await list('?sort_key=name&sort_dir=desc')).names).toEqual(['delta', 'comm', 'beta', 'alpha']);
    expect((await list('?sort_key=size&sort_key=name&sort_dir=asc&sort_dir=asc')).names).toEqual([
      'comm',
      'delta',
      'alpha',
      'beta',
    ]);
    const seen: string[] = [];
    let url = '/v2/images?sort=name:asc&limit=3';
    let pages = 0;
    for (;;) {
      const r = await list(url.replace('/v2/images', ''));
      seen.push(...r.names);
      pages++;
      expect(r.body.first).toBe(`/v2/images?sort=name%3Aasc&limit=3&owner=${listOwner}`);
      if (!r.body.next) break;
      url = r.body.next.replace(/&owner=[0-9a-f]+/, '');
    }
    expect(seen).toEqual(['alpha', 'beta', 'comm', 'delta']);
    expect(pages).toBe(2);
    const r = await list(`?limit=1&sort=name:asc&marker=${ids.alpha}`);
    expect(r.names).toEqual(['beta']);
    expect(r.body.next).toBe(`/v2/images?limit=1&sort=name%3Aasc&owner=${listOwner}&marker=${ids.beta}`);
    expect((await list('?limit=0')).body).not.toHaveProperty('next');
  });
  it('isolation: another project sees none of the private/shared/community images of this one by default', async () => {
    const other = await list('?limit=1000', a.token);
    for (const id of Object.values(ids))
      expect(other.body.images.map((i: { id: string }) => i.id)).not.toContain(id);
    const comm = await list('?visibility=community', a.token);
    expect(comm.names).toContain('comm');
    expect((await cloud.req('GET', `/image/v2/images/${ids.beta}`, { token: a.token })).statusCode).toBe(404);
    expect((await cloud.req('GET', `/image/v2/images/${ids.comm}`, { token: a.token })).statusCode).toBe(200);
    // admin sees everything except others' community images unless asked
    const all = await list('?limit=1000', admin());
    const got = all.body.images.map((i: { id: string }) => i.id);
    expect(got).toContain(ids.beta);
    expect(got).not.toContain(ids.comm);
    expect(got).not.toContain(ids.gamma);
    // locations are shown to admins only
    expect(all.body.images.find((i: { id: string }) => i.id === ids.alpha).locations).toHaveLength(1);
    expect((await list('', a.token)).body.images.every((i: object) => !('locations' in i))).toBe(true);
  });
});

describe('interoperable import (glance-direct)', () => {
  it('stages then imports; web-download is refused clearly', async () => {
    const data = Buffer.alloc(50_000, 3);
    const img = await createImage(cloud, a.token);
    const url = `/image/v2/images/${img.id}`;
    let r = await cloud.req('POST', `${url}/import`, {
      token: a.token,
      body: { method: { name: 'glance-direct' } },
    });
    expect(r.statusCode).toBe(409);
    expect(fault(r).message).toBe("Image needs to be staged before 'glance-direct' method can be used");
    r = await cloud.req('PUT', `${url}/stage`, { token: a.token, body: data, headers: OCTET });
    expect(r.statusCode).toBe(204);
    expect((await cloud.req('GET', url, { token: a.token })).json()).toMatchObject({
      status: 'uploading',
      size: data.length,
    });
    r = await cloud.req('PUT', `${url}/stage`, { token: a.token, body: data, headers: OCTET });
    expect(r.statusCode).toBe(409);
    for (const [body, code] of [
      [{}, 400],
      [{ method: {} }, 400],
      [{ method: { name: 'teleport' } }, 400],
      [{ method: { name: 'glance-direct' }, all_stores: 'yes' }, 400],
      [{ method: { name: 'glance-direct' }, stores: ['ceph'] }, 409],
    ] as const) {
      r = await cloud.req('POST', `${url}/import`, { token: a.token, body: body as object });
      expect(r.statusCode, JSON.stringify(body)).toBe(code);
    }
    r = await cloud.req('POST', `${url}/import`, {
      token: a.token,
      body: { method: { name: 'web-download', uri: 'http://example.com/x.img' } },
    });
    expect(r.statusCode).toBe(400);
    expect(fault(r).message).toMatch(/web-download.*not available at this site/);
    r = await cloud.req('POST', `${url}/import`, {
      token: b.token,
      body: { method: { name: 'glance-direct' } },
    });
    expect(r.statusCode).toBe(404);
    r = await cloud.req('POST', `${url}/import`, {
      token: a.token,
      body: { method: { name: 'glance-direct' } },
    });
    expect(r.statusCode).toBe(202);
    const mgr = (cloud.server.ctx.services.image as unknown as { manager: { settle(): Promise<void> } })
      .manager;
    await mgr.settle();
    const done = (await cloud.req('GET', url, { token: a.token })).json();
    expect(done).toMatchObject({
      status: 'active',
      checksum: md5(data),
      os_hash_value: sha512(data),
      size: data.length,
    });
    expect(done).not.toHaveProperty('os_glance_import_task');
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(`${cloud.dataDir}/images/staging`)).toEqual([]);
    r = await cloud.req('POST', `${url}/import`, {
      token: a.token,
      body: { method: { name: 'glance-direct' } },
    });
    expect(r.statusCode).toBe(409);
  });
});
