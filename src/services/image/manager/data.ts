/** Image data: upload with verification, download with ranges (glance/api/v2/image_data.py), and start-up consistency of rows and bytes. */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Caller } from '../../../core/auth/caller.js';
import { verifyImage } from '../inspect.js';
import type { Image } from '../store.js';
import { err, now } from './base.js';
import { MembersManager } from './members.js';
import { QuotaError } from './quotas.js';

/** What ingesting data gives: where it is stored and what to record. */
export interface Ingested {
  location: string;
  size: number;
  checksum: string;
  hash: string;
  virtualSize?: number;
}

/** The row's fields once its data is in (upload or import). */
export const activeFields = (r: Ingested) => ({
  status: 'active',
  size: r.size,
  virtual_size: r.virtualSize ?? null,
  checksum: r.checksum,
  os_hash_algo: 'sha512',
  os_hash_value: r.hash,
  location: r.location,
  updated_at: now(),
});

export class DataManager extends MembersManager {
  // ------------------------------------------------------------------ data
  /**
   * Stream bytes into the store: md5 + sha512 on the fly, quota enforced while streaming, verified
   * with the format inspector before the object is published. Returns what to record on the image.
   */
  protected async ingest(img: Image, source: Readable, remaining: number): Promise<Ingested> {
    const pending = await this.driver.begin(img.id);
    const md5 = createHash('md5');
    const sha = createHash('sha512');
    let size = 0;
    const meter = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > remaining) return cb(new QuotaError(size, remaining));
        md5.update(chunk);
        sha.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await streamInto(source, meter, pending.stream);
      let virtualSize: number | undefined;
      if (img.container_format === 'bare' && img.disk_format) {
        virtualSize = (await verifyImage(pending.localPath, size, img.disk_format)).virtualSize;
      }
      const location = await pending.commit();
      return { location, size, checksum: md5.digest('hex'), hash: sha.digest('hex'), virtualSize };
    } catch (e) {
      await pending.abort();
      throw e;
    }
  }

  async upload(caller: Caller, id: string, source: Readable, declaredSize?: number): Promise<void> {
    const img = await this.lookup(id, caller);
    this.enforce('upload_image', img, caller, `Not allowed to upload image data for image ${id}`);
    if (img.status !== 'queued')
      throw err(409, `Image status transition from ${img.status} to saving is not allowed`);
    const missing = (['disk_format', 'container_format'] as const).filter((k) => !img[k]);
    if (missing.length)
      throw err(
        400,
        missing.length === 1
          ? `Property ${missing[0]} must be set prior to saving data.`
          : `Properties ${missing.join(', ')} must be set prior to saving data.`,
      );
    const remaining = await this.remainingBytes(img.owner, id);
    if (declaredSize !== undefined && declaredSize > remaining)
      throw this.quotaMessage(new QuotaError(declaredSize, remaining));
    if (!(await this.store.update(id, { status: 'saving', updated_at: now() }, { fromStatus: 'queued' })))
      throw err(409, `Image status transition from ${img.status} to saving is not allowed`);
    let result;
    try {
      result = await this.ingest(img, source, remaining);
    } catch (e) {
      await this.restore(id, 'saving');
      throw this.dataError(e, (q) => this.quotaMessage(q));
    }
    const ok = await this.store.update(id, activeFields(result), { fromStatus: 'saving' });
    if (!ok) {
      await this.driver.delete(result.location).catch(() => undefined);
      throw err(
        410,
        `Image ${id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`,
      );
    }
  }

  /** Back to queued after a failed upload (Glance's _restore), unless the image is gone. */
  protected async restore(id: string, from: string | string[]): Promise<void> {
    await this.store
      .update(
        id,
        { status: 'queued', size: null, virtual_size: null, updated_at: now() },
        { fromStatus: from },
      )
      .catch((e) => this.log.error({ err: e, image: id }, 'could not restore image to queued'));
  }

  async download(
    caller: Caller,
    id: string,
    rangeHeader: string | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; stream?: Readable }> {
    const img = await this.lookup(id, caller);
    if (img.status === 'deactivated' && !caller.isAdmin)
      throw err(403, 'The requested image has been deactivated. Image data download is forbidden.');
    this.enforce('download_image', img, caller);
    if (!img.location || img.size === null) return { status: 204, headers: {} };
    const size = img.size;
    let offset = 0;
    let length = size;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (rangeHeader !== undefined) {
      if (rangeHeader.includes(','))
        throw err(
          400,
          'Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.',
        );
      const m = /^bytes *= *(\d*) *- *(\d*)/i.exec(rangeHeader);
      let start: number | undefined;
      let end: number | undefined; // exclusive, as webob
      if (m && (m[1] || m[2])) {
        if (!m[1]) start = -Number(m[2]);
        else {
          start = Number(m[1]);
          if (m[2]) {
            end = Number(m[2]) + 1;
            if (start >= end) start = undefined;
          }
        }
      }
      if (start === undefined) throw err(416, 'Invalid Range header.');
      if (start >= size)
        throw err(
          416,
          `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
        );
      if (start >= 0) offset = start;
      else if (Math.abs(start) < size) offset = size + start;
      let last = size - 1;
      if (end !== undefined && end < size) {
        length = end - offset;
        last = end - 1;
      } else length = size - offset;
      status = 206;
      headers['content-range'] = `bytes ${offset}-${last}/${size}`;
    }
    if (img.checksum) headers['content-md5'] = img.checksum;
    headers['content-length'] = String(length);
    if (length <= 0) return { status, headers, stream: undefined };
    const stream = this.driver.open(img.location, { start: offset, end: offset + length - 1 });
    return { status, headers, stream };
  }

  // ------------------------------------------------------------------ start-up consistency
  /**
   * Make rows and bytes agree after a crash or restart: temporary objects are removed; an upload that was
   * running (`saving`, `importing`) goes back to `queued` (or `uploading` if its staged data survived);
   * rows whose data is missing go back to `queued` with their data fields cleared; stored objects and
   * staged files no row points at are deleted.
   */
  async reconcile(): Promise<{ requeued: string[]; orphans: number }> {
    await this.driver.sweepTemporary();
    const rows = await this.store.all();
    const requeued: string[] = [];
    const keep = new Set<string>();
    const staged = new Set(await this.staging.list());
    const clear = {
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      location: null,
    };
    for (const r of rows) {
      const t = now();
      if (r.status === 'saving') {
        await this.store.update(
          r.id,
          { ...clear, status: 'queued', updated_at: t },
          { fromStatus: 'saving' },
        );
        requeued.push(r.id);
      } else if (r.status === 'importing' || r.status === 'uploading') {
        const has = staged.has(r.id);
        if (r.status === 'importing' || !has) {
          await this.store.update(
            r.id,
            { ...clear, status: has ? 'uploading' : 'queued', updated_at: t },
            { fromStatus: r.status },
          );
          if (!has) requeued.push(r.id);
        }
        if (has) staged.delete(r.id);
      } else if (r.location) {
        const size = await this.driver.size(r.location);
        if (size === undefined || (r.size !== null && Number(r.size) !== size)) {
          await this.store.update(
            r.id,
            { ...clear, status: 'queued', updated_at: t },
            { fromStatus: r.status },
          );
          requeued.push(r.id);
          if (size !== undefined) await this.driver.delete(r.location);
        } else keep.add(r.location);
      }
    }
    let orphans = 0;
    for (const loc of await this.driver.list())
      if (!keep.has(loc)) {
        await this.driver.delete(loc);
        orphans++;
      }
    for (const name of staged) {
      await rm(join(this.staging.dir, name), { force: true });
      orphans++;
    }
    if (requeued.length || orphans) this.log.warn({ requeued, orphans }, 'image store reconciled');
    return { requeued, orphans };
  }
}

/**
 * Pipe a request body through a meter into a sink. Unlike pipeline(source, ...), a failure downstream
 * (quota, bad data) does not destroy the source: the request socket must stay up to carry the error
}

 * response (sent with `Connection: close`). A source that errors or closes early (client gone) fails it.
 */
export async function streamInto(source: Readable, meter: Transform, sink: Writable): Promise<void> {
  const onError = (e: Error) => meter.destroy(e);
  const onClose = () => {
    if (!source.readableEnded) meter.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };
  source.on('error', onError);
  source.on('close', onClose);
  source.pipe(meter);
  try {
    await pipeline(meter, sink);
  } finally {
    source.off('error', onError);
    source.off('close', onClose);
    source.unpipe(meter);
    source.pause();
  }
}
