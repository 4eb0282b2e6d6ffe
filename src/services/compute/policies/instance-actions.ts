/** nova/policies/instance_actions.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const instanceActionsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-instance-actions:list',
    PROJECT_READER_OR_ADMIN,
    'List actions for the given server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-instance-actions:show',
    PROJECT_READER_OR_ADMIN,
    'Show action details for an action id for a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-instance-actions:events',
    ADMIN,
    'Add events details in action details for a server.',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-instance-actions:events:details',
    ADMIN,
    'Add "details" key in action events for a server.',
    PROJECT,
  ),
];
