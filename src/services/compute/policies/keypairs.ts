/** nova/policies/keypairs.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN_OR_OWNER, PROJECT } from './base.js';

export const keypairsPolicies: PolicyRule[] = [
  rule('os_compute_api:os-keypairs:index', ADMIN_OR_OWNER, 'List all keypairs', PROJECT),
  rule('os_compute_api:os-keypairs:create', ADMIN_OR_OWNER, 'Create a keypair', PROJECT),
  rule('os_compute_api:os-keypairs:delete', ADMIN_OR_OWNER, 'Delete a keypair', PROJECT),
  rule('os_compute_api:os-keypairs:show', ADMIN_OR_OWNER, 'Show details of a keypair', PROJECT),
];
