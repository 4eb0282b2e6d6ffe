/**
 * Server lifecycle: create (validation, quota, rows; scheduling continues in the background), update,
 * lock, reset, delete, and the changes to a server's own fields (metadata, tags, security groups).
 */
import { serviceCaller } from '../../../core/auth/caller.js';
import type { Caller } from '../../../core/auth/caller.js';
import { bool } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { ImageInfo, RequestedNetwork } from '../facades.js';
import type { GroupRow, ServerRow } from '../rows.js';
import { err, now, rid } from './base.js';
import { flavorDisk } from './hosts.js';
import { eventOf } from './instance-actions.js';
import { Moves } from './moves.js';

export interface CreateRequest {
  name: string;
  imageRef?: string;
  flavorRef: string;
  networks?: RequestedNetwork[] | 'auto' | 'none';
  securityGroups: string[];
  keyName?: string;
  userData?: string;
  metadata: Record<string, string>;
  availabilityZone?: string;
  host?: string;
  forceHost?: boolean;
  configDrive: boolean;
  minCount: number;
  maxCount: number;
  tags: string[];
  description?: string | null;
  hostname?: string;
  accessIPv4?: string;
  accessIPv6?: string;
  group?: string;
  returnReservationId: boolean;
}

/** Nova's sanitize_hostname: lowercase, [a-z0-9-], at most 63 characters. */
export function sanitizeHostname(name: string): string {
  let h = name
    .toLowerCase()
    .replace(/[ _]/g, '-')
    .replace(/[^a-z0-9.-]/g, '')
    .replace(/\.+/g, '.');
  h = h
    .replace(/^[.-]+|[.-]+$/g, '')
    .slice(0, 63)
    .replace(/[.-]+$/, '');
  return h || 'server';
}

