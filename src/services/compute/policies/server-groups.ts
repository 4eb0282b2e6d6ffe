/** nova/policies/server_groups.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const serverGroupsPolicies: PolicyRule[] = [
  rule('os_compute_api:os-server-groups:index', PROJECT_READER_OR_ADMIN, 'List all server groups', PROJECT),
  rule(
    'os_compute_api:os-server-groups:index:all_projects',
    ADMIN,
    'List all server groups for all projects',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-groups:show',
    PROJECT_READER_OR_ADMIN,
    'Show details of a server group',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-groups:create',
    PROJECT_MEMBER_OR_ADMIN,
    'Create a new server group',
    PROJECT,
  ),
  rule('os_compute_api:os-server-groups:delete', PROJECT_MEMBER_OR_ADMIN, 'Delete a server group', PROJECT),
];
