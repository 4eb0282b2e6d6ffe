/** Agent link, outbound: tasks and calls to a host's agent, the instance spec it gets, casting an action. */
import type { VolumeSpec } from '../../../agent/compute/driver.js';
import type { Caller } from '../../../core/auth/caller.js';
import { bool, json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { InstanceSpec } from '../../../agent/compute/driver.js';
import { hostSubject, type AgentReply, type AgentTask } from '../../../agent/compute/protocol.js';
import type { ImageInfo } from '../facades.js';
import type { FlavorRow, HostRow, ServerRow } from '../rows.js';
import { err, now } from './base.js';
import { Hosts } from './hosts.js';
import { ACTIONS } from './instance-actions.js';

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

/** A flavor as a driver gets it. */
export function specFlavor(f: FlavorRow): InstanceSpec['flavor'] {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    memoryMb: f.ram,
    rootGb: f.disk,
    ephemeralGb: f.ephemeral,
    swapMb: f.swap,
    extraSpecs: json<Record<string, string>>(f.extra_specs, {}),
  };
}

export class Tasks extends Hosts {
  private replySeq = 0;
  /** Callers of snapshots in flight, so the agent's upload is done with the requester's rights. */
  private snapshots = new Map<string, Caller>();

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

  /** Volumes exported to a server, for its instance spec (the volume layer overrides this). */
  async blockDevicesOf(_serverId: string): Promise<VolumeSpec[]> {
    return [];
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
      flavor: specFlavor(f),
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
      blockDevices: await this.blockDevicesOf(s.id),
    };
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
    await this.recordAction(c, s.id, names[0], { event: names[1], host: host.name });
    this.send(host.name, await o.task(host));
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
}
