/**
 * The compute manager: the operations behind the API (validation beyond schemas, quotas, state rules),
 * the scheduler's transaction, the hand-off of tasks to host agents and the application of their reports.
 */
import type { Logger } from 'pino';
import { bool, isUniqueViolation, json } from '../../core/db/index.js';
import type { Bus } from '../../core/bus/index.js';
import { ApiError } from '../../core/errors.js';
import { isoSeconds, uuid } from '../../core/ids.js';
import type { PolicyEngine } from '../../core/auth/policy.js';
import type { InstanceSpec } from '../../agent/compute/driver.js';
import {
  REPORT_SUBJECT,
  hostSubject,
  type AgentReply,
  type AgentReport,
  type AgentTask,
  type StateReport,
} from '../../agent/compute/protocol.js';
import {
  Images,
  Networks,
  type Caller,
  type ImageInfo,
  type PortInfo,
  type RequestedNetwork,
} from './facades.js';
import { NoValidHost, selectHost, type HostState, type SchedulingRequest } from './scheduler.js';
import { ComputeStore, type FlavorRow, type GroupRow, type HostRow, type ServerRow } from './store.js';

export const now = () => isoSeconds(new Date());
const err = (status: number, msg: string, kind?: string) => new ApiError(status, msg, kind);
export const notFoundServer = (id: string) => err(404, `Instance ${id} could not be found.`, 'itemNotFound');

export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  fixed_ips: -1,
  floating_ips: 10,
  security_groups: 10,
  security_group_rules: 20,
  networks: -1,
};

export interface ComputeOptions {
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  /** Seconds without heartbeat after which a compute service is down (Nova's service_down_time). */
  serviceDownTime: number;
  defaultAvailabilityZone: string;
  /** Timeout of synchronous agent calls (console output/URL). */
  callTimeoutMs: number;
}

export const DEFAULT_COMPUTE_OPTIONS: ComputeOptions = {
  cpuAllocationRatio: 4.0,
  ramAllocationRatio: 1.0,
  diskAllocationRatio: 1.0,
  serviceDownTime: 60,
  defaultAvailabilityZone: 'nova',
  callTimeoutMs: 10_000,
};

/** Instance action names and compute-manager event names per operation (nova/compute/instance_actions.py). */
const ACTIONS: Record<string, [string, string]> = {
  spawn: ['create', 'compute__do_build_and_run_instance'],
  destroy: ['delete', 'compute_terminate_instance'],
  reboot: ['reboot', 'compute_reboot_instance'],
  power_off: ['stop', 'compute_stop_instance'],
  power_on: ['start', 'compute_start_instance'],
  pause: ['pause', 'compute_pause_instance'],
  unpause: ['unpause', 'compute_unpause_instance'],
  suspend: ['suspend', 'compute_suspend_instance'],
  resume: ['resume', 'compute_resume_instance'],
  rescue: ['rescue', 'compute_rescue_instance'],
  unrescue: ['unrescue', 'compute_unrescue_instance'],
  rebuild: ['rebuild', 'compute_rebuild_instance'],
  resize: ['resize', 'compute_finish_resize'],
  resize_revert: ['revertResize', 'compute_finish_revert_resize'],
  snapshot: ['createImage', 'compute_snapshot_instance'],
  shelve: ['shelve', 'compute_shelve_offload_instance'],
  unshelve: ['unshelve', 'compute_unshelve_instance'],
  attach_interface: ['attach_interface', 'compute_attach_interface'],
  detach_interface: ['detach_interface', 'compute_detach_interface'],
  attach_volume: ['attach_volume', 'compute_attach_volume'],
  detach_volume: ['detach_volume', 'compute_detach_volume'],
  migrate_in: ['migrate', 'compute_finish_resize'],
};

export interface Address {
  network: string;
  addr: string;
  version: 4 | 6;
  type: 'fixed' | 'floating';
  mac: string;
  portId?: string;
  /** The port's network id (`network` is its name, as Nova's `addresses` keys). */
  networkId?: string;
  created?: boolean;
}

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

export class ComputeManager {
  readonly images: Images;
  readonly networks: Networks;
  private unsub?: () => void;
  /** Callers of snapshots in flight, so the agent's upload is done with the requester's rights. */
  private snapshots = new Map<string, Caller>();
  private replySeq = 0;
  private reportChains = new Map<string, Promise<unknown>>();
  /** Promises of background work started by requests (scheduling, networking), for settle(). */
  private background = new Set<Promise<unknown>>();
  /** Hooks for tests: resolve on every applied report. */
  readonly listeners = new Set<(r: AgentReport) => void>();

  constructor(
    readonly store: ComputeStore,
    readonly policy: PolicyEngine,
    readonly bus: Bus,
    readonly log: Logger,
    readonly opts: ComputeOptions,
    services: Record<string, unknown>,
  ) {
    this.images = new Images(() => services.image);
    this.networks = new Networks(() => services.network);
  }

  start(): void {
    // Reports of one instance are applied in the order they were sent (a later transition must never
    // race ahead of an earlier one: each expects the task state the previous one set).
    this.unsub = this.bus.subscribe(REPORT_SUBJECT, (p) => {
      const r = p as AgentReport;
      const key = r.kind === 'state' ? r.uuid : `host:${r.host}`;
      const prev = this.reportChains.get(key) ?? Promise.resolve();
      const next: Promise<unknown> = prev
        .then(() => this.onReport(r))
        .catch((err) => this.log.error({ err, report: r.kind }, 'applying an agent report failed'))
        .finally(() => {
          if (this.reportChains.get(key) === next) this.reportChains.delete(key);
        });
      this.reportChains.set(key, next);
      void this.track(next);
    });
  }

  async stop(): Promise<void> {
    this.unsub?.();
    await this.settle();
  }

  track<T>(p: Promise<T>): Promise<T> {
    const q = p.catch((err) => {
      this.log.error({ err }, 'compute background task failed');
    }) as Promise<unknown>;
    this.background.add(q);
    void q.finally(() => this.background.delete(q));
    return p;
  }

  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  // ================================================================== policy helpers
  can(rule: string, target: Record<string, unknown>, c: Caller): boolean {
    return this.policy.check(rule, target, c.creds);
  }

