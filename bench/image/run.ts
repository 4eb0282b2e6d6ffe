/**
 * Image data throughput: upload and download of a 1 GiB file through a real `stackbox up` (HTTP on
 * loopback, Glance API), compared with a plain `cp` of the same file on the same disk, and the server's
 * peak RSS during each phase. Runs the built bin/stackbox.js (the npm script builds first).
 *
 *   npm run bench:image -- [--size-mib 1024] [--dir /some/dir]
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { startStackbox } from '../../tests/support/stackbox.js';

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const SIZE_MIB = Number(arg('size-mib', '1024'));
const dir = mkdtempSync(join(arg('dir', tmpdir()), 'stackbox-bench-image-'));
const PASSWORD = 'bench-admin-pw';

/** Sample VmRSS of a process every 20 ms; returns a stop() giving the peak in MiB. */
function rssSampler(pid: number) {
  let peak = 0;
  const read = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* process gone */
    }
  };
  read();
  const t = setInterval(read, 20);
  return () => {
    clearInterval(t);
    read();
    return peak;
  };
}

function http(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (r) => {
      let b = '';
      r.on('data', (c) => (b += c));
      r.on('end', () => res({ status: r.statusCode!, headers: r.headers, body: b }));
    });
    req.on('error', rej);
    req.end(body);
  });
}

async function main() {
  const src = join(dir, 'source.img');
  console.log(`creating a ${SIZE_MIB} MiB file of random bytes in ${dir} ...`);
  execFileSync('dd', ['if=/dev/urandom', `of=${src}`, 'bs=1M', `count=${SIZE_MIB}`, 'status=none']);
  const bytes = statSync(src).size;

  // baseline: cp on the same disk (page cache warm for both, as for the server)
  execFileSync('cat', [src], { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 });
  let t0 = process.hrtime.bigint();
  execFileSync('cp', [src, join(dir, 'copy.img')]);
  const cpSec = Number(process.hrtime.bigint() - t0) / 1e9;
  rmSync(join(dir, 'copy.img'));

  // `stackbox up` as a user runs it (default drivers), no clouds.yaml
  const sb = await startStackbox({
    dataDir: join(dir, 'data'),
    adminPassword: PASSWORD,
    testDefaults: false,
    env: { STACKBOX_LOG_LEVEL: 'warn' },
    cloudsYaml: false,
  });
  const port = sb.port;
  try {
    const { token } = await sb.login();
    const created = await http(
      port,
      'POST',
      '/image/v2/images',
      { 'content-type': 'application/json', 'x-auth-token': token },
      JSON.stringify({ name: 'bench', disk_format: 'raw', container_format: 'bare' }),
    );
    const id = (JSON.parse(created.body) as { id: string }).id;
    const idleRss = rssSampler(sb.pid)();

    // upload
    let stop = rssSampler(sb.pid);
    t0 = process.hrtime.bigint();
    const status = await new Promise<number>((res, rej) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `/image/v2/images/${id}/file`,
          headers: {
            'x-auth-token': token,
            'content-type': 'application/octet-stream',
            'content-length': String(bytes),
          },
        },
        (r) => {
          r.resume();
          r.on('end', () => res(r.statusCode!));
        },
      );
      req.on('error', rej);
      createReadStream(src, { highWaterMark: 1 << 20 }).pipe(req);
    });
    const upSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const upRss = stop();
    if (status !== 204) throw new Error(`upload: ${status}`);

    // download
    const dst = join(dir, 'downloaded.img');
    stop = rssSampler(sb.pid);
    t0 = process.hrtime.bigint();
    await new Promise<void>((res, rej) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'GET',
          path: `/image/v2/images/${id}/file`,
          headers: { 'x-auth-token': token },
        },
        (r) => {
          if (r.statusCode !== 200) return rej(new Error(`download: ${r.statusCode}`));
          pipeline(r, createWriteStream(dst, { highWaterMark: 1 << 20 })).then(res, rej);
        },
      );
      req.on('error', rej);
      req.end();
    });
    const downSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const downRss = stop();
    const same = execFileSync('cmp', [src, dst]).length === 0;

    const mibs = (s: number) => bytes / 1024 / 1024 / s;
    console.log(`\nimage size            ${(bytes / 1024 / 1024).toFixed(0)} MiB`);
    console.log(`cp (same disk)        ${cpSec.toFixed(2)} s   ${mibs(cpSec).toFixed(0)} MiB/s`);
    console.log(
      `upload  (PUT /file)   ${upSec.toFixed(2)} s   ${mibs(upSec).toFixed(0)} MiB/s   ratio to cp ${(cpSec / upSec).toFixed(2)}  (md5+sha512+fsync+verify)`,
    );
    console.log(
      `download (GET /file)  ${downSec.toFixed(2)} s   ${mibs(downSec).toFixed(0)} MiB/s   ratio to cp ${(cpSec / downSec).toFixed(2)}`,
    );
    console.log(
      `server RSS            idle ${idleRss.toFixed(0)} MiB, peak during upload ${upRss.toFixed(0)} MiB, during download ${downRss.toFixed(0)} MiB`,
    );
    console.log(`downloaded bytes identical: ${same}`);
  } finally {
    await sb.stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
