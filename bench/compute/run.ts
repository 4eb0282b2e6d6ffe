/**
 * Compute benchmark (fake driver): servers created → ACTIVE per second at concurrency 16 with p50/p99 create
 * latency and time to ACTIVE, then list latency with 10,000 servers, paginated. Run:
 * `npm run bench:compute` (BENCH_SERVERS=<n> for the create phase, default 400; BENCH_LIST=<n>
 * servers for the list phase, default 10000). Talks only to 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pct, rssOf } from '../support.js';
import { login, ROOT, spawnCloud } from '../../tests/support/stackbox.js';

/** The admin password ./server.ts sets. */
const PASSWORD = 'bench-admin-password';
const N_CREATE = Number(process.env.BENCH_SERVERS ?? 400);
const N_LIST = Number(process.env.BENCH_LIST ?? 10_000);
const CONCURRENCY = 16;

/** Percentile, rounded to 0.1 ms as this bench prints it. */
const p = (xs: number[], q: number) => +pct(xs, q).toFixed(1);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-bench-compute-'));
  // not `stackbox up`: the same server with a fake host big enough for 10,000 servers (./server.ts)
  const child = spawnCloud({
    argv: ['--import', 'tsx', join(ROOT, 'bench/compute/server.ts'), dataDir],
    env: process.env,
    cwd: ROOT,
    echoStderr: true,
  });
  const url = (await child.waitFor(/URL (\S+)/))[1]!;
  const mv = { 'OpenStack-API-Version': 'compute 2.79' };
  const { token, projectId: project } = await login(url, PASSWORD);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { 'x-auth-token': token, ...mv, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
  await call('PUT', `/compute/v2.1/os-quota-sets/${project}`, {
    quota_set: { instances: -1, cores: -1, ram: -1 },
  });
  const img = await call('POST', '/image/v2/images', {
    name: 'bench',
    disk_format: 'raw',
    container_format: 'bare',
    visibility: 'public',
  });
  await fetch(`${url}/image/v2/images/${img.id}/file`, {
    method: 'PUT',
    headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(4096),
  });
  const rss = () => Math.round(rssOf(child.pid).rss);

  // ---------------------------------------------------------------- create → ACTIVE at concurrency 16
  const createLat: number[] = [];
  const activeLat: number[] = [];
  let next = 0;
  let errors = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < N_CREATE) {
      const i = next++;
      const start = performance.now();
      try {
        const r = await call('POST', '/compute/v2.1/servers', {
          server: { name: `bench-${i}`, imageRef: img.id, flavorRef: '42', networks: 'none' },
        });
        createLat.push(performance.now() - start);
        for (;;) {
          const s = (await call('GET', `/compute/v2.1/servers/${r.server.id}`)).server;
          if (s.status === 'ACTIVE') break;
          if (s.status === 'ERROR') throw new Error(JSON.stringify(s.fault));
          await new Promise((res) => setTimeout(res, 25));
        }
        activeLat.push(performance.now() - start);
      } catch (e) {
        errors++;
        console.error(String(e).slice(0, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      phase: 'create→ACTIVE',
      concurrency: CONCURRENCY,
      servers: activeLat.length,
      errors,
      'ACTIVE/s': +(activeLat.length / secs).toFixed(1),
      'create p50 ms': p(createLat, 50),
      'create p99 ms': p(createLat, 99),
      'to ACTIVE p50 ms': p(activeLat, 50),
      'to ACTIVE p99 ms': p(activeLat, 99),
      'server RSS MB': rss(),
    }),
  );

  // ---------------------------------------------------------------- fill to N_LIST servers (batches of 100 via max_count)
  const tf = performance.now();
  let have = activeLat.length;
  const batches: Promise<unknown>[] = [];
  while (have < N_LIST) {
    const n = Math.min(100, N_LIST - have);
    have += n;
    batches.push(
      call('POST', '/compute/v2.1/servers', {
        server: {
          name: 'fill',
          imageRef: img.id,
          flavorRef: '42',
          networks: 'none',
          min_count: n,
          max_count: n,
        },
      }),
    );
    if (batches.length >= 4) await Promise.all(batches.splice(0));
  }
  await Promise.all(batches);
  for (;;) {
    const b = await call('GET', '/compute/v2.1/servers?status=BUILD&limit=1');
    if (b.servers.length === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const total = (await call('GET', '/compute/v2.1/os-hypervisors/statistics')).hypervisor_statistics
    .running_vms;
  console.log(
    JSON.stringify({
      phase: 'fill',
      servers: total,
      seconds: +((performance.now() - tf) / 1000).toFixed(1),
      'server RSS MB': rss(),
    }),
  );

  // ---------------------------------------------------------------- list latency, paginated
  for (const [path, limit] of [
    ['/compute/v2.1/servers', 100],
    ['/compute/v2.1/servers/detail', 100],
    ['/compute/v2.1/servers/detail', 1000],
  ] as const) {
    const lat: number[] = [];
    let marker: string | undefined;
    let count = 0;
    const tw = performance.now();
    for (;;) {
      const s = performance.now();
      const r = await call('GET', `${path}?limit=${limit}${marker ? `&marker=${marker}` : ''}`);
      lat.push(performance.now() - s);
      count += r.servers.length;
      const nextLink = r.servers_links?.[0]?.href as string | undefined;
      if (!nextLink) break;
      marker = new URL(nextLink).searchParams.get('marker')!;
    }
    console.log(
      JSON.stringify({
        phase: 'list',
        path,
        limit,
        pages: lat.length,
        servers: count,
        'page p50 ms': p(lat, 50),
        'page p99 ms': p(lat, 99),
        'full walk s': +((performance.now() - tw) / 1000).toFixed(2),
      }),
    );
  }
  const first: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await call('GET', '/compute/v2.1/servers/detail?limit=100&name=^bench-1');
    first.push(performance.now() - s);
  }
  console.log(
    JSON.stringify({
      phase: 'list filtered by name regex (10k scanned)',
      'p50 ms': p(first, 50),
      'p99 ms': p(first, 99),
    }),
  );
  console.log(JSON.stringify({ phase: 'end', 'server RSS MB': rss() }));
  await child.stop('SIGTERM');
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
