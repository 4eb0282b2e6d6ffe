/**
 * The host agent: owns one hypervisor host's drivers. It receives tasks over the bus, drives the compute
 * driver through Nova's vm_state / task_state / power_state transitions (nova/compute/manager.py), reports
 * every transition back, heartbeats, and reconciles at start: the control plane answers its `hello` with
 * the instances this host should have, and the agent converges the driver to that.
 *
 * In `stackbox up` the agent runs in-process (src/agent/host.ts builds it); scaled out, `stackbox agent`
 * runs the same class on each hypervisor host with a NATS bus.
 */
import type { Logger } from 'pino';
import type { Bus } from '../../core/bus/index.js';
import { DriverError, PowerState, type ComputeDriver, type InstanceSpec } from './driver.js';
import {
  REPORT_SUBJECT,
  hostSubject,
  type AgentReply,
  type AgentReport,
  type AgentTask,
  type DesiredInstance,
  type StateReport,
} from './protocol.js';

/** How the agent moves image bytes (the control plane supplies it; a remote agent would use the image API). */
export interface ImageTransfer {
  upload(imageId: string, data: AsyncIterable<Buffer> | Buffer, diskFormat: string): Promise<void>;
}

export interface HostAgentOptions {
  bus: Bus;
  driver: ComputeDriver;
  log: Logger;
  availabilityZone?: string;
  heartbeatSeconds: number;
  images?: ImageTransfer;
}

const vmStateOf = (p: number): string =>
  p === PowerState.RUNNING
    ? 'active'
    : p === PowerState.PAUSED
      ? 'paused'
      : p === PowerState.SUSPENDED
        ? 'suspended'
        : 'stopped';

export class HostAgent {
  private unsub?: () => void;
  private timer?: NodeJS.Timeout;
  private chains = new Map<string, Promise<void>>();
  private closed = false;
  host = '';
  readonly driver: ComputeDriver;

  constructor(private readonly o: HostAgentOptions) {
    this.driver = o.driver;
  }

  get images(): ImageTransfer | undefined {
    return this.o.images;
  }

