/**
 * The object store's operations over the store (rows, counters) and the backend (bytes): writes go blob
 * first, row second, old blob last; reads find the row, then open its blob (a concurrent overwrite may remove
 * it in between: the row is read again). An expirer removes objects past their X-Delete-At; at start, temp
 * files and blobs no row references (a crash between a blob's write and its row) are swept.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { BlobMissing, TooLarge, type BlobHandle, type ObjectBackend } from './backend.js';
import { CONSTRAINTS } from './constraints.js';
import { swiftError, swiftText } from './faults.js';
import type { AccountRow, ContainerRow, ObjectRow, Range } from './rows.js';
import type { ObjectStore } from './store.js';
import { timestamp } from './domain/time.js';

export interface NewObject {
  account: string;
  container: string;
  name: string;
  contentType: string;
  meta: Record<string, string>;
  deleteAt: number | null;
  /** Expected MD5 (the request's ETag): 422 when the bytes differ. */
  etag?: string;
  /** Extra checks inside the transaction (If-None-Match, quotas). */
  check?: (c: ContainerRow, a: AccountRow | undefined, old: ObjectRow | undefined, size: number) => void;
  /** The most bytes accepted (quota room), beyond which the upload is a 413. */
  limit?: number;
  /** The size the row counts and lists (an SLO manifest counts its segments' total, as Swift's override). */
  size?: number;
}

export class ObjectManager {
  private expirer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  constructor(
    readonly store: ObjectStore,
    readonly backend: ObjectBackend,
    private readonly log: Logger,
  ) {}

  /** Store an object from a byte stream; returns its row (and removes the version it replaced). */
  async put(o: NewObject, body: Readable): Promise<ObjectRow> {
    let blob;
    try {
      blob = await this.backend.write(body, {
        limit: Math.min(o.limit ?? Infinity, CONSTRAINTS.max_file_size),
      });
    } catch (e) {
      if (e instanceof TooLarge)
        throw swiftText(
          413,
          o.limit !== undefined && o.limit < CONSTRAINTS.max_file_size
            ? 'Upload exceeds quota.'
            : 'Your request is too large.',
          { connection: 'close' },
        );
      throw e;
    }
    try {
      if (o.etag !== undefined && o.etag.toLowerCase() !== blob.md5) throw swiftError(422);
      return await this.commit(o, blob);
    } catch (e) {
      await this.backend.remove(blob.key);
      throw e;
    }
  }

  /** Store a copy of an existing object's bytes under a new row. */
  async copy(src: ObjectRow, o: NewObject): Promise<ObjectRow> {
    const h = await this.open(src);
    const s = h.handle.stream(undefined, h.row.etag);
    s.on('close', () => void h.handle.close());
    return this.put({ ...o, etag: undefined }, s);
  }

  private async commit(o: NewObject, blob: { key: string; size: number; md5: string }): Promise<ObjectRow> {
    const row: ObjectRow = {
      account: o.account,
      container: o.container,
      name: o.name,
      size: o.size ?? blob.size,
      etag: blob.md5,
      content_type: o.contentType,
      timestamp: timestamp(),
      meta: JSON.stringify(o.meta),
      delete_at: o.deleteAt,
      file: blob.key,
    };
    const check = o.check;
    const r = await this.store.putObject(row, check && ((c, a, old) => check(c, a, old, row.size)));
    if (r === 'no-container') throw swiftError(404);
    if (r.old) await this.backend.remove(r.old.file);
    return row;
  }

  /** An object's live row: undefined when absent or expired (an expired one is removed on the way). */
  async get(account: string, container: string, name: string): Promise<ObjectRow | undefined> {
    const row = await this.store.getObject(account, container, name);
    if (!row) return undefined;
    if (row.delete_at !== null && row.delete_at <= Date.now() / 1000) {
      await this.remove(row);
      return undefined;
    }
    return row;
  }

