/**
 * What compute needs from the other services, as narrow interfaces checked at run time: compute only
 * reaches them through `ctx.services.<type>` (never by importing their files).
 */
import { Readable } from 'node:stream';
import type { Caller } from '../../core/auth/caller.js';
import { ApiError } from '../../core/errors.js';
import type { ImageFacade, ImageOperations } from '../../core/facades/image.js';
import type { NetworkFacade, NeutronPort } from '../../core/facades/network.js';

/** The subset of an image compute reads. */
export interface ImageInfo {
  id: string;
  name: string | null;
  status: string;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  min_disk: number;
  min_ram: number;
  owner: string | null;
  visibility: string;
  properties: Record<string, string>;
}

type ImageManagerLike = ImageOperations;

/** Adapter over ctx.services.image (`{ manager: ImageManager }`). */
export class Images {
  constructor(private readonly resolve: () => ImageFacade | undefined) {}

  private get mgr(): ImageManagerLike | undefined {
    const m = this.resolve()?.manager;
    return m && typeof m.lookup === 'function' ? m : undefined;
  }

  get available(): boolean {
    return !!this.mgr;
  }

  /** The image service takes the one Caller (core/auth/caller.ts); compute's has the same shape. */
  private caller(c: Caller) {
    return c;
  }

  /** An image the caller can see; undefined when it does not exist or is invisible. */
  async get(c: Caller, id: string): Promise<ImageInfo | undefined> {
    const m = this.mgr;
    if (!m)
      throw new ApiError(
        400,
        'The image service is not available in this cloud: cannot boot from imageRef.',
        'badRequest',
      );
    try {
      return await m.lookup(id, this.caller(c));
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return undefined;
      throw e;
    }
  }

  async createSnapshot(c: Caller, body: Record<string, unknown>): Promise<ImageInfo> {
    const m = this.mgr;
    if (!m)
      throw new ApiError(
        409,
        'The image service is not available in this cloud: cannot create an image.',
        'conflictingRequest',
      );
    return m.create(this.caller(c), body);
  }

  async delete(c: Caller, id: string): Promise<void> {
    await this.mgr?.delete?.(this.caller(c), id);
  }

  async upload(c: Caller, id: string, data: AsyncIterable<Buffer> | Buffer): Promise<void> {
    const m = this.mgr;
    if (!m) throw new Error('image service not available');
    const stream = Buffer.isBuffer(data) ? Readable.from([data]) : Readable.from(data);
    await m.upload(this.caller(c), id, stream, Buffer.isBuffer(data) ? data.length : undefined);
  }
}

/** A port as compute sees it (from the network facade's Neutron port dicts). */
export interface PortInfo {
  id: string;
  networkId: string;
  macAddress: string;
  fixedIps: { ipAddress: string; subnetId?: string }[];
}

export interface RequestedNetwork {
  uuid?: string;
  port?: string;
  fixed_ip?: string;
  tag?: string;
}

type NeutronPortLike = NeutronPort;

/** What compute uses of ctx.services.network: its facade, typed in core. */
type NetworkFacadeLike = NetworkFacade;

/** Adapter over ctx.services.network. */
export class Networks {
  constructor(private readonly resolve: () => NetworkFacade | undefined) {}

  get api(): NetworkFacadeLike | undefined {
    const f = this.resolve();
    return f;
  }

  static toPort(p: NeutronPortLike): PortInfo {
    return {
      id: p.id,
      networkId: p.network_id,
      macAddress: p.mac_address,
      fixedIps: p.fixed_ips.map((f) => ({ ipAddress: f.ip_address, subnetId: f.subnet_id })),
    };
  }

  /** The 400 for a request that names networks while the network service cannot give compute ports. */
  static unavailable(): ApiError {
    return new ApiError(
      400,
      'Networking for servers is not available: the network service is not mounted in this cloud. ' +
        'Create the server with "networks": "none" (microversion 2.37 or later) or without networks.',
      'badRequest',
    );
  }
}
