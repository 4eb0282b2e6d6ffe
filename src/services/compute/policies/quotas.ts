/** nova/policies/quota_sets.py, quota_class_sets.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, ANY, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const quotasPolicies: PolicyRule[] = [
  rule('os_compute_api:os-quota-sets:show', PROJECT_READER_OR_ADMIN, 'Show a quota', PROJECT),
  rule('os_compute_api:os-quota-sets:update', ADMIN, 'Update the quotas', PROJECT),
  rule('os_compute_api:os-quota-sets:defaults', ANY, 'List default quotas', PROJECT),
  rule('os_compute_api:os-quota-sets:delete', ADMIN, 'Revert quotas to defaults', PROJECT),
  rule('os_compute_api:os-quota-sets:detail', PROJECT_READER_OR_ADMIN, 'Show the detail of quota', PROJECT),
  rule('os_compute_api:os-quota-class-sets:show', ADMIN, 'List quotas for specific quota classs', PROJECT),
  rule('os_compute_api:os-quota-class-sets:update', ADMIN, 'Update quotas for specific quota class', PROJECT),
];
