/** Cold and live migration between two in-process fake hosts. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('migrations across hosts', () => {
  let c: ComputeCloud;
  beforeAll(async () => {
    c = await startComputeCloud({ fake: { hostname: 'host-a' }, extraFakeHosts: [{ hostname: 'host-b' }] });
  });
  afterAll(async () => c?.close());

  const hostOf = async (id: string) =>
    (await c.nova('GET', `/servers/${id}`)).json().server['OS-EXT-SRV-ATTR:host'];
  const vmsOn = (host: string) =>
    c
      .nova('GET', '/os-hypervisors/detail')
      .then(
        (r) =>
          r.json().hypervisors.find((h: { service: { host: string } }) => h.service.host === host)
            .running_vms,
      );

  it('lists two hypervisors; live-migrates an ACTIVE server and back', async () => {
    const hv = (await c.nova('GET', '/os-hypervisors')).json().hypervisors;
    expect(hv).toHaveLength(2);
    const s = await c.boot(c.adminToken, { name: 'mover' });
    const from = await hostOf(s.id);
    const to = from === 'host-a' ? 'host-b' : 'host-a';
    let r = await c.nova('POST', `/servers/${s.id}/action`, {
      body: { 'os-migrateLive': { host: null, block_migration: 'auto' } },
    });
    expect(r.statusCode, r.body).toBe(202);
    await c.waitFor(s.id, 'ACTIVE');
    expect(await hostOf(s.id)).toBe(to);
    await c.compute.settle();
    expect(await vmsOn(to)).toBe(1);
    expect(await vmsOn(from)).toBe(0);
    const out = await c.nova('POST', `/servers/${s.id}/action`, { body: { 'os-getConsoleOutput': {} } });
    expect(out.json().output).toContain('login:');
    r = await c.nova('GET', '/os-migrations');
    expect(r.json().migrations[0]).toMatchObject({
      migration_type: 'live-migration',
      status: 'completed',
      source_compute: from,
      dest_compute: to,
    });
    r = await c.nova('POST', `/servers/${s.id}/action`, {
      body: { 'os-migrateLive': { host: to, block_migration: 'auto' } },
    });
    expect(r.statusCode).toBe(400);
    r = await c.nova('POST', `/servers/${s.id}/action`, {
      token: (await c.projectUser('mp', 'mu')).token,
      body: { migrate: null },
    });
    expect(r.statusCode).toBe(404);
    await c.nova('DELETE', `/servers/${s.id}`);
    await c.waitFor(s.id, 'DELETED');
  });

  it('cold-migrates a stopped server to VERIFY_RESIZE, reverts, migrates again and confirms', async () => {
    const s = await c.boot(c.adminToken, { name: 'cold' });
    await c.nova('POST', `/servers/${s.id}/action`, { body: { 'os-stop': null } });
    await c.waitFor(s.id, 'SHUTOFF');
    const from = await hostOf(s.id);
    let r = await c.nova('POST', `/servers/${s.id}/action`, { body: { migrate: null } });
    expect(r.statusCode, r.body).toBe(202);
    let x = await c.waitFor(s.id, 'VERIFY_RESIZE');
    expect(x['OS-EXT-SRV-ATTR:host']).not.toBe(from);
    r = await c.nova('POST', `/servers/${s.id}/action`, { body: { revertResize: null } });
    expect(r.statusCode, r.body).toBe(202);
    x = await c.waitFor(s.id, 'SHUTOFF');
    expect(x['OS-EXT-SRV-ATTR:host']).toBe(from);
    r = await c.nova('POST', `/servers/${s.id}/action`, { body: { migrate: null } });
    await c.waitFor(s.id, 'VERIFY_RESIZE');
    r = await c.nova('POST', `/servers/${s.id}/action`, { body: { confirmResize: null } });
    expect(r.statusCode).toBe(204);
    x = await c.waitFor(s.id, 'SHUTOFF');
    expect(x['OS-EXT-SRV-ATTR:host']).not.toBe(from);
    await c.compute.settle();
    expect(await vmsOn(from)).toBe(0);
    const migs = (await c.nova('GET', `/os-migrations?instance_uuid=${s.id}`))
      .json()
      .migrations.map((m: { status: string }) => m.status);
    expect(migs.sort()).toEqual(['confirmed', 'reverted']);
    await c.nova('DELETE', `/servers/${s.id}`);
  });

  it('2.74: admins pick the host at create; members may not', async () => {
    const p = await c.projectUser('hp', 'hu');
    const s = await c.boot(c.adminToken, { name: 'pinned', host: 'host-b' });
    expect(s['OS-EXT-SRV-ATTR:host']).toBe('host-b');
    const t = await c.boot(c.adminToken, { name: 'pinned2', hypervisor_hostname: 'host-a' });
    expect(t['OS-EXT-SRV-ATTR:host']).toBe('host-a');
    const r = await c.nova('POST', '/servers', {
      token: p.token,
      body: { server: { name: 'x', imageRef: s.image.id, flavorRef: '1', networks: 'none', host: 'host-b' } },
    });
    expect(r.statusCode).toBe(403);
    const old = await c.nova('POST', '/servers', {
      mv: '2.73',
      body: { server: { name: 'x', imageRef: s.image.id, flavorRef: '1', networks: 'none', host: 'host-b' } },
    });
    expect(old.statusCode).toBe(400);
    const none = await c.nova('POST', '/servers', {
      body: {
        server: { name: 'x', imageRef: s.image.id, flavorRef: '1', networks: 'none', host: 'nowhere' },
      },
    });
    expect(none.statusCode).toBe(400);
    for (const id of [s.id, t.id]) await c.nova('DELETE', `/servers/${id}`);
  });
});
