/** Restart consistency, interrupted uploads and quotas. */
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { createServer, defaultServices } from '../../src/server.js';
import { imageService } from '../../src/services/image/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { createImage, fault, upload } from './helpers.js';

const status = async (cloud: TestCloud, id: string, token = cloud.adminToken) =>
  (await cloud.req('GET', `/image/v2/images/${id}`, { token })).json() as Record<string, any>;

describe('restart consistency', () => {
  it('removes orphan and temporary files and requeues rows whose data is missing or half-written', async () => {
    const cloud = await startTestCloud();
    const dir = join(cloud.dataDir, 'images');
    const t = cloud.adminToken;
    const keep = await createImage(cloud, t, { name: 'keep' });
    await upload(cloud, t, keep.id, Buffer.alloc(5000, 1));
    const lost = await createImage(cloud, t, { name: 'lost' });
    await upload(cloud, t, lost.id, Buffer.alloc(5000, 2));
    const truncated = await createImage(cloud, t, { name: 'truncated' });
    await upload(cloud, t, truncated.id, Buffer.alloc(5000, 3));
    const saving = await createImage(cloud, t, { name: 'saving' });
    const staged = await createImage(cloud, t, { name: 'staged' });
    await cloud.req('PUT', `/image/v2/images/${staged.id}/stage`, { token: t, body: Buffer.alloc(100) });
    const unstaged = await createImage(cloud, t, { name: 'unstaged' });
    await cloud.req('PUT', `/image/v2/images/${unstaged.id}/stage`, { token: t, body: Buffer.alloc(100) });

    // simulate a crash: a file deleted behind our back, one truncated, an upload cut mid-way, an orphan
    rmSync(join(dir, lost.id));
    writeFileSync(join(dir, truncated.id), Buffer.alloc(10));
    await cloud.server.db.kysely
      .updateTable('image')
      .set({ status: 'saving' })
      .where('id', '=', saving.id)
      .execute();
    rmSync(join(dir, 'staging', unstaged.id));
    writeFileSync(join(dir, '0badf00d-0000-0000-0000-000000000000'), 'orphan');
    writeFileSync(join(dir, '.tmp', `${saving.id}.abc`), 'half');
    writeFileSync(join(dir, 'staging', '1badf00d-0000-0000-0000-000000000000'), 'orphan staged');
    await cloud.server.close();

    const server = await createServer(cloud.config, createLogger('silent'), { services: defaultServices() });
    try {
      const get = async (id: string) =>
        (
          await server.app.inject({
            method: 'GET',
            url: `/image/v2/images/${id}`,
            headers: { 'x-auth-token': t },
          })
        ).json();
      expect(await get(keep.id)).toMatchObject({ status: 'active', size: 5000 });
      for (const id of [lost.id, truncated.id, saving.id, unstaged.id])
        expect(await get(id)).toMatchObject({
          status: 'queued',
          size: null,
          checksum: null,
          os_hash_value: null,
        });
      expect(await get(staged.id)).toMatchObject({ status: 'uploading' });
      expect(
        readdirSync(dir)
          .filter((f) => !f.startsWith('.') && f !== 'staging')
          .sort(),
      ).toEqual([keep.id]);
      expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
      expect(readdirSync(join(dir, 'staging'))).toEqual([staged.id]);
      // a requeued image can be uploaded again
      const r = await server.app.inject({
        method: 'PUT',
        url: `/image/v2/images/${lost.id}/file`,
        headers: { 'x-auth-token': t, 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(10, 9),
      });
      expect(r.statusCode).toBe(204);
    } finally {
      await server.close();
      rmSync(cloud.dataDir, { recursive: true, force: true });
    }
  });
});

describe('interrupted upload', () => {
  let cloud: TestCloud;
  afterAll(async () => cloud?.close());
  it('a client that disconnects mid-upload leaves the image queued and no partial file', async () => {
    cloud = await startTestCloud();
    const addr = await cloud.server.listen();
    const url = new URL(addr.replace('0.0.0.0', '127.0.0.1'));
    const img = await createImage(cloud, cloud.adminToken);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: `/image/v2/images/${img.id}/file`,
        headers: {
          'x-auth-token': cloud.adminToken,
          'content-type': 'application/octet-stream',
          'content-length': String(64 * 1024 * 1024),
        },
      });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(4 * 1024 * 1024, 1));
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });
    let s: Record<string, any> = {};
    for (let i = 0; i < 50; i++) {
      s = await status(cloud, img.id);
      if (s.status !== 'saving') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(s).toMatchObject({ status: 'queued', size: null, checksum: null });
    const dir = join(cloud.dataDir, 'images');
    expect(readdirSync(join(dir, '.tmp'))).toEqual([]);
    expect(existsSync(join(dir, img.id))).toBe(false);
    expect((await upload(cloud, cloud.adminToken, img.id, Buffer.from('again'))).statusCode).toBe(204);
  });
});

describe('quotas', () => {
  let cloud: TestCloud;
  afterAll(async () => cloud?.close());
  it('image count and stored bytes per project are limited (413); other projects are not affected', async () => {
    cloud = await startTestCloud({
      services: [imageService({ imageCountTotal: 3, imageSizeTotal: 10_000 })],
    });
    const p = await cloud.projectUser('quota-p', 'quota-u');
    const q = await cloud.projectUser('quota-q', 'quota-v');
    const i1 = await createImage(cloud, p.token);
    const i2 = await createImage(cloud, p.token);
    const i3 = await createImage(cloud, p.token);
    let r = await cloud.req('POST', '/image/v2/images', { token: p.token, body: {} });
    expect(r.statusCode).toBe(413);
    expect(fault(r).message).toMatch(/image_count_total is over limit of 3 due to current usage 3/);
    await createImage(cloud, q.token);
    expect((await upload(cloud, p.token, i1.id, Buffer.alloc(6000))).statusCode).toBe(204);
    // declared too big: refused up front
    r = await upload(cloud, p.token, i2.id, Buffer.alloc(6000));
    expect(r.statusCode).toBe(413);
    expect(fault(r).message).toMatch(/storage quota/);
    expect((await status(cloud, i2.id)).status).toBe('queued');
    // streamed without a length (chunked): cut when the limit is crossed
    const { Readable } = await import('node:stream');
    r = await cloud.server.app.inject({
      method: 'PUT',
      url: `/image/v2/images/${i3.id}/file`,
      headers: { 'x-auth-token': p.token, 'content-type': 'application/octet-stream' },
      payload: Readable.from([Buffer.alloc(3000), Buffer.alloc(3000)]),
    });
    expect(r.statusCode).toBe(413);
    expect((await status(cloud, i3.id)).status).toBe('queued');
    expect(readdirSync(join(cloud.dataDir, 'images', '.tmp'))).toEqual([]);
    expect((await upload(cloud, p.token, i2.id, Buffer.alloc(4000))).statusCode).toBe(204);
    // deleting frees quota
    expect((await cloud.req('DELETE', `/image/v2/images/${i1.id}`, { token: p.token })).statusCode).toBe(204);
    expect((await upload(cloud, p.token, i3.id, Buffer.alloc(5000))).statusCode).toBe(204);
  });
});
