/**
 * The data plane of the object store: where object bytes live. The database holds every name, listing and
 * counter; a backend only stores immutable blobs under opaque keys. A PUT writes a new blob (never over an
 * old one), the database row is switched to it in one transaction, and the previous blob is removed after
 * that commit: a reader never sees half an object, and a crash at any point leaves at worst an unreferenced
 * blob (swept at the next start) or a temp file (swept too).
 *
 * The contract another backend (S3-compatible, Ceph RADOS Gateway) implements:
 * - `write(body, {limit})` consumes the stream, returns its key, size and MD5; throws `TooLarge` past `limit`
 *   bytes (and stores nothing); the blob is durable when it returns.
 * - `open(key)` gives a handle to read any byte ranges of one blob; it throws `BlobMissing` when the key is
 *   gone. Reads stream (no whole object in memory).
 * - `remove(key)` is idempotent.
 * - `keys()` lists stored keys with their modification times (for the orphan sweep).
 */
import { createHash, randomUUID } from 'node:crypto';
import { constants, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';

export class TooLarge extends Error {}
export class BlobMissing extends Error {}
/** A full read whose bytes do not hash to the object's ETag (the stream fails with it at its end). */
export class Corrupt extends Error {}

export interface StoredBlob {
  key: string;
  size: number;
  md5: string;
}

export interface BlobHandle {
  size: number;
  /** Bytes start..end (inclusive), or all of it; `md5` makes a full read fail at its end if the bytes differ. */
  stream(range?: { start: number; end: number }, md5?: string): Readable;
  close(): Promise<void>;
}

export interface ObjectBackend {
  readonly type: string;
  init(): Promise<void>;
  write(body: AsyncIterable<Buffer> & Readable, opts: { limit: number }): Promise<StoredBlob>;
  open(key: string): Promise<BlobHandle>;
  remove(key: string): Promise<void>;
  keys(): AsyncIterable<{ key: string; mtimeMs: number }>;
  /** Move a blob whose bytes do not match aside (kept for an operator, no longer served). */
  quarantine(key: string): Promise<void>;
}

const COALESCE = 1 << 20;

/** Blobs as files under `<dir>/data/<k0k1>/<k2k3>/<key>`, temp files in `<dir>/tmp`, bad ones in `<dir>/quarantine`. */
export class FilesystemBackend implements ObjectBackend {
  readonly type = 'file';
  private readonly dirs = new Set<string>();
  constructor(readonly dir: string) {}

  private path(key: string) {
    return join(this.dir, 'data', key.slice(0, 2), key.slice(2, 4), key);
  }

  async init(): Promise<void> {
    for (const d of ['data', 'tmp', 'quarantine'])
      await fs.mkdir(join(this.dir, d), { recursive: true, mode: 0o700 });
    await fs.chmod(this.dir, 0o700);
    // Uploads in flight when the process died: never referenced by a row, gone.
    for (const f of await fs.readdir(join(this.dir, 'tmp')))
      await fs.rm(join(this.dir, 'tmp', f), { force: true });
  }

  async write(body: AsyncIterable<Buffer>, opts: { limit: number }): Promise<StoredBlob> {
    const key = randomUUID().replace(/-/g, '');
    const tmp = join(this.dir, 'tmp', key);
    const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    const md5 = createHash('md5');
    let size = 0;
    let ok = false;
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const chunk of body) {
        size += chunk.length;
        if (size > opts.limit) throw new TooLarge();
        md5.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= COALESCE) {
          await fh.writev(pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pending.length) await fh.writev(pending);
      // fdatasync: the bytes and the size (what reading them needs) are on disk before the rename
      await fh.datasync();
      ok = true;
    } finally {
      await fh.close();
      if (!ok) await fs.rm(tmp, { force: true });
    }
    const dest = this.path(key);
    const parent = join(dest, '..');
    if (!this.dirs.has(parent)) {
      await fs.mkdir(parent, { recursive: true, mode: 0o700 });
      this.dirs.add(parent);
    }
    await fs.rename(tmp, dest);
    return { key, size, md5: md5.digest('hex') };
  }

  async open(key: string): Promise<BlobHandle> {
    let fh: fs.FileHandle;
    try {
      fh = await fs.open(this.path(key), 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new BlobMissing(key);
      throw e;
    }
    const { size } = await fh.stat();
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await fh.close().catch(() => undefined);
    };
    return {
      size,
      stream(range, md5) {
        const s = fh.createReadStream({
          start: range?.start ?? 0,
          end: range ? range.end : Math.max(size - 1, 0),
          autoClose: false,
          emitClose: true,
          // fewer, larger reads: one thread-pool trip per 512 KiB instead of per 64 KiB
          highWaterMark: 512 * 1024,
        });
        if (!md5 || range) return s;
        const h = createHash('md5');
        return s.pipe(
          new Transform({
            transform(chunk: Buffer, _e, cb) {
              h.update(chunk);
              cb(null, chunk);
            },
            flush(cb) {
              const got = h.digest('hex');
              cb(got === md5 ? null : new Corrupt(`object data MD5 ${got} does not match ${md5}`));
            },
          }),
        );
      },
      close,
    };
  }

  async remove(key: string): Promise<void> {
    await fs.rm(this.path(key), { force: true });
  }

  async quarantine(key: string): Promise<void> {
    await fs.rename(this.path(key), join(this.dir, 'quarantine', key)).catch(() => undefined);
  }

  async *keys(): AsyncIterable<{ key: string; mtimeMs: number }> {
    const data = join(this.dir, 'data');
    for (const a of await fs.readdir(data))
      for (const b of await fs.readdir(join(data, a)).catch(() => [] as string[]))
        for (const key of await fs.readdir(join(data, a, b)).catch(() => [] as string[])) {
          const st = await fs.stat(join(data, a, b, key)).catch(() => undefined);
          if (st) yield { key, mtimeMs: st.mtimeMs };
        }
  }
}
