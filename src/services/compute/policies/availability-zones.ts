/** nova/policies/availability_zone.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, ANY, PROJECT } from './base.js';

export const availabilityZonesPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-availability-zone:list',
    ANY,
    'List availability zone information without host information',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-availability-zone:detail',
    ADMIN,
    'List detailed availability zone information with host information',
    PROJECT,
  ),
];
