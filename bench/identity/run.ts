/**
 * Identity benchmark: cold start, token issue / validate, project list, project create+delete at
 * concurrency 1 and 16, and the server's RSS. Run: `npm run bench:identity`
 * (BENCH_SECONDS=<n> per measurement, default 5). Talks only to 127.0.0.1.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcrypt';
import { pct, rssOf } from '../support.js';
import { freePort, passwordAuth, startStackbox, type StartOptions } from '../../tests/support/stackbox.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const PASSWORD = 'bench-admin-password';

async function measure(name: string, concurrency: number, op: () => Promise<void>, seconds = SECONDS) {
  const lat: number[] = [];
  const end = Date.now() + seconds * 1000;
  let errors = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const t = performance.now();
      try {
        await op();
        lat.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const secs = (performance.now() - t0) / 1000;
  const row = {
    op: name,
    c: concurrency,
    'req/s': Math.round(lat.length / secs),
    'p50 ms': +pct(lat, 50).toFixed(2),
    'p99 ms': +pct(lat, 99).toFixed(2),
    n: lat.length,
    errors,
  };
  console.log(JSON.stringify(row));
  return row;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  // `stackbox up` as a user runs it (default drivers), no clouds.yaml; ready at its first token
  const up: StartOptions = {
    dataDir,
    port,
    adminPassword: PASSWORD,
    testDefaults: false,
    env: { STACKBOX_LOG_LEVEL: 'warn' },
    cloudsYaml: false,
    ready: 'token',
  };
  const authBody = JSON.stringify(passwordAuth('admin', PASSWORD, 'admin'));
  const issue = async () => {
    const r = await fetch(`${base}/identity/v3/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: authBody,
    });
    if (r.status !== 201) throw new Error(`issue ${r.status}`);
    await r.arrayBuffer();
    return r.headers.get('x-subject-token')!;
  };
  const t0 = performance.now();
  const sb = await startStackbox({ ...up, echoStderr: true });
  const coldStart = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      'cold start (first start: migrations, bootstrap, first token) s': +coldStart.toFixed(2),
    }),
  );
  const token = await issue();

  // bcrypt verification at the server's cost, measured here for the ratio
  const hash = await bcrypt.hash(PASSWORD, 12);
  const bt: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await bcrypt.compare(PASSWORD, hash);
    bt.push(performance.now() - t);
  }
  const bcryptMs = pct(bt, 50);

  const h = { 'x-auth-token': token, 'content-type': 'application/json' };
  const validate = async () => {
    const r = await fetch(`${base}/identity/v3/auth/tokens?nocatalog`, {
      headers: { ...h, 'x-subject-token': token },
    });
    if (r.status !== 200) throw new Error(`validate ${r.status}`);
    await r.arrayBuffer();
  };
  // 100 projects so the listing is not trivial
  for (let i = 0; i < 100; i++) {
    await fetch(`${base}/identity/v3/projects`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ project: { name: `bench-${i}` } }),
    });
  }
  const list = async () => {
    const r = await fetch(`${base}/identity/v3/projects`, { headers: h });
    if (r.status !== 200) throw new Error(`list ${r.status}`);
    await r.arrayBuffer();
  };
  let seq = 0;
  const createDelete = async () => {
    const r = await fetch(`${base}/identity/v3/projects`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ project: { name: `cd-${process.pid}-${seq++}` } }),
    });
    if (r.status !== 201) throw new Error(`create ${r.status}`);
    const id = ((await r.json()) as { project: { id: string } }).project.id;
    const d = await fetch(`${base}/identity/v3/projects/${id}`, { method: 'DELETE', headers: h });
    if (d.status !== 204) throw new Error(`delete ${d.status}`);
  };

  const rows = [];
  for (const c of [1, 16]) {
    rows.push(await measure('token issue (password, bcrypt cost 12)', c, async () => void (await issue())));
    rows.push(await measure('token validate', c, validate));
    rows.push(await measure('project list (100+ projects)', c, list));
    rows.push(await measure('project create+delete', c, createDelete));
  }
  const issue1 = rows.find((r) => r.op.startsWith('token issue') && r.c === 1)!;
  console.log(
    JSON.stringify({
      'bcrypt verify (cost 12) p50 ms': +bcryptMs.toFixed(1),
      'token issue p50 ms (c=1)': issue1['p50 ms'],
      'issue / bcrypt ratio': +(issue1['p50 ms'] / bcryptMs).toFixed(2),
    }),
  );
  const mem = rssOf(sb.pid);
  console.log(
    JSON.stringify({ 'server RSS MB': +mem.rss.toFixed(1), 'server peak RSS MB': +mem.hwm.toFixed(1) }),
  );

  // Warm restart: process start → first token on an existing data directory.
  await sb.stop('SIGTERM');
  const t1 = performance.now();
  const sb2 = await startStackbox(up);
  console.log(
    JSON.stringify({
      'warm start (restart → first token) s': +((performance.now() - t1) / 1000).toFixed(2),
      'idle RSS after start MB': +rssOf(sb2.pid).rss.toFixed(1),
    }),
  );
  await sb2.cleanup();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
