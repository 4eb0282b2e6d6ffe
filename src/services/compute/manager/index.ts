/**
 * The compute manager: the operations behind the API, built in layers, one concern per file, each
 * extending the one before (a later concern may use every earlier one):
 *
 *   base             dependencies, background work, policy/visibility/lock/state checks
 *   instance-actions the one place instance actions are recorded
 *   quotas           limits and usage
 *   hosts            usable flavors, host liveness, zones, capacity
 *   tasks            agent link, outbound: tasks, calls, the instance spec, cast
 *   networking       ports and addresses through the network facade
 *   scheduling       host choice and claims in the scheduler's transaction
 *   moves            migrate, live-migrate, resize, revert, unshelve
 *   lifecycle        create, update, lock, delete, metadata, tags
 *   reports          agent link, inbound: reports and reconciliation
 *
 * Only the store (../store/) touches the tables.
 */
import { Reports } from './reports.js';

export { DEFAULT_COMPUTE_OPTIONS, notFoundServer, now, type ComputeOptions } from './base.js';
export { ACTIONS, eventOf } from './instance-actions.js';
export { QUOTA_DEFAULTS } from './quotas.js';
export { flavorDisk, type HostWithUsage } from './hosts.js';
export { specFlavor, type Address } from './tasks.js';
export { sanitizeHostname, type CreateRequest } from './lifecycle.js';

export class ComputeManager extends Reports {}
