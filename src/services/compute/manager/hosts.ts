/** Flavors a caller may use, and the compute hosts: liveness, zones, capacity. */
import type { Caller } from '../../../core/auth/caller.js';
import { bool, json } from '../../../core/db/index.js';
import type { FlavorRow, HostRow, HostUsage, ServerRow } from '../rows.js';
import { err, now } from './base.js';
import { Quotas } from './quotas.js';

/** A host with its liveness and usage (hypervisors, schedulers). */
export interface HostWithUsage {
  h: HostRow;
  up: boolean;
  usage: HostUsage;
}

export const noUsage = (host: string): HostUsage => ({ host, count: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 });

/** Disk a flavor claims: root + ephemeral + swap (rounded up to GB). */
export const flavorDisk = (f: FlavorRow) => f.disk + f.ephemeral + Math.ceil(f.swap / 1024);

export class Hosts extends Quotas {
  // ================================================================== flavors
  async flavor(id: string): Promise<FlavorRow | undefined> {
    return this.store.flavor(id);
  }

  /** A flavor the caller may use: public, or private with access for the project, or any for admins. */
  async usableFlavor(c: Caller, id: string): Promise<FlavorRow | undefined> {
    const f = await this.flavor(id);
    if (!f) return undefined;
    if (bool(f.is_public) || c.isAdmin) return f;
    return (await this.store.hasFlavorAccess(id, c.projectId)) ? f : undefined;
  }

  async seedFlavors(): Promise<void> {
    if ((await this.store.countFlavors()) > 0) return;
    const t = now();
    const defaults: [string, string, number, number, number][] = [
      ['1', 'm1.tiny', 1, 512, 1],
      ['2', 'm1.small', 1, 2048, 20],
      ['3', 'm1.medium', 2, 4096, 40],
      ['4', 'm1.large', 4, 8192, 80],
      ['5', 'm1.xlarge', 8, 16384, 160],
      ['42', 'm1.nano', 1, 128, 1],
    ];
    for (const [id, name, vcpus, ram, disk] of defaults)
      await this.store.insertFlavor(
        {
          id,
          name,
          vcpus,
          ram,
          disk,
          ephemeral: 0,
          swap: 0,
          rxtx_factor: 1,
          is_public: 1,
          disabled: 0,
          description: null,
          extra_specs: '{}',
          created_at: t,
        },
        true,
      );
  }

  // ================================================================== hosts
  isUp(h: HostRow): boolean {
    if (bool(h.forced_down) || !h.heartbeat_at) return false;
    return Date.now() - Date.parse(h.heartbeat_at) <= this.opts.serviceDownTime * 1000;
  }

  /** The availability zone of each host: its aggregate's zone, else the host's own, else the default. */
  async hostZones(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const a of await this.store.zonedAggregates())
      for (const h of json<string[]>(a.hosts, [])) if (!out.has(h)) out.set(h, a.availability_zone!);
    for (const h of await this.store.hosts())
      if (!out.has(h.name)) out.set(h.name, h.availability_zone ?? this.opts.defaultAvailabilityZone);
    return out;
  }

  /** Every host with its liveness and usage. */
  async hostStates(): Promise<HostWithUsage[]> {
    const usage = await this.store.hostUsage();
    return (await this.store.hosts()).map((h) => ({
      h,
      up: this.isUp(h),
      usage: usage.get(h.name) ?? noUsage(h.name),
    }));
  }

  async hosts(): Promise<HostRow[]> {
    return this.store.hosts();
  }
  async host(name: string): Promise<HostRow | undefined> {
    return this.store.host(name);
  }
  /** os-services: enable, disable, force down. */
  async updateHost(name: string, values: Partial<HostRow>): Promise<HostRow | undefined> {
    await this.store.updateHost(name, values);
    return this.store.host(name);
  }
  /** os-services delete: only a host that runs no servers. */
  async deleteHost(h: HostRow): Promise<void> {
    if ((await this.store.countServersOn(h.name)) > 0)
      throw err(
        409,
        `Unable to delete compute service that is hosting instances. Migrate or delete the instances first.`,
        'conflictingRequest',
      );
    await this.store.deleteHost(h.name);
  }

  /** The live servers on a host (os-hypervisors `servers`). */
  async serversOn(host: string): Promise<{ id: string; seq: number }[]> {
    return this.store.serverIdsOn(host);
  }

  /** The host a server runs on, up (409 otherwise). */
  async hostOf(s: ServerRow, action: string): Promise<HostRow> {
    const h = s.host ? await this.store.host(s.host) : undefined;
    if (!h)
      throw err(
        409,
        `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vm_state}`,
        'conflictingRequest',
      );
    if (!this.isUp(h))
      throw err(409, `Compute service of ${h.name} is unavailable at this time.`, 'conflictingRequest');
    return h;
  }
}
