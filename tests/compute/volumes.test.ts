/**
 * Nova's os-volume_attachments through block storage: attach reserves, exports and hot-plugs (the fake driver
 * sees the disk with the volume id's first 20 characters as serial), the volume is in-use, list and show
 * answer, detach unplugs and frees it, another project's volume or server is a 404, a deleted server frees
 * its volumes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

let c: ComputeCloud;
beforeAll(async () => {
  c = await startComputeCloud({ env: { STACKBOX_VOLUME_DRIVER: 'fake' } });
});
afterAll(async () => c?.close());

async function volume(token: string): Promise<string> {
  const r = await c.req('POST', '/volume/v3/volumes', { token, body: { volume: { size: 1, name: 'v' } } });
  expect(r.statusCode, r.body).toBe(202);
  const id = r.json().volume.id as string;
  for (let i = 0; i < 200; i++) {
    const v = (await c.req('GET', `/volume/v3/volumes/${id}`, { token })).json().volume;
    if (v.status !== 'creating') break;
    await new Promise((res) => setTimeout(res, 20));
  }
  return id;
}

const fakeVolumes = (serverId: string): { volumeId: string; serial?: string; device?: string }[] =>
  ((c.server.ctx.host?.computeDriver as any).vms.get(serverId)?.volumes ?? []) as any[];

describe('os-volume_attachments', () => {
  it('attaches, lists, detaches, and keeps projects apart', async () => {
    const p1 = await c.projectUser('vol-p1', 'vol-u1');
    const p2 = await c.projectUser('vol-p2', 'vol-u2');
    const s = await c.boot(p1.token);
    expect(s.status).toBe('ACTIVE');
    const vid = await volume(p1.token);

    const r = await c.nova('POST', `/servers/${s.id}/os-volume_attachments`, {
      token: p1.token,
      body: { volumeAttachment: { volumeId: vid } },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().volumeAttachment).toMatchObject({ volumeId: vid, serverId: s.id, device: '/dev/vdb' });
    await c.compute.settle();
    expect(fakeVolumes(s.id)).toEqual([expect.objectContaining({ volumeId: vid, serial: vid.slice(0, 20) })]);

    const v = (await c.req('GET', `/volume/v3/volumes/${vid}`, { token: p1.token })).json().volume;
    expect(v.status).toBe('in-use');
    expect(v.attachments[0]).toMatchObject({ server_id: s.id });
    const list = (await c.nova('GET', `/servers/${s.id}/os-volume_attachments`, { token: p1.token })).json();
    expect(list.volumeAttachments.map((a: { volumeId: string }) => a.volumeId)).toEqual([vid]);
    const show = await c.nova('GET', `/servers/${s.id}/os-volume_attachments/${vid}`, { token: p1.token });
    expect(show.statusCode).toBe(200);
    const srv = (await c.nova('GET', `/servers/${s.id}`, { token: p1.token })).json().server;
    expect(srv['os-extended-volumes:volumes_attached']).toEqual([{ id: vid, delete_on_termination: false }]);

    // Attached twice: Cinder refuses, nothing changes.
    const again = await c.nova('POST', `/servers/${s.id}/os-volume_attachments`, {
      token: p1.token,
      body: { volumeAttachment: { volumeId: vid } },
    });
    expect(again.statusCode).toBe(400);

    // Another project: its volume on our server, our volume on its server, our server at all.
    const s2 = await c.boot(p2.token);
    const v2 = await volume(p2.token);
    const cross1 = await c.nova('POST', `/servers/${s.id}/os-volume_attachments`, {
      token: p1.token,
      body: { volumeAttachment: { volumeId: v2 } },
    });
    expect(cross1.statusCode).toBe(404);
    const cross2 = await c.nova('POST', `/servers/${s2.id}/os-volume_attachments`, {
      token: p2.token,
      body: { volumeAttachment: { volumeId: vid } },
    });
    expect([400, 404]).toContain(cross2.statusCode);
    const cross3 = await c.nova('GET', `/servers/${s.id}/os-volume_attachments`, { token: p2.token });
    expect(cross3.statusCode).toBe(404);
    const bad = await c.nova('POST', `/servers/${s.id}/os-volume_attachments`, {
      token: p1.token,
      body: { volumeAttachment: { volumeId: 'not-a-uuid' } },
    });
    expect(bad.statusCode).toBe(400);

    const d = await c.nova('DELETE', `/servers/${s.id}/os-volume_attachments/${vid}`, { token: p1.token });
    expect(d.statusCode).toBe(202);
    await c.compute.settle();
    expect(fakeVolumes(s.id)).toEqual([]);
    expect((await c.req('GET', `/volume/v3/volumes/${vid}`, { token: p1.token })).json().volume.status).toBe(
      'available',
    );

    // A deleted server frees its volumes.
    await c.nova('POST', `/servers/${s.id}/os-volume_attachments`, {
      token: p1.token,
      body: { volumeAttachment: { volumeId: vid } },
    });
    await c.nova('DELETE', `/servers/${s.id}`, { token: p1.token });
    await c.waitFor(s.id, 'DELETED', p1.token);
    expect((await c.req('GET', `/volume/v3/volumes/${vid}`, { token: p1.token })).json().volume.status).toBe(
      'available',
    );
  });
});
