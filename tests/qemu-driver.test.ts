/**
 * The QEMU driver on a real qemu-system-x86_64 with the project's test guest image (TCG here, KVM where
 * it works): boot to the readiness line, console login, hot-plug a disk seen by its serial, pause,
 * suspend/resume, stop/start, snapshot, re-adoption by a new driver, destroy leaving nothing behind.
 * Needs root (taps), qemu, genisoimage and the image from tools/test-image/build.sh (run by .ci/run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { PowerState, type InstanceSpec } from '../src/agent/compute/driver.js';
import { QemuDriver } from '../src/agent/compute/qemu/driver.js';

const IMAGE = join(
  process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox'),
  'images',
  'stackbox-test.qcow2',
);
const ready =
  process.getuid?.() === 0 &&
  existsSync(IMAGE) &&
  spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v genisoimage']).status === 0;

const stateDir = mkdtempSync(join(tmpdir(), 'stackbox-qemu-driver-'));
const keyDir = mkdtempSync(join(tmpdir(), 'stackbox-qemu-key-'));
afterAll(() => {
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(keyDir, { recursive: true, force: true });
});

const uuid = randomUUID();
const md5 = execFileSync('sh', ['-c', `md5sum ${IMAGE} 2>/dev/null | cut -d' ' -f1 || true`], {
  encoding: 'utf8',
}).trim();
const driver = () =>
  new QemuDriver({
    stateDir,
    bootSettleMs: 0,
    shutdownTimeoutSeconds: 20,
    fetchImage: async () => ({ data: createReadStream(IMAGE), format: 'qcow2', checksum: md5 }),
  });

async function waitFor(fn: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Type on the serial console (the guest's ttyS0). */
async function typeOnConsole(text: string) {
  await new Promise<void>((resolve, reject) => {
    const s = connect(join(stateDir, uuid, 'serial.sock'), () => {
      s.write(text, () => setTimeout(() => (s.end(), resolve()), 300));
    });
    s.on('error', reject);
  });
}

