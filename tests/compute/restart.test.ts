/**
 * Crash/restart: kill -9 a real `stackbox up` while a boot is in progress, start it again on the same data
 * directory: no server stays in BUILD, running servers are still there, orphans are reaped, no claim leaks.
 */
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStackbox, type StackboxProcess } from '../support/stackbox.js';

async function api(
  sb: StackboxProcess,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const r = await fetch(`${sb.url}${path}`, {
    method,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}),
      ...(body !== undefined && !Buffer.isBuffer(body) ? { 'content-type': 'application/json' } : {}),
      'OpenStack-API-Version': 'compute 2.79',
      ...headers,
    },
    body:
      body === undefined ? undefined : Buffer.isBuffer(body) ? new Uint8Array(body) : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : undefined };
}

async function login(sb: StackboxProcess): Promise<string> {
  const r = await fetch(`${sb.url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: sb.adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  expect(r.status).toBe(201);
  return r.headers.get('x-subject-token')!;
}

async function until<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('compute crash and restart', () => {
  let sb: StackboxProcess | undefined;
  afterAll(async () => sb?.cleanup());

  it('recovers a boot interrupted by kill -9, keeps running servers, reaps orphans, leaks no claim', async () => {
    sb = await startStackbox();
    let token = await login(sb);
    const img = await api(sb, token, 'POST', '/image/v2/images', {
      name: 'restart-img',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    });
    expect(img.status).toBe(201);
    const up = await api(sb, token, 'PUT', `/image/v2/images/${img.json.id}/file`, Buffer.alloc(1024, 7), {
      'content-type': 'application/octet-stream',
    });
    expect(up.status).toBe(204);
    const boot = (name: string, metadata: Record<string, string> = {}) =>
      api(sb!, token, 'POST', '/compute/v2.1/servers', {
        server: { name, imageRef: img.json.id, flavorRef: '1', networks: 'none', metadata },
      });
    const show = async (id: string) =>
      (await api(sb!, token, 'GET', `/compute/v2.1/servers/${id}`)).json?.server;

    const steady = (await boot('steady')).json.server.id as string;
    await until(
      async () => ((await show(steady))?.status === 'ACTIVE' ? true : undefined),
      15_000,
      'steady ACTIVE',
    );
    // A slow boot (8 s in the fake driver), killed while spawning.
    const slow = (await boot('slow', { fake_delay_spawn_ms: '8000' })).json.server.id as string;
    await until(
      async () => ((await show(slow))?.['OS-EXT-STS:task_state'] === 'spawning' ? true : undefined),
      15_000,
      'slow spawning',
    );
    expect(await sb.stop('SIGKILL')).toBe(null);

    // While the process is down, a stale VM appears in the fake hypervisor's state (an orphan).
    const dir = join(sb.dataDir, 'compute');
    const stateFile = join(
      dir,
      readdirSync(dir).find((f) => f.startsWith('fake-') && f.endsWith('.json'))!,
    );
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(state.vms.map((v: { uuid: string }) => v.uuid)).toEqual([steady]);
    const orphan = { ...state.vms[0], uuid: '11111111-2222-3333-4444-555555555555', name: 'instance-orphan' };
    state.vms.push(orphan);
    writeFileSync(stateFile, JSON.stringify(state));

    const dataDir = sb.dataDir;
    const port = sb.port;
    sb = await startStackbox({ dataDir, port });
    token = await login(sb);
    // The interrupted build is started again and completes; nothing stays in BUILD.
    const s = await until(
      async () => {
        const x = await show(slow);
        return x && x.status !== 'BUILD' ? x : undefined;
      },
      30_000,
      'slow out of BUILD',
    );
    expect(s.status).toBe('ACTIVE');
    expect((await show(steady)).status).toBe('ACTIVE');
    const list = await api(sb, token, 'GET', '/compute/v2.1/servers/detail');
    expect(list.json.servers.filter((x: { status: string }) => x.status === 'BUILD')).toEqual([]);
    // The orphan is gone from the hypervisor; the steady server kept running (not rebuilt: one boot).
    const after = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(after.vms.map((v: { uuid: string }) => v.uuid).sort()).toEqual([slow, steady].sort());
    expect(after.vms.find((v: { uuid: string }) => v.uuid === steady).bootCount).toBe(1);
    let hv = (await api(sb, token, 'GET', '/compute/v2.1/os-hypervisors/detail')).json.hypervisors[0];
    expect(hv).toMatchObject({ vcpus_used: 2, memory_mb_used: 1024, running_vms: 2, state: 'up' });
    const actions = (await api(sb, token, 'GET', `/compute/v2.1/servers/${slow}/os-instance-actions`)).json
      .instanceActions;
    expect(actions.map((a: { action: string }) => a.action)).toContain('create');
    // Deleting releases every claim.
    for (const id of [slow, steady])
      expect((await api(sb, token, 'DELETE', `/compute/v2.1/servers/${id}`)).status).toBe(204);
    await until(
      async () =>
        (await api(sb!, token, 'GET', `/compute/v2.1/servers/${slow}`)).status === 404 ? true : undefined,
      15_000,
      'deleted',
    );
    await until(
      async () =>
        (await api(sb!, token, 'GET', `/compute/v2.1/servers/${steady}`)).status === 404 ? true : undefined,
      15_000,
      'deleted',
    );
    hv = (await api(sb, token, 'GET', '/compute/v2.1/os-hypervisors/detail')).json.hypervisors[0];
    expect(hv).toMatchObject({ vcpus_used: 0, memory_mb_used: 0, running_vms: 0 });
    expect(JSON.parse(readFileSync(stateFile, 'utf8')).vms).toEqual([]);
  });
});
