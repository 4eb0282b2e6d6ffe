/** The object store (Swift v1) in-process: accounts, containers, objects, listings, ACLs, bad input. */
import { createHash, createHmac } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

let cloud: TestCloud;
let alice: { projectId: string; userId: string; token: string };
let bob: { projectId: string; userId: string; token: string };
let reader: { token: string };
let A: string;
const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');

type Opts = { token?: string; body?: string | Buffer; headers?: Record<string, string> };
const sw = (method: string, path: string, o: Opts = {}) =>
  cloud.req(method, `/object-store/v1/${path}`, {
    token: o.token,
    body: o.body,
    headers: {
      ...(o.body !== undefined && !o.headers?.['content-type']
        ? { 'content-type': 'application/octet-stream' }
        : {}),
      ...o.headers,
    },
  });
beforeAll(async () => {
  cloud = await startTestCloud();
  alice = await cloud.projectUser('alice-project', 'alice');
  bob = await cloud.projectUser('bob-project', 'bob');
  const r = await cloud.req('POST', '/identity/v3/users', {
    token: cloud.adminToken,
    body: { user: { name: 'carol', password: 'carol-pw', default_project_id: alice.projectId } },
  });
  const carolId = (r.json() as { user: { id: string } }).user.id;
  const roles = (
    await cloud.req('GET', '/identity/v3/roles?name=reader', { token: cloud.adminToken })
  ).json() as {
    roles: { id: string }[];
  };
  await cloud.req(
    'PUT',
    `/identity/v3/projects/${alice.projectId}/users/${carolId}/roles/${roles.roles[0]!.id}`,
    {
      token: cloud.adminToken,
    },
  );
  reader = { token: await cloud.token('carol', 'carol-pw', 'alice-project') };
  A = `AUTH_${alice.projectId}`;
});
afterAll(async () => {
  await cloud?.close();
});

describe('catalog and info', () => {
  it('the catalog has object-store at /object-store/v1/AUTH_<project>', async () => {
    const r = await cloud.req('GET', '/identity/v3/auth/catalog', { token: alice.token });
    const svc = (
      r.json() as { catalog: { type: string; name: string; endpoints: { url: string }[] }[] }
    ).catalog.find((s) => s.type === 'object-store')!;
    expect(svc.name).toBe('swift');
    expect(svc.endpoints[0]!.url).toBe(`http://localhost/object-store/v1/AUTH_${alice.projectId}`);
  });
  it('/info without a token', async () => {
    for (const url of ['/object-store/info', '/info']) {
      const r = await cloud.req('GET', url);
      expect(r.statusCode).toBe(200);
      const doc = r.json() as { swift: { max_file_size: number; container_listing_limit: number } };
      expect(doc.swift.max_file_size).toBe(5368709122);
      expect(doc.swift.container_listing_limit).toBe(10000);
    }
  });
});

