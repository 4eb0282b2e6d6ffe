/** nova/policies/hypervisors.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT } from './base.js';

export const hypervisorsPolicies: PolicyRule[] = [
  rule('os_compute_api:os-hypervisors:list', ADMIN, 'List all hypervisors.', PROJECT),
  rule('os_compute_api:os-hypervisors:list-detail', ADMIN, 'List all hypervisors with details', PROJECT),
  rule(
    'os_compute_api:os-hypervisors:statistics',
    ADMIN,
    'Show summary statistics for all hypervisors over all compute nodes.',
    PROJECT,
  ),
  rule('os_compute_api:os-hypervisors:show', ADMIN, 'Show details for a hypervisor.', PROJECT),
  rule('os_compute_api:os-hypervisors:uptime', ADMIN, 'Show the uptime of a hypervisor.', PROJECT),
  rule(
    'os_compute_api:os-hypervisors:search',
    ADMIN,
    'Search hypervisor by hypervisor_hostname pattern.',
    PROJECT,
  ),
  rule('os_compute_api:os-hypervisors:servers', ADMIN, 'List all servers on hypervisors.', PROJECT),
];
