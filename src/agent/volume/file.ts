/**
 * The file backend: one qcow2 file per volume under `<data>/volumes/volumes/<id>.qcow2` and one per snapshot
 * under `<data>/volumes/snapshots/<id>.qcow2`, made with `qemu-img` (Debian qemu-utils). Every file is a full,
 * standalone image (no backing chain), so deleting a source never breaks a snapshot or a clone. New files are
 * written under `tmp/` and renamed into place, so a crash never leaves a half-written volume under its id.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import {
  GiB,
  VolumeDriverError,
  type BackendStats,
  type ConnectionInfo,
  type Connector,
  type ImageSource,
  type VolumeCapabilities,
  type VolumeDriver,
  type VolumeExport,
} from './driver.js';

const ID_RE = /^[0-9a-fA-F-]{1,64}$/;
/** Image formats qemu-img may read (never guessed: the format is always given with -f). */
const INPUT_FORMATS = new Set(['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx', 'qed']);
const QEMU_FORMAT: Record<string, string> = { vhd: 'vpc', iso: 'raw', ami: 'raw', img: 'raw' };

/** Run qemu-img; rejects with its stderr. */
export function qemuImg(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('qemu-img', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => reject(new VolumeDriverError(`qemu-img: ${e.message}`)));
    p.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new VolumeDriverError(`qemu-img ${args[0]} failed: ${err.trim().slice(0, 500)}`)),
    );
  });
}

