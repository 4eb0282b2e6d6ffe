/**
 * Messages between the compute control plane and host agents, over the bus (in-process by default, NATS
 * when scaled out). Payloads are plain JSON so they cross a real broker unchanged.
 *
 *   control → agent  subject `compute.host.<host>`     AgentTask
 *   agent → control  subject `compute.report`           AgentReport
 *   agent → caller   subject given as `replyTo`         AgentReply   (synchronous calls: console output/URL)
 */
import type {
  ConsoleUrl,
  DriverCapabilities,
  HostInfo,
  InstanceInfo,
  InstanceSpec,
  RebootType,
  VifSpec,
  VolumeSpec,
} from './driver.js';

export const REPORT_SUBJECT = 'compute.report';
export const hostSubject = (host: string) => `compute.host.${host}`;

/** What the control plane wants one instance on this host to be (for reconciliation). */
export interface DesiredInstance {
  spec: InstanceSpec;
  vmState: string;
  taskState: string | null;
}

interface Base {
  uuid: string;
  requestId: string;
}
export type AgentTask =
  | (Base & { op: 'spawn'; spec: InstanceSpec })
  | (Base & { op: 'rebuild'; spec: InstanceSpec; from: string })
  | (Base & { op: 'destroy' })
  | (Base & { op: 'reboot'; type: RebootType })
  | (Base & { op: 'power_off' | 'power_on' | 'pause' | 'unpause' | 'suspend' | 'resume' | 'unrescue' })
  /** Snapshot into `imageId` (when given), then free the host (shelve + offload). */
  | (Base & { op: 'shelve'; imageId?: string })
  | (Base & { op: 'unshelve'; spec: InstanceSpec })
  | (Base & { op: 'rescue' })
  | (Base & { op: 'resize'; flavor: InstanceSpec['flavor']; from: string })
  | (Base & { op: 'resize_revert'; flavor: InstanceSpec['flavor'] })
  | (Base & { op: 'snapshot'; imageId: string; from: string })
  | (Base & { op: 'attach_interface'; vif: VifSpec })
  | (Base & { op: 'detach_interface'; portId: string })
  | (Base & { op: 'attach_volume'; volume: VolumeSpec })
  | (Base & { op: 'detach_volume'; volumeId: string })
  /** Receive a server moved from another host (migrate, live-migrate, revert of a migrate). */
  | (Base & {
      op: 'migrate_in';
      spec: InstanceSpec;
      expectTaskState: string;
      powerState: 'running' | 'stopped' | 'paused';
      finalVmState: string;
    })
  /** The server left this host: remove what is left of it (idempotent, no state report). */
  | (Base & { op: 'migrate_cleanup' })
  | { op: 'console_output'; uuid: string; lines?: number; replyTo: string }
  | { op: 'console_url'; uuid: string; protocol: ConsoleUrl['protocol']; type: string; replyTo: string }
  | { op: 'sync'; desired: DesiredInstance[] };

/** A state change of one instance, applied by the control plane only if `expectTaskState` still holds. */
export interface StateReport {
  kind: 'state';
  host: string;
  uuid: string;
  requestId?: string;
  /** The operation (instance-action event name is derived from it). */
  op: string;
  /** Apply only if the server's task_state is one of these (Nova's expected_task_state); undefined = any. */
  expectTaskState?: (string | null)[];
  vmState?: string;
  /** New task_state; undefined leaves it unchanged. */
  taskState?: string | null;
  powerState?: number;
  /** Set when the operation failed: recorded as the server fault (build) or the action event's traceback. */
  error?: { message: string; code: string; details?: string };
  /** The operation finished (success or failure): close the instance-action event. */
  finished?: boolean;
  /** Spawn finished: set launched_at. */
  launched?: boolean;
  /** The instance is gone for good (destroy done): the control plane finishes the delete. */
  deleted?: boolean;
}

export type AgentReport =
  | {
      kind: 'hello';
      host: string;
      info: HostInfo;
      driver: string;
      capabilities: DriverCapabilities;
      instances: InstanceInfo[];
      availabilityZone?: string;
    }
  | { kind: 'heartbeat'; host: string; info: HostInfo; instances: number }
  /** Power states that changed outside any operation (a guest that shut down or crashed by itself). */
  | { kind: 'power'; host: string; changes: { uuid: string; powerState: number }[] }
  | StateReport
  | { kind: 'synced'; host: string; rebuilt: string[]; errored: string[]; orphans: string[] };

export type AgentReply =
  { ok: true; output?: string; console?: ConsoleUrl } | { ok: false; error: string; code: string };