export class Lifecycle extends Moves {
  // ================================================================== servers: create
  async createServers(
    c: Caller,
    req: CreateRequest,
  ): Promise<{ servers: ServerRow[]; reservationId: string; adminPass: string }> {
    const flavor = await this.usableFlavor(c, req.flavorRef);
    if (!flavor) throw err(400, 'Flavor ' + req.flavorRef + ' could not be found.', 'badRequest');
    if (bool(flavor.disabled)) throw err(400, `Flavor ${req.flavorRef} is disabled.`, 'badRequest');
    let image: ImageInfo | undefined;
    if (req.imageRef) {
      image = await this.images.get(c, req.imageRef);
      if (!image) throw err(400, `Image ${req.imageRef} could not be found.`, 'badRequest');
      if (image.status !== 'active') throw err(400, `Image ${req.imageRef} is not active.`, 'badRequest');
      const root = flavor.disk;
      if (
        root === 0 &&
        !this.can('os_compute_api:servers:create:zero_disk_flavor', { project_id: c.projectId }, c)
      )
        throw err(403, 'Only volume-backed servers are allowed for flavors with zero disk.', 'forbidden');
      if (root > 0 && image.size && image.size > root * 1024 ** 3)
        throw err(
          400,
          `Flavor's disk is too small for requested image. Flavor disk is ${root * 1024 ** 3} bytes, image is ${image.size} bytes.`,
          'badRequest',
        );
      if (root > 0 && image.min_disk > root)
        throw err(
          400,
          `Flavor's disk is too small for requested image. Flavor disk is ${root * 1024 ** 3} bytes, minimum requested disk is ${image.min_disk * 1024 ** 3} bytes.`,
          'badRequest',
        );
      if (image.min_ram > flavor.ram)
        throw err(400, "Flavor's memory is too small for requested image.", 'badRequest');
    } else {
      throw err(
        400,
        'Missing imageRef attribute: booting from a volume needs the block-storage service, which this cloud does not have yet.',
        'badRequest',
      );
    }
    let keyData: string | null = null;
    if (req.keyName) {
      const kp = await this.store.keypair(c.userId, req.keyName);
      if (!kp) throw err(400, 'Invalid key_name provided.', 'badRequest');
      keyData = kp.public_key;
    }
    const zones = await this.hostZones();
    let requestedAz = req.availabilityZone;
    let forcedHost: string | undefined = req.host;
    if (requestedAz?.includes(':')) {
      const [az, host] = requestedAz.split(':', 2) as [string, string];
      if (!this.can('os_compute_api:servers:create:forced_host', { project_id: c.projectId }, c))
        throw err(
          403,
          "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.",
          'forbidden',
        );
      requestedAz = az || undefined;
      forcedHost = host || undefined;
    }
    if (
      requestedAz &&
      ![...zones.values()].includes(requestedAz) &&
      requestedAz !== this.opts.defaultAvailabilityZone
    )
      throw err(400, 'The requested availability zone is not available', 'badRequest');
    if (
      req.host &&
      !(await this.store.hosts()).some((h) => h.name === req.host || h.hypervisor_hostname === req.host)
    )
      throw err(400, `Compute host ${req.host} could not be found.`, 'badRequest');
    let group: GroupRow | undefined;
    if (req.group) {
      group = await this.store.group(req.group);
      if (!group || (group.project_id !== c.projectId && !c.isAdmin))
        throw err(400, `Invalid server group ${req.group}.`, 'badRequest');
    }
    await this.validateNetworks(c, req);
    const limits = await this.quotaLimits(c.projectId);
    this.checkMetadataQuota(limits, req.metadata);
    const reservationId = `r-${Math.random().toString(36).slice(2, 10)}`;
    const adminPass = Math.random().toString(36).slice(2, 14);
    const diskGb = flavorDisk(flavor);
    const t = now();

    const servers = await this.store.locked([`quota:${c.projectId}`], async (trx) => {
      // Counted usage inside the serialized transaction: exact under concurrency (Nova's quota recheck).
      const used = await this.store.projectUsage(c.projectId, undefined, trx);
      let count = req.maxCount;
      const fit = (res: string, per: number, u: number) => {
        const lim = limits[res] ?? -1;
        if (lim < 0 || per === 0) return Infinity;
        return Math.floor((lim - u) / per);
      };
      const allowed = Math.min(
        fit('instances', 1, used.instances),
        fit('cores', flavor.vcpus, used.cores),
        fit('ram', flavor.ram, used.ram),
      );
      count = Math.min(count, allowed);
      if (count < req.minCount) {
        const over =
          fit('instances', 1, used.instances) < req.minCount
            ? ['instances', 1, used.instances]
            : fit('cores', flavor.vcpus, used.cores) < req.minCount
              ? ['cores', flavor.vcpus, used.cores]
              : ['ram', flavor.ram, used.ram];
        const [res, per, u] = over as [string, number, number];
        throw this.quotaExceeded(res, per * req.minCount, u, limits[res]!);
      }
      if (group) {
        const members = await this.store.countGroupMembers(group.id, trx);
        const lim = limits.server_group_members ?? 10;
        if (lim >= 0 && members + count > lim)
          throw err(403, `Quota exceeded, too many servers in group`, 'forbidden');
      }
      const first = await this.store.nextSeq('server', count, trx);
      const rows: ServerRow[] = [];
      for (let i = 0; i < count; i++) {
        const id = uuid();
        const name = count > 1 ? `${req.name}-${i + 1}` : req.name;
        const row: ServerRow = {
          id,
          seq: first + i,
          name,
          project_id: c.projectId,
          user_id: c.userId,
          host: null,
          node: null,
          availability_zone: requestedAz ?? null,
          requested_az: requestedAz ?? null,
          flavor_id: flavor.id,
          flavor: JSON.stringify(flavor),
          old_flavor: null,
          vcpus: flavor.vcpus,
          memory_mb: flavor.ram,
          disk_gb: diskGb,
          image_ref: image?.id ?? null,
          image_name: image?.name ?? null,
          key_name: req.keyName ?? null,
          key_data: keyData,
          user_data: req.userData ?? null,
          metadata: JSON.stringify(req.metadata),
          security_groups: JSON.stringify(req.securityGroups),
          requested_networks: JSON.stringify(req.networks ?? null),
          addresses: '[]',
          vm_state: 'building',
          task_state: 'scheduling',
          power_state: 0,
          description: req.description ?? null,
          hostname: sanitizeHostname(
            count > 1 ? `${req.hostname ?? req.name}-${i + 1}` : (req.hostname ?? req.name),
          ),
          config_drive: req.configDrive ? 1 : 0,
          reservation_id: reservationId,
          launch_index: i,
          locked: 0,
          locked_by: null,
          locked_reason: null,
          access_ip_v4: req.accessIPv4 ?? null,
          access_ip_v6: req.accessIPv6 ?? null,
          server_group_id: group?.id ?? null,
          fault: null,
          progress: 0,
          created_at: t,
          updated_at: t,
          launched_at: null,
          terminated_at: null,
          deleted: 0,
          deleted_at: null,
        };
        await this.store.insertServer(trx, row);
        for (const tag of req.tags) await this.store.addTag(id, tag, trx);
        rows.push(row);
      }
      return rows;
    });
    for (const s of servers) await this.recordAction(c, s.id, 'create', { event: eventOf('spawn'), at: t });
    // Scheduling, networking and the hand-off to the agent continue after the 202.
    void this.track(
      this.build(servers, {
        forcedHost,
        forceHost: !!forcedHost && !req.host,
        image,
        requestId: rid(c),
        caller: c,
      }),
    );
    return { servers, reservationId, adminPass };
  }