export class FileVolumeDriver implements VolumeDriver {
  readonly type = 'file';
  readonly capabilities: VolumeCapabilities = { onlineExtend: true, snapshotInUse: true, multiattach: false };
  private readonly volDir: string;
  private readonly snapDir: string;
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly backendName = 'file',
  ) {
    this.volDir = join(dir, 'volumes');
    this.snapDir = join(dir, 'snapshots');
    this.tmpDir = join(dir, 'tmp');
  }

  async init(): Promise<void> {
    for (const d of [this.dir, this.volDir, this.snapDir]) await mkdir(d, { recursive: true, mode: 0o700 });
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  volumePath(id: string): string {
    if (!ID_RE.test(id)) throw new VolumeDriverError(`bad volume id ${id}`);
    return join(this.volDir, `${id}.qcow2`);
  }
  snapshotPath(id: string): string {
    if (!ID_RE.test(id)) throw new VolumeDriverError(`bad snapshot id ${id}`);
    return join(this.snapDir, `${id}.qcow2`);
  }
  private tmp(name: string): string {
    return join(this.tmpDir, `${name}.${randomBytes(6).toString('hex')}`);
  }

  /** Write `final` through a temporary file: `make(tmp)` fills it, then it is renamed (or removed on failure). */
  private async atomically(final: string, make: (tmp: string) => Promise<void>): Promise<void> {
    const t = this.tmp('new');
    try {
      await make(t);
      await rename(t, final);
    } catch (e) {
      await rm(t, { force: true });
      throw e;
    }
  }

  async stats(): Promise<BackendStats> {
    const fs = await statfs(this.dir);
    const total = (fs.blocks * fs.bsize) / GiB;
    const free = (fs.bavail * fs.bsize) / GiB;
    let provisioned = 0;
    for (const d of [this.volDir, this.snapDir])
      for (const f of await readdir(d).catch(() => [] as string[]))
        provisioned += await this.virtualSize(join(d, f)).catch(() => 0);
    return {
      backendName: this.backendName,
      totalCapacityGb: Math.floor(total * 100) / 100,
      freeCapacityGb: Math.floor(free * 100) / 100,
      provisionedCapacityGb: Math.round(provisioned / GiB),
      thinProvisioning: true,
      storageProtocol: 'file',
    };
  }

  private async virtualSize(path: string): Promise<number> {
    const info = JSON.parse(await qemuImg(['info', '-U', '-f', 'qcow2', '--output=json', path])) as {
      'virtual-size': number;
    };
    return info['virtual-size'];
  }

  async createVolume(id: string, sizeGb: number): Promise<void> {
    await this.atomically(this.volumePath(id), (t) =>
      qemuImg(['create', '-q', '-f', 'qcow2', t, `${sizeGb}G`]).then(() => undefined),
    );
  }

  async createFromImage(id: string, sizeGb: number, image: ImageSource): Promise<void> {
    const fmt = QEMU_FORMAT[image.diskFormat] ?? image.diskFormat;
    if (!INPUT_FORMATS.has(fmt) && fmt !== 'vpc')
      throw new VolumeDriverError(`image disk format ${image.diskFormat} cannot be written to a volume`);
    const src = this.tmp('image');
    try {
      await pipeline(image.stream, createWriteStream(src, { mode: 0o600, highWaterMark: 1 << 22 }));
      const vsize = await this.imageVirtualSize(src, fmt);
      if (vsize > sizeGb * GiB)
        throw new VolumeDriverError(
          `Image virtual size is ${Math.ceil(vsize / GiB)}GB and doesn't fit in a volume of size ${sizeGb}GB.`,
          'ImageTooBig',
        );
      await this.atomically(this.volumePath(id), async (t) => {
        await qemuImg(['convert', '-q', '-f', fmt, '-O', 'qcow2', '-W', src, t]);
        await qemuImg(['resize', '-q', '-f', 'qcow2', t, `${sizeGb}G`]);
      });
    } finally {
      await rm(src, { force: true });
    }
  }

  private async imageVirtualSize(path: string, fmt: string): Promise<number> {
    const info = JSON.parse(await qemuImg(['info', '-f', fmt, '--output=json', path])) as {
      'virtual-size': number;
      'backing-filename'?: string;
      'format-specific'?: { data?: { 'data-file'?: string } };
    };
    if (info['backing-filename'] || info['format-specific']?.data?.['data-file'])
      throw new VolumeDriverError(
        'images with a backing or external data file are refused',
        'ImageUnacceptable',
      );
    return info['virtual-size'];
  }

  /** A standalone qcow2 copy of `src` (qcow2) grown to `sizeGb`; `-U` reads a file an attached VM holds. */
  private async copy(src: string, final: string, sizeGb?: number): Promise<void> {
    await stat(src).catch(() => {
      throw new VolumeDriverError(`source ${src.split('/').pop()} is missing on the backend`, 'NotFound');
    });
    await this.atomically(final, async (t) => {
      await qemuImg(['convert', '-q', '-U', '-f', 'qcow2', '-O', 'qcow2', src, t]);
      if (sizeGb !== undefined) {
        const v = await this.virtualSize(t);
        if (v < sizeGb * GiB) await qemuImg(['resize', '-q', '-f', 'qcow2', t, `${sizeGb}G`]);
      }
    });
  }

  async createFromSnapshot(id: string, sizeGb: number, snapshotId: string): Promise<void> {
    await this.copy(this.snapshotPath(snapshotId), this.volumePath(id), sizeGb);
  }

  async cloneVolume(id: string, sizeGb: number, sourceId: string): Promise<void> {
    await this.copy(this.volumePath(sourceId), this.volumePath(id), sizeGb);
  }

  async extendVolume(id: string, newSizeGb: number): Promise<void> {
    const p = this.volumePath(id);
    if ((await this.virtualSize(p)) >= newSizeGb * GiB) return;
    await qemuImg(['resize', '-q', '-f', 'qcow2', p, `${newSizeGb}G`]);
  }

  async deleteVolume(id: string): Promise<void> {
    await rm(this.volumePath(id), { force: true });
  }

  async createSnapshot(snapshotId: string, volumeId: string): Promise<void> {
    await this.copy(this.volumePath(volumeId), this.snapshotPath(snapshotId));
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    await rm(this.snapshotPath(snapshotId), { force: true });
  }

  async revertToSnapshot(volumeId: string, snapshotId: string, sizeGb: number): Promise<void> {
    await this.copy(this.snapshotPath(snapshotId), this.volumePath(volumeId), sizeGb);
  }

  async volumeExists(id: string): Promise<boolean> {
    return stat(this.volumePath(id)).then(
      () => true,
      () => false,
    );
  }

  async list(): Promise<{ volumes: string[]; snapshots: string[] }> {
    const ids = async (d: string) =>
      (await readdir(d).catch(() => [] as string[]))
        .filter((f) => f.endsWith('.qcow2'))
        .map((f) => f.slice(0, -'.qcow2'.length));
    return { volumes: await ids(this.volDir), snapshots: await ids(this.snapDir) };
  }

  async initializeConnection(id: string, _connector: Connector): Promise<ConnectionInfo> {
    const path = this.volumePath(id);
    if (!(await this.volumeExists(id)))
      throw new VolumeDriverError(`volume ${id} is missing on the backend`, 'NotFound');
    return {
      driver_volume_type: 'file',
      data: { path, format: 'qcow2', volume_id: id, access_mode: 'rw', discard: true },
    };
  }

  async terminateConnection(_id: string, _connector: Connector): Promise<void> {}

  async exportVolume(id: string, diskFormat: string): Promise<VolumeExport> {
    const src = this.volumePath(id);
    const out = this.tmp('export');
    const fmt = QEMU_FORMAT[diskFormat] ?? diskFormat;
    await qemuImg(['convert', '-q', '-U', '-f', 'qcow2', '-O', fmt, src, out]).catch(async (e: unknown) => {
      await rm(out, { force: true });
      throw e;
    });
    const size = (await stat(out)).size;
    const stream = createReadStream(out, { highWaterMark: 1 << 22 });
    return { stream, size, cleanup: () => rm(out, { force: true }) };
  }
}