  /** Open a row's bytes; if an overwrite removed them meanwhile, serve the new version (or 404). */
  async open(row: ObjectRow): Promise<{ row: ObjectRow; handle: BlobHandle }> {
    for (let i = 0; i < 3; i++) {
      try {
        return { row, handle: await this.backend.open(row.file) };
      } catch (e) {
        if (!(e instanceof BlobMissing)) throw e;
        const again = await this.get(row.account, row.container, row.name);
        if (!again) throw swiftError(404);
        if (again.file === row.file) {
          this.log.error(
            { account: row.account, container: row.container, object: row.name },
            'object data missing',
          );
          throw swiftError(503);
        }
        row = again;
      }
    }
    throw swiftError(503);
  }

  /** A full read whose MD5 failed: the blob is moved aside and the row dropped, as Swift quarantines. */
  async corrupt(row: ObjectRow): Promise<void> {
    this.log.error(
      { account: row.account, container: row.container, object: row.name },
      'object data corrupt: quarantined',
    );
    await this.backend.quarantine(row.file);
    await this.store.deleteObject(row.account, row.container, row.name, row.file);
  }

  /** Delete an object row (this version) and then its bytes. */
  async remove(row: ObjectRow): Promise<boolean> {
    const gone = await this.store.deleteObject(row.account, row.container, row.name, row.file);
    if (gone) await this.backend.remove(gone.file);
    return !!gone;
  }

  async delete(account: string, container: string, name: string): Promise<ObjectRow | undefined> {
    const gone = await this.store.deleteObject(account, container, name);
    if (gone) await this.backend.remove(gone.file);
    return gone;
  }

  // ------------------------------------------------------------------ accounts and containers (rows only)
  account(account: string): Promise<AccountRow | undefined> {
    return this.store.getAccount(account);
  }
  updateAccountMeta(...a: Parameters<ObjectStore['updateAccountMeta']>) {
    return this.store.updateAccountMeta(...a);
  }
  container(account: string, name: string): Promise<ContainerRow | undefined> {
    return this.store.getContainer(account, name);
  }
  listContainers(account: string, r: Range): Promise<ContainerRow[]> {
    return this.store.listContainers(account, r);
  }
  putContainer(...a: Parameters<ObjectStore['putContainer']>) {
    return this.store.putContainer(...a);
  }
  updateContainer(...a: Parameters<ObjectStore['updateContainer']>) {
    return this.store.updateContainer(...a);
  }
  deleteContainer(account: string, name: string) {
    return this.store.deleteContainer(account, name);
  }
  listObjects(account: string, container: string, r: Range, now: number): Promise<ObjectRow[]> {
    return this.store.listObjects(account, container, r, now);
  }
  updateObject(...a: Parameters<ObjectStore['updateObject']>) {
    return this.store.updateObject(...a);
  }

  // ------------------------------------------------------------------ background work
  async start(): Promise<void> {
    this.sweeping = this.sweepOrphans(Date.now() - 60_000).then(
      () => undefined,
      (err) => this.log.error({ err }, 'orphan sweep failed'),
    );
    this.expirer = setInterval(
      () => void this.expire().catch((err) => this.log.error({ err }, 'expirer failed')),
      1000,
    );
    this.expirer.unref();
  }

  async stop(): Promise<void> {
    if (this.expirer) clearInterval(this.expirer);
    await this.sweeping;
  }

  /** The object expirer: remove objects whose X-Delete-At has passed. */
  async expire(): Promise<number> {
    let n = 0;
    for (const row of await this.store.expired(Date.now() / 1000, 500)) if (await this.remove(row)) n++;
    return n;
  }

  /** Remove blobs older than `before` (ms) that no row references. */
  async sweepOrphans(before: number): Promise<number> {
    let removed = 0;
    let batch: string[] = [];
    const flush = async () => {
      const used = await this.store.referenced(batch);
      for (const k of batch)
        if (!used.has(k)) {
          await this.backend.remove(k);
          removed++;
        }
      batch = [];
    };
    for await (const { key, mtimeMs } of this.backend.keys()) {
      if (mtimeMs >= before) continue;
      batch.push(key);
      if (batch.length >= 500) await flush();
    }
    await flush();
    if (removed) this.log.info({ removed }, 'removed unreferenced object data');
    return removed;
  }
}