describe('account, container and object CRUD', () => {
  it('an account is there before its first container (autocreate)', async () => {
    const r = await sw('HEAD', A, { token: alice.token });
    expect(r.statusCode).toBe(204);
    expect(r.headers['x-account-container-count']).toBe('0');
    expect(r.headers['x-account-bytes-used']).toBe('0');
    const l = await sw('GET', A, { token: alice.token });
    expect(l.statusCode).toBe(204);
  });
  it('container create (201), again (202), head, metadata', async () => {
    let r = await sw('PUT', `${A}/c1`, { token: alice.token, headers: { 'x-container-meta-color': 'blue' } });
    expect(r.statusCode).toBe(201);
    r = await sw('PUT', `${A}/c1`, { token: alice.token });
    expect(r.statusCode).toBe(202);
    r = await sw('HEAD', `${A}/c1`, { token: alice.token });
    expect(r.statusCode).toBe(204);
    expect(r.headers['x-container-meta-color']).toBe('blue');
    expect(r.headers['x-container-object-count']).toBe('0');
    expect(r.headers['x-storage-policy']).toBe('Policy-0');
    r = await sw('POST', `${A}/c1`, {
      token: alice.token,
      headers: { 'x-container-meta-color': '', 'x-container-meta-size': 'L' },
    });
    expect(r.statusCode).toBe(204);
    r = await sw('HEAD', `${A}/c1`, { token: alice.token });
    expect(r.headers['x-container-meta-color']).toBeUndefined();
    expect(r.headers['x-container-meta-size']).toBe('L');
  });
  it('object put/get/head/post/delete with metadata and counts', async () => {
    const body = 'hello world';
    let r = await sw('PUT', `${A}/c1/dir/hello.txt`, {
      token: alice.token,
      body,
      headers: { 'content-type': 'text/plain', 'x-object-meta-mood': 'happy', etag: md5(body) },
    });
    expect(r.statusCode).toBe(201);
    expect(r.headers.etag).toBe(md5(body));
    r = await sw('GET', `${A}/c1/dir/hello.txt`, { token: alice.token });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe(body);
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['x-object-meta-mood']).toBe('happy');
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(r.headers['accept-ranges']).toBe('bytes');
    r = await sw('HEAD', `${A}/c1/dir/hello.txt`, { token: alice.token });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-length']).toBe(String(body.length));
    expect(r.body).toBe('');
    r = await sw('POST', `${A}/c1/dir/hello.txt`, {
      token: alice.token,
      headers: { 'x-object-meta-other': 'x' },
    });
    expect(r.statusCode).toBe(202);
    r = await sw('HEAD', `${A}/c1/dir/hello.txt`, { token: alice.token });
    expect(r.headers['x-object-meta-mood']).toBeUndefined();
    expect(r.headers['x-object-meta-other']).toBe('x');
    r = await sw('HEAD', `${A}/c1`, { token: alice.token });
    expect(r.headers['x-container-object-count']).toBe('1');
    expect(r.headers['x-container-bytes-used']).toBe(String(body.length));
    r = await sw('HEAD', A, { token: alice.token });
    expect(r.headers['x-account-object-count']).toBe('1');
    expect(r.headers['x-account-container-count']).toBe('1');
    // overwrite: counts stay exact
    r = await sw('PUT', `${A}/c1/dir/hello.txt`, { token: alice.token, body: 'hi' });
    expect(r.statusCode).toBe(201);
    r = await sw('HEAD', `${A}/c1`, { token: alice.token });
    expect(r.headers['x-container-object-count']).toBe('1');
    expect(r.headers['x-container-bytes-used']).toBe('2');
  });
  it('a JSON object body streams raw (no JSON parsing, no JSON size limit)', async () => {
    const big = JSON.stringify({ data: 'x'.repeat(200_000) });
    let r = await sw('PUT', `${A}/c1/doc.json`, {
      token: alice.token,
      body: big,
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('PUT', `${A}/c1/bad.json`, {
      token: alice.token,
      body: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('GET', `${A}/c1/doc.json`, { token: alice.token });
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.body).toBe(big);
  });
  it('Content-Type is guessed from the name when missing', async () => {
    await cloud.req('PUT', `/object-store/v1/${A}/c1/pic.png`, { token: alice.token, body: 'png' });
    const r = await sw('HEAD', `${A}/c1/pic.png`, { token: alice.token });
    expect(r.headers['content-type']).toBe('image/png');
  });
  it('ETag mismatch is 422 and nothing is written', async () => {
    const r = await sw('PUT', `${A}/c1/bad-etag`, {
      token: alice.token,
      body: 'abc',
      headers: { etag: md5('abd') },
    });
    expect(r.statusCode).toBe(422);
    expect((await sw('HEAD', `${A}/c1/bad-etag`, { token: alice.token })).statusCode).toBe(404);
  });
  it('409 deleting a non-empty container, 204 once empty, 404 after', async () => {
    await sw('PUT', `${A}/c-del`, { token: alice.token });
    await sw('PUT', `${A}/c-del/o`, { token: alice.token, body: 'x' });
    let r = await sw('DELETE', `${A}/c-del`, { token: alice.token });
    expect(r.statusCode).toBe(409);
    expect(r.body).toBe(
      '<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>',
    );
    expect((await sw('DELETE', `${A}/c-del/o`, { token: alice.token })).statusCode).toBe(204);
    expect((await sw('DELETE', `${A}/c-del/o`, { token: alice.token })).statusCode).toBe(404);
    expect((await sw('DELETE', `${A}/c-del`, { token: alice.token })).statusCode).toBe(204);
    r = await sw('DELETE', `${A}/c-del`, { token: alice.token });
    expect(r.statusCode).toBe(404);
    expect(r.body).toBe('<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
  });
  it('PUT into a missing container is 404', async () => {
    expect((await sw('PUT', `${A}/nope/o`, { token: alice.token, body: 'x' })).statusCode).toBe(404);
  });
});

describe('listings', () => {
  const names = ['a', 'b/1', 'b/2', 'b/3/x', 'c', 'd.txt', 'ü'];
  beforeAll(async () => {
    await sw('PUT', `${A}/list`, { token: alice.token });
    for (const n of names)
      await sw('PUT', `${A}/list/${encodeURIComponent(n)}`, { token: alice.token, body: n });
  });
  const plain = async (q: string) => {
    const r = await sw('GET', `${A}/list?${q}`, { token: alice.token });
    return r.statusCode === 204 ? [] : r.body.split('\n').filter(Boolean);
  };
  it('plain, sorted by bytes', async () => {
    expect(await plain('')).toEqual(names);
  });
  it('prefix, delimiter, marker, end_marker, limit, reverse', async () => {
    expect(await plain('prefix=b/')).toEqual(['b/1', 'b/2', 'b/3/x']);
    expect(await plain('delimiter=/')).toEqual(['a', 'b/', 'c', 'd.txt', 'ü']);
    expect(await plain('prefix=b/&delimiter=/')).toEqual(['b/1', 'b/2', 'b/3/']);
    expect(await plain('marker=b/2')).toEqual(['b/3/x', 'c', 'd.txt', 'ü']);
    expect(await plain('end_marker=b/2')).toEqual(['a', 'b/1']);
    expect(await plain('limit=2')).toEqual(['a', 'b/1']);
    expect(await plain('reverse=true')).toEqual([...names].reverse());
    expect(await plain('reverse=true&marker=c&limit=2')).toEqual(['b/3/x', 'b/2']);
    expect(await plain('reverse=true&delimiter=/')).toEqual(['ü', 'd.txt', 'c', 'b/', 'a']);
    expect(await plain('delimiter=/&marker=b/')).toEqual(['c', 'd.txt', 'ü']);
    expect(await plain('prefix=zz')).toEqual([]);
  });
  it('json and xml', async () => {
    let r = await sw('GET', `${A}/list?format=json&limit=1`, { token: alice.token });
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    const [o] = r.json() as {
      name: string;
      hash: string;
      bytes: number;
      content_type: string;
      last_modified: string;
    }[];
    expect(o).toMatchObject({
      name: 'a',
      hash: md5('a'),
      bytes: 1,
      content_type: 'application/octet-stream',
    });
    expect(o!.last_modified).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    r = await sw('GET', `${A}/list?format=json&delimiter=/&prefix=b/`, { token: alice.token });
    expect((r.json() as unknown[])[2]).toEqual({ subdir: 'b/3/' });
    r = await sw('GET', `${A}/list?limit=1`, { token: alice.token, headers: { accept: 'application/xml' } });
    expect(r.body).toContain(
      '<?xml version="1.0" encoding="UTF-8"?>\n<container name="list"><object><name>a</name>',
    );
    r = await sw('GET', `${A}?format=json`, { token: alice.token });
    const cs = r.json() as { name: string; count: number; bytes: number }[];
    expect(cs.find((c) => c.name === 'list')).toMatchObject({ count: names.length });
    r = await sw('GET', `${A}/list?format=json&prefix=zz`, { token: alice.token });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('[]');
  });
  it('limit above 10000 is 412', async () => {
    const r = await sw('GET', `${A}/list?limit=10001`, { token: alice.token });
    expect(r.statusCode).toBe(412);
    expect(r.body).toBe('Maximum limit is 10000');
  });
});

describe('ranges and conditions', () => {
  const data = '0123456789abcdefghij';
  let etag: string;
  let lastModified: string;
  beforeAll(async () => {
    await sw('PUT', `${A}/rc`, { token: alice.token });
    const r = await sw('PUT', `${A}/rc/o`, {
      token: alice.token,
      body: data,
      headers: { 'content-type': 'text/plain' },
    });
    etag = String(r.headers.etag);
    lastModified = String(r.headers['last-modified']);
  });
  const get = (headers: Record<string, string>) => sw('GET', `${A}/rc/o`, { token: alice.token, headers });
  it('single ranges', async () => {
    let r = await get({ range: 'bytes=2-5' });
    expect(r.statusCode).toBe(206);
    expect(r.body).toBe('2345');
    expect(r.headers['content-range']).toBe('bytes 2-5/20');
    r = await get({ range: 'bytes=-3' });
    expect(r.body).toBe('hij');
    r = await get({ range: 'bytes=15-' });
    expect(r.body).toBe('fghij');
    r = await get({ range: 'bytes=30-40' });
    expect(r.statusCode).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */20');
    r = await get({ range: 'bytes=x' });
    expect(r.statusCode).toBe(200);
  });
  it('multiple ranges are multipart/byteranges', async () => {
    const r = await get({ range: 'bytes=0-1,5-6' });
    expect(r.statusCode).toBe(206);
    const ct = String(r.headers['content-type']);
    expect(ct).toMatch(/^multipart\/byteranges;boundary=/);
    const b = ct.split('boundary=')[1];
    expect(r.body).toBe(
      `--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 0-1/20\r\n\r\n01\r\n--${b}\r\nContent-Type: text/plain\r\nContent-Range: bytes 5-6/20\r\n\r\n56\r\n--${b}--`,
    );
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength(r.body)));
  });
  it('If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since', async () => {
    expect((await get({ 'if-match': etag })).statusCode).toBe(200);
    expect((await get({ 'if-match': `"${etag}"` })).statusCode).toBe(200);
    expect((await get({ 'if-match': 'nope' })).statusCode).toBe(412);
    expect((await get({ 'if-none-match': etag })).statusCode).toBe(304);
    expect((await get({ 'if-none-match': '*' })).statusCode).toBe(304);
    expect((await get({ 'if-none-match': 'other' })).statusCode).toBe(200);
    expect((await get({ 'if-modified-since': lastModified })).statusCode).toBe(304);
    expect((await get({ 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' })).statusCode).toBe(200);
    expect((await get({ 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' })).statusCode).toBe(412);
    expect((await get({ 'if-unmodified-since': lastModified })).statusCode).toBe(200);
  });
  it('PUT with If-None-Match: * is 412 when the object exists', async () => {
    let r = await sw('PUT', `${A}/rc/o`, {
      token: alice.token,
      body: 'x',
      headers: { 'if-none-match': '*' },
    });
    expect(r.statusCode).toBe(412);
    r = await sw('PUT', `${A}/rc/new`, { token: alice.token, body: 'x', headers: { 'if-none-match': '*' } });
    expect(r.statusCode).toBe(201);
    r = await sw('PUT', `${A}/rc/new2`, {
      token: alice.token,
      body: 'x',
      headers: { 'if-none-match': 'abc' },
    });
    expect(r.statusCode).toBe(400);
    expect((await get({})).body).toBe(data);
  });
});

describe('copy and expiry', () => {
  beforeAll(async () => {
    await sw('PUT', `${A}/cp`, { token: alice.token });
    await sw('PUT', `${A}/cp/src`, {
      token: alice.token,
      body: 'source data',
      headers: { 'content-type': 'text/x-src', 'x-object-meta-a': '1' },
    });
  });
  it('PUT with X-Copy-From keeps the metadata and adds the new', async () => {
    const r = await sw('PUT', `${A}/cp/dst`, {
      token: alice.token,
      headers: { 'x-copy-from': '/cp/src', 'content-length': '0', 'x-object-meta-b': '2' },
    });
    expect(r.statusCode).toBe(201);
    expect(r.headers['x-copied-from']).toBe('cp/src');
    const g = await sw('GET', `${A}/cp/dst`, { token: alice.token });
    expect(g.body).toBe('source data');
    expect(g.headers['x-object-meta-a']).toBe('1');
    expect(g.headers['x-object-meta-b']).toBe('2');
    expect(g.headers['content-type']).toBe('text/x-src');
  });
  it('COPY verb with Destination', async () => {
    let r = await sw('COPY', `${A}/cp/src`, {
      token: alice.token,
      headers: { destination: 'cp/dst2', 'x-fresh-metadata': 'true' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('GET', `${A}/cp/dst2`, { token: alice.token });
    expect(r.body).toBe('source data');
    expect(r.headers['x-object-meta-a']).toBeUndefined();
    r = await sw('COPY', `${A}/cp/src`, { token: alice.token, headers: { destination: 'nodest' } });
    expect(r.statusCode).toBe(412);
    r = await sw('COPY', `${A}/cp/missing`, { token: alice.token, headers: { destination: 'cp/x' } });
    expect(r.statusCode).toBe(404);
  });
  it('X-Delete-After expires the object; bad values are 400', async () => {
    let r = await sw('PUT', `${A}/cp/short`, {
      token: alice.token,
      body: 'x',
      headers: { 'x-delete-after': '1' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('HEAD', `${A}/cp/short`, { token: alice.token });
    expect(r.statusCode).toBe(200);
    expect(Number(r.headers['x-delete-at'])).toBeGreaterThan(Date.now() / 1000 - 1);
    await new Promise((res) => setTimeout(res, 2100));
    expect((await sw('GET', `${A}/cp/short`, { token: alice.token })).statusCode).toBe(404);
    r = await sw('PUT', `${A}/cp/x`, {
      token: alice.token,
      body: 'x',
      headers: { 'x-delete-after': 'soon' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('Non-integer X-Delete-After');
    r = await sw('PUT', `${A}/cp/x`, { token: alice.token, body: 'x', headers: { 'x-delete-at': '1000' } });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('X-Delete-At in past');
  });
});

describe('bad input: nothing is written', () => {
  beforeAll(async () => {
    await sw('PUT', `${A}/bad`, { token: alice.token });
  });
  const count = async () =>
    (await sw('HEAD', `${A}/bad`, { token: alice.token })).headers['x-container-object-count'];
  it('NUL in a name is 412', async () => {
    const r = await sw('PUT', `${A}/bad/a%00b`, { token: alice.token, body: 'x' });
    expect(r.statusCode).toBe(412);
    expect(r.body).toBe('Invalid UTF8 or contains NULL');
  });
  it('invalid UTF-8 in a name is 412', async () => {
    const r = await sw('PUT', `${A}/bad/a%FFb`, { token: alice.token, body: 'x' });
    expect(r.statusCode).toBe(412);
  });
  it('object names over 1024 bytes are 400', async () => {
    let r = await sw('PUT', `${A}/bad/${'x'.repeat(1025)}`, { token: alice.token, body: 'x' });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('Object name length of 1025 longer than 1024');
    r = await sw('PUT', `${A}/bad/${'é'.repeat(513)}`, { token: alice.token, body: 'x' });
    expect(r.statusCode).toBe(400);
    r = await sw('PUT', `${A}/bad/${'x'.repeat(1024)}`, { token: alice.token, body: 'x' });
    expect(r.statusCode).toBe(201);
    expect((await sw('DELETE', `${A}/bad/${'x'.repeat(1024)}`, { token: alice.token })).statusCode).toBe(204);
  });
  it('container names over 256 bytes are 400', async () => {
    const r = await sw('PUT', `${A}/${'c'.repeat(257)}`, { token: alice.token });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('Container name length of 257 longer than 256');
  });
  it('metadata beyond the limits is 400', async () => {
    const cases: [Record<string, string>, string][] = [
      [
        { ['x-object-meta-' + 'k'.repeat(129)]: 'v' },
        `Metadata name too long: x-object-meta-${'k'.repeat(129)}`,
      ],
      [{ 'x-object-meta-k': 'v'.repeat(257) }, 'Metadata value longer than 256: x-object-meta-k'],
      [
        Object.fromEntries(Array.from({ length: 91 }, (_, i) => [`x-object-meta-k${i}`, 'v'])),
        'Too many metadata items; max 90',
      ],
      [
        Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-object-meta-k${i}`, 'v'.repeat(250)])),
        'Total metadata too large; max 4096',
      ],
    ];
    for (const [headers, text] of cases) {
      const r = await sw('PUT', `${A}/bad/meta`, { token: alice.token, body: 'x', headers });
      expect(r.statusCode).toBe(400);
      expect(r.body).toBe(text);
    }
    const r = await sw('POST', `${A}/bad`, {
      token: alice.token,
      headers: { ['x-container-meta-' + 'k'.repeat(129)]: 'v' },
    });
    expect(r.statusCode).toBe(400);
    expect(await count()).toBe('0');
    expect(readdirSync(join(cloud.dataDir, 'objects', 'tmp'))).toEqual([]);
  });
  it('missing Content-Length without chunked is 411', async () => {
    const r = await cloud.server.app.inject({
      method: 'PUT',
      url: `/object-store/v1/${A}/bad/nolen`,
      headers: { 'x-auth-token': alice.token },
    });
    expect(r.statusCode).toBe(411);
  });
});

describe('access', () => {
  beforeAll(async () => {
    await sw('PUT', `${A}/private`, { token: alice.token });
    await sw('PUT', `${A}/private/o`, { token: alice.token, body: 'secret' });
  });
  it('no token: 401; another project: 403; reader: read only', async () => {
    expect((await sw('GET', `${A}/private/o`)).statusCode).toBe(401);
    expect((await sw('GET', `${A}/private/o`, { token: bob.token })).statusCode).toBe(403);
    expect((await sw('GET', A, { token: bob.token })).statusCode).toBe(403);
    expect((await sw('PUT', `${A}/private/b`, { token: bob.token, body: 'x' })).statusCode).toBe(403);
    expect((await sw('GET', `${A}/private/o`, { token: reader.token })).statusCode).toBe(200);
    expect((await sw('GET', `${A}/private`, { token: reader.token })).statusCode).toBe(200);
    expect((await sw('PUT', `${A}/private/r`, { token: reader.token, body: 'x' })).statusCode).toBe(403);
    expect((await sw('DELETE', `${A}/private/o`, { token: reader.token })).statusCode).toBe(403);
    expect((await sw('PUT', `${A}/readers-container`, { token: reader.token })).statusCode).toBe(403);
    expect((await sw('GET', `${A}/private/o`, { token: 'not-a-token' })).statusCode).toBe(401);
  });
  it('.r:* makes objects public, .rlistings the listing', async () => {
    await sw('PUT', `${A}/pub`, { token: alice.token, headers: { 'x-container-read': '.r:*' } });
    await sw('PUT', `${A}/pub/o`, { token: alice.token, body: 'public' });
    let r = await sw('GET', `${A}/pub/o`);
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('public');
    expect((await sw('GET', `${A}/pub`)).statusCode).toBe(401);
    expect((await sw('PUT', `${A}/pub/o`, { body: 'x' })).statusCode).toBe(401);
    await sw('POST', `${A}/pub`, { token: alice.token, headers: { 'x-container-read': '.r:*,.rlistings' } });
    r = await sw('GET', `${A}/pub`);
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('o\n');
    r = await sw('HEAD', `${A}/pub`);
    expect(r.headers['x-container-read']).toBeUndefined();
    r = await sw('HEAD', `${A}/pub`, { token: alice.token });
    expect(r.headers['x-container-read']).toBe('.r:*,.rlistings');
  });
  it('project:user ACLs grant another project read and write', async () => {
    await sw('PUT', `${A}/shared`, {
      token: alice.token,
      headers: {
        'x-container-read': `${bob.projectId}:${bob.userId}`,
        'x-container-write': `${bob.projectId}:*`,
      },
    });
    expect((await sw('PUT', `${A}/shared/from-bob`, { token: bob.token, body: 'hi' })).statusCode).toBe(201);
    expect((await sw('GET', `${A}/shared/from-bob`, { token: bob.token })).body).toBe('hi');
    expect((await sw('GET', `${A}/shared`, { token: bob.token })).body).toBe('from-bob\n');
    // but not the ACLs themselves
    expect(
      (await sw('POST', `${A}/shared`, { token: bob.token, headers: { 'x-container-read': '.r:*' } }))
        .statusCode,
    ).toBe(403);
    expect((await sw('GET', `${A}/private/o`, { token: bob.token })).statusCode).toBe(403);
  });
  it('referrers are not allowed in write ACLs', async () => {
    const r = await sw('POST', `${A}/shared`, {
      token: alice.token,
      headers: { 'x-container-write': '.r:*' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe("Referrers not allowed in write ACL: '.r:*'");
  });
  it('ResellerAdmin reaches every account', async () => {
    const roles = (
      await cloud.req('POST', '/identity/v3/roles', {
        token: cloud.adminToken,
        body: { role: { name: 'ResellerAdmin' } },
      })
    ).json() as {
      role: { id: string };
    };
    const admin = (
      await cloud.req('GET', '/identity/v3/users?name=admin', { token: cloud.adminToken })
    ).json() as { users: { id: string }[] };
    const projects = (
      await cloud.req('GET', '/identity/v3/projects?name=admin', { token: cloud.adminToken })
    ).json() as {
      projects: { id: string }[];
    };
    await cloud.req(
      'PUT',
      `/identity/v3/projects/${projects.projects[0]!.id}/users/${admin.users[0]!.id}/roles/${roles.role.id}`,
      {
        token: cloud.adminToken,
      },
    );
    const token = await cloud.token('admin', 'test-admin-password', 'admin');
    expect((await sw('GET', `${A}/private/o`, { token })).statusCode).toBe(200);
  });
});

describe('concurrency', () => {
  it('counts stay exact under concurrent writes and deletes of the same names', async () => {
    await sw('PUT', `${A}/conc`, { token: alice.token });
    const ops: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const name = `o${i % 10}`;
      ops.push(sw('PUT', `${A}/conc/${name}`, { token: alice.token, body: 'x'.repeat(i + 1) }));
      if (i % 3 === 0) ops.push(sw('DELETE', `${A}/conc/${name}`, { token: alice.token }));
    }
    await Promise.all(ops);
    const list = (await sw('GET', `${A}/conc?format=json`, { token: alice.token })).json() as {
      bytes: number;
    }[];
    const h = await sw('HEAD', `${A}/conc`, { token: alice.token });
    expect(Number(h.headers['x-container-object-count'])).toBe(list.length);
    expect(Number(h.headers['x-container-bytes-used'])).toBe(list.reduce((n, o) => n + o.bytes, 0));
  });
});

describe('quotas', () => {
  it('container byte and count quotas are 413 "Upload exceeds quota."; bad values 400', async () => {
    let r = await sw('PUT', `${A}/q`, {
      token: alice.token,
      headers: { 'x-container-meta-quota-bytes': '10', 'x-container-meta-quota-count': '2' },
    });
    expect(r.statusCode).toBe(201);
    expect((await sw('PUT', `${A}/q/a`, { token: alice.token, body: '12345678' })).statusCode).toBe(201);
    r = await sw('PUT', `${A}/q/b`, { token: alice.token, body: '123' });
    expect(r.statusCode).toBe(413);
    expect(r.body).toBe('Upload exceeds quota.');
    // as Swift counts: an overwrite needs room for its whole size on top of what is used (8 + 3 > 10)
    expect((await sw('PUT', `${A}/q/a`, { token: alice.token, body: '123' })).statusCode).toBe(413);
    expect((await sw('PUT', `${A}/q/a`, { token: alice.token, body: '12' })).statusCode).toBe(201);
    await sw('POST', `${A}/q`, { token: alice.token, headers: { 'x-container-meta-quota-bytes': '100' } });
    expect((await sw('PUT', `${A}/q/b`, { token: alice.token, body: '1' })).statusCode).toBe(201);
    expect((await sw('PUT', `${A}/q/c`, { token: alice.token, body: '1' })).statusCode).toBe(413); // count 2
    r = await sw('POST', `${A}/q`, {
      token: alice.token,
      headers: { 'x-container-meta-quota-bytes': 'lots' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('Invalid bytes quota.');
  });
  it('only a reseller admin sets an account quota', async () => {
    const r = await sw('POST', `AUTH_${bob.projectId}`, {
      token: bob.token,
      headers: { 'x-account-meta-quota-bytes': '5' },
    });
    expect(r.statusCode).toBe(403);
  });
});

describe('TempURL', () => {
  const sign = (algo: string, key: string, method: string, expires: number, path: string) =>
    createHmac(algo, key).update(`${method}\n${expires}\n${path}`).digest('hex');
  beforeAll(async () => {
    await sw('POST', A, { token: alice.token, headers: { 'x-account-meta-temp-url-key': 'secret-key' } });
    await sw('PUT', `${A}/tmp`, { token: alice.token });
    await sw('PUT', `${A}/tmp/file.bin`, { token: alice.token, body: 'temp data' });
  });
  it('GET with a valid signature (sha1, sha256, sha512), 401 otherwise', async () => {
    const exp = Math.floor(Date.now() / 1000) + 60;
    const path = `/v1/${A}/tmp/file.bin`;
    for (const algo of ['sha1', 'sha256', 'sha512']) {
      const r = await sw(
        'GET',
        `${A}/tmp/file.bin?temp_url_sig=${sign(algo, 'secret-key', 'GET', exp, path)}&temp_url_expires=${exp}`,
      );
      expect(r.statusCode, algo).toBe(200);
      expect(r.body).toBe('temp data');
      expect(r.headers['content-disposition']).toBe(
        `attachment; filename="file.bin"; filename*=UTF-8''file.bin`,
      );
    }
    let r = await sw(
      'GET',
      `${A}/tmp/file.bin?temp_url_sig=${sign('sha256', 'wrong', 'GET', exp, path)}&temp_url_expires=${exp}`,
    );
    expect(r.statusCode).toBe(401);
    expect(r.body).toBe('401 Unauthorized: Temp URL invalid\n');
    const past = Math.floor(Date.now() / 1000) - 1;
    r = await sw(
      'GET',
      `${A}/tmp/file.bin?temp_url_sig=${sign('sha256', 'secret-key', 'GET', past, path)}&temp_url_expires=${past}`,
    );
    expect(r.statusCode).toBe(401);
    // a GET signature does not allow a PUT
    r = await sw(
      'PUT',
      `${A}/tmp/file.bin?temp_url_sig=${sign('sha256', 'secret-key', 'GET', exp, path)}&temp_url_expires=${exp}`,
      { body: 'x' },
    );
    expect(r.statusCode).toBe(401);
    r = await sw(
      'PUT',
      `${A}/tmp/file.bin?temp_url_sig=${sign('sha256', 'secret-key', 'PUT', exp, path)}&temp_url_expires=${exp}`,
      { body: 'new' },
    );
    expect(r.statusCode).toBe(201);
    // prefix-based
    const psig = sign('sha256', 'secret-key', 'GET', exp, `prefix:/v1/${A}/tmp/file`);
    r = await sw(
      'GET',
      `${A}/tmp/file.bin?temp_url_sig=${psig}&temp_url_expires=${exp}&temp_url_prefix=file&inline`,
    );
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('new');
    expect(r.headers['content-disposition']).toBe('inline');
  });
});

describe('bulk delete', () => {
  it('deletes objects and containers listed in the body', async () => {
    await sw('PUT', `${A}/bulk`, { token: alice.token });
    for (const n of ['a', 'b c', 'd'])
      await sw('PUT', `${A}/bulk/${encodeURIComponent(n)}`, { token: alice.token, body: n });
    const r = await sw('POST', `${A}?bulk-delete`, {
      token: alice.token,
      body: ['/bulk/a', '/bulk/b%20c', 'bulk/d', 'bulk/missing', 'bulk'].join('\n'),
      headers: { 'content-type': 'text/plain', accept: 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({
      'Number Deleted': 4,
      'Number Not Found': 1,
      'Response Body': '',
      'Response Status': '200 OK',
      Errors: [],
    });
    expect((await sw('HEAD', `${A}/bulk`, { token: alice.token })).statusCode).toBe(404);
    const denied = await sw('POST', `${A}?bulk-delete`, {
      token: bob.token,
      body: 'private/o',
      headers: { accept: 'application/json' },
    });
    expect((denied.json() as { Errors: string[][] }).Errors).toEqual([['private/o', '403 Forbidden']]);
  });
});

describe('large objects', () => {
  beforeAll(async () => {
    await sw('PUT', `${A}/lo`, { token: alice.token });
    await sw('PUT', `${A}/lo_segments`, { token: alice.token });
    for (const [i, d] of ['aaaa', 'bbbb', 'cc'].entries())
      await sw('PUT', `${A}/lo_segments/big/${i}`, { token: alice.token, body: d });
  });
  it('SLO: manifest put, GET/HEAD/range of the whole, manifest get, copy, delete with segments', async () => {
    const segs = ['aaaa', 'bbbb', 'cc'].map((d, i) => ({
      path: `/lo_segments/big/${i}`,
      etag: md5(d),
      size_bytes: d.length,
    }));
    let r = await sw('PUT', `${A}/lo/slo?multipart-manifest=put`, {
      token: alice.token,
      body: JSON.stringify(segs),
    });
    expect(r.statusCode).toBe(201);
    const sloEtag = md5(md5('aaaa') + md5('bbbb') + md5('cc'));
    expect(r.headers.etag).toBe(`"${sloEtag}"`);
    r = await sw('GET', `${A}/lo/slo`, { token: alice.token });
    expect(r.statusCode).toBe(200);
    expect(r.body).toBe('aaaabbbbcc');
    expect(r.headers['x-static-large-object']).toBe('True');
    expect(r.headers.etag).toBe(`"${sloEtag}"`);
    r = await sw('HEAD', `${A}/lo/slo`, { token: alice.token });
    expect(r.headers['content-length']).toBe('10');
    r = await sw('GET', `${A}/lo/slo`, { token: alice.token, headers: { range: 'bytes=3-8' } });
    expect(r.statusCode).toBe(206);
    expect(r.body).toBe('abbbbc');
    r = await sw('GET', `${A}/lo/slo?multipart-manifest=get`, { token: alice.token });
    expect((r.json() as { name: string }[]).map((x) => x.name)).toEqual(segs.map((x) => x.path));
    r = await sw('GET', `${A}/lo?format=json&prefix=slo`, { token: alice.token });
    expect(r.json()).toMatchObject([{ name: 'slo', bytes: 10, slo_etag: `"${sloEtag}"` }]);
    r = await sw('PUT', `${A}/lo/slo-copy`, {
      token: alice.token,
      headers: { 'x-copy-from': 'lo/slo', 'content-length': '0' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('GET', `${A}/lo/slo-copy`, { token: alice.token });
    expect(r.body).toBe('aaaabbbbcc');
    expect(r.headers['x-static-large-object']).toBeUndefined();
    // problems are listed
    r = await sw('PUT', `${A}/lo/bad?multipart-manifest=put`, {
      token: alice.token,
      body: JSON.stringify([{ path: '/lo_segments/big/0', etag: 'nope' }, { path: '/lo_segments/missing' }]),
    });
    expect(r.statusCode).toBe(400);
    expect(r.body).toBe('Errors:\nlo_segments/big/0, Etag Mismatch\nlo_segments/missing, 404 Not Found\n');
    r = await sw('PUT', `${A}/lo/bad`, {
      token: alice.token,
      body: 'x',
      headers: { 'x-static-large-object': 'true' },
    });
    expect(r.statusCode).toBe(400);
    r = await sw('DELETE', `${A}/lo/slo?multipart-manifest=delete`, {
      token: alice.token,
      headers: { accept: 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ 'Number Deleted': 4, 'Number Not Found': 0 });
    expect((await sw('GET', `${A}/lo_segments/big/0`, { token: alice.token })).statusCode).toBe(404);
  });
  it('DLO: X-Object-Manifest concatenates the prefix listing', async () => {
    for (const [i, d] of ['11', '22', '3'].entries())
      await sw('PUT', `${A}/lo_segments/dlo/${i}`, { token: alice.token, body: d });
    let r = await sw('PUT', `${A}/lo/dlo`, {
      token: alice.token,
      body: '',
      headers: { 'x-object-manifest': 'lo_segments/dlo/', 'content-length': '0' },
    });
    expect(r.statusCode).toBe(201);
    r = await sw('GET', `${A}/lo/dlo`, { token: alice.token });
    expect(r.body).toBe('11223');
    expect(r.headers.etag).toBe(`"${md5(md5('11') + md5('22') + md5('3'))}"`);
    expect(r.headers['x-object-manifest']).toBe('lo_segments/dlo/');
    r = await sw('GET', `${A}/lo/dlo`, { token: alice.token, headers: { range: 'bytes=1-3' } });
    expect(r.body).toBe('122');
    r = await sw('GET', `${A}/lo/dlo?multipart-manifest=get`, { token: alice.token });
    expect(r.body).toBe('');
  });
});

describe('versioning', () => {
  const list = async (c: string) => {
    const r = await sw('GET', `${A}/${c}`, { token: alice.token });
    return r.statusCode === 204 ? [] : r.body.split('\n').filter(Boolean);
  };
  it('X-Versions-Location (stack): PUT archives, DELETE restores the previous version', async () => {
    await sw('PUT', `${A}/archive`, { token: alice.token });
    await sw('PUT', `${A}/ver`, { token: alice.token, headers: { 'x-versions-location': 'archive' } });
    for (const v of ['v1', 'v2', 'v3']) await sw('PUT', `${A}/ver/doc`, { token: alice.token, body: v });
    expect((await sw('GET', `${A}/ver/doc`, { token: alice.token })).body).toBe('v3');
    const archived = await list('archive');
    expect(archived).toHaveLength(2);
    expect(archived[0]).toMatch(/^003doc\/\d{10}\.\d{5}$/);
    expect((await sw('DELETE', `${A}/ver/doc`, { token: alice.token })).statusCode).toBe(204);
    expect((await sw('GET', `${A}/ver/doc`, { token: alice.token })).body).toBe('v2');
    expect((await sw('DELETE', `${A}/ver/doc`, { token: alice.token })).statusCode).toBe(204);
    expect((await sw('GET', `${A}/ver/doc`, { token: alice.token })).body).toBe('v1');
    expect((await sw('DELETE', `${A}/ver/doc`, { token: alice.token })).statusCode).toBe(204);
    expect((await sw('GET', `${A}/ver/doc`, { token: alice.token })).statusCode).toBe(404);
    expect(await list('archive')).toEqual([]);
  });
  it('X-History-Location: DELETE archives the current version and a delete marker', async () => {
    await sw('PUT', `${A}/history`, { token: alice.token });
    await sw('PUT', `${A}/hist`, { token: alice.token, headers: { 'x-history-location': 'history' } });
    await sw('PUT', `${A}/hist/doc`, { token: alice.token, body: 'h1' });
    await sw('PUT', `${A}/hist/doc`, { token: alice.token, body: 'h2' });
    expect((await sw('DELETE', `${A}/hist/doc`, { token: alice.token })).statusCode).toBe(204);
    expect((await sw('GET', `${A}/hist/doc`, { token: alice.token })).statusCode).toBe(404);
    const r = await sw('GET', `${A}/history?format=json`, { token: alice.token });
    const rows = r.json() as { content_type: string; bytes: number }[];
    expect(rows.map((x) => x.bytes)).toEqual([2, 2, 0]);
    expect(rows[2]!.content_type).toBe('application/x-deleted;swift_versions_deleted=1');
    const both = await sw('PUT', `${A}/hist`, {
      token: alice.token,
      headers: { 'x-history-location': 'a', 'x-versions-location': 'b' },
    });
    expect(both.statusCode).toBe(400);
  });
});

describe('FormPost', () => {
  it('uploads the files of a signed form under the prefix; 401 with a bad signature', async () => {
    await sw('POST', A, { token: alice.token, headers: { 'x-account-meta-temp-url-key': 'secret-key' } });
    await sw('PUT', `${A}/forms`, { token: alice.token });
    const expires = Math.floor(Date.now() / 1000) + 60;
    const path = `/v1/${A}/forms/up/`;
    const sig = createHmac('sha256', 'secret-key').update(`${path}\n\n1024\n2\n${expires}`).digest('hex');
    const form = (signature: string) => {
      const b = 'XyZboundary';
      const field = (n: string, v: string) =>
        `--${b}\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`;
      const body =
        field('redirect', '') +
        field('max_file_size', '1024') +
        field('max_file_count', '2') +
        field('expires', String(expires)) +
        field('signature', signature) +
        `--${b}\r\nContent-Disposition: form-data; name="f1"; filename="one.txt"\r\nContent-Type: text/plain\r\n\r\nfirst file\r\n` +
        `--${b}\r\nContent-Disposition: form-data; name="f2"; filename="two.txt"\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--${b}--\r\n`;
      return { body, headers: { 'content-type': `multipart/form-data; boundary=${b}` } };
    };
    let r = await sw('POST', `${A}/forms/up/`, form(sig));
    expect(r.statusCode).toBe(201);
    expect((await sw('GET', `${A}/forms/up/one.txt`, { token: alice.token })).body).toBe('first file');
    expect((await sw('GET', `${A}/forms/up/two.txt`, { token: alice.token })).body).toBe('second');
    r = await sw('POST', `${A}/forms/up/`, form('0'.repeat(64)));
    expect(r.statusCode).toBe(401);
    expect(r.body).toBe('FormPost: invalid signature');
  });
});

describe('account ACLs', () => {
  it('X-Account-Access-Control grants read-only, read-write and admin to other projects', async () => {
    const B = `AUTH_${bob.projectId}`;
    await sw('PUT', `${B}/bobs`, { token: bob.token });
    await sw('PUT', `${B}/bobs/o`, { token: bob.token, body: 'bob data' });
    expect((await sw('GET', `${B}/bobs/o`, { token: alice.token })).statusCode).toBe(403);
    let r = await sw('POST', B, {
      token: bob.token,
      headers: { 'x-account-access-control': JSON.stringify({ 'read-only': [`${alice.projectId}:*`] }) },
    });
    expect(r.statusCode).toBe(204);
    expect((await sw('GET', `${B}/bobs/o`, { token: alice.token })).body).toBe('bob data');
    expect((await sw('GET', B, { token: alice.token })).body).toBe('bobs\n');
    expect((await sw('PUT', `${B}/bobs/a`, { token: alice.token, body: 'x' })).statusCode).toBe(403);
    await sw('POST', B, {
      token: bob.token,
      headers: {
        'x-account-access-control': JSON.stringify({ 'read-write': [`${alice.projectId}:${alice.userId}`] }),
      },
    });
    expect((await sw('PUT', `${B}/bobs/a`, { token: alice.token, body: 'x' })).statusCode).toBe(201);
    expect(
      (await sw('POST', B, { token: alice.token, headers: { 'x-account-meta-x': 'y' } })).statusCode,
    ).toBe(403);
    r = await sw('POST', B, { token: bob.token, headers: { 'x-account-access-control': 'not json' } });
    expect(r.statusCode).toBe(400);
    await sw('POST', B, { token: bob.token, headers: { 'x-account-access-control': '' } });
    expect((await sw('GET', `${B}/bobs/o`, { token: alice.token })).statusCode).toBe(403);
  });
});

describe('crash safety and streaming', () => {
  it('temp files and unreferenced blobs are swept at start; referenced ones stay', async () => {
    const { writeFileSync, mkdirSync, existsSync } = await import('node:fs');
    const facade = (cloud.server.ctx.services as Record<string, unknown>)['object-store'] as {
      manager: { backend: { init(): Promise<void> }; sweepOrphans(before: number): Promise<number> };
    };
    const dir = join(cloud.dataDir, 'objects');
    writeFileSync(join(dir, 'tmp', 'half-upload'), 'partial');
    mkdirSync(join(dir, 'data', 'ff', 'ee'), { recursive: true });
    writeFileSync(join(dir, 'data', 'ff', 'ee', 'ffee0000000000000000000000000000'), 'orphan');
    await facade.manager.backend.init();
    expect(existsSync(join(dir, 'tmp', 'half-upload'))).toBe(false);
    expect(await facade.manager.sweepOrphans(Date.now() + 1000)).toBe(1);
    expect(existsSync(join(dir, 'data', 'ff', 'ee', 'ffee0000000000000000000000000000'))).toBe(false);
    expect((await sw('GET', `${A}/c1/doc.json`, { token: alice.token })).statusCode).toBe(200);
  });
  it('chunked uploads over a real socket; a client that disconnects mid-upload leaves nothing', async () => {
    const http = await import('node:http');
    const url = await cloud.server.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(url).port);
    const status = await new Promise<number>((res, rej) => {
      const rq = http.request(
        {
          port,
          method: 'PUT',
          path: `/object-store/v1/${A}/c1/chunked`,
          headers: { 'x-auth-token': alice.token, 'transfer-encoding': 'chunked' },
        },
        (resp) => {
          resp.resume();
          res(resp.statusCode ?? 0);
        },
      );
      rq.on('error', rej);
      for (let i = 0; i < 10; i++) rq.write(Buffer.alloc(100_000, i));
      rq.end();
    });
    expect(status).toBe(201);
    const h = await sw('HEAD', `${A}/c1/chunked`, { token: alice.token });
    expect(h.headers['content-length']).toBe('1000000');
    // a declared length never completed
    await new Promise<void>((res) => {
      const rq = http.request({
        port,
        method: 'PUT',
        path: `/object-store/v1/${A}/c1/cut`,
        headers: { 'x-auth-token': alice.token, 'content-length': '1000000' },
      });
      rq.on('error', () => res());
      rq.write(Buffer.alloc(300_000));
      setTimeout(() => {
        rq.destroy();
        res();
      }, 200);
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await sw('HEAD', `${A}/c1/cut`, { token: alice.token })).statusCode).toBe(404);
    expect(readdirSync(join(cloud.dataDir, 'objects', 'tmp'))).toEqual([]);
  });
});

describe('extract archive', () => {
  it('tar and tar.gz uploads become objects (account level: first component is the container)', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'sb-tar-'));
    mkdirSync(join(dir, 'arc', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'arc', 'one.txt'), 'one');
    writeFileSync(join(dir, 'arc', 'sub', 'two.bin'), Buffer.alloc(70_000, 7));
    const long = `${'d'.repeat(120)}.txt`;
    writeFileSync(join(dir, 'arc', long), 'long name');
    execFileSync('tar', ['czf', join(dir, 'a.tgz'), '-C', dir, 'arc']);
    execFileSync('tar', ['cf', join(dir, 'b.tar'), '-C', join(dir, 'arc'), '.']);
    let r = await sw('PUT', `${A}?extract-archive=tar.gz`, {
      token: alice.token,
      body: readFileSync(join(dir, 'a.tgz')),
      headers: { accept: 'application/json' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      'Number Files Created': 3,
      'Response Status': '201 Created',
      Errors: [],
    });
    r = await sw('GET', `${A}/arc`, { token: alice.token });
    expect(r.body.split('\n').filter(Boolean).sort()).toEqual([long, 'one.txt', 'sub/two.bin'].sort());
    expect((await sw('GET', `${A}/arc/sub/two.bin`, { token: alice.token })).rawPayload.length).toBe(70_000);
    r = await sw('PUT', `${A}/c1/unpacked?extract-archive=tar`, {
      token: alice.token,
      body: readFileSync(join(dir, 'b.tar')),
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('Number Files Created: 3');
    expect((await sw('GET', `${A}/c1/unpacked/one.txt`, { token: alice.token })).body).toBe('one');
    r = await sw('PUT', `AUTH_${bob.projectId}?extract-archive=tar`, {
      token: alice.token,
      body: readFileSync(join(dir, 'b.tar')),
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('403 Forbidden');
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('names', () => {
  it('object names keep every slash (double, trailing) and unicode', async () => {
    await sw('PUT', `${A}/names`, { token: alice.token });
    for (const n of ['dir/', 'a//b', '/lead', 'ünï/çødé', 'sp ace+plus', 'q?x'])
      expect(
        (
          await sw('PUT', `${A}/names/${n.split('/').map(encodeURIComponent).join('/')}`, {
            token: alice.token,
            body: n,
          })
        ).statusCode,
        n,
      ).toBe(201);
    for (const n of ['dir/', 'a//b', '/lead', 'ünï/çødé', 'sp ace+plus', 'q?x'])
      expect(
        (
          await sw('GET', `${A}/names/${n.split('/').map(encodeURIComponent).join('/')}`, {
            token: alice.token,
          })
        ).body,
        n,
      ).toBe(n);
    const r = await sw('GET', `${A}/names?format=json&prefix=a//`, { token: alice.token });
    expect((r.json() as { name: string }[]).map((o) => o.name)).toEqual(['a//b']);
  });
});
