/** The file volume backend with real qemu-img: the driver contract, run against the fake driver too. */
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { GiB, type VolumeDriver } from '../../src/agent/volume/driver.js';
import { FakeVolumeDriver } from '../../src/agent/volume/fake.js';
import { FileVolumeDriver, qemuImg } from '../../src/agent/volume/file.js';

const hasQemuImg = spawnSync('sh', ['-c', 'command -v qemu-img'], { stdio: 'ignore' }).status === 0;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'stackbox-voldrv-'));
  dirs.push(d);
  return d;
};
const vid = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

const drivers: [string, () => VolumeDriver, boolean][] = [
  ['fake', () => new FakeVolumeDriver(), true],
  ['file', () => new FileVolumeDriver(join(tmp(), 'volumes')), hasQemuImg],
];

for (const [name, make, run] of drivers)
  describe.runIf(run)(`volume driver contract: ${name}`, () => {
    it('creates, snapshots, clones, extends and deletes; copies survive their sources; deletes are idempotent', async () => {
      const d = make();
      await d.init();
      await d.createVolume(vid(1), 1);
      expect(await d.volumeExists(vid(1))).toBe(true);
      await d.createSnapshot(vid(100), vid(1));
      await d.cloneVolume(vid(2), 2, vid(1));
      await d.deleteVolume(vid(1));
      await d.deleteVolume(vid(1));
      await d.createFromSnapshot(vid(3), 3, vid(100));
      await d.deleteSnapshot(vid(100));
      await d.deleteSnapshot(vid(100));
      await d.extendVolume(vid(2), 4);
      const listed = await d.list();
      expect(listed.volumes.sort()).toEqual([vid(2), vid(3)]);
      expect(listed.snapshots).toEqual([]);
      const conn = await d.initializeConnection(vid(2), { host: 'h1' });
      expect(conn.driver_volume_type).toBe('file');
      expect(typeof conn.data.path).toBe('string');
      await d.terminateConnection(vid(2), { host: 'h1' });
      const st = await d.stats();
      expect(st.totalCapacityGb).toBeGreaterThan(0);
      await d.deleteVolume(vid(2));
      await d.deleteVolume(vid(3));
      expect((await d.list()).volumes).toEqual([]);
    });
  });

describe.runIf(hasQemuImg)('file backend specifics', () => {
  it('makes standalone qcow2 files of the right size, from an image stream, and exports them', async () => {
    const root = tmp();
    const d = new FileVolumeDriver(join(root, 'volumes'));
    await d.init();
    const info = async (p: string) =>
      JSON.parse(await qemuImg(['info', '-U', '--output=json', p])) as Record<string, any>;
    await d.createVolume(vid(1), 1);
    let i = await info(d.volumePath(vid(1)));
    expect(i.format).toBe('qcow2');
    expect(i['virtual-size']).toBe(GiB);
    // an image with a recognisable byte at 1 MiB
    const raw = join(root, 'image.raw');
    const buf = Buffer.alloc(4 << 20);
    buf.write('STACKBOX-MARK', 1 << 20);
    writeFileSync(raw, buf);
    const qcow = join(root, 'image.qcow2');
    await qemuImg(['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow]);
    await d.createFromImage(vid(2), 1, { stream: createReadStream(qcow), diskFormat: 'qcow2' });
    i = await info(d.volumePath(vid(2)));
    expect(i['virtual-size']).toBe(GiB);
    expect(i['backing-filename']).toBeUndefined();
    await d.createSnapshot(vid(10), vid(2));
    await d.deleteVolume(vid(2));
    await d.createFromSnapshot(vid(3), 2, vid(10));
    expect((await info(d.volumePath(vid(3))))['virtual-size']).toBe(2 * GiB);
    const out = await d.exportVolume(vid(3), 'qcow2');
    const exported = join(root, 'exported.qcow2');
    await pipeline(out.stream, createWriteStream(exported));
    await out.cleanup();
    expect((await info(exported))['virtual-size']).toBe(2 * GiB);
    const back = join(root, 'back.raw');
    await qemuImg(['convert', '-f', 'qcow2', '-O', 'raw', exported, back]);
    const fd = openSync(back, 'r');
    const mark = Buffer.alloc(13);
    readSync(fd, mark, 0, 13, 1 << 20);
    closeSync(fd);
    expect(mark.toString()).toBe('STACKBOX-MARK');
    // too small a volume for the image is refused and leaves nothing
    const big = join(root, 'big.qcow2');
    await qemuImg(['create', '-q', '-f', 'qcow2', big, '3G']);
    await expect(
      d.createFromImage(vid(4), 1, { stream: createReadStream(big), diskFormat: 'qcow2' }),
    ).rejects.toThrow(/doesn't fit/);
    expect(existsSync(d.volumePath(vid(4)))).toBe(false);
    // a qcow2 with a backing file is refused
    const child = join(root, 'child.qcow2');
    await qemuImg(['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', qcow, child]);
    await expect(
      d.createFromImage(vid(5), 1, { stream: createReadStream(child), diskFormat: 'qcow2' }),
    ).rejects.toThrow(/backing/);
    await d.extendVolume(vid(3), 3);
    expect((await info(d.volumePath(vid(3))))['virtual-size']).toBe(3 * GiB);
    // init clears temporary leftovers
    await d.init();
    expect((await d.list()).volumes).toEqual([vid(1), vid(3)].sort());
  });
});
