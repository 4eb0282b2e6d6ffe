/** nova/policies/server_metadata.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const serverMetadataPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:server-metadata:index',
    PROJECT_READER_OR_ADMIN,
    'List all metadata of a server',
    PROJECT,
  ),
  rule('os_compute_api:server-metadata:show', PROJECT_READER_OR_ADMIN, 'Show metadata for a server', PROJECT),
  rule(
    'os_compute_api:server-metadata:create',
    PROJECT_MEMBER_OR_ADMIN,
    'Create metadata for a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:server-metadata:update_all',
    PROJECT_MEMBER_OR_ADMIN,
    'Replace metadata for a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:server-metadata:update',
    PROJECT_MEMBER_OR_ADMIN,
    'Update metadata from a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:server-metadata:delete',
    PROJECT_MEMBER_OR_ADMIN,
    'Delete metadata from a server',
    PROJECT,
  ),
];
