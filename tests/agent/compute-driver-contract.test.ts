/**
 * The compute driver contract (src/agent/compute/driver.ts), one suite run against every driver, as Nova's
 * nova/tests/unit/virt/test_virt_drivers.py runs one suite against every virt driver: the fake driver always,
 * the QEMU driver where it can run (root, qemu-system-x86_64, genisoimage and the test guest image from
 * tools/test-image; skipped otherwise, saying why). The QEMU part boots ONE VM (a TCG boot takes ~15 s).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DriverError,
  PowerState,
  type ComputeDriver,
  type ConsoleUrl,
  type InstanceSpec,
} from '../../src/agent/compute/driver.js';
import { FakeDriver } from '../../src/agent/compute/fake/index.js';
import { QemuDriver } from '../../src/agent/compute/qemu/driver.js';
import { testImagePath } from '../../src/test-image.js';

const IMAGE = testImagePath(process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox'));
const onPath = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function qemuMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  for (const cmd of ['qemu-system-x86_64', 'qemu-img', 'genisoimage'])
    if (!onPath(cmd)) return `${cmd} is not installed`;
  if (!existsSync(IMAGE)) return `no test image at ${IMAGE} (tools/test-image/build.sh)`;
  return undefined;
}

const dirs: string[] = [];
const tempDir = (name: string) => {
  const d = mkdtempSync(join(tmpdir(), `stackbox-contract-${name}-`));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Subject {
  name: string;
  /** Why the driver cannot run here, or undefined. */
  missing?: string;
  make(): ComputeDriver;
  /** Milliseconds one `it` may take. */
  timeoutMs: number;
  /** What the driver left on the host for an instance (files, processes): empty after destroy. */
  leftovers(uuid: string): string[];
}

const fakeSubject = (): Subject => ({
  name: 'fake',
  make: () =>
    new FakeDriver({ hostname: 'contract-host', delays: {}, stateFile: join(tempDir('fake'), 'fake.json') }),
  timeoutMs: 10_000,
  leftovers: () => [],
});

const qemuSubject = (): Subject => {
  const missing = qemuMissing();
  const stateDir = missing ? '' : tempDir('qemu');
  const md5 = missing ? '' : execFileSync('md5sum', [IMAGE], { encoding: 'utf8' }).split(' ')[0]!;
  return {
    name: 'qemu',
    missing,
    make: () =>
      new QemuDriver({
        stateDir,
        bootSettleMs: 0,
        shutdownTimeoutSeconds: 2,
        fetchImage: async () => ({ data: createReadStream(IMAGE), format: 'qcow2', checksum: md5 }),
      }),
    timeoutMs: 300_000,
    leftovers: (uuid) => {
      const out: string[] = [];
      if (existsSync(join(stateDir, uuid))) out.push(`directory ${join(stateDir, uuid)}`);
      const ps = spawnSync('pgrep', ['-f', '--', `-uuid ${uuid}`], { encoding: 'utf8' });
      if (ps.stdout.trim()) out.push(`qemu process ${ps.stdout.trim()}`);
      return out;
    },
  };
};

const spec = (uuid: string): InstanceSpec => ({
  uuid,
  name: 'contract',
  hostname: 'contract',
  projectId: 'p',
  userId: 'u',
  flavor: {
    id: 'f',
    name: 'm1.tiny',
    vcpus: 1,
    memoryMb: 128,
    rootGb: 1,
    ephemeralGb: 0,
    swapMb: 0,
    extraSpecs: {},
  },
  image: { id: 'contract-image', diskFormat: 'qcow2' },
  metadata: {},
  configDrive: false,
  networkInfo: [],
  blockDevices: [],
});

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DriverError);
    return (e as DriverError).code;
  }
  return 'no error';
};

const PROTOCOLS: ConsoleUrl['protocol'][] = ['vnc', 'spice', 'serial', 'rdp', 'mks'];

for (const s of [fakeSubject(), qemuSubject()]) {
  if (s.missing) {
    describe(`compute driver contract: ${s.name}`, () => {
      it.skip(`skipped: the ${s.name} driver cannot run here (${s.missing})`, () => undefined);
    });
    continue;
  }
  describe(`compute driver contract: ${s.name}`, () => {
    const driver = s.make();
    afterAll(() => driver.close());

    it('init, host info', { timeout: s.timeoutMs }, async () => {
      await driver.init();
      const info = await driver.getHostInfo();
      expect(info.hostname).toBeTruthy();
      expect(info.hypervisorHostname).toBeTruthy();
      expect(info.hypervisorType).toBeTruthy();
      expect(info.vcpus).toBeGreaterThan(0);
      expect(info.memoryMb).toBeGreaterThan(0);
      expect(info.localGb).toBeGreaterThan(0);
      expect(driver.type).toBe(s.name);
    });

    it('an unknown instance: InstanceNotFound, except destroy', { timeout: s.timeoutMs }, async () => {
      const uuid = randomUUID();
      expect(await code(driver.getInfo(uuid))).toBe('InstanceNotFound');
      expect(await code(driver.powerOn(uuid))).toBe('InstanceNotFound');
      expect(await code(driver.getConsoleOutput(uuid))).toBe('InstanceNotFound');
      await driver.destroy(uuid);
      expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
    });

    it(
      'spawn → RUNNING → power off/on → reboot → pause/unpause → destroy leaves nothing',
      { timeout: s.timeoutMs },
      async () => {
        const uuid = randomUUID();
        const power = async () => (await driver.getInfo(uuid)).powerState;
        await driver.spawn(spec(uuid));
        try {
          expect(await power()).toBe(PowerState.RUNNING);
          expect((await driver.listInstances()).map((i) => i.uuid)).toContain(uuid);
          expect(await code(driver.spawn(spec(uuid)))).toBe('InstanceExists');

          await driver.powerOff(uuid, { timeoutSeconds: 2 });
          expect(await power()).toBe(PowerState.SHUTDOWN);
          await driver.powerOff(uuid, { timeoutSeconds: 2 }); // idempotent
          expect(await power()).toBe(PowerState.SHUTDOWN);
          await driver.powerOn(uuid);
          expect(await power()).toBe(PowerState.RUNNING);
          await driver.powerOn(uuid); // idempotent
          expect(await power()).toBe(PowerState.RUNNING);

          await driver.reboot(uuid, 'HARD');
          expect(await power()).toBe(PowerState.RUNNING);

          if (driver.capabilities.supportsPause) {
            await driver.pause(uuid);
            expect(await power()).toBe(PowerState.PAUSED);
            await driver.unpause(uuid);
            expect(await power()).toBe(PowerState.RUNNING);
          }

          // Capabilities are honoured: a console protocol the driver does not list is refused as documented.
          for (const p of PROTOCOLS) {
            if (driver.capabilities.consoleProtocols.includes(p)) {
              const url = await driver.getConsoleUrl(uuid, p, `${p}-console`);
              expect(url.protocol).toBe(p);
            } else expect(await code(driver.getConsoleUrl(uuid, p, `${p}-console`))).toBe('Unsupported');
          }
          if (driver.capabilities.supportsConsoleOutput)
            expect(typeof (await driver.getConsoleOutput(uuid, 10))).toBe('string');
        } finally {
          await driver.destroy(uuid);
        }
        expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
        expect(await code(driver.getInfo(uuid))).toBe('InstanceNotFound');
        expect(s.leftovers(uuid)).toEqual([]);
        await driver.destroy(uuid); // idempotent
      },
    );
  });
}
