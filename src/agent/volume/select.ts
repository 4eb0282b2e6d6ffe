/**
 * Which volume driver a host runs: `file` (qcow2 files made with qemu-img) wherever qemu-img is on PATH,
 * else `fake`, saying why. `--volume-driver` forces one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { VolumeDriver } from './driver.js';
import { FakeVolumeDriver } from './fake.js';
import { FileVolumeDriver } from './file.js';

export type VolumeDriverName = 'auto' | 'file' | 'fake';

/** Undefined when the file backend can run here, else the reason it cannot. */
export function fileBackendUnavailable(): string | undefined {
  const ok = spawnSync('sh', ['-c', 'command -v qemu-img'], { stdio: 'ignore' }).status === 0;
  return ok ? undefined : 'qemu-img is not installed (Debian: qemu-utils)';
}

export function selectVolumeDriver(
  name: VolumeDriverName,
  dataDir: string,
): { driver: VolumeDriver; reason: string } {
  const dir = join(dataDir, 'volumes');
  if (name === 'fake') return { driver: new FakeVolumeDriver(), reason: 'volume driver: fake (forced)' };
  if (name === 'file')
    return { driver: new FileVolumeDriver(dir), reason: `volume driver: file under ${dir}` };
  const why = fileBackendUnavailable();
  if (why)
    return {
      driver: new FakeVolumeDriver(),
      reason: `volume driver: fake (volumes hold no data) because ${why}`,
    };
  return { driver: new FileVolumeDriver(dir), reason: `volume driver: file (qcow2) under ${dir}` };
}
