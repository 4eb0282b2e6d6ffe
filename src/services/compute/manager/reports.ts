/**
 * Agent link, inbound: reports from host agents (hello, heartbeat, state, power) applied in order, and
 * reconciliation — interrupted builds redone at start, builds on hosts that stay down failed.
 */
import { json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import { REPORT_SUBJECT, type AgentReport, type StateReport } from '../../../agent/compute/protocol.js';
import type { RequestedNetwork } from '../facades.js';
import type { FlavorRow, ServerRow } from '../rows.js';
import { now } from './base.js';
import { ACTIONS } from './instance-actions.js';
import { Lifecycle } from './lifecycle.js';

export class Reports extends Lifecycle {
  private unsub?: () => void;
  private reportChains = new Map<string, Promise<unknown>>();

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

  protected async onHello(r: Extract<AgentReport, { kind: 'hello' }>): Promise<void> {
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
    if (existing) await this.store.updateHost(r.host, values);
    else {
      const id = await this.store.nextSeq('host');
      await this.store.insertHost({
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
      });
    }
    // Answer with what this host should run: the agent converges to it (reconciliation).
    const rows = await this.store.liveServers({ host: r.host });
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
        await this.store.updateHost(r.host, { heartbeat_at: new Date().toISOString() });
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

  protected async applyState(r: StateReport): Promise<void> {
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
      await this.store.updateServer(s.id, { shelved_image_id: null });
    }
  }

  /**
   * Power-state sync (nova/compute/manager.py _sync_instance_power_state): record the real power state
   * and, for a server with no task running, follow it — an ACTIVE server whose guest shut down or
   * crashed becomes SHUTOFF; one found paused or suspended takes that state.
   */
  protected async syncPower(r: Extract<AgentReport, { kind: 'power' }>): Promise<void> {
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

  // ================================================================== reconciliation (control plane)
  /**
   * At start: servers whose scheduling or networking was interrupted by a restart of this process are
   * scheduled again; servers on hosts that stay down are marked ERROR by `checkHosts`.
   */
  async recover(): Promise<void> {
    // Builds that had no host yet: schedule, network and cast them now (the agents' sync never saw them).
    const stuck = await this.store.liveServers({
      vm_state: 'building',
      task_state: 'scheduling',
      placed: false,
    });
    for (const s of stuck) {
      const host = await this.schedule(s);
      if (!host) continue;
      const fresh = await this.allocateNetworks({ ...s, host }, this.systemCaller(s));
      if (fresh)
        this.send(host, {
          op: 'spawn',
          uuid: s.id,
          requestId: (await this.store.lastRequestId(s.id)) ?? `req-recover-${s.id}`,
          spec: await this.spec(fresh),
        });
    }
  }

  /**
   * Before the agents say hello: builds interrupted while their ports were being made get their ports
   * made again (the partial ones deleted). They stay BUILD/networking; the host's sync then spawns them.
   */
  async recoverNetworking(): Promise<void> {
    const rows = await this.store.liveServers({
      vm_state: 'building',
      task_state: 'networking',
      placed: true,
    });
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

  /** Periodic: builds on hosts that are down for longer than service_down_time end in ERROR. */
  async checkHosts(): Promise<void> {
    for (const h of await this.store.hosts()) {
      if (this.isUp(h)) continue;
      const stuck = await this.store.liveServers({ host: h.name, vm_state: 'building' });
      for (const s of stuck) {
        await this.failServer(
          s.id,
          { message: `Build of instance ${s.id} aborted: compute service on host ${h.name} is down.` },
          [s.task_state],
        );
      }
    }
  }
}
