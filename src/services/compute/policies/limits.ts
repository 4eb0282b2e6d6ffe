/** nova/policies/limits.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, ANY, PROJECT } from './base.js';

export const limitsPolicies: PolicyRule[] = [
  rule('os_compute_api:limits', ANY, 'Show rate and absolute limits for the current user project', PROJECT),
  rule(
    'os_compute_api:limits:other_project',
    ADMIN,
    'Show rate and absolute limits of other project',
    PROJECT,
  ),
];