describe.skipIf(!ready)('QEMU driver with the test guest', () => {
  it('runs the whole lifecycle', { timeout: 600_000 }, async () => {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(keyDir, 'id')]);
    const pub = readFileSync(join(keyDir, 'id.pub'), 'utf8').trim();
    const spec: InstanceSpec = {
      uuid,
      name: 'vm1',
      hostname: 'vm1',
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
      image: { id: 'test-image', diskFormat: 'qcow2' },
      metadata: {},
      userData: Buffer.from('#!/bin/sh\necho USERDATA-RAN\n').toString('base64'),
      keyName: 'k',
      publicKey: pub,
      configDrive: true,
      networkInfo: [],
      blockDevices: [],
    };
    let d = driver();
    await d.init();
    expect((await d.getHostInfo()).hypervisorType).toMatch(/^(QEMU|KVM)$/);
    await d.spawn(spec);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.RUNNING);
    await waitFor(
      async () => (await d.getConsoleOutput(uuid)).includes('STACKBOX-READY'),
      180_000,
      'the readiness line',
    );
    const out = await d.getConsoleOutput(uuid);
    expect(out).toMatch(/STACKBOX-READY hostname=vm1/);
    expect(out).toContain('USERDATA-RAN');
    expect((await d.getConsoleUrl(uuid, 'vnc', 'novnc')).url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

    // Log in on the console as root and hot-plug a disk: the guest sees it by its serial.
    const vol = join(stateDir, 'vol1.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', vol, '64M']);
    await d.attachVolume(uuid, { volumeId: 'vol-0001-abcdef', connection: { path: vol, format: 'qcow2' } });
    // Log in on the serial console as root (no password there), at the pace of a busy machine.
    const consoleText = () => d.getConsoleOutput(uuid);
    await waitFor(
      async () => /login: *$/.test((await consoleText()).trimEnd() + ' '),
      120_000,
      'the login prompt',
    );
    const before = (await consoleText()).length;
    await typeOnConsole('root\n');
    await waitFor(async () => (await consoleText()).slice(before).includes('#'), 60_000, 'a root shell');
    const cmd =
      'for b in /sys/block/vd*; do echo DISK $(basename $b) $(cat $b/serial); done; cat /root/.ssh/authorized_keys\n';
    await typeOnConsole(cmd);
    for (let i = 0; i < 6 && !/DISK vd\w vol-0001-abcdef/.test(await consoleText()); i++) {
      await new Promise((r) => setTimeout(r, 10_000));
      if (!/DISK vd\w vol-0001-abcdef/.test(await consoleText())) await typeOnConsole(cmd);
    }
    await waitFor(
      async () => /DISK vd\w vol-0001-abcdef/.test(await d.getConsoleOutput(uuid)),
      60_000,
      'the hot-plugged disk in the guest',
    );
    await d.detachVolume(uuid, 'vol-0001-abcdef');

    await d.pause(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.PAUSED);
    await d.unpause(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.RUNNING);

    await d.suspend(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.SUSPENDED);
    await d.resume(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.RUNNING);

    // Snapshot: a complete qcow2 image
    const snap = join(stateDir, 'snap.qcow2');
    await d.snapshot(uuid, async (data) => {
      await pipeline(data as AsyncIterable<Buffer>, createWriteStream(snap));
    });
    const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', snap], { encoding: 'utf8' }));
    expect(info.format).toBe('qcow2');
    expect(info['backing-filename']).toBeUndefined();

    // A new driver (the agent restarted) adopts the running VM.
    await d.close();
    d = driver();
    await d.init();
    expect((await d.listInstances()).map((i) => [i.uuid, i.powerState])).toEqual([
      [uuid, PowerState.RUNNING],
    ]);

    // Stop (ACPI power button, the guest powers off) and start again.
    await d.powerOff(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.SHUTDOWN);
    await d.powerOn(uuid);
    expect((await d.getInfo(uuid)).powerState).toBe(PowerState.RUNNING);
    const readies = async () => ((await d.getConsoleOutput(uuid)).match(/STACKBOX-READY/g) ?? []).length;
    await waitFor(async () => (await readies()) >= 2, 180_000, 'READY after power on');

    // Soft reboot: ACPI power button, the guest powers off, QEMU resets it; it boots again.
    await d.reboot(uuid, 'SOFT');
    await waitFor(async () => (await readies()) >= 3, 180_000, 'READY after a soft reboot');
    // Rebuild: a new root disk from the image, the same instance.
    await d.rebuild(spec);
    await waitFor(async () => (await readies()) >= 4, 180_000, 'READY after a rebuild');
    // Rescue boots the image again with the instance's disk as a second disk; unrescue boots the disk.
    await d.rescue(uuid);
    expect(readFileSync(join(stateDir, uuid, 'instance.json'), 'utf8')).toContain('"rescue":true');
    const cmdline = () =>
      readFileSync(`/proc/${readFileSync(join(stateDir, uuid, 'pid'), 'utf8').trim()}/cmdline`, 'utf8');
    expect(cmdline()).toMatch(
      /disk\.rescue,if=none,id=rescue[^\0]*\0-device\0virtio-blk-pci,drive=rescue,bootindex=0/,
    );
    await waitFor(async () => (await readies()) >= 5, 180_000, 'READY in rescue');
    await d.unrescue(uuid);
    expect(existsSync(join(stateDir, uuid, 'disk.rescue'))).toBe(false);
    expect(cmdline()).not.toContain('disk.rescue');
    await waitFor(async () => (await readies()) >= 6, 180_000, 'READY after unrescue');

    await d.destroy(uuid);
    await expect(d.getInfo(uuid)).rejects.toThrow(/could not be found/);
    expect(existsSync(join(stateDir, uuid))).toBe(false);
    expect(spawnSync('pgrep', ['-f', `guest=instance-${uuid.slice(0, 8)}`]).status).not.toBe(0);
    await d.destroy(uuid); // idempotent
    await d.close();
  });
});
