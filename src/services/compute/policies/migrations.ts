/** nova/policies/migrations.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT } from './base.js';

export const migrationsPolicies: PolicyRule[] = [
  rule('os_compute_api:os-migrations:index', ADMIN, 'List migrations', PROJECT),
];
