/**
 * What compute needs from the other services, as narrow interfaces checked at run time: compute only
 * reaches them through `ctx.services.<type>` (never by importing their files).
 */
import { Readable } from 'node:stream';
import type { Caller } from '../../core/auth/caller.js';
import { ApiError } from '../../core/errors.js';

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

interface ImageManagerLike {
  lookup(id: string, caller: unknown): Promise<ImageInfo>;
  create(caller: unknown, body: Record<string, unknown>): Promise<ImageInfo>;
  upload(caller: unknown, id: string, source: Readable, declaredSize?: number): Promise<void>;
  delete?(caller: unknown, id: string): Promise<void>;
}

/** Adapter over ctx.services.image (`{ manager: ImageManager }`). */
export class Images {
  constructor(private readonly resolve: () => unknown) {}
  private get facade(): unknown {
    return this.resolve();
  }

  private get mgr(): ImageManagerLike | undefined {
    const m = (this.facade as { manager?: ImageManagerLike } | undefined)?.manager;
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

interface NeutronPortLike {
  id: string;
  network_id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
}

/** What compute uses of ctx.services.network (src/services/network/index.ts NetworkFacade). */
interface NetworkFacadeLike {
  createServerPort(o: {
    projectId: string;
    networkId: string;
    serverId: string;
    hostId: string;
    az?: string;
    fixedIp?: string;
    securityGroups?: string[];
  }): Promise<NeutronPortLike>;
  bindPort(
    portId: string,
    o: { projectId: string; serverId: string; hostId: string; az?: string },
  ): Promise<NeutronPortLike>;
  unbindPort(portId: string): Promise<void>;
  deletePort(portId: string): Promise<void>;
  listServerPorts(serverId: string): Promise<NeutronPortLike[]>;
  /** The port on a network holding a fixed IP (the metadata service: which instance is asking). */
  findPortByNetworkIp?(
    networkId: string,
    ip: string,
  ): Promise<(NeutronPortLike & { device_id: string; device_owner: string }) | undefined>;
  serverAddresses(
    serverId: string,
  ): Promise<Record<string, { addr: string; version: 4 | 6; type: 'fixed' | 'floating'; mac: string }[]>>;
  /** Not offered yet: networks a project boots on without naming one (for `auto` / no networks). */
  listBootableNetworks?(projectId: string): Promise<{ id: string; name: string }[]>;
}

/** Adapter over ctx.services.network. */
export class Networks {
  constructor(private readonly resolve: () => unknown) {}
  private get facade(): unknown {
    return this.resolve();
  }

  get api(): NetworkFacadeLike | undefined {
    const f = this.facade as NetworkFacadeLike | undefined;
    return f && typeof f.createServerPort === 'function' && typeof f.bindPort === 'function' ? f : undefined;
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
