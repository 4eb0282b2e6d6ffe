/**
 * Network benchmark against a real `stackbox up` (SQLite; STACKBOX_DATABASE_URL for PostgreSQL): ports created
 * per second with 16 concurrent clients (and 1), then list latency over 10,000 ports — paginated walks with
 * limit/marker, one unpaginated list, filtered lists — and the server's RSS.
 * Run: `npm run bench:network` (BENCH_PORTS=<n>, default 10000). Talks only to 127.0.0.1.
 */
import { pct, rssOf } from '../support.js';
import { startStackbox } from '../../tests/support/stackbox.js';

const TOTAL = Number(process.env.BENCH_PORTS ?? 10_000);

async function main() {
  const sb = await startStackbox({
    env: process.env.STACKBOX_DATABASE_URL
      ? { STACKBOX_DATABASE_URL: process.env.STACKBOX_DATABASE_URL }
      : {},
  });
  try {
    const { token, projectId } = await sb.login();
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await fetch(`${sb.url}/networking/v2.0${path}`, {
        method,
        headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
      return text ? (JSON.parse(text) as any) : {};
    };
    await call('PUT', `/quotas/${projectId}`, { quota: { port: -1 } });
    const net = (await call('POST', '/networks', { network: { name: 'bench' } })).network;
    await call('POST', '/subnets', {
      subnet: { network_id: net.id, cidr: '10.100.0.0/16', ip_version: 4 },
    });

    const create = async (count: number, concurrency: number) => {
      const lat: number[] = [];
      let next = 0;
      let errors = 0;
      const worker = async () => {
        while (next < count) {
          next++;
          const t = performance.now();
          try {
            await call('POST', '/ports', { port: { network_id: net.id } });
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
        op: 'port create',
        c: concurrency,
        'ports/s': Math.round(lat.length / secs),
        'p50 ms': +pct(lat, 50).toFixed(1),
        'p99 ms': +pct(lat, 99).toFixed(1),
        n: lat.length,
        errors,
      };
      console.log(JSON.stringify(row));
    };
    const probe = (await call('POST', '/ports', { port: { network_id: net.id } })).port;
    const probeIp = probe.fixed_ips[0].ip_address as string;
    await create(199, 1);
    await create(TOTAL - 200, 16);

    const timed = async (name: string, fn: () => Promise<unknown>, times = 5) => {
      const lat: number[] = [];
      let info: unknown;
      for (let i = 0; i < times; i++) {
        const t = performance.now();
        info = await fn();
        lat.push(performance.now() - t);
      }
      console.log(
        JSON.stringify({
          op: name,
          'p50 ms': +pct(lat, 50).toFixed(1),
          'max ms': +Math.max(...lat).toFixed(1),
          runs: times,
          info,
        }),
      );
    };
    const walk = async (limit: number) => {
      const pages: number[] = [];
      let url = `/ports?limit=${limit}`;
      let n = 0;
      while (url) {
        const t = performance.now();
        const page = await call('GET', url);
        pages.push(performance.now() - t);
        n += page.ports.length;
        const nextLink = (page.ports_links ?? []).find((l: { rel: string }) => l.rel === 'next');
        url = nextLink ? nextLink.href.replace(/^.*\/v2\.0/, '') : '';
      }
      return {
        ports: n,
        pages: pages.length,
        'page p50 ms': +pct(pages, 50).toFixed(1),
        'page p99 ms': +pct(pages, 99).toFixed(1),
      };
    };
    await timed('list walk limit=100', () => walk(100), 2);
    await timed('list walk limit=1000', () => walk(1000), 2);
    await timed(
      'list one page limit=100',
      async () => (await call('GET', '/ports?limit=100')).ports.length,
      20,
    );
    await timed('list all (no limit)', async () => (await call('GET', '/ports')).ports.length, 3);
    await timed(
      'list fields=id,fixed_ips',
      async () => (await call('GET', '/ports?fields=id&fields=fixed_ips')).ports.length,
      3,
    );
    await timed(
      'filter fixed_ips=ip_address',
      async () => (await call('GET', `/ports?fixed_ips=ip_address%3D${probeIp}`)).ports.length,
      20,
    );
    await timed('show network', async () => (await call('GET', `/networks/${net.id}`)).network.id, 20);
    const mem = rssOf(sb.pid);
    console.log(
      JSON.stringify({ op: 'server memory (MB)', rss: Math.round(mem.rss), hwm: Math.round(mem.hwm) }),
    );
  } finally {
    await sb.cleanup();
  }
}

await main();
