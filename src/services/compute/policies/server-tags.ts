/** nova/policies/server_tags.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const serverTagsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-server-tags:index',
    PROJECT_READER_OR_ADMIN,
    'List all tags for given server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-tags:show',
    PROJECT_READER_OR_ADMIN,
    'Check tag existence on the server.',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-tags:update',
    PROJECT_MEMBER_OR_ADMIN,
    'Add a single tag to the server if server has no specified tag',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-tags:update_all',
    PROJECT_MEMBER_OR_ADMIN,
    'Replace all tags on specified server with the new set of tags.',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-tags:delete',
    PROJECT_MEMBER_OR_ADMIN,
    'Delete a single tag from the specified server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-tags:delete_all',
    PROJECT_MEMBER_OR_ADMIN,
    'Delete all the server tags',
    PROJECT,
  ),
];
