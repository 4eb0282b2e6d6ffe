/**
 * What other services get from the image service (`ctx.services.image`): its manager's operations, each
 * taking the one `Caller` (core/auth/caller.ts) and applying Glance's visibility and policy for it. Compute
 * uses it to boot from images, snapshot servers and (on a host) fetch image data.
 */
import type { Readable } from 'node:stream';
import type { Caller } from '../auth/caller.js';

/** An image as Glance's v2 record has it (data fields null until the image is active). */
export interface ImageRecord {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  min_disk: number;
  min_ram: number;
  owner: string | null;
  /** Custom properties. */
  properties: Record<string, string>;
  tags: string[];
}

/** A download: 200 / 206 with a stream, or 204 when the image has no data. */
export interface ImageDownload {
  status: number;
  headers: Record<string, string>;
  stream?: Readable;
}

export interface ImageOperations {
  /** An image the caller can see (404 when it does not exist or is invisible). */
  lookup(id: string, caller: Caller): Promise<ImageRecord>;
  /** Create an image record (a Glance create body); data comes with `upload`. */
  create(caller: Caller, body: Record<string, unknown>): Promise<ImageRecord>;
  /** Upload data to a queued image: verified, then the image is active. */
  upload(caller: Caller, id: string, source: Readable, declaredSize?: number): Promise<void>;
  delete(caller: Caller, id: string): Promise<void>;
  /** The image's data (`range`: an HTTP Range header value). */
  download(caller: Caller, id: string, range: string | undefined): Promise<ImageDownload>;
}

/** `ctx.services.image`. */
export interface ImageFacade {
  manager: ImageOperations;
}
