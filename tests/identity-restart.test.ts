/** `stackbox up` lifecycle: first start, restart on the same data, graceful stop, key rotation. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStackbox } from './support/stackbox.js';

const ROOT = resolve(import.meta.dirname, '..');
const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-restart-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function api(url: string, path: string, init: RequestInit = {}) {
  return fetch(`${url}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}
async function tokenFor(url: string, password: string) {
  const r = await api(url, '/identity/v3/auth/tokens', {
    method: 'POST',
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  expect(r.status).toBe(201);
  return r.headers.get('x-subject-token')!;
}

describe('stackbox up on the same data directory', () => {
  it('generates a password once, keeps data and tokens across restarts, rotates keys', async () => {
    // First start without a password: one is generated, printed once and stored 0600.
    let sb = await startStackbox({ dataDir, env: { STACKBOX_ADMIN_PASSWORD: '' } });
    const printed = /Admin password \(generated[^)]*\): (\S+)/.exec(sb.output())?.[1];
    expect(printed).toBeTruthy();
    const stored = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
    expect(stored).toBe(printed);
    expect(statSync(join(dataDir, 'admin-password')).mode & 0o077).toBe(0);
    expect(readFileSync(sb.cloudsYaml, 'utf8')).toContain(printed!);
    expect(existsSync(join(dataDir, 'stackbox.db'))).toBe(true);
    const token = await tokenFor(sb.url, printed!);
    const created = await api(sb.url, '/identity/v3/projects', {
      method: 'POST',
      headers: { 'x-auth-token': token },
      body: JSON.stringify({ project: { name: 'survives' } }),
    });
    expect(created.status).toBe(201);
    // graceful stop on SIGTERM
    expect(await sb.stop('SIGTERM')).toBe(0);

    // Restart: nothing printed about passwords, the project and the token are still there.
    sb = await startStackbox({ dataDir, port: sb.port, env: { STACKBOX_ADMIN_PASSWORD: '' } });
    expect(sb.output()).not.toContain('Admin password');
    let r = await api(sb.url, '/identity/v3/projects?name=survives', { headers: { 'x-auth-token': token } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { projects: unknown[] }).projects).toHaveLength(1);

    // Rotating keys once keeps tokens issued with the old primary valid (it becomes a secondary).
    const rot = spawnSync(
      process.execPath,
      [join(ROOT, 'bin', 'stackbox.js'), 'token', 'rotate', '--data-dir', dataDir],
      { encoding: 'utf8' },
    );
    expect(rot.status, rot.stderr).toBe(0);
    expect(rot.stdout).toMatch(/primary is now key 2/);
    expect(await sb.stop('SIGINT')).toBe(0);
    sb = await startStackbox({ dataDir, port: sb.port, env: { STACKBOX_ADMIN_PASSWORD: '' } });
    r = await api(sb.url, '/identity/v3/auth/tokens', {
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    expect(r.status).toBe(200);
    const fresh = await tokenFor(sb.url, printed!);
    expect(fresh).not.toBe(token);
    // Rotating past max_active_keys (3) drops the key the first token was made with.
    for (let i = 0; i < 2; i++)
      spawnSync(process.execPath, [
        join(ROOT, 'bin', 'stackbox.js'),
        'token',
        'rotate',
        '--data-dir',
        dataDir,
      ]);
    await sb.stop();
    sb = await startStackbox({ dataDir, port: sb.port, env: { STACKBOX_ADMIN_PASSWORD: '' } });
    r = await api(sb.url, '/identity/v3/auth/tokens', {
      headers: { 'x-auth-token': token, 'x-subject-token': token },
    });
    expect(r.status).toBe(401);
    await sb.stop();
  });
});
