/**
 * Image data stores. A store driver keeps image bytes; the manager streams into it and never holds an
 * image in memory. A write is two-phase: `begin()` gives a writable stream into a private temporary
 * object, then `commit()` publishes it atomically (filesystem: fsync + rename) or `abort()` removes it.
 * Between the two the manager verifies the bytes through `localPath` (qemu-img needs a file; a remote
 * driver would spool to a local temporary file there).
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';

export interface PendingWrite {
  stream: Writable;
  /** A local file holding the bytes written so far (for verification before commit). */
  localPath: string;
  /** Publish the object; returns its location URL. */
  commit(): Promise<string>;
  /** Drop the object (idempotent). */
  abort(): Promise<void>;
}

export interface StoreDriver {
  /** Store identifier, as in Glance's `enabled_backends` (e.g. `file`). */
  readonly id: string;
  /** Store type (`file`, `swift`, `rbd`, ...). */
  readonly type: string;
  readonly description: string;
  init(): Promise<void>;
  begin(imageId: string): Promise<PendingWrite>;
  /** Read an object, optionally a byte range [start, end] inclusive. */
  open(location: string, range?: { start: number; end: number }): Readable;
  size(location: string): Promise<number | undefined>;
  delete(location: string): Promise<void>;
  /** Locations of every stored object, for the start-up orphan sweep. */
  list(): Promise<string[]>;
  /** Remove temporary objects left by a crash. */
  sweepTemporary(): Promise<void>;
  /** Store-specific properties for /v2/info/stores/detail. */
  properties(): Record<string, unknown>;
}

/** Image files under `<dataDir>/images/` named by image id; temporary files under `.tmp/`. */
export class FilesystemStore implements StoreDriver {
  readonly type = 'file';
  readonly description = 'Filesystem store under the Stackbox data directory';
  private readonly tmpDir: string;

  constructor(
    readonly dir: string,
    readonly id = 'file',
  ) {
    this.tmpDir = join(dir, '.tmp');
  }

  async init(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true, mode: 0o700 });
  }

  private pathOf(location: string): string {
    const url = new URL(location);
    if (url.protocol !== 'file:') throw new Error(`not a file location: ${location}`);
    const p = fileURLToPath(url);
    if (!p.startsWith(this.dir + '/')) throw new Error(`location outside the store: ${location}`);
    return p;
  }

  async begin(imageId: string): Promise<PendingWrite> {
    if (!/^[0-9a-fA-F-]{1,36}$/.test(imageId)) throw new Error(`bad image id ${imageId}`);
    const tmp = join(this.tmpDir, `${imageId}.${randomBytes(6).toString('hex')}`);
    const final = join(this.dir, imageId);
    const stream: WriteStream = createWriteStream(tmp, { flags: 'wx', mode: 0o600, highWaterMark: 1 << 20 });
    await new Promise<void>((res, rej) => {
      stream.once('open', () => res());
      stream.once('error', rej);
    });
    let done = false;
    return {
      stream,
      localPath: tmp,
      commit: async () => {
        const fh = await open(tmp, 'r');
        try {
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, final);
        done = true;
        return pathToFileURL(final).href;
      },
      abort: async () => {
        if (done) return;
        done = true;
        stream.destroy();
        await rm(tmp, { force: true });
      },
    };
  }

  open(location: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(location), {
      highWaterMark: 1 << 20,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
  }

  async size(location: string): Promise<number | undefined> {
    try {
      return (await stat(this.pathOf(location))).size;
    } catch {
      return undefined;
    }
  }

  async delete(location: string): Promise<void> {
    await rm(this.pathOf(location), { force: true });
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(this.dir, { withFileTypes: true }))
      if (e.isFile()) out.push(pathToFileURL(join(this.dir, e.name)).href);
    return out;
  }

  async sweepTemporary(): Promise<void> {
    for (const name of await readdir(this.tmpDir)) await rm(join(this.tmpDir, name), { force: true });
  }

  properties(): Record<string, unknown> {
    return { data_dir: this.dir, chunk_size: 65536, thin_provisioning: false };
  }
}

/** The staging area of interoperable import (Glance's `os_glance_staging_store`). */
export class StagingArea {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(imageId: string): string {
    if (!/^[0-9a-fA-F-]{1,36}$/.test(imageId)) throw new Error(`bad image id ${imageId}`);
    return join(this.dir, imageId);
  }

  async exists(imageId: string): Promise<boolean> {
    try {
      await stat(this.pathOf(imageId));
      return true;
    } catch {
      return false;
    }
  }

  async remove(imageId: string): Promise<void> {
    await rm(this.pathOf(imageId), { force: true });
  }

  async list(): Promise<string[]> {
    return (await readdir(this.dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  }
}
