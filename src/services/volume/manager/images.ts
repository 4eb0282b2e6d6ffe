/**
 * What block storage uses of the image service (ctx.services.image: `{ manager }`), checked at run time:
 * look an image up with the caller's rights, stream its data, and create + upload an image for
 * `os-volume_upload_image`.
 */
import type { Readable } from 'node:stream';
import type { Caller } from '../../../core/auth/caller.js';
import { ApiError } from '../../../core/errors.js';
import type { ImageFacade, ImageOperations } from '../../../core/facades/image.js';

export interface ImageInfo {
  id: string;
  name: string | null;
  status: string;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size?: number | null;
  min_disk: number;
  min_ram: number;
  checksum?: string | null;
  visibility?: string;
  protected?: boolean | number;
  owner?: string | null;
  properties: Record<string, string>;
}

type ImageManagerLike = ImageOperations;

export class Images {
  constructor(private readonly resolve: () => ImageFacade | undefined) {}

  private get mgr(): ImageManagerLike | undefined {
    const m = this.resolve()?.manager;
    return m && typeof m.lookup === 'function' ? m : undefined;
  }

  private need(): ImageManagerLike {
    const m = this.mgr;
    if (!m) throw new ApiError(400, 'The image service is not available in this cloud.', 'badRequest');
    return m;
  }

  /** The image service takes the one Caller: the user's own rights apply to the image. */
  private static caller(c: Caller): Caller {
    return c;
  }

  /** An image the caller may see, else undefined. */
  async get(c: Caller, id: string): Promise<ImageInfo | undefined> {
    try {
      return await this.need().lookup(id, Images.caller(c));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return undefined;
      throw e;
    }
  }

  async download(c: Caller, id: string): Promise<Readable> {
    const r = await this.need().download(Images.caller(c), id, undefined);
    if (!r.stream) throw new Error(`image ${id} has no data`);
    return r.stream;
  }

  async create(c: Caller, body: Record<string, unknown>): Promise<ImageInfo> {
    return this.need().create(Images.caller(c), body);
  }

  async upload(c: Caller, id: string, data: Readable, size: number): Promise<void> {
    await this.need().upload(Images.caller(c), id, data, size);
  }
}
