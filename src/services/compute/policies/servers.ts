/** nova/policies/servers.py, extended_server_attributes.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const serversPolicies: PolicyRule[] = [
  rule('os_compute_api:servers:index', PROJECT_READER_OR_ADMIN, 'List all servers', PROJECT),
  rule(
    'os_compute_api:servers:detail',
    PROJECT_READER_OR_ADMIN,
    'List all servers with detailed information',
    PROJECT,
  ),
  rule('os_compute_api:servers:index:get_all_tenants', ADMIN, 'List all servers for all projects', PROJECT),
  rule(
    'os_compute_api:servers:detail:get_all_tenants',
    ADMIN,
    'List all servers with details for all projects',
    PROJECT,
  ),
  rule('os_compute_api:servers:allow_all_filters', ADMIN, 'Allow all filters when listing servers', PROJECT),
  rule('os_compute_api:servers:show', PROJECT_READER_OR_ADMIN, 'Show a server', PROJECT),
  rule(
    'os_compute_api:servers:show:flavor-extra-specs',
    PROJECT_READER_OR_ADMIN,
    'Starting with 2.47, show flavor extra specs in server',
    PROJECT,
  ),
  rule('os_compute_api:servers:show:host_status', ADMIN, 'Show a server with host status', PROJECT),
  rule('os_compute_api:servers:create', PROJECT_MEMBER_OR_ADMIN, 'Create a server', PROJECT),
  rule(
    'os_compute_api:servers:create:forced_host',
    ADMIN,
    'Create a server on the specified host and/or node',
    PROJECT,
  ),
  rule(
    'compute:servers:create:requested_destination',
    ADMIN,
    'Create a server on the requested compute service host',
    PROJECT,
  ),
  rule(
    'os_compute_api:servers:create:attach_volume',
    PROJECT_MEMBER_OR_ADMIN,
    'Create a server with the requested volume attached',
    PROJECT,
  ),
  rule(
    'os_compute_api:servers:create:attach_network',
    PROJECT_MEMBER_OR_ADMIN,
    'Create a server with the requested network attached',
    PROJECT,
  ),
  rule(
    'os_compute_api:servers:create:trusted_certs',
    PROJECT_MEMBER_OR_ADMIN,
    'Create a server with trusted image certificate IDs',
    PROJECT,
  ),
  rule(
    'os_compute_api:servers:create:zero_disk_flavor',
    ADMIN,
    'Boot a server from an image with a flavor of 0 root disk',
    PROJECT,
  ),
  rule('os_compute_api:servers:delete', PROJECT_MEMBER_OR_ADMIN, 'Delete a server', PROJECT),
  rule('os_compute_api:servers:update', PROJECT_MEMBER_OR_ADMIN, 'Update a server', PROJECT),
  rule('os_compute_api:servers:confirm_resize', PROJECT_MEMBER_OR_ADMIN, 'Confirm a server resize', PROJECT),
  rule('os_compute_api:servers:revert_resize', PROJECT_MEMBER_OR_ADMIN, 'Revert a server resize', PROJECT),
  rule('os_compute_api:servers:reboot', PROJECT_MEMBER_OR_ADMIN, 'Reboot a server', PROJECT),
  rule('os_compute_api:servers:resize', PROJECT_MEMBER_OR_ADMIN, 'Resize a server', PROJECT),
  rule('os_compute_api:servers:rebuild', PROJECT_MEMBER_OR_ADMIN, 'Rebuild a server', PROJECT),
  rule(
    'os_compute_api:servers:create_image',
    PROJECT_MEMBER_OR_ADMIN,
    'Create an image from a server',
    PROJECT,
  ),
  rule('os_compute_api:servers:start', PROJECT_MEMBER_OR_ADMIN, 'Start a server', PROJECT),
  rule('os_compute_api:servers:stop', PROJECT_MEMBER_OR_ADMIN, 'Stop a server', PROJECT),
  rule(
    'os_compute_api:os-extended-server-attributes',
    ADMIN,
    'Return extended attributes for server',
    PROJECT,
  ),
];
