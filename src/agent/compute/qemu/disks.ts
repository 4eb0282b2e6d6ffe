/**
 * Disks of the QEMU driver: the image cache (one verified base file per image under <state>/_base) and each
 * instance's files — `disk` (a qcow2 overlay on the base), `disk.eph0`, `disk.swap`, `disk.config` (the
 * config drive) and, while rescued, `disk.rescue`.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DriverError, type InstanceSpec } from '../driver.js';
import { buildConfigDrive } from './configdrive.js';
import { run } from './exec.js';

/** Where image bytes come from (the host connects it to the image service). */
export type ImageFetcher = (
  imageId: string,
) => Promise<{ data: AsyncIterable<Buffer>; format: string; checksum?: string }>;

export interface BaseImage {
  path: string;
  format: string;
}

/** One base file per image, fetched once and verified (md5 checksum from the image service). */
export class ImageCache {
  private locks = new Map<string, Promise<string>>();

  constructor(
    /** The `_base` directory. */
    private readonly dir: string,
    private readonly fetchImage: ImageFetcher,
  ) {}

  async base(imageId: string): Promise<BaseImage> {
    const meta = join(this.dir, `${imageId}.json`);
    if (existsSync(meta)) return JSON.parse(readFileSync(meta, 'utf8')) as BaseImage;
    let pending = this.locks.get(imageId);
    if (!pending) {
      pending = this.fetch(imageId, meta).finally(() => this.locks.delete(imageId));
      this.locks.set(imageId, pending);
    }
    return JSON.parse(await pending) as BaseImage;
  }

  private async fetch(imageId: string, meta: string): Promise<string> {
    const path = join(this.dir, imageId);
    const img = await this.fetchImage(imageId);
    const md5 = createHash('md5');
    const tmp = `${path}.part`;
    await pipeline(
      img.data,
      async function* (src: AsyncIterable<Buffer>) {
        for await (const chunk of src) {
          md5.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(tmp),
    );
    const sum = md5.digest('hex');
    if (img.checksum && img.checksum !== sum) {
      rmSync(tmp, { force: true });
      throw new DriverError(
        `image ${imageId} failed its checksum (${sum} != ${img.checksum})`,
        'ImageCorrupt',
      );
    }
    renameSync(tmp, path);
    writeFileSync(meta, JSON.stringify({ path, format: img.format }));
    return JSON.stringify({ path, format: img.format });
  }
}

/** A qcow2 overlay on a base image (optionally grown to `size`, e.g. `10G`). */
export async function createOverlay(qemuImg: string, base: BaseImage, path: string, size?: string) {
  rmSync(path, { force: true });
  await run(qemuImg, [
    'create',
    '-q',
    '-f',
    'qcow2',
    '-b',
    base.path,
    '-F',
    base.format,
    path,
    ...(size ? [size] : []),
  ]);
}

/** An empty qcow2 disk of `size`. */
const blank = (qemuImg: string, path: string, size: string) =>
  run(qemuImg, ['create', '-q', '-f', 'qcow2', path, size]);

/** Every disk file of a new (or rebuilt) instance in `dir`: root overlay, ephemeral, swap, config drive. */
export async function makeDisks(
  spec: InstanceSpec,
  dir: string,
  o: { images: ImageCache; qemuImg: string; forceConfigDrive: boolean },
): Promise<void> {
  if (!spec.image)
    throw new DriverError('volume-backed instances need the block-storage service', 'Unsupported');
  const base = await o.images.base(spec.image.id);
  await createOverlay(
    o.qemuImg,
    base,
    join(dir, 'disk'),
    spec.flavor.rootGb > 0 ? `${spec.flavor.rootGb}G` : undefined,
  );
  if (spec.flavor.ephemeralGb > 0)
    await blank(o.qemuImg, join(dir, 'disk.eph0'), `${spec.flavor.ephemeralGb}G`);
  if (spec.flavor.swapMb > 0) await blank(o.qemuImg, join(dir, 'disk.swap'), `${spec.flavor.swapMb}M`);
  if (spec.configDrive || o.forceConfigDrive) {
    await buildConfigDrive(
      {
        uuid: spec.uuid,
        name: spec.name,
        hostname: spec.hostname,
        projectId: spec.projectId,
        availabilityZone: spec.availabilityZone,
        metadata: spec.metadata,
        keyName: spec.keyName,
        publicKey: spec.publicKey,
        userData: spec.userData,
        networks: spec.networkInfo.map((v) => ({
          portId: v.portId,
          networkId: v.networkId,
          mac: v.mac,
          fixedIps: v.fixedIps,
        })),
      },
      join(dir, 'disk.config'),
    );
  }
}
