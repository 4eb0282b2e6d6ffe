/** server actions: pause, suspend, lock, shelve, rescue, admin actions, migrate, deferred delete */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT } from './base.js';

export const serverActionsPolicies: PolicyRule[] = [
  rule('os_compute_api:os-pause-server:pause', PROJECT_MEMBER_OR_ADMIN, 'Pause a server', PROJECT),
  rule('os_compute_api:os-pause-server:unpause', PROJECT_MEMBER_OR_ADMIN, 'Unpause a paused server', PROJECT),
  rule('os_compute_api:os-suspend-server:suspend', PROJECT_MEMBER_OR_ADMIN, 'Suspend server', PROJECT),
  rule(
    'os_compute_api:os-suspend-server:resume',
    PROJECT_MEMBER_OR_ADMIN,
    'Resume suspended server',
    PROJECT,
  ),
  rule('os_compute_api:os-lock-server:lock', PROJECT_MEMBER_OR_ADMIN, 'Lock a server', PROJECT),
  rule('os_compute_api:os-lock-server:unlock', PROJECT_MEMBER_OR_ADMIN, 'Unlock a locked server', PROJECT),
  rule(
    'os_compute_api:os-lock-server:unlock:unlock_override',
    ADMIN,
    'Unlock a server, regardless who locked the server.',
    PROJECT,
  ),
  rule('os_compute_api:os-shelve:shelve', PROJECT_MEMBER_OR_ADMIN, 'Shelve server', PROJECT),
  rule(
    'os_compute_api:os-shelve:unshelve',
    PROJECT_MEMBER_OR_ADMIN,
    'Unshelve (restore) shelved server',
    PROJECT,
  ),
  rule('os_compute_api:os-shelve:shelve_offload', ADMIN, 'Shelf-offload (remove) server', PROJECT),
  rule('os_compute_api:os-rescue', PROJECT_MEMBER_OR_ADMIN, 'Rescue a server', PROJECT),
  rule('os_compute_api:os-unrescue', PROJECT_MEMBER_OR_ADMIN, 'Unrescue a server', PROJECT),
  rule('os_compute_api:os-admin-actions:reset_state', ADMIN, 'Reset the state of a given server', PROJECT),
  rule(
    'os_compute_api:os-admin-actions:inject_network_info',
    ADMIN,
    'Inject network information into the server',
    PROJECT,
  ),
  rule('os_compute_api:os-migrate-server:migrate', ADMIN, 'Cold migrate a server to a host', PROJECT),
  rule(
    'os_compute_api:os-migrate-server:migrate_live',
    ADMIN,
    'Live migrate a server to a new host without a reboot',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-deferred-delete:force',
    PROJECT_MEMBER_OR_ADMIN,
    'Force delete a server before deferred cleanup',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-deferred-delete:restore',
    PROJECT_MEMBER_OR_ADMIN,
    'Restore a soft deleted server',
    PROJECT,
  ),
];
