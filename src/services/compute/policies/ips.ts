/** nova/policies/ips.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const ipsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:ips:index',
    PROJECT_READER_OR_ADMIN,
    'List IP addresses that are assigned to a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:ips:show',
    PROJECT_READER_OR_ADMIN,
    'Show IP addresses details for a network label of a  server',
    PROJECT,
  ),
];
