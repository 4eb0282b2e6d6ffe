/**
 * The base of the compute manager: its dependencies, background work, the checks every operation starts
 * with (policy, visibility, lock, state). The manager is built in layers, one concern per file (see index.ts).
 */
import type { ServiceFacades } from '../../../core/service.js';
import type { Logger } from 'pino';
import type { Caller } from '../../../core/auth/caller.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import type { Bus } from '../../../core/bus/index.js';
import { bool } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { isoSeconds, uuid } from '../../../core/ids.js';
import type { AgentReport } from '../../../agent/compute/protocol.js';
import { Images, Networks } from '../facades.js';
import type { ServerRow } from '../rows.js';
import type { ComputeStore } from '../store/index.js';

export const now = () => isoSeconds(new Date());
export const err = (status: number, msg: string, kind?: string) => new ApiError(status, msg, kind);
export const notFoundServer = (id: string) => err(404, `Instance ${id} could not be found.`, 'itemNotFound');
/** The request id an instance action records (a caller from a facade may have none). */
export const rid = (c: Caller) => c.requestId ?? '';

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

export class ManagerBase {
  readonly images: Images;
  readonly networks: Networks;
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
    readonly services: ServiceFacades,
  ) {
    this.images = new Images(() => services.image);
    this.networks = new Networks(() => services.network);
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

  can(rule: string, target: Record<string, unknown>, c: Caller): boolean {
    return this.policy.check(rule, target, c.creds);
  }

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

  /**
   * Put a server in ERROR with a fault (code 500), if it is still in one of the expected task states.
   * Returns the time stamped on it.
   */
  async failServer(
    id: string,
    fault: { message: string; details?: string },
    expectTaskState: (string | null)[],
    t = now(),
  ): Promise<string> {
    await this.store.saveState(
      id,
      {
        vm_state: 'error',
        task_state: null,
        updated_at: t,
        fault: JSON.stringify({
          code: 500,
          message: fault.message,
          details: fault.details ?? '',
          created: t,
        }),
      },
      expectTaskState,
    );
    return t;
  }

  /** The owner's rights, for work the control plane does on a server's behalf (recovery, cleanup). */
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

  uniqueViolation(e: unknown): boolean {
    return this.store.uniqueViolation(e);
  }
}
