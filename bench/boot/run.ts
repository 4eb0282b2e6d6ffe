/**
 * Boot benchmark: seconds from "start" to the test guest's readiness line on the serial console,
 * (a) for a bare qemu-system-x86_64 command line and (b) through the QEMU driver (disk overlay, config
 * drive, QMP), in the same run, alternating; plus RSS per idle VM. The ratio is the figure: the driver
 * should add well under a second. Run as root: `npm run bench:boot -- [--runs N]`.
 * Needs the test image (`stackbox image build-test`). No network: the guests have no NIC.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { InstanceSpec } from '../../src/agent/compute/driver.js';
import { chooseAccel, readHostFacts } from '../../src/agent/compute/qemu/accel.js';
import { buildConfigDrive } from '../../src/agent/compute/qemu/configdrive.js';
import { QemuDriver } from '../../src/agent/compute/qemu/driver.js';
import { median, rssOf } from '../support.js';
import { startStackbox, type StackboxProcess } from '../../tests/support/stackbox.js';

const IMAGE = join(
  process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox'),
  'images',
  'stackbox-test.qcow2',
);
const RUNS = Number(process.argv[process.argv.indexOf('--runs') + 1] || 3);
const work = mkdtempSync(join(tmpdir(), 'stackbox-bench-boot-'));

async function waitForFile(file: string, needle: string, t0: number, timeoutMs = 300_000): Promise<number> {
  while (performance.now() - t0 < timeoutMs) {
    if (existsSync(file) && readFileSync(file, 'utf8').includes(needle))
      return (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${needle} in ${file}`);
}

const rssMb = (pid: number) => rssOf(pid).rss;

async function bare(i: number): Promise<{ secs: number; rss: number }> {
  const d = join(work, `bare${i}`);
  execFileSync('mkdir', ['-p', d]);
  const accel = chooseAccel(readHostFacts()).accel;
  const t0 = performance.now();
  execFileSync('qemu-img', [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    IMAGE,
    '-F',
    'qcow2',
    join(d, 'disk'),
    '1G',
  ]);
  await buildConfigDrive(
    { uuid: randomUUID(), name: 'bare', hostname: 'bare', projectId: 'p', networks: [] },
    join(d, 'disk.config'),
  );
  const p = spawn(
    'qemu-system-x86_64',
    [
      '-machine',
      'q35',
      '-accel',
      accel === 'kvm' ? 'kvm' : 'tcg,tb-size=32',
      '-cpu',
      accel === 'kvm' ? 'host' : 'max',
      '-m',
      '128',
      '-smp',
      '1',
      '-nodefaults',
      '-display',
      'none',
      '-serial',
      `file:${join(d, 'console.log')}`,
      '-drive',
      `file=${join(d, 'disk')},if=virtio,format=qcow2`,
      '-drive',
      `file=${join(d, 'disk.config')},if=virtio,format=raw,readonly=on`,
    ],
    { stdio: 'ignore' },
  );
  const secs = await waitForFile(join(d, 'console.log'), 'STACKBOX-READY', t0);
  await new Promise((r) => setTimeout(r, 10_000));
  const rss = rssMb(p.pid!);
  p.kill('SIGKILL');
  return { secs, rss };
}

async function viaDriver(i: number, driver: QemuDriver): Promise<{ secs: number; rss: number }> {
  const uuid = randomUUID();
  const spec: InstanceSpec = {
    uuid,
    name: `drv${i}`,
    hostname: `drv${i}`,
    projectId: 'p',
    userId: 'u',
    flavor: {
      id: 'f',
      name: 'tiny',
      vcpus: 1,
      memoryMb: 128,
      rootGb: 1,
      ephemeralGb: 0,
      swapMb: 0,
      extraSpecs: {},
    },
    image: { id: 'bench-image', diskFormat: 'qcow2' },
    metadata: {},
    configDrive: true,
    networkInfo: [],
    blockDevices: [],
  };
  const t0 = performance.now();
  await driver.spawn(spec);
  const secs = await waitForFile(join(work, 'state', uuid, 'console.log'), 'STACKBOX-READY', t0);
  await new Promise((r) => setTimeout(r, 10_000));
  const pid = Number(readFileSync(join(work, 'state', uuid, 'pid'), 'utf8'));
  const rss = rssMb(pid);
  await driver.destroy(uuid);
  return { secs, rss };
}

/** Through the API of a real `stackbox up --compute-driver qemu`: POST /servers → READY on the console. */
async function viaApi(i: number, base: string, token: string, imageId: string): Promise<number> {
  const h = {
    'x-auth-token': token,
    'content-type': 'application/json',
    'openstack-api-version': 'compute 2.37',
  };
  const t0 = performance.now();
  const r = await fetch(`${base}/compute/v2.1/servers`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({
      server: { name: `api${i}`, imageRef: imageId, flavorRef: '42', networks: 'none' },
    }),
  });
  if (r.status !== 202) throw new Error(`create: ${r.status} ${await r.text()}`);
  const id = ((await r.json()) as { server: { id: string } }).server.id;
  let secs = 0;
  for (;;) {
    const c = await fetch(`${base}/compute/v2.1/servers/${id}/action`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ 'os-getConsoleOutput': {} }),
    });
    if (c.status === 200 && ((await c.json()) as { output: string }).output.includes('STACKBOX-READY')) {
      secs = (performance.now() - t0) / 1000;
      break;
    }
    if (performance.now() - t0 > 300_000) throw new Error('no READY through the API');
    await new Promise((res) => setTimeout(res, 100));
  }
  await fetch(`${base}/compute/v2.1/servers/${id}`, { method: 'DELETE', headers: h });
  return secs;
}

