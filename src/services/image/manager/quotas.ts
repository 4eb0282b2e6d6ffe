/** Quotas (Glance unified limits: image_count_total, image_size_total, image_size_cap) and data errors. */
import { ApiError } from '../../../core/errors.js';
import { ImageDataError } from '../inspect.js';
import { err } from './base.js';
import { ImageManagerBase } from './base.js';

export class QuotaManager extends ImageManagerBase {
  // ------------------------------------------------------------------ quotas
  protected async enforceCount(owner: string): Promise<void> {
    const usage = await this.store.countByOwner(owner);
    if (usage + 1 > this.opts.imageCountTotal)
      throw err(
        413,
        `Project ${owner} is over a limit for [Resource image_count_total is over limit of ${this.opts.imageCountTotal} due to current usage ${usage} and delta 1]`,
      );
  }

  /** Bytes this owner may still store (for an upload to image `id`). */
  protected async remainingBytes(owner: string | null, id: string): Promise<number> {
    const used = owner ? await this.store.bytesByOwner(owner, id) : 0;
    return Math.max(0, Math.min(this.opts.imageSizeTotal - used, this.opts.imageSizeCap));
  }

  protected dataError(e: unknown, limitHit: (q: QuotaError) => ApiError): ApiError {
    if (e instanceof ApiError) return e;
    if (e instanceof QuotaError) return limitHit(e);
    if (e instanceof ImageDataError) return err(415, e.message);
    const code = (e as { code?: string }).code;
    if (code === 'ENOSPC') return err(413, 'Image storage media is full: No space left on device');
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted')
      return err(400, 'The client closed the connection before the image data was complete.');
    return e as ApiError;
  }

  protected quotaMessage(q: QuotaError): ApiError {
    if (q.remaining >= this.opts.imageSizeCap)
      return err(413, 'The incoming image is too large: The provided image is too large.');
    return err(
      413,
      `Image exceeds the storage quota: The size of the data ${q.size} will exceed the limit. ${q.remaining} bytes remaining.`,
    );
  }
}

export class QuotaError extends Error {
  constructor(
    readonly size: number,
    readonly remaining: number,
  ) {
    super('image size limit reached');
  }
}
