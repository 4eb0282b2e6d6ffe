/** nova/policies/aggregates.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT } from './base.js';

export const aggregatesPolicies: PolicyRule[] = [
  rule('os_compute_api:os-aggregates:index', ADMIN, 'List all aggregates', PROJECT),
  rule('os_compute_api:os-aggregates:create', ADMIN, 'Create an aggregate', PROJECT),
  rule('os_compute_api:os-aggregates:show', ADMIN, 'Show details for an aggregate', PROJECT),
  rule(
    'os_compute_api:os-aggregates:update',
    ADMIN,
    'Update name and/or availability zone for an aggregate',
    PROJECT,
  ),
  rule('os_compute_api:os-aggregates:delete', ADMIN, 'Delete an aggregate', PROJECT),
  rule('os_compute_api:os-aggregates:add_host', ADMIN, 'Add a host to an aggregate', PROJECT),
  rule('os_compute_api:os-aggregates:remove_host', ADMIN, 'Remove a host from an aggregate', PROJECT),
  rule(
    'os_compute_api:os-aggregates:set_metadata',
    ADMIN,
    'Create or replace metadata for an aggregate',
    PROJECT,
  ),
];