async function startCloud(): Promise<{
  base: string;
  token: string;
  imageId: string;
  sb: StackboxProcess;
}> {
  const sb = await startStackbox({
    dataDir: join(work, 'cloud'),
    adminPassword: 'bench-pw',
    testDefaults: false,
    env: { STACKBOX_LOG_LEVEL: 'warn', STACKBOX_TEST_IMAGE: 'true' },
    cloudsYaml: false,
    args: ['--compute-driver', 'qemu'],
    echoStderr: true,
    timeoutMs: 300_000,
  });
  const imageId = /Test image "stackbox-test" is (\S+)/.exec(sb.output())?.[1];
  if (!imageId) throw new Error(`no test image registered:\n${sb.output()}`);
  const { token } = await sb.login({ catalog: false });
  return { base: sb.url, token, imageId, sb };
}

async function main() {
  if (!existsSync(IMAGE)) throw new Error(`no test image at ${IMAGE}: run \`stackbox image build-test\``);
  const driver = new QemuDriver({
    stateDir: join(work, 'state'),
    bootSettleMs: 0,
    fetchImage: async () => ({ data: createReadStream(IMAGE), format: 'qcow2' }),
  });
  await driver.init();
  console.log(JSON.stringify({ accel: driver.accelChoice }));
  // warm the image cache once (a real cloud fetches an image once per host)
  await viaDriver(0, driver);
  const cloud = await startCloud();
  await viaApi(0, cloud.base, cloud.token, cloud.imageId); // warm the cloud's image cache
  const rows: {
    run: number;
    bare: number;
    driver: number;
    api: number;
    bareRss: number;
    driverRss: number;
  }[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const b = await bare(i);
    const d = await viaDriver(i, driver);
    const a = await viaApi(i, cloud.base, cloud.token, cloud.imageId);
    const row = {
      run: i,
      bare: +b.secs.toFixed(2),
      driver: +d.secs.toFixed(2),
      api: +a.toFixed(2),
      bareRss: Math.round(b.rss),
      driverRss: Math.round(d.rss),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  const med = median;
  const mb = med(rows.map((r) => r.bare));
  const md = med(rows.map((r) => r.driver));
  const ma = med(rows.map((r) => r.api));
  console.log(
    JSON.stringify({
      'bare qemu → READY s (median)': mb,
      'driver spawn → READY s (median)': md,
      'driver overhead s': +(md - mb).toFixed(2),
      ratio: +(md / mb).toFixed(2),
      'server create (API) → READY s (median)': ma,
      'API overhead over bare s': +(ma - mb).toFixed(2),
      'API / bare ratio': +(ma / mb).toFixed(2),
      'idle VM RSS MB (driver, median)': med(rows.map((r) => r.driverRss)),
    }),
  );
  await driver.close();
  await cloud.sb.stop();
  rmSync(work, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  rmSync(work, { recursive: true, force: true });
  process.exit(1);
});