  // ================================================================== flavors
  async flavor(id: string): Promise<FlavorRow | undefined> {
    return this.store.k.selectFrom('compute_flavor').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** A flavor the caller may use: public, or private with access for the project, or any for admins. */
  async usableFlavor(c: Caller, id: string): Promise<FlavorRow | undefined> {
    const f = await this.flavor(id);
    if (!f) return undefined;
    if (bool(f.is_public) || c.isAdmin) return f;
    const a = await this.store.k
      .selectFrom('compute_flavor_access')
      .select('project_id')
      .where('flavor_id', '=', id)
      .where('project_id', '=', c.projectId)
      .executeTakeFirst();
    return a ? f : undefined;
  }

  async seedFlavors(): Promise<void> {
    const n = await this.store.k
      .selectFrom('compute_flavor')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n.n) > 0) return;
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
      await this.store.k
        .insertInto('compute_flavor')
        .values({
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
        })
        .onConflict((oc) => oc.doNothing())
        .execute();
  }

  // ================================================================== quotas
  async quotaLimits(projectId: string): Promise<Record<string, number>> {
    const rows = await this.store.k
      .selectFrom('compute_quota')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('scope', '=', 'class'), eb('owner', '=', 'default')]),
          eb.and([eb('scope', '=', 'project'), eb('owner', '=', projectId)]),
        ]),
      )
      .execute();
    const out = { ...QUOTA_DEFAULTS };
    for (const r of rows.filter((x) => x.scope === 'class')) out[r.resource] = Number(r.hard_limit);
    for (const r of rows.filter((x) => x.scope === 'project')) out[r.resource] = Number(r.hard_limit);
    return out;
  }

  async classLimits(name: string): Promise<Record<string, number>> {
    const rows = await this.store.k
      .selectFrom('compute_quota')
      .selectAll()
      .where('scope', '=', 'class')
      .where('owner', '=', name)
      .execute();
    const out = { ...QUOTA_DEFAULTS };
    if (name === 'default' || rows.length) for (const r of rows) out[r.resource] = Number(r.hard_limit);
    return out;
  }

  async setQuota(scope: 'project' | 'class', owner: string, values: Record<string, number>): Promise<void> {
    for (const [resource, hard] of Object.entries(values))
      await this.store.k
        .insertInto('compute_quota')
        .values({ scope, owner, resource, hard_limit: hard })
        .onConflict((oc) => oc.columns(['scope', 'owner', 'resource']).doUpdateSet({ hard_limit: hard }))
        .execute();
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.store.k
      .deleteFrom('compute_quota')
      .where('scope', '=', 'project')
      .where('owner', '=', projectId)
      .execute();
  }

  async usage(projectId: string): Promise<Record<string, number>> {
    const u = await this.store.projectUsage(this.store.k, projectId);
    const groups = await this.store.k
      .selectFrom('compute_server_group')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return { ...u, server_groups: Number(groups.n), key_pairs: 0 };
  }

  quotaExceeded(resource: string, requested: number, used: number, allowed: number): ApiError {
    return err(
      403,
      `Quota exceeded for ${resource}: Requested ${requested}, but already used ${used} of ${allowed} ${resource}`,
      'forbidden',
    );
  }

  checkMetadataQuota(limits: Record<string, number>, md: Record<string, string>): void {
    const max = limits.metadata_items ?? 128;
    if (max >= 0 && Object.keys(md).length > max)
      throw err(
        403,
        `Quota exceeded for metadata_items: Requested ${Object.keys(md).length}, but already used 0 of ${max} metadata_items`,
        'forbidden',
      );
  }

  // ================================================================== hosts
  isUp(h: HostRow): boolean {
    if (bool(h.forced_down) || !h.heartbeat_at) return false;
    return Date.now() - Date.parse(h.heartbeat_at) <= this.opts.serviceDownTime * 1000;
  }

  /** The availability zone of each host: its aggregate's zone, else the host's own, else the default. */
  async hostZones(): Promise<Map<string, string>> {
    const aggs = await this.store.k
      .selectFrom('compute_aggregate')
      .selectAll()
      .where('availability_zone', 'is not', null)
      .orderBy('id')
      .execute();
    const out = new Map<string, string>();
    for (const a of aggs)
      for (const h of json<string[]>(a.hosts, [])) if (!out.has(h)) out.set(h, a.availability_zone!);
    for (const h of await this.store.hosts())
      if (!out.has(h.name)) out.set(h.name, h.availability_zone ?? this.opts.defaultAvailabilityZone);
    return out;
  }

  private async onHello(r: Extract<AgentReport, { kind: 'hello' }>): Promise<void> {
    const t = now();
    const existing = await this.store.host(r.host);
    const values = {
      hypervisor_hostname: r.info.hypervisorHostname,
      hypervisor_type: r.info.hypervisorType,
      hypervisor_version: r.info.hypervisorVersion,
      host_ip: r.info.hostIp,
      vcpus: r.info.vcpus,
      memory_mb: r.info.memoryMb,
      local_gb: r.info.localGb,
      cpu_info: JSON.stringify(r.info.cpuInfo),
      driver: r.driver,
      capabilities: JSON.stringify(r.capabilities),
      heartbeat_at: new Date().toISOString(),
      updated_at: t,
      ...(r.availabilityZone ? { availability_zone: r.availabilityZone } : {}),
    };
    if (existing)
      await this.store.k.updateTable('compute_host').set(values).where('name', '=', r.host).execute();
    else {
      const id = await this.store.nextSeq(this.store.k, 'host');
      await this.store.k
        .insertInto('compute_host')
        .values({
          name: r.host,
          id,
          service_uuid: uuid(),
          hypervisor_uuid: uuid(),
          availability_zone: r.availabilityZone ?? null,
          cpu_allocation_ratio: this.opts.cpuAllocationRatio,
          ram_allocation_ratio: this.opts.ramAllocationRatio,
          disk_allocation_ratio: this.opts.diskAllocationRatio,
          enabled: 1,
          disabled_reason: null,
          forced_down: 0,
          created_at: t,
          ...values,
        })
        .execute();
    }
    // Answer with what this host should run: the agent converges to it (reconciliation).
    const rows = await this.store.k
      .selectFrom('compute_server')
      .selectAll()
      .where('host', '=', r.host)
      .where('deleted', '=', 0)
      .execute();
    const desired = [];
    for (const s of rows)
      desired.push({ spec: await this.spec(s), vmState: s.vm_state, taskState: s.task_state });
    this.send(r.host, { op: 'sync', desired });
  }

  // ================================================================== reports from agents
  async onReport(r: AgentReport): Promise<void> {
    try {
      if (r.kind === 'hello') await this.onHello(r);
      else if (r.kind === 'heartbeat')
        await this.store.k
          .updateTable('compute_host')
          .set({ heartbeat_at: new Date().toISOString() })
          .where('name', '=', r.host)
          .execute();
      else if (r.kind === 'state') await this.applyState(r);
      else if (r.kind === 'power') await this.syncPower(r);
      else if (r.kind === 'synced' && (r.rebuilt.length || r.errored.length || r.orphans.length))
        this.log.info(
          { host: r.host, rebuilt: r.rebuilt, errored: r.errored, orphans: r.orphans },
          'host reconciled',
        );
    } finally {
      for (const l of this.listeners) l(r);
    }
  }

  private async applyState(r: StateReport): Promise<void> {
    const s = await this.store.server(r.uuid);
    if (!s) return;
    const t = now();
    const values: Partial<ServerRow> = { updated_at: t };
    if (r.vmState !== undefined) values.vm_state = r.vmState;
    if (r.taskState !== undefined) values.task_state = r.taskState;
    if (r.powerState !== undefined) values.power_state = r.powerState;
    if (r.launched) values.launched_at = new Date().toISOString();
    if (r.error && (r.vmState === 'error' || r.op === 'spawn'))
      values.fault = JSON.stringify({
        code: 500,
        message: r.error.message,
        details: r.error.details ?? '',
        created: t,
      });
    if (r.vmState === 'active' && r.op === 'spawn') values.fault = null;
    if (r.op === 'resize_revert' && !r.error && s.old_flavor) {
      const old = json<FlavorRow>(s.old_flavor, s.flavor as never);
      Object.assign(values, {
        flavor: s.old_flavor,
        flavor_id: old.id,
        vcpus: old.vcpus,
        memory_mb: old.ram,
        disk_gb: old.disk + old.ephemeral + Math.ceil(old.swap / 1024),
        old_flavor: null,
      });
    }
    if (r.deleted) {
      await this.finishDelete(s, r.requestId);
      return;
    }
    const ok = await this.store.saveState(r.uuid, values, r.expectTaskState);
    if (!ok) {
      this.log.debug(
        { uuid: r.uuid, op: r.op, expect: r.expectTaskState, have: s.task_state },
        'stale state report ignored',
      );
      return;
    }
    if (r.finished && r.requestId && ACTIONS[r.op])
      await this.store.finishEvent(
        r.uuid,
        r.requestId,
        ACTIONS[r.op]![1],
        r.host,
        r.error ? 'Error' : 'Success',
        t,
        r.error?.details,
        r.error?.message,
      );
    if (r.op === 'spawn' && r.vmState === 'error') await this.releaseNetworks(s);
    if (r.op === 'migrate_in' && r.finished) await this.finishMove(s, r);
    if (r.op === 'unshelve' && r.finished && !r.error && s.shelved_image_id) {
      // The shelved image served its purpose (Nova deletes it after a successful unshelve).
      await this.images
        .delete(this.systemCaller(s), s.shelved_image_id)
        .catch((e) => this.log.warn({ err: e }, 'deleting the shelved image failed'));
      await this.store.k
        .updateTable('compute_server')
        .set({ shelved_image_id: null })
        .where('id', '=', s.id)
        .execute();
    }
  }

  /**
   * Power-state sync (nova/compute/manager.py _sync_instance_power_state): record the real power state
   * and, for a server with no task running, follow it — an ACTIVE server whose guest shut down or
   * crashed becomes SHUTOFF; one found paused or suspended takes that state.
   */
  private async syncPower(r: Extract<AgentReport, { kind: 'power' }>): Promise<void> {
    for (const ch of r.changes) {
      const s = await this.store.server(ch.uuid);
      if (!s || s.host !== r.host || s.task_state !== null) continue;
      const values: Partial<ServerRow> = { power_state: ch.powerState, updated_at: now() };
      if (s.vm_state === 'active') {
        if (ch.powerState === 4 || ch.powerState === 6) values.vm_state = 'stopped';
        else if (ch.powerState === 3) values.vm_state = 'paused';
        else if (ch.powerState === 7) values.vm_state = 'suspended';
      }
      const ok = await this.store.saveState(s.id, values, [null]);
      if (ok && values.vm_state)
        this.log.warn(
          { server: s.id, powerState: ch.powerState, vmState: values.vm_state },
          'power state sync: the instance changed state by itself',
        );
    }
  }

  /** A move finished on the destination: record it on the migration and clean the source up. */
  private async finishMove(s: ServerRow, r: StateReport): Promise<void> {
    const m = await this.store.k
      .selectFrom('compute_migration')
      .selectAll()
      .where('server_id', '=', s.id)
      .where('status', 'in', ['running', 'migrating', 'reverting'])
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!m) return;
    const reverting = m.status === 'reverting';
    const status = r.error
      ? 'error'
      : reverting
        ? 'reverted'
        : m.migration_type === 'live-migration'
          ? 'completed'
          : 'finished';
    await this.store.k
      .updateTable('compute_migration')
      .set({ status, updated_at: now() })
      .where('id', '=', m.id)
      .execute();
    const left = reverting ? m.dest_compute : m.source_compute;
    if (!r.error && left && left !== r.host)
      this.send(left, { op: 'migrate_cleanup', uuid: s.id, requestId: r.requestId ?? '' });
  }

  /**
   * Move a server to another host (cold migrate → VERIFY_RESIZE, live migrate → same state), or back to
   * its source (revert of a cold migrate). The destination is chosen and claimed in the scheduler's
   * transaction; the destination's agent rebuilds the instance, then the source's agent cleans up.
   */
  async moveServer(
    c: Caller,
    s: ServerRow,
    o: { live: boolean; host?: string; revert?: { source: string } },
  ): Promise<void> {
    this.checkLock(c, s);
    const zones = await this.hostZones();
    const taskState = o.revert ? 'resize_reverting' : o.live ? 'migrating' : 'resize_migrating';
    const t = now();
    let dest: HostRow;
    try {
      dest = await this.store.locked(['scheduler'], async (trx) => {
        const cur = await trx
          .selectFrom('compute_server')
          .selectAll()
          .where('id', '=', s.id)
          .where('deleted', '=', 0)
          .executeTakeFirst();
        if (!cur || cur.task_state !== null)
          throw err(
            409,
            `Cannot '${o.live ? 'os-migrateLive' : 'migrate'}' instance ${s.id} while it is in task_state ${cur?.task_state ?? 'deleting'}`,
            'conflictingRequest',
          );
        const usage = await this.store.hostUsage(trx);
        const hosts: HostState[] = (await trx.selectFrom('compute_host').selectAll().execute()).map((row) => {
          const u = usage.get(row.name) ?? { host: row.name, count: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 };
          return {
            row,
            up: this.isUp(row),
            az: zones.get(row.name) ?? this.opts.defaultAvailabilityZone,
            usage: u,
          };
        });
        const choice = selectHost(hosts, {
          vcpus: s.vcpus,
          memoryMb: s.memory_mb,
          diskGb: s.disk_gb,
          availabilityZone: o.revert ? undefined : (s.requested_az ?? undefined),
          host: o.revert?.source ?? o.host,
          forceHost: !!o.revert,
          ignoreHosts: s.host ? [s.host] : [],
        });
        const row = hosts.find((h) => h.row.name === choice.host)!.row;
        await trx
          .updateTable('compute_server')
          .set({
            host: row.name,
            node: row.hypervisor_hostname,
            availability_zone: choice.az,
            task_state: taskState,
            updated_at: t,
          })
          .where('id', '=', s.id)
          .execute();
        if (o.revert)
          await trx
            .updateTable('compute_migration')
            .set({ status: 'reverting', updated_at: t })
            .where('server_id', '=', s.id)
            .where('status', '=', 'finished')
            .execute();
        else
          await trx
            .insertInto('compute_migration')
            .values({
              uuid: uuid(),
              server_id: s.id,
              project_id: s.project_id,
              user_id: s.user_id,
              source_compute: s.host,
              dest_compute: row.name,
              source_node: s.node,
              dest_node: row.hypervisor_hostname,
              dest_host: row.host_ip,
              old_flavor_id: s.flavor_id,
              new_flavor_id: s.flavor_id,
              migration_type: o.live ? 'live-migration' : 'migration',
              status: o.live ? 'running' : 'migrating',
              created_at: t,
              updated_at: t,
            })
            .execute();
        return row;
      });
    } catch (e) {
      if (e instanceof NoValidHost)
        throw err(400, `No valid host was found. ${e.reasons.join('; ')}`, 'badRequest');
      throw e;
    }
    const action = o.revert ? 'revertResize' : o.live ? 'live-migration' : 'migrate';
    await this.store.startAction(
      {
        server_id: s.id,
        action,
        request_id: c.requestId,
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: t,
      },
      ACTIONS.migrate_in![1],
      dest.name,
    );
    const moved = (await this.store.server(s.id))!;
    const power =
      s.vm_state === 'stopped' || (o.revert && s.power_state === 4)
        ? 'stopped'
        : s.vm_state === 'paused'
          ? 'paused'
          : 'running';
    const finalVmState = o.revert
      ? power === 'stopped'
        ? 'stopped'
        : 'active'
      : o.live
        ? s.vm_state
        : 'resized';
    this.send(dest.name, {
      op: 'migrate_in',
      uuid: s.id,
      requestId: c.requestId,
      spec: await this.spec(moved),
      expectTaskState: taskState,
      powerState: power,
      finalVmState,
    });
  }

  private async finishDelete(s: ServerRow, requestId?: string): Promise<void> {
    const t = now();
    await this.releaseNetworks(s);
    await this.store.k
      .updateTable('compute_server')
      .set({
        deleted: 1,
        deleted_at: t,
        vm_state: 'deleted',
        task_state: null,
        power_state: 0,
        terminated_at: new Date().toISOString(),
        updated_at: t,
      })
      .where('id', '=', s.id)
      .execute();
    await this.store.k.deleteFrom('compute_server_tag').where('server_id', '=', s.id).execute();
    if (requestId)
      await this.store.finishEvent(s.id, requestId, ACTIONS.destroy![1], s.host ?? '', 'Success', t);
  }

  // ================================================================== agent messaging
  send(host: string, task: AgentTask): void {
    this.bus.publish(hostSubject(host), task);
  }

  /** A synchronous call to an agent (console output/URL), with a timeout. */
  async call(host: string, task: AgentTask & { replyTo: string }): Promise<AgentReply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsub();
        reject(err(409, `The compute service on host ${host} did not answer in time.`, 'conflictingRequest'));
      }, this.opts.callTimeoutMs);
      const unsub = this.bus.subscribe(task.replyTo, (p) => {
        clearTimeout(timer);
        unsub();
        resolve(p as AgentReply);
      });
      this.send(host, task);
    });
  }

  replySubject(): string {
    return `compute.reply.${process.pid}.${++this.replySeq}.${uuid()}`;
  }

  /** The instance spec a driver gets, built from the server row. */
  async spec(s: ServerRow, image?: ImageInfo): Promise<InstanceSpec> {
    const f = json<FlavorRow>(s.flavor, {} as FlavorRow);
    const addrs = json<Address[]>(s.addresses, []);
    const ports = new Map<string, Address[]>();
    for (const a of addrs.filter((x) => x.type === 'fixed'))
      ports.set(a.portId ?? a.mac, [...(ports.get(a.portId ?? a.mac) ?? []), a]);
    return {
      uuid: s.id,
      name: s.name,
      hostname: s.hostname ?? s.name,
      projectId: s.project_id,
      userId: s.user_id,
      flavor: {
        id: f.id,
        name: f.name,
        vcpus: f.vcpus,
        memoryMb: f.ram,
        rootGb: f.disk,
        ephemeralGb: f.ephemeral,
        swapMb: f.swap,
        extraSpecs: json<Record<string, string>>(f.extra_specs, {}),
      },
      image: s.image_ref
        ? {
            id: s.image_ref,
            name: image?.name ?? s.image_name ?? undefined,
            diskFormat: image?.disk_format ?? undefined,
            size: image?.size ?? undefined,
            minDisk: image?.min_disk,
          }
        : undefined,
      metadata: json<Record<string, string>>(s.metadata, {}),
      userData: s.user_data ?? undefined,
      keyName: s.key_name ?? undefined,
      publicKey: s.key_data ?? undefined,
      configDrive: bool(s.config_drive),
      availabilityZone: s.availability_zone ?? undefined,
      networkInfo: [...ports.entries()].map(([portId, a]) => ({
        portId,
        networkId: a[0]!.networkId ?? a[0]!.network,
        networkName: a[0]!.network,
        mac: a[0]!.mac,
        fixedIps: a.map((x) => ({ address: x.addr, version: x.version })),
      })),
      blockDevices: [],
    };
  }

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
      const kp = await this.store.k
        .selectFrom('compute_keypair')
        .selectAll()
        .where('user_id', '=', c.userId)
        .where('name', '=', req.keyName)
        .executeTakeFirst();
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
      group = await this.store.k
        .selectFrom('compute_server_group')
        .selectAll()
        .where('id', '=', req.group)
        .executeTakeFirst();
      if (!group || (group.project_id !== c.projectId && !c.isAdmin))
        throw err(400, `Invalid server group ${req.group}.`, 'badRequest');
    }
    await this.validateNetworks(c, req);
    const limits = await this.quotaLimits(c.projectId);
    this.checkMetadataQuota(limits, req.metadata);
    const reservationId = `r-${Math.random().toString(36).slice(2, 10)}`;
    const adminPass = Math.random().toString(36).slice(2, 14);
    const diskGb = flavor.disk + flavor.ephemeral + Math.ceil(flavor.swap / 1024);
    const t = now();

    const servers = await this.store.locked([`quota:${c.projectId}`], async (trx) => {
      // Counted usage inside the serialized transaction: exact under concurrency (Nova's quota recheck).
      const used = await this.store.projectUsage(trx, c.projectId);
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
        const members = await trx
          .selectFrom('compute_server')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('server_group_id', '=', group.id)
          .where('deleted', '=', 0)
          .executeTakeFirstOrThrow();
        const lim = limits.server_group_members ?? 10;
        if (lim >= 0 && Number(members.n) + count > lim)
          throw err(403, `Quota exceeded, too many servers in group`, 'forbidden');
      }
      const first = await this.store.nextSeq(trx, 'server', count);
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
        await trx.insertInto('compute_server').values(row).execute();
        for (const tag of req.tags)
          await trx
            .insertInto('compute_server_tag')
            .values({ server_id: id, tag })
            .onConflict((oc) => oc.doNothing())
            .execute();
        rows.push(row);
      }
      return rows;
    });
    for (const s of servers)
      await this.store.startAction(
        {
          server_id: s.id,
          action: 'create',
          request_id: c.requestId,
          user_id: c.userId,
          project_id: c.projectId,
          message: null,
          start_time: t,
        },
        ACTIONS.spawn![1],
      );
    // Scheduling, networking and the hand-off to the agent continue after the 202.
    void this.track(
      this.build(servers, {
        forcedHost,
        forceHost: !!forcedHost && !req.host,
        image,
        requestId: c.requestId,
        caller: c,
      }),
    );
    return { servers, reservationId, adminPass };
  }

  private async validateNetworks(c: Caller, req: CreateRequest): Promise<void> {
    const nets = req.networks;
    if (nets === undefined || nets === 'none' || nets === 'auto') return;
    if (nets.length === 0) return;
    if (!this.networks.api) throw Networks.unavailable();
    void c;
  }

  /** Schedule (claim), allocate networks, cast spawn — for a batch of new servers. */
  private async build(
    servers: ServerRow[],
    o: { forcedHost?: string; forceHost: boolean; image?: ImageInfo; requestId: string; caller: Caller },
  ): Promise<void> {
    const chosen = await this.scheduleMany(servers, {
      host: o.forcedHost,
      forceHost: o.forceHost,
      imageProperties: o.image?.properties,
    });
    for (const s of servers) {
      const choice = chosen.get(s.id);
      if (!choice) continue;
      const fresh = await this.allocateNetworks({ ...s, host: choice }, o.caller);
      if (!fresh) continue;
      this.send(choice, {
        op: 'spawn',
        uuid: s.id,
        requestId: o.requestId,
        spec: await this.spec(fresh, o.image),
      });
    }
  }

  /** Pick and claim a host for one server, in the serialized scheduler transaction. Undefined: ERROR. */
  async schedule(
    s: ServerRow,
    o: {
      host?: string;
      forceHost?: boolean;
      ignoreHosts?: string[];
      imageProperties?: Record<string, string>;
    } = {},
  ): Promise<string | undefined> {
    return (await this.scheduleMany([s], o)).get(s.id);
  }

  /**
   * Pick and claim hosts for the servers of one request in one serialized transaction (usage is counted
   * once, then updated as each choice is made, as Nova's scheduler does for a multi-create). Servers that
   * fit nowhere end in ERROR with "No valid host".
   */
  async scheduleMany(
    servers: ServerRow[],
    o: {
      host?: string;
      forceHost?: boolean;
      ignoreHosts?: string[];
      imageProperties?: Record<string, string>;
    } = {},
  ): Promise<Map<string, string | undefined>> {
    const zones = await this.hostZones();
    const out = new Map<string, string | undefined>();
    const failed: { s: ServerRow; reasons: string[] }[] = [];
    await this.store.locked(['scheduler'], async (trx) => {
      const usage = await this.store.hostUsage(trx);
      const hosts: HostState[] = (await trx.selectFrom('compute_host').selectAll().execute()).map((row) => ({
        row,
        up: this.isUp(row),
        az: zones.get(row.name) ?? this.opts.defaultAvailabilityZone,
        usage: usage.get(row.name) ?? { host: row.name, count: 0, vcpus: 0, memory_mb: 0, disk_gb: 0 },
      }));
      const groups = new Map<string, SchedulingRequest['group']>();
      for (const s of servers) {
        const cur = await trx
          .selectFrom('compute_server')
          .select(['id', 'task_state', 'deleted'])
          .where('id', '=', s.id)
          .executeTakeFirst();
        if (!cur || cur.deleted || cur.task_state !== 'scheduling') {
          out.set(s.id, undefined);
          continue;
        }
        let group: SchedulingRequest['group'];
        if (s.server_group_id) {
          group = groups.get(s.server_group_id);
          if (!group) {
            const g = await trx
              .selectFrom('compute_server_group')
              .selectAll()
              .where('id', '=', s.server_group_id)
              .executeTakeFirst();
            if (g) {
              const members = await trx
                .selectFrom('compute_server')
                .select('host')
                .where('server_group_id', '=', g.id)
                .where('deleted', '=', 0)
                .where('host', 'is not', null)
                .where('id', '!=', s.id)
                .execute();
              group = {
                policy: g.policy,
                rules: json(g.rules, {}),
                memberHosts: members.map((m) => m.host!),
              };
              groups.set(g.id, group);
            }
          }
        }
        const flavor = json<FlavorRow>(s.flavor, {} as FlavorRow);
        let choice;
        try {
          choice = selectHost(hosts, {
            vcpus: s.vcpus,
            memoryMb: s.memory_mb,
            diskGb: s.disk_gb,
            availabilityZone: s.requested_az ?? undefined,
            host: o.host,
            forceHost: o.forceHost,
            ignoreHosts: o.ignoreHosts,
            group,
            imageProperties: o.imageProperties,
            flavorExtraSpecs: json(flavor.extra_specs, {}),
          });
        } catch (e) {
          if (!(e instanceof NoValidHost)) throw e;
          failed.push({ s, reasons: e.reasons });
          out.set(s.id, undefined);
          continue;
        }
        const h = hosts.find((x) => x.row.name === choice.host)!;
        // The claim: the row now holds the host; the in-memory usage follows for the next server.
        h.usage = {
          ...h.usage,
          count: h.usage.count + 1,
          vcpus: h.usage.vcpus + s.vcpus,
          memory_mb: h.usage.memory_mb + s.memory_mb,
          disk_gb: h.usage.disk_gb + s.disk_gb,
        };
        group?.memberHosts.push(choice.host);
        await trx
          .updateTable('compute_server')
          .set({
            host: choice.host,
            node: h.row.hypervisor_hostname,
            availability_zone: choice.az,
            task_state: 'networking',
            updated_at: now(),
          })
          .where('id', '=', s.id)
          .execute();
        out.set(s.id, choice.host);
      }
    });
    for (const { s, reasons } of failed) {
      const t = now();
      await this.store.saveState(
        s.id,
        {
          vm_state: 'error',
          task_state: null,
          updated_at: t,
          fault: JSON.stringify({
            code: 500,
            message: 'No valid host was found. There are not enough hosts available.',
            details: reasons.join('; '),
            created: t,
          }),
        },
        ['scheduling'],
      );
      await this.store.finishEvent(
        s.id,
        (await this.actionRequestId(s.id)) ?? '',
        'conductor_schedule_and_build_instances',
        '',
        'Error',
        t,
        reasons.join('; '),
        'Error',
      );
    }
    return out;
  }

  private async actionRequestId(serverId: string): Promise<string | undefined> {
    const a = await this.store.k
      .selectFrom('compute_action')
      .select('request_id')
      .where('server_id', '=', serverId)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return a?.request_id;
  }

  /** Create or bind the server's ports through the network service; returns the refreshed row or undefined (ERROR). */
  private async allocateNetworks(s: ServerRow, c: Caller): Promise<ServerRow | undefined> {
    const requested = json<RequestedNetwork[] | 'auto' | 'none' | null>(s.requested_networks, null);
    const api = this.networks.api;
    const ports: { id: string; created: boolean }[] = [];
    let addresses: Address[] = [];
    try {
      if (api && requested !== 'none') {
        let list: RequestedNetwork[] = Array.isArray(requested) ? requested : [];
        if (!Array.isArray(requested) && api.listBootableNetworks) {
          const nets = await api.listBootableNetworks(s.project_id);
          if (nets.length > 1 && requested === null)
            throw new Error('Multiple possible networks found, use a Network ID to be more specific.');
          list = nets.slice(0, 1).map((n) => ({ uuid: n.id }));
        }
        const az = s.availability_zone ?? this.opts.defaultAvailabilityZone;
        const sgIds = json<string[]>(s.security_groups, []).filter((x) => /^[0-9a-f-]{36}$/i.test(x));
        for (const n of list) {
          if (n.port) {
            await api.bindPort(n.port, { projectId: s.project_id, serverId: s.id, hostId: s.host!, az });
            ports.push({ id: n.port, created: false });
          } else {
            const p = await api.createServerPort({
              projectId: s.project_id,
              networkId: n.uuid!,
              serverId: s.id,
              hostId: s.host!,
              az,
              fixedIp: n.fixed_ip,
              ...(sgIds.length ? { securityGroups: sgIds } : {}),
            });
            ports.push({ id: p.id, created: true });
          }
        }
        addresses = await this.addressesFromNetwork(s.id, ports);
      }
    } catch (e) {
      const t = now();
      const failed = {
        ...s,
        addresses: JSON.stringify(
          ports.map((p) => ({
            network: '',
            addr: '',
            version: 4,
            type: 'fixed',
            mac: '',
            portId: p.id,
            created: p.created,
          })),
        ),
      };
      await this.releaseNetworks(failed);
      await this.store.saveState(
        s.id,
        {
          vm_state: 'error',
          task_state: null,
          updated_at: t,
          fault: JSON.stringify({
            code: 500,
            message: `Build of instance ${s.id} aborted: Failed to allocate the network(s), not rescheduling: ${(e as Error).message}`,
            details: '',
            created: t,
          }),
        },
        ['networking'],
      );
      await this.store.finishEvent(
        s.id,
        c.requestId,
        ACTIONS.spawn![1],
        s.host ?? '',
        'Error',
        t,
        (e as Error).message,
        'Error',
      );
      return undefined;
    }
    const ok = await this.store.saveState(s.id, { addresses: JSON.stringify(addresses), updated_at: now() }, [
      'networking',
    ]);
    if (!ok) {
      await this.releaseNetworks({ ...s, addresses: JSON.stringify(addresses) });
      return undefined;
    }
    return { ...s, addresses: JSON.stringify(addresses) };
  }

  /** The server's addresses as the network service sees them (fixed and floating), tagged with port ids. */
  async addressesFromNetwork(
    serverId: string,
    ports?: { id: string; created: boolean }[],
  ): Promise<Address[]> {
    const api = this.networks.api;
    if (!api) return [];
    const byMac = new Map<string, { id: string; networkId: string; created: boolean }>();
    const known = new Map((ports ?? []).map((p) => [p.id, p.created]));
    for (const p of await api.listServerPorts(serverId))
      byMac.set(p.mac_address, { id: p.id, networkId: p.network_id, created: known.get(p.id) ?? true });
    const out: Address[] = [];
    for (const [network, list] of Object.entries(await api.serverAddresses(serverId)))
      for (const a of list) {
        const port = byMac.get(a.mac);
        out.push({
          network,
          addr: a.addr,
          version: a.version,
          type: a.type,
          mac: a.mac,
          portId: port?.id,
          networkId: port?.networkId,
          created: port?.created,
        });
      }
    return out;
  }

  /** Refresh a server's stored addresses from the network service (floating IPs come and go). */
  async refreshAddresses(s: ServerRow): Promise<ServerRow> {
    const stored = json<Address[]>(s.addresses, []);
    if (!this.networks.api || stored.length === 0) return s;
    try {
      const created = new Map(stored.filter((a) => a.portId).map((a) => [a.portId!, !!a.created]));
      const fresh = await this.addressesFromNetwork(
        s.id,
        [...created.entries()].map(([id, c]) => ({ id, created: c })),
      );
      const text = JSON.stringify(fresh);
      if (text !== s.addresses) {
        await this.store.k
          .updateTable('compute_server')
          .set({ addresses: text })
          .where('id', '=', s.id)
          .execute();
        return { ...s, addresses: text };
      }
    } catch (err) {
      this.log.warn({ err, server: s.id }, 'address refresh failed');
    }
    return s;
  }

  /** The server's ports, from the network service (empty when it is not mounted). */
  async serverPorts(s: ServerRow): Promise<(PortInfo & { status?: string })[]> {
    const api = this.networks.api;
    if (!api) return [];
    return (await api.listServerPorts(s.id)).map((p) => ({
      ...Networks.toPort(p),
      status: (p as { status?: string }).status,
    }));
  }

  /** os-interface attach: create or bind a port, hot-plug it through the agent, refresh addresses. */
  async attachInterface(
    c: Caller,
    s: ServerRow,
    o: { networkId?: string; portId?: string; fixedIp?: string },
  ): Promise<PortInfo> {
    const api = this.networks.api;
    if (!api) throw Networks.unavailable();
    this.checkLock(c, s);
    this.checkState(s, 'attach_interface', ['active', 'paused', 'stopped']);
    const host = await this.hostOf(s, 'attach_interface');
    const caps = json<Record<string, unknown>>(host.capabilities, {});
    if (caps.supportsAttachInterface === false)
      throw err(409, `The compute driver on ${host.name} cannot attach interfaces.`, 'conflictingRequest');
    const az = s.availability_zone ?? this.opts.defaultAvailabilityZone;
    let port;
    try {
      port = o.portId
        ? await api.bindPort(o.portId, { projectId: s.project_id, serverId: s.id, hostId: host.name, az })
        : await api.createServerPort({
            projectId: s.project_id,
            networkId: o.networkId!,
            serverId: s.id,
            hostId: host.name,
            az,
            fixedIp: o.fixedIp,
          });
    } catch (e) {
      if (e instanceof ApiError)
        throw err(
          e.status === 404 ? 404 : e.status === 409 ? 409 : 400,
          e.message,
          e.status === 404 ? 'itemNotFound' : undefined,
        );
      throw e;
    }
    const stored = json<Address[]>(s.addresses, []);
    const known = new Map(stored.filter((a) => a.portId).map((a) => [a.portId!, !!a.created]));
    known.set(port.id, !o.portId);
    const addresses = await this.addressesFromNetwork(
      s.id,
      [...known.entries()].map(([id, created]) => ({ id, created })),
    );
    await this.store.k
      .updateTable('compute_server')
      .set({ addresses: JSON.stringify(addresses), updated_at: now() })
      .where('id', '=', s.id)
      .execute();
    await this.store.startAction(
      {
        server_id: s.id,
        action: 'attach_interface',
        request_id: c.requestId,
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: now(),
      },
      ACTIONS.attach_interface![1],
      host.name,
    );
    const p = Networks.toPort(port);
    this.send(host.name, {
      op: 'attach_interface',
      uuid: s.id,
      requestId: c.requestId,
      vif: {
        portId: p.id,
        networkId: p.networkId,
        mac: p.macAddress,
        fixedIps: p.fixedIps.map((f) => ({
          address: f.ipAddress,
          version: f.ipAddress.includes(':') ? 6 : 4,
          subnetId: f.subnetId,
        })),
      },
    });
    return p;
  }

  /** os-interface detach: hot-unplug through the agent, release the port, refresh addresses. */
  async detachInterface(c: Caller, s: ServerRow, portId: string): Promise<void> {
    const api = this.networks.api;
    if (!api) throw Networks.unavailable();
    this.checkLock(c, s);
    this.checkState(s, 'detach_interface', ['active', 'paused', 'stopped']);
    const host = await this.hostOf(s, 'detach_interface');
    const stored = json<Address[]>(s.addresses, []);
    const ports = await api.listServerPorts(s.id);
    if (!ports.some((p) => p.id === portId)) throw err(404, `Port ${portId} is not attached`, 'itemNotFound');
    const created = stored.find((a) => a.portId === portId)?.created ?? true;
    await this.store.startAction(
      {
        server_id: s.id,
        action: 'detach_interface',
        request_id: c.requestId,
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: now(),
      },
      ACTIONS.detach_interface![1],
      host.name,
    );
    this.send(host.name, { op: 'detach_interface', uuid: s.id, requestId: c.requestId, portId });
    await (created ? api.deletePort(portId) : api.unbindPort(portId));
    const rest = stored.filter((a) => a.portId !== portId);
    await this.store.k
      .updateTable('compute_server')
      .set({ addresses: JSON.stringify(rest), updated_at: now() })
      .where('id', '=', s.id)
      .execute();
  }

  async releaseNetworks(s: ServerRow): Promise<void> {
    const api = this.networks.api;
    if (!api) return;
    const ports = new Map<string, boolean>();
    for (const a of json<Address[]>(s.addresses, [])) if (a.portId) ports.set(a.portId, !!a.created);
    // Ports created for the server are deleted; ports the user brought are unbound and stay.
    for (const [portId, created] of ports)
      await (created ? api.deletePort(portId) : api.unbindPort(portId)).catch((e) =>
        this.log.warn({ err: e, portId }, 'port release failed'),
      );
    // And any port still bound to the server (e.g. created just before a crash).
    try {
      for (const p of await api.listServerPorts(s.id)) if (!ports.has(p.id)) await api.deletePort(p.id);
    } catch (e) {
      this.log.warn({ err: e, server: s.id }, 'port cleanup failed');
    }
  }

  // ================================================================== servers: read
  /** A server the caller may see (404 otherwise — another project's server does not exist for it). */
  async getServer(c: Caller, id: string, rule: string): Promise<ServerRow> {
    const s = await this.store.server(id);
    if (!s) throw notFoundServer(id);
    if (!this.can(rule, { project_id: s.project_id, user_id: s.user_id }, c)) {
      if (s.project_id !== c.projectId && !c.isAdmin) throw notFoundServer(id);
      throw err(403, `Policy doesn't allow ${rule} to be performed.`, 'forbidden');
    }
    return s;
  }

  // ================================================================== servers: actions
  checkLock(c: Caller, s: ServerRow): void {
    if (bool(s.locked) && !c.isAdmin) throw err(409, `Instance ${s.id} is locked`, 'conflictingRequest');
  }

  checkState(
    s: ServerRow,
    action: string,
    vmStates: string[] | null,
    taskStates: (string | null)[] | null = [null],
  ): void {
    if (vmStates && !vmStates.includes(s.vm_state))
      throw err(
        409,
        `Cannot '${action}' instance ${s.id} while it is in vm_state ${s.vm_state}`,
        'conflictingRequest',
      );
    if (taskStates && !taskStates.includes(s.task_state))
      throw err(
        409,
        `Cannot '${action}' instance ${s.id} while it is in task_state ${s.task_state}`,
        'conflictingRequest',
      );
  }

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

  /**
   * Start an asynchronous action: check state, set the task state atomically (expecting the state we
   * checked, so two concurrent requests cannot both win), record the instance action, send the task.
   */
  async cast(
    c: Caller,
    s: ServerRow,
    o: {
      action: string;
      op: string;
      vmStates: string[] | null;
      taskStates?: (string | null)[] | null;
      taskState: string | null;
      values?: Partial<ServerRow>;
      task: (host: HostRow) => AgentTask | Promise<AgentTask>;
      capability?: string;
    },
  ): Promise<void> {
    this.checkLock(c, s);
    this.checkState(s, o.action, o.vmStates, o.taskStates === undefined ? [null] : o.taskStates);
    const host = await this.hostOf(s, o.action);
    if (o.capability && json<Record<string, unknown>>(host.capabilities, {})[o.capability] === false)
      throw err(
        409,
        `The compute driver on ${host.name} does not support '${o.action}'.`,
        'conflictingRequest',
      );
    const ok = await this.store.saveState(
      s.id,
      { task_state: o.taskState, updated_at: now(), ...(o.values ?? {}) },
      [s.task_state],
    );
    if (!ok)
      throw err(
        409,
        `Cannot '${o.action}' instance ${s.id} while it is in task_state ${(await this.store.server(s.id))?.task_state ?? 'deleting'}`,
        'conflictingRequest',
      );
    const names = ACTIONS[o.op] ?? [o.action, `compute_${o.op}`];
    await this.store.startAction(
      {
        server_id: s.id,
        action: names[0],
        request_id: c.requestId,
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: now(),
      },
      names[1],
      host.name,
    );
    this.send(host.name, await o.task(host));
  }

  async deleteServer(c: Caller, s: ServerRow, force = false): Promise<void> {
    this.checkLock(c, s);
    if (!force && s.task_state === 'deleting') return;
    const t = now();
    await this.store.startAction(
      {
        server_id: s.id,
        action: 'delete',
        request_id: c.requestId,
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: t,
      },
      ACTIONS.destroy![1],
      s.host,
    );
    const host = s.host ? await this.store.host(s.host) : undefined;
    if (!host || !this.isUp(host) || s.vm_state === 'shelved_offloaded') {
      // Local delete: nothing runs anywhere (never scheduled, offloaded) or its host is down (Nova's
      // local delete); the host's agent reaps the orphan when it comes back.
      await this.store.saveState(s.id, { task_state: 'deleting', updated_at: t });
      await this.finishDelete(s, c.requestId);
      return;
    }
    await this.store.saveState(s.id, { task_state: 'deleting', updated_at: t });
    this.send(host.name, { op: 'destroy', uuid: s.id, requestId: c.requestId });
  }

  /** Resize claim: check quota delta and host capacity for the new flavor, then record it. */
  async claimResize(c: Caller, s: ServerRow, nf: FlavorRow): Promise<void> {
    const limits = await this.quotaLimits(s.project_id);
    await this.store.locked([`quota:${s.project_id}`, 'scheduler'], async (trx) => {
      const used = await this.store.projectUsage(trx, s.project_id);
      const dc = nf.vcpus - s.vcpus;
      const dr = nf.ram - s.memory_mb;
      if (dc > 0 && limits.cores! >= 0 && used.cores + dc > limits.cores!)
        throw this.quotaExceeded('cores', dc, used.cores, limits.cores!);
      if (dr > 0 && limits.ram! >= 0 && used.ram + dr > limits.ram!)
        throw this.quotaExceeded('ram', dr, used.ram, limits.ram!);
      const h = await trx
        .selectFrom('compute_host')
        .selectAll()
        .where('name', '=', s.host!)
        .executeTakeFirstOrThrow();
      const u = (await this.store.hostUsage(trx)).get(h.name) ?? { vcpus: 0, memory_mb: 0, disk_gb: 0 };
      const disk = nf.disk + nf.ephemeral + Math.ceil(nf.swap / 1024);
      if (
        h.vcpus * h.cpu_allocation_ratio - u.vcpus + s.vcpus < nf.vcpus ||
        h.memory_mb * h.ram_allocation_ratio - u.memory_mb + s.memory_mb < nf.ram ||
        h.local_gb * h.disk_allocation_ratio - u.disk_gb + s.disk_gb < disk
      )
        throw err(400, 'No valid host was found. There are not enough hosts available.', 'badRequest');
      await trx
        .updateTable('compute_server')
        .set({
          old_flavor: s.flavor,
          flavor: JSON.stringify(nf),
          flavor_id: nf.id,
          vcpus: nf.vcpus,
          memory_mb: nf.ram,
          disk_gb: disk,
          updated_at: now(),
        })
        .where('id', '=', s.id)
        .execute();
    });
    void c;
  }

  /** The caller that requested a snapshot, for the agent's upload. */
  rememberSnapshot(imageId: string, c: Caller): void {
    this.snapshots.set(imageId, c);
  }
  snapshotCaller(imageId: string): Caller | undefined {
    return this.snapshots.get(imageId);
  }
  forgetSnapshot(imageId: string): void {
    this.snapshots.delete(imageId);
  }

  // ================================================================== reconciliation (control plane)
  /**
   * At start: servers whose scheduling or networking was interrupted by a restart of this process are
   * scheduled again; servers on hosts that stay down are marked ERROR by `checkHosts`.
   */
  async recover(): Promise<void> {
    // Builds that had no host yet: schedule, network and cast them now (the agents' sync never saw them).
    const stuck = await this.store.k
      .selectFrom('compute_server')
      .selectAll()
      .where('deleted', '=', 0)
      .where('vm_state', '=', 'building')
      .where('task_state', '=', 'scheduling')
      .where('host', 'is', null)
      .execute();
    for (const s of stuck) {
      const host = await this.schedule(s);
      if (!host) continue;
      const fresh = await this.allocateNetworks({ ...s, host }, this.systemCaller(s));
      if (fresh)
        this.send(host, {
          op: 'spawn',
          uuid: s.id,
          requestId: (await this.actionRequestId(s.id)) ?? `req-recover-${s.id}`,
          spec: await this.spec(fresh),
        });
    }
  }

  /**
   * Before the agents say hello: builds interrupted while their ports were being made get their ports
   * made again (the partial ones deleted). They stay BUILD/networking; the host's sync then spawns them.
   */
  async recoverNetworking(): Promise<void> {
    const rows = await this.store.k
      .selectFrom('compute_server')
      .selectAll()
      .where('deleted', '=', 0)
      .where('vm_state', '=', 'building')
      .where('task_state', '=', 'networking')
      .where('host', 'is not', null)
      .execute();
    const api = this.networks.api;
    for (const s of rows) {
      if (api) {
        const requested = json<RequestedNetwork[] | string | null>(s.requested_networks, null);
        const userPorts = new Set(
          Array.isArray(requested) ? requested.filter((n) => n.port).map((n) => n.port!) : [],
        );
        for (const p of await api.listServerPorts(s.id).catch(() => []))
          if (!userPorts.has(p.id)) await api.deletePort(p.id).catch(() => undefined);
      }
      await this.allocateNetworks({ ...s, addresses: '[]' }, this.systemCaller(s));
    }
  }

  systemCaller(s: ServerRow): Caller {
    return {
      userId: s.user_id,
      projectId: s.project_id,
      roles: ['admin'],
      isAdmin: true,
      creds: { roles: ['admin'], project_id: s.project_id, user_id: s.user_id },
      requestId: `req-${uuid()}`,
    };
  }

  /** Periodic: builds on hosts that are down for longer than service_down_time end in ERROR. */
  async checkHosts(): Promise<void> {
    for (const h of await this.store.hosts()) {
      if (this.isUp(h)) continue;
      const stuck = await this.store.k
        .selectFrom('compute_server')
        .selectAll()
        .where('host', '=', h.name)
        .where('deleted', '=', 0)
        .where('vm_state', '=', 'building')
        .execute();
      for (const s of stuck) {
        const t = now();
        await this.store.saveState(
          s.id,
          {
            vm_state: 'error',
            task_state: null,
            updated_at: t,
            fault: JSON.stringify({
              code: 500,
              message: `Build of instance ${s.id} aborted: compute service on host ${h.name} is down.`,
              details: '',
              created: t,
            }),
          },
          [s.task_state],
        );
      }
    }
  }

  uniqueViolation(e: unknown): boolean {
    return isUniqueViolation(e);
  }
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
