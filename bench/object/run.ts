/**
 * Object storage throughput, side by side: PUT/GET ops/s for 4 KiB objects and MiB/s for 1 MiB objects at
 * c=1 and c=16, measured by the shared probe (../shared/anchors/bench-swift.mjs) against a real `stackbox up`
 * (Keystone token, `/object-store/v1/AUTH_<project>`) and, unless `--no-swift`, against Debian's Swift 2.30
 * started by ../shared/anchors/swift-up.sh in the same run (root; installs the packages once). Prints one
 * table and the server's peak RSS. Runs the built bin/stackbox.js (the npm script builds first).
 *
 *   npm run bench:object -- [--anchors ../shared/anchors] [--no-swift] [--sizes 4096,1048576] [--count 300]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { rssOf } from '../support.js';
import { startStackbox } from '../../tests/support/stackbox.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const ROOT = join(import.meta.dirname, '..', '..');
// ../shared/anchors beside the checkout (or beside the directory of worktrees)
const ANCHORS = resolve(
  arg(
    'anchors',
    [join(ROOT, '..', 'shared', 'anchors'), join(ROOT, '..', '..', 'shared', 'anchors')].find((d) =>
      existsSync(d),
    ) ?? '',
  ),
);
const PROBE = join(ANCHORS, 'bench-swift.mjs');
const SIZES = arg('sizes', '4096,1048576');
const COUNT = arg('count', '300');
const withSwift = !process.argv.includes('--no-swift');
if (!existsSync(PROBE)) throw new Error(`no probe at ${PROBE} (--anchors DIR)`);

interface Row {
  size: number;
  concurrency: number;
  op: string;
  ops_s: number;
  mib_s: number;
  p50_ms: number;
  p99_ms: number;
}

async function probe(label: string, args: string[]): Promise<Row[]> {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-object-')), 'out.json');
  // asynchronous, so that the RSS sampler keeps running while the probe does
  const status = await new Promise<number | null>((res) =>
    spawn(
      process.execPath,
      [PROBE, ...args, '--sizes', SIZES, '--count', COUNT, '--json', out, '--label', label],
      {
        stdio: ['ignore', 'inherit', 'inherit'],
      },
    ).on('exit', res),
  );
  if (status !== 0) throw new Error(`probe ${label} failed (${status})`);
  const doc = JSON.parse(readFileSync(out, 'utf8')) as { results: Row[] };
  rmSync(join(out, '..'), { recursive: true, force: true });
  return doc.results;
}

const results: Record<string, Row[]> = {};
const sb = await startStackbox({ adminPassword: 'bench-admin-pw' });
let peak = 0;
try {
  const login = await sb.login();
  const storage = `${sb.url}/object-store/v1/AUTH_${login.projectId}`;
  const timer = setInterval(() => (peak = Math.max(peak, rssOf(sb.pid).rss)), 50);
  results.stackbox = await probe('stackbox', ['--storage-url', storage, '--token', login.token]);
  clearInterval(timer);
} finally {
  await sb.cleanup();
}
if (withSwift) {
  execFileSync('bash', [join(ANCHORS, 'swift-up.sh')], { stdio: 'inherit' });
  try {
    results.swift = await probe('swift', []);
  } finally {
    execFileSync('bash', [join(ANCHORS, 'swift-down.sh')], { stdio: 'inherit' });
  }
}

const key = (r: Row) =>
  `${r.op} ${r.size >= 1 << 20 ? `${r.size >> 20} MiB` : `${r.size >> 10} KiB`} c=${r.concurrency}`;
const rows = new Map<string, Record<string, Row>>();
for (const [who, rs] of Object.entries(results))
  for (const r of rs) rows.set(key(r), { ...rows.get(key(r)), [who]: r });
const fig = (r: Row | undefined) => (r ? (r.size >= 1 << 20 ? `${r.mib_s} MiB/s` : `${r.ops_s} ops/s`) : '-');
console.log(`\n| case | Stackbox | Swift 2.30 | ratio |\n| --- | --- | --- | --- |`);
for (const [k, v] of rows) {
  const a = v.stackbox;
  const b = v.swift;
  const ratio = a && b ? (a.size >= 1 << 20 ? a.mib_s / b.mib_s : a.ops_s / b.ops_s).toFixed(2) : '-';
  console.log(`| ${k} | ${fig(a)} | ${fig(b)} | ${ratio}× |`);
}
console.log(`\nStackbox peak RSS during the run: ${peak.toFixed(0)} MiB`);
