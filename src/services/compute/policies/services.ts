/** nova/policies/services.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT } from './base.js';

export const servicesPolicies: PolicyRule[] = [
  rule('os_compute_api:os-services:list', ADMIN, 'List all running Compute services in a region.', PROJECT),
  rule('os_compute_api:os-services:update', ADMIN, 'Update a Compute service.', PROJECT),
  rule('os_compute_api:os-services:delete', ADMIN, 'Delete a Compute service.', PROJECT),
];