  async start(): Promise<void> {
    await this.driver.init();
    const info = await this.driver.getHostInfo();
    this.host = info.hostname;
    this.unsub = this.o.bus.subscribe(hostSubject(this.host), (t) => this.onTask(t as AgentTask));
    const instances = await this.driver.listInstances();
    for (const i of instances) this.powers.set(i.uuid, i.powerState);
    this.report({
      kind: 'hello',
      host: this.host,
      info,
      driver: this.driver.type,
      capabilities: this.driver.capabilities,
      instances,
      availabilityZone: this.o.availabilityZone,
    });
    this.timer = setInterval(() => void this.heartbeat(), this.o.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  /** Last power state seen per instance, for the power-state sync. */
  private powers = new Map<string, number>();

  /**
   * Heartbeat and power-state sync (Nova's _sync_power_states): report instances whose power state
   * changed while no operation was running on them (a guest that powered itself off, crashed, was killed).
   */
  async heartbeat(): Promise<void> {
    if (this.closed) return;
    try {
      const info = await this.driver.getHostInfo();
      const list = await this.driver.listInstances();
      this.report({ kind: 'heartbeat', host: this.host, info, instances: list.length });
      const changes: { uuid: string; powerState: number }[] = [];
      const seen = new Set<string>();
      for (const i of list) {
        seen.add(i.uuid);
        if (this.chains.has(i.uuid)) continue; // an operation is running: it reports its own result
        if (this.powers.get(i.uuid) !== i.powerState)
          changes.push({ uuid: i.uuid, powerState: i.powerState });
        this.powers.set(i.uuid, i.powerState);
      }
      for (const uuid of [...this.powers.keys()])
        if (!seen.has(uuid)) {
          this.powers.delete(uuid);
          if (!this.chains.has(uuid)) changes.push({ uuid, powerState: PowerState.NOSTATE });
        }
      if (changes.length) this.report({ kind: 'power', host: this.host, changes });
    } catch (err) {
      this.o.log.warn({ err }, 'heartbeat failed');
    }
  }

  /** Wait for every operation in flight (used at shutdown and by tests). */
  async settle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.unsub?.();
    await this.settle();
    await this.driver.close();
  }

  private report(r: AgentReport): void {
    if (!this.closed || r.kind === 'state') this.o.bus.publish(REPORT_SUBJECT, r);
  }

  private state(r: Omit<StateReport, 'kind' | 'host'>): void {
    if (r.powerState !== undefined) this.powers.set(r.uuid, r.powerState);
    if (r.deleted) this.powers.delete(r.uuid);
    this.report({ kind: 'state', host: this.host, ...r });
  }

  /** Operations on one instance run one after the other, in arrival order. */
  private serial(uuid: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(uuid) ?? Promise.resolve();
    const next = prev
      .then(fn)
      .catch((err) => this.o.log.error({ err, uuid }, 'agent task failed'))
      .finally(() => {
        if (this.chains.get(uuid) === next) this.chains.delete(uuid);
      });
    this.chains.set(uuid, next);
  }

  private onTask(t: AgentTask): void {
    if (this.closed) return;
    if (t.op === 'sync') return this.serial('__sync__', () => this.sync(t.desired));
    if (t.op === 'console_output' || t.op === 'console_url') {
      void this.call(t);
      return;
    }
    this.serial(t.uuid, () => this.run(t));
  }

  private async call(t: Extract<AgentTask, { op: 'console_output' | 'console_url' }>): Promise<void> {
    let reply: AgentReply;
    try {
      reply =
        t.op === 'console_output'
          ? { ok: true, output: await this.driver.getConsoleOutput(t.uuid, t.lines) }
          : { ok: true, console: await this.driver.getConsoleUrl(t.uuid, t.protocol, t.type) };
    } catch (e) {
      reply = { ok: false, error: (e as Error).message, code: (e as DriverError).code ?? 'DriverError' };
    }
    this.o.bus.publish(t.replyTo, reply);
  }

  private async power(uuid: string): Promise<number> {
    try {
      return (await this.driver.getInfo(uuid)).powerState;
    } catch {
      return PowerState.NOSTATE;
    }
  }

  private err(e: unknown) {
    const x = e as DriverError;
    return {
      message: x.message ?? String(e),
      code: x.code ?? 'DriverError',
      details: x.stack?.split('\n').slice(0, 6).join('\n'),
    };
  }

  /** One task: the transitions of Nova's compute manager for that operation. */
  private async run(t: Exclude<AgentTask, { op: 'sync' | 'console_output' | 'console_url' }>): Promise<void> {
    const d = this.driver;
    const base = { uuid: t.uuid, requestId: t.requestId, op: t.op };
    // An action that fails leaves the instance as it is (vm_state from its real power state), task_state
    // cleared, and the error on the instance-action event — as Nova's reverts_task_state does.
    const fail = async (e: unknown, expect: (string | null)[], vmState?: string) => {
      const p = await this.power(t.uuid);
      this.state({
        ...base,
        expectTaskState: expect,
        vmState: vmState ?? (p === PowerState.NOSTATE ? 'error' : vmStateOf(p)),
        taskState: null,
        powerState: p,
        error: this.err(e),
        finished: true,
      });
    };
    const simple = async (
      task: string | null,
      fn: () => Promise<void>,
      vmState?: string,
      errorVmState?: string,
    ) => {
      const expect = task === null ? undefined : [task];
      try {
        await fn();
      } catch (e) {
        if (task === null) {
          this.state({ ...base, error: this.err(e), finished: true });
          return;
        }
        return fail(e, [task], errorVmState);
      }
      this.state({
        ...base,
        expectTaskState: expect,
        vmState,
        ...(task === null ? {} : { taskState: null }),
        powerState: await this.power(t.uuid),
        finished: true,
      });
    };
    switch (t.op) {
      case 'spawn':
        await this.spawn(t.spec, t.requestId, 'spawn');
        return;
      case 'rebuild': {
        this.state({ ...base, expectTaskState: ['rebuilding'], taskState: 'rebuild_spawning' });
        try {
          await this.ensure(t.spec);
          await d.rebuild(t.spec);
          if (t.from === 'stopped') await d.powerOff(t.uuid);
        } catch (e) {
          return fail(e, ['rebuild_spawning'], 'error');
        }
        this.state({
          ...base,
          expectTaskState: ['rebuild_spawning'],
          vmState: t.from === 'stopped' ? 'stopped' : 'active',
          taskState: null,
          powerState: await this.power(t.uuid),
          finished: true,
          launched: true,
        });
        return;
      }
      case 'destroy':
        try {
          await d.destroy(t.uuid);
        } catch (e) {
          // Nova: a failed delete leaves the instance in ERROR, deletable again.
          return fail(e, ['deleting'], 'error');
        }
        this.state({
          ...base,
          expectTaskState: ['deleting'],
          vmState: 'deleted',
          taskState: null,
          powerState: PowerState.NOSTATE,
          finished: true,
          deleted: true,
        });
        return;
      case 'reboot': {
        const task = t.type === 'HARD' ? 'reboot_pending_hard' : 'reboot_pending';
        const started = t.type === 'HARD' ? 'reboot_started_hard' : 'reboot_started';
        this.state({
          ...base,
          expectTaskState: [t.type === 'HARD' ? 'rebooting_hard' : 'rebooting'],
          taskState: task,
        });
        this.state({ ...base, expectTaskState: [task], taskState: started });
        return simple(started, () => d.reboot(t.uuid, t.type), 'active');
      }
      case 'power_off':
        return simple('powering-off', () => d.powerOff(t.uuid), 'stopped');
      case 'power_on':
        return simple('powering-on', () => d.powerOn(t.uuid), 'active');
      case 'pause':
        return simple('pausing', () => d.pause(t.uuid), 'paused');
      case 'unpause':
        return simple('unpausing', () => d.unpause(t.uuid), 'active');
      case 'suspend':
        return simple('suspending', () => d.suspend(t.uuid), 'suspended');
      case 'resume':
        return simple('resuming', () => d.resume(t.uuid), 'active');
      case 'rescue':
        return simple('rescuing', () => d.rescue(t.uuid), 'rescued');
      case 'unrescue':
        return simple('unrescuing', () => d.unrescue(t.uuid), 'active');
      case 'shelve': {
        // Shelve with shelved_offload_time = 0: snapshot the disk into the shelved image, then free the host.
        let from = 'shelving';
        if (t.imageId) {
          this.state({ ...base, expectTaskState: ['shelving'], taskState: 'shelving_image_pending_upload' });
          this.state({
            ...base,
            expectTaskState: ['shelving_image_pending_upload'],
            taskState: 'shelving_image_uploading',
          });
          from = 'shelving_image_uploading';
          try {
            await d.snapshot(t.uuid, async (data, meta) => {
              if (!this.o.images) throw new DriverError('No image service to upload the shelved image to.');
              await this.o.images.upload(t.imageId!, data, meta.diskFormat);
            });
          } catch (e) {
            return fail(e, [from]);
          }
        }
        this.state({ ...base, expectTaskState: [from], taskState: 'shelving_offloading' });
        return simple('shelving_offloading', () => d.destroy(t.uuid), 'shelved_offloaded');
      }
      case 'unshelve':
        await this.spawn(t.spec, t.requestId, 'unshelve');
        return;
      case 'resize': {
        this.state({ ...base, expectTaskState: ['resize_prep'], taskState: 'resize_migrating' });
        this.state({ ...base, expectTaskState: ['resize_migrating'], taskState: 'resize_migrated' });
        this.state({ ...base, expectTaskState: ['resize_migrated'], taskState: 'resize_finish' });
        try {
          await d.resize(t.uuid, t.flavor);
          if (t.from === 'stopped') await d.powerOff(t.uuid);
        } catch (e) {
          return fail(e, ['resize_finish'], 'error');
        }
        this.state({
          ...base,
          expectTaskState: ['resize_finish'],
          vmState: 'resized',
          taskState: null,
          powerState: await this.power(t.uuid),
          finished: true,
        });
        return;
      }
      case 'resize_revert':
        return simple('resize_reverting', () => d.resize(t.uuid, t.flavor), 'active', 'error');
      case 'snapshot': {
        this.state({ ...base, expectTaskState: ['image_snapshot'], taskState: 'image_pending_upload' });
        try {
          this.state({ ...base, expectTaskState: ['image_pending_upload'], taskState: 'image_uploading' });
          await d.snapshot(t.uuid, async (data, meta) => {
            if (!this.o.images) throw new DriverError('No image service to upload the snapshot to.');
            await this.o.images.upload(t.imageId, data, meta.diskFormat);
          });
        } catch (e) {
          return fail(e, ['image_uploading', 'image_pending_upload'], t.from);
        }
        this.state({
          ...base,
          expectTaskState: ['image_uploading'],
          vmState: t.from,
          taskState: null,
          powerState: await this.power(t.uuid),
          finished: true,
        });
        return;
      }
      case 'migrate_in': {
        try {
          await d.destroy(t.uuid).catch(() => undefined);
          await d.spawn(t.spec);
          if (t.powerState === 'stopped') await d.powerOff(t.uuid);
          if (t.powerState === 'paused') await d.pause(t.uuid);
        } catch (e) {
          await d.destroy(t.uuid).catch(() => undefined);
          return fail(e, [t.expectTaskState], 'error');
        }
        this.state({
          ...base,
          expectTaskState: [t.expectTaskState],
          vmState: t.finalVmState,
          taskState: null,
          powerState: await this.power(t.uuid),
          finished: true,
        });
        return;
      }
      case 'migrate_cleanup':
        await d.destroy(t.uuid);
        return;
      case 'attach_interface':
        return simple(null, () => d.attachInterface(t.uuid, t.vif));
      case 'detach_interface':
        return simple(null, () => d.detachInterface(t.uuid, t.portId));
      case 'attach_volume':
        return simple(null, () => d.attachVolume(t.uuid, t.volume));
      case 'detach_volume':
        return simple(null, () => d.detachVolume(t.uuid, t.volumeId));
    }
  }

  /** Make sure an instance exists (spawned) for a rebuild of an instance the driver lost. */
  private async ensure(spec: InstanceSpec): Promise<void> {
    try {
      await this.driver.getInfo(spec.uuid);
    } catch {
      await this.driver.spawn(spec);
    }
  }

  /** Build: networking is done by the control plane; here block_device_mapping → spawning → ACTIVE. */
  private async spawn(spec: InstanceSpec, requestId: string, op: string, reason?: string): Promise<boolean> {
    const base = { uuid: spec.uuid, requestId, op };
    const first = op === 'unshelve' ? 'spawning' : 'block_device_mapping';
    this.state({
      ...base,
      expectTaskState:
        op === 'unshelve' ? ['unshelving'] : ['networking', 'scheduling', 'block_device_mapping'],
      taskState: first,
    });
    if (first !== 'spawning') this.state({ ...base, expectTaskState: [first], taskState: 'spawning' });
    try {
      await this.driver.spawn(spec);
    } catch (e) {
      // A duplicate spawn of a running instance must not harm it: its reports are stale and ignored.
      if ((e as DriverError).code === 'InstanceExists') return false;
      // The driver cleaned up the partial instance; make sure of it (destroy is idempotent).
      await this.driver.destroy(spec.uuid).catch(() => undefined);
      const err = this.err(e);
      if (reason) err.message = `${reason}: ${err.message}`;
      this.state({
        ...base,
        expectTaskState: ['spawning'],
        vmState: op === 'unshelve' ? 'shelved_offloaded' : 'error',
        taskState: null,
        powerState: PowerState.NOSTATE,
        error: err,
        finished: true,
      });
      return false;
    }
    this.state({
      ...base,
      expectTaskState: ['spawning'],
      vmState: 'active',
      taskState: null,
      powerState: PowerState.RUNNING,
      finished: true,
      launched: true,
    });
    return true;
  }

  /** Reconcile: converge the driver to what the control plane says this host should run. */
  private async sync(desired: DesiredInstance[]): Promise<void> {
    const actual = new Map((await this.driver.listInstances()).map((i) => [i.uuid, i]));
    const rebuilt: string[] = [];
    const errored: string[] = [];
    const orphans: string[] = [];
    const want = new Set(desired.map((x) => x.spec.uuid));
    for (const uuid of actual.keys()) {
      if (want.has(uuid)) continue;
      // Orphan: the control plane does not know it (deleted while we were down, or a stale spawn).
      orphans.push(uuid);
      await this.driver.destroy(uuid).catch((err) => this.o.log.warn({ err, uuid }, 'orphan cleanup failed'));
    }
    for (const x of desired) {
      const uuid = x.spec.uuid;
      const have = actual.get(uuid);
      const requestId = `req-sync-${uuid}`;
      const anyTask = [x.taskState];
      if (x.taskState === 'deleting') {
        this.serial(uuid, () => this.run({ op: 'destroy', uuid, requestId }));
        continue;
      }
      if (x.vmState === 'building') {
        // A build interrupted by a restart: start it again from nothing, or fail it with the reason.
        await this.driver.destroy(uuid).catch(() => undefined);
        const ok = await this.spawn(
          x.spec,
          requestId,
          'spawn',
          'Build interrupted by a restart of the host agent; retry failed',
        );
        (ok ? rebuilt : errored).push(uuid);
        continue;
      }
      if (['error', 'shelved_offloaded', 'deleted', 'soft-delete'].includes(x.vmState)) continue;
      if (!have) {
        // Should exist and does not (host rebooted, VM lost): recreate it and restore its power state.
        try {
          await this.driver.spawn(x.spec);
          if (x.vmState === 'stopped') await this.driver.powerOff(uuid);
          if (x.vmState === 'paused') await this.driver.pause(uuid);
          if (x.vmState === 'suspended') await this.driver.suspend(uuid);
          rebuilt.push(uuid);
          this.state({
            uuid,
            requestId,
            op: 'reconcile',
            expectTaskState: anyTask,
            vmState: x.vmState === 'rescued' ? 'active' : x.vmState,
            taskState: null,
            powerState: await this.power(uuid),
          });
        } catch (e) {
          await this.driver.destroy(uuid).catch(() => undefined);
          errored.push(uuid);
          const err = this.err(e);
          err.message = `Instance was missing from host ${this.host} after a restart and could not be recreated: ${err.message}`;
          this.state({
            uuid,
            requestId,
            op: 'reconcile',
            expectTaskState: anyTask,
            vmState: 'error',
            taskState: null,
            powerState: PowerState.NOSTATE,
            error: err,
          });
        }
        continue;
      }
      // Exists: an interrupted operation is settled from the real power state (Nova's _init_instance), and
      // the power state is synced (a VM found shut down while ACTIVE becomes SHUTOFF).
      const p = have.powerState;
      const real = vmStateOf(p);
      if (x.taskState !== null || (x.vmState !== real && !['resized', 'rescued'].includes(x.vmState)))
        this.state({
          uuid,
          requestId,
          op: 'reconcile',
          expectTaskState: anyTask,
          vmState: x.taskState !== null || x.vmState !== real ? real : x.vmState,
          taskState: null,
          powerState: p,
        });
      else
        this.state({
          uuid,
          requestId,
          op: 'reconcile',
          expectTaskState: [null],
          taskState: null,
          powerState: p,
        });
    }
    this.report({ kind: 'synced', host: this.host, rebuilt, errored, orphans });
  }
}
