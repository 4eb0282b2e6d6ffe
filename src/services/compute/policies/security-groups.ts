/** nova/policies/security_groups.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const securityGroupsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-security-groups:list',
    PROJECT_READER_OR_ADMIN,
    'List security groups of server.',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-security-groups:add',
    PROJECT_MEMBER_OR_ADMIN,
    'Add security groups to server.',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-security-groups:remove',
    PROJECT_MEMBER_OR_ADMIN,
    'Remove security groups from server.',
    PROJECT,
  ),
];