  async deleteServer(c: Caller, s: ServerRow, force = false): Promise<void> {
    this.checkLock(c, s);
    if (!force && s.task_state === 'deleting') return;
    const t = now();
    await this.recordAction(c, s.id, 'delete', { event: eventOf('destroy'), host: s.host, at: t });
    const host = s.host ? await this.store.host(s.host) : undefined;
    if (!host || !this.isUp(host) || s.vm_state === 'shelved_offloaded') {
      // Local delete: nothing runs anywhere (never scheduled, offloaded) or its host is down (Nova's
      // local delete); the host's agent reaps the orphan when it comes back.
      await this.store.saveState(s.id, { task_state: 'deleting', updated_at: t });
      await this.finishDelete(s, rid(c));
      return;
    }
    await this.store.saveState(s.id, { task_state: 'deleting', updated_at: t });
    this.send(host.name, { op: 'destroy', uuid: s.id, requestId: rid(c) });
  }

  protected async finishDelete(s: ServerRow, requestId?: string): Promise<void> {
    const t = now();
    await this.releaseNetworks(s);
    await this.releaseVolumes(serviceCaller(s.project_id), s.id);
    await this.store.updateServer(s.id, {
      deleted: 1,
      deleted_at: t,
      vm_state: 'deleted',
      task_state: null,
      power_state: 0,
      terminated_at: new Date().toISOString(),
      updated_at: t,
    });
    await this.store.deleteTags(s.id);
    if (requestId)
      await this.store.finishEvent(s.id, requestId, eventOf('destroy'), s.host ?? '', 'Success', t);
  }

  /** PUT /servers/{id}: name, description, access IPs, hostname. */
  async updateServer(s: ServerRow, values: Partial<ServerRow>): Promise<ServerRow> {
    await this.store.updateServer(s.id, { updated_at: now(), ...values });
    return (await this.store.server(s.id))!;
  }

  async lock(c: Caller, s: ServerRow, reason: string | undefined): Promise<void> {
    await this.store.updateServer(s.id, {
      locked: 1,
      locked_by: c.isAdmin && s.project_id !== c.projectId ? 'admin' : 'owner',
      locked_reason: reason ?? null,
      updated_at: now(),
    });
    await this.recordAction(c, s.id, 'lock');
  }

  async unlock(c: Caller, s: ServerRow): Promise<void> {
    await this.store.updateServer(s.id, {
      locked: 0,
      locked_by: null,
      locked_reason: null,
      updated_at: now(),
    });
    await this.recordAction(c, s.id, 'unlock');
  }

  /** os-resetState: an admin sets the vm state (active or error) and clears the task. */
  async resetState(c: Caller, s: ServerRow, state: string): Promise<void> {
    await this.store.updateServer(s.id, { vm_state: state, task_state: null, updated_at: now() });
    await this.recordAction(c, s.id, 'resetState');
  }

  async setSecurityGroups(s: ServerRow, names: string[]): Promise<void> {
    await this.store.updateServer(s.id, { security_groups: JSON.stringify(names), updated_at: now() });
  }

  /** Replace a server's metadata (lock, state and quota checked). */
  async setMetadata(c: Caller, s: ServerRow, md: Record<string, string>): Promise<void> {
    this.checkLock(c, s);
    if (['building', 'deleted'].includes(s.vm_state) && s.task_state === 'deleting')
      throw err(
        409,
        `Cannot 'update metadata' instance ${s.id} while it is in task_state deleting`,
        'conflictingRequest',
      );
    this.checkMetadataQuota(await this.quotaLimits(s.project_id), md);
    await this.store.updateServer(s.id, { metadata: JSON.stringify(md), updated_at: now() });
  }

  /** The tags of a server. */
  async tagsOf(id: string): Promise<string[]> {
    return (await this.store.tags([id])).get(id) ?? [];
  }
}
