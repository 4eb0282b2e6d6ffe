import type { PolicyRule } from '../../core/auth/policy.js';

/**
 * Nova's default policy rules (nova/policies/*.py, new secure-RBAC defaults), check strings as Nova's
 * base.py builds them: ADMIN = rule:context_is_admin, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN.
 * All compute rules are project-scoped (scope_types ['project']), as in Nova.
 */
const ADMIN = 'rule:context_is_admin';
const MEMBER = 'rule:project_member_or_admin';
const READER = 'rule:project_reader_or_admin';
const ANY = '@';
const OWNER_OR_ADMIN = '(rule:context_is_admin) or user_id:%(user_id)s';

export const computeBaseRules: PolicyRule[] = [
  {
    name: 'context_is_admin',
    check: 'role:admin',
    description: "Decides what is required for the 'is_admin:True' check to succeed.",
  },
  { name: 'project_manager_api', check: 'role:manager and project_id:%(project_id)s' },
  { name: 'project_member_api', check: 'role:member and project_id:%(project_id)s' },
  { name: 'project_reader_api', check: 'role:reader and project_id:%(project_id)s' },
  { name: 'project_manager_or_admin', check: 'rule:project_manager_api or rule:context_is_admin' },
  { name: 'project_member_or_admin', check: 'rule:project_member_api or rule:context_is_admin' },
  { name: 'project_reader_or_admin', check: 'rule:project_reader_api or rule:context_is_admin' },
];

const rules: [string, string, string][] = [
  // servers.py
  ['os_compute_api:servers:index', READER, 'List all servers'],
  ['os_compute_api:servers:detail', READER, 'List all servers with detailed information'],
  ['os_compute_api:servers:index:get_all_tenants', ADMIN, 'List all servers for all projects'],
  ['os_compute_api:servers:detail:get_all_tenants', ADMIN, 'List all servers with details for all projects'],
  ['os_compute_api:servers:allow_all_filters', ADMIN, 'Allow all filters when listing servers'],
  ['os_compute_api:servers:show', READER, 'Show a server'],
  [
    'os_compute_api:servers:show:flavor-extra-specs',
    READER,
    'Starting with 2.47, show flavor extra specs in server',
  ],
  ['os_compute_api:servers:show:host_status', ADMIN, 'Show a server with host status'],
  ['os_compute_api:servers:create', MEMBER, 'Create a server'],
  ['os_compute_api:servers:create:forced_host', ADMIN, 'Create a server on the specified host and/or node'],
  [
    'compute:servers:create:requested_destination',
    ADMIN,
    'Create a server on the requested compute service host',
  ],
  [
    'os_compute_api:servers:create:attach_volume',
    MEMBER,
    'Create a server with the requested volume attached',
  ],
  [
    'os_compute_api:servers:create:attach_network',
    MEMBER,
    'Create a server with the requested network attached',
  ],
  [
    'os_compute_api:servers:create:trusted_certs',
    MEMBER,
    'Create a server with trusted image certificate IDs',
  ],
  [
    'os_compute_api:servers:create:zero_disk_flavor',
    ADMIN,
    'Boot a server from an image with a flavor of 0 root disk',
  ],
  ['os_compute_api:servers:delete', MEMBER, 'Delete a server'],
  ['os_compute_api:servers:update', MEMBER, 'Update a server'],
  ['os_compute_api:servers:confirm_resize', MEMBER, 'Confirm a server resize'],
  ['os_compute_api:servers:revert_resize', MEMBER, 'Revert a server resize'],
  ['os_compute_api:servers:reboot', MEMBER, 'Reboot a server'],
  ['os_compute_api:servers:resize', MEMBER, 'Resize a server'],
  ['os_compute_api:servers:rebuild', MEMBER, 'Rebuild a server'],
  ['os_compute_api:servers:create_image', MEMBER, 'Create an image from a server'],
  ['os_compute_api:servers:start', MEMBER, 'Start a server'],
  ['os_compute_api:servers:stop', MEMBER, 'Stop a server'],
  ['os_compute_api:os-extended-server-attributes', ADMIN, 'Return extended attributes for server'],
  ['os_compute_api:os-pause-server:pause', MEMBER, 'Pause a server'],
  ['os_compute_api:os-pause-server:unpause', MEMBER, 'Unpause a paused server'],
  ['os_compute_api:os-suspend-server:suspend', MEMBER, 'Suspend server'],
  ['os_compute_api:os-suspend-server:resume', MEMBER, 'Resume suspended server'],
  ['os_compute_api:os-lock-server:lock', MEMBER, 'Lock a server'],
  ['os_compute_api:os-lock-server:unlock', MEMBER, 'Unlock a locked server'],
  [
    'os_compute_api:os-lock-server:unlock:unlock_override',
    ADMIN,
    'Unlock a server, regardless who locked the server.',
  ],
  ['os_compute_api:os-shelve:shelve', MEMBER, 'Shelve server'],
  ['os_compute_api:os-shelve:unshelve', MEMBER, 'Unshelve (restore) shelved server'],
  ['os_compute_api:os-shelve:shelve_offload', ADMIN, 'Shelf-offload (remove) server'],
  ['os_compute_api:os-rescue', MEMBER, 'Rescue a server'],
  ['os_compute_api:os-unrescue', MEMBER, 'Unrescue a server'],
  ['os_compute_api:os-console-output', MEMBER, 'Show console output for a server'],
  ['os_compute_api:os-remote-consoles', MEMBER, 'Generate a URL to access remove server console'],
  ['os_compute_api:os-admin-actions:reset_state', ADMIN, 'Reset the state of a given server'],
  [
    'os_compute_api:os-admin-actions:inject_network_info',
    ADMIN,
    'Inject network information into the server',
  ],
  ['os_compute_api:os-migrate-server:migrate', ADMIN, 'Cold migrate a server to a host'],
  [
    'os_compute_api:os-migrate-server:migrate_live',
    ADMIN,
    'Live migrate a server to a new host without a reboot',
  ],
  ['os_compute_api:os-deferred-delete:force', MEMBER, 'Force delete a server before deferred cleanup'],
  ['os_compute_api:os-deferred-delete:restore', MEMBER, 'Restore a soft deleted server'],
  ['os_compute_api:server-metadata:index', READER, 'List all metadata of a server'],
  ['os_compute_api:server-metadata:show', READER, 'Show metadata for a server'],
  ['os_compute_api:server-metadata:create', MEMBER, 'Create metadata for a server'],
  ['os_compute_api:server-metadata:update_all', MEMBER, 'Replace metadata for a server'],
  ['os_compute_api:server-metadata:update', MEMBER, 'Update metadata from a server'],
  ['os_compute_api:server-metadata:delete', MEMBER, 'Delete metadata from a server'],
  ['os_compute_api:os-server-tags:index', READER, 'List all tags for given server'],
  ['os_compute_api:os-server-tags:show', READER, 'Check tag existence on the server.'],
  [
    'os_compute_api:os-server-tags:update',
    MEMBER,
    'Add a single tag to the server if server has no specified tag',
  ],
  [
    'os_compute_api:os-server-tags:update_all',
    MEMBER,
    'Replace all tags on specified server with the new set of tags.',
  ],
  ['os_compute_api:os-server-tags:delete', MEMBER, 'Delete a single tag from the specified server'],
  ['os_compute_api:os-server-tags:delete_all', MEMBER, 'Delete all the server tags'],
  ['os_compute_api:os-instance-actions:list', READER, 'List actions for the given server'],
  ['os_compute_api:os-instance-actions:show', READER, 'Show action details for an action id for a server'],
  ['os_compute_api:os-instance-actions:events', ADMIN, 'Add events details in action details for a server.'],
  [
    'os_compute_api:os-instance-actions:events:details',
    ADMIN,
    'Add "details" key in action events for a server.',
  ],
  ['os_compute_api:os-attach-interfaces:list', READER, 'List port interfaces attached to a server'],
  [
    'os_compute_api:os-attach-interfaces:show',
    READER,
    'Show details of a port interface attached to a server',
  ],
  ['os_compute_api:os-attach-interfaces:create', MEMBER, 'Attach an interface to a server'],
  ['os_compute_api:os-attach-interfaces:delete', MEMBER, 'Detach an interface from a server'],
  ['os_compute_api:os-volumes-attachments:index', READER, 'List volume attachments for an instance'],
  ['os_compute_api:os-volumes-attachments:show', READER, 'Show details of a volume attachment'],
  ['os_compute_api:os-volumes-attachments:create', MEMBER, 'Attach a volume to an instance'],
  ['os_compute_api:os-volumes-attachments:delete', MEMBER, 'Detach a volume from an instance'],
  ['os_compute_api:ips:index', READER, 'List IP addresses that are assigned to a server'],
  ['os_compute_api:ips:show', READER, 'Show IP addresses details for a network label of a  server'],
  ['os_compute_api:os-security-groups:list', READER, 'List security groups of server.'],
  ['os_compute_api:os-security-groups:add', MEMBER, 'Add security groups to server.'],
  ['os_compute_api:os-security-groups:remove', MEMBER, 'Remove security groups from server.'],
  ['os_compute_api:os-server-topology:index', READER, 'Show the NUMA topology data for a server'],
  [
    'os_compute_api:os-server-topology:host:index',
    ADMIN,
    'Show the NUMA topology data for a server with host',
  ],
  // flavors
  ['os_compute_api:flavors', ANY, 'List and show flavors (Nova has no rule: any authenticated user).'],
  ['os_compute_api:os-flavor-manage:create', ADMIN, 'Create a flavor'],
  ['os_compute_api:os-flavor-manage:update', ADMIN, 'Update a flavor'],
  ['os_compute_api:os-flavor-manage:delete', ADMIN, 'Delete a flavor'],
  ['os_compute_api:os-flavor-access', ADMIN, 'List flavor access information'],
  ['os_compute_api:os-flavor-access:add_tenant_access', ADMIN, 'Add flavor access to a tenant'],
  ['os_compute_api:os-flavor-access:remove_tenant_access', ADMIN, 'Remove flavor access from a tenant'],
  ['os_compute_api:os-flavor-extra-specs:index', READER, 'List extra specs for a flavor'],
  ['os_compute_api:os-flavor-extra-specs:show', READER, 'Show an extra spec for a flavor'],
  ['os_compute_api:os-flavor-extra-specs:create', ADMIN, 'Create extra specs for a flavor'],
  ['os_compute_api:os-flavor-extra-specs:update', ADMIN, 'Update an extra spec for a flavor'],
  ['os_compute_api:os-flavor-extra-specs:delete', ADMIN, 'Delete an extra spec for a flavor'],
  // keypairs
  ['os_compute_api:os-keypairs:index', OWNER_OR_ADMIN, 'List all keypairs'],
  ['os_compute_api:os-keypairs:create', OWNER_OR_ADMIN, 'Create a keypair'],
  ['os_compute_api:os-keypairs:delete', OWNER_OR_ADMIN, 'Delete a keypair'],
  ['os_compute_api:os-keypairs:show', OWNER_OR_ADMIN, 'Show details of a keypair'],
  // limits, quotas
  ['os_compute_api:limits', ANY, 'Show rate and absolute limits for the current user project'],
  ['os_compute_api:limits:other_project', ADMIN, 'Show rate and absolute limits of other project'],
  ['os_compute_api:os-quota-sets:show', READER, 'Show a quota'],
  ['os_compute_api:os-quota-sets:update', ADMIN, 'Update the quotas'],
  ['os_compute_api:os-quota-sets:defaults', ANY, 'List default quotas'],
  ['os_compute_api:os-quota-sets:delete', ADMIN, 'Revert quotas to defaults'],
  ['os_compute_api:os-quota-sets:detail', READER, 'Show the detail of quota'],
  ['os_compute_api:os-quota-class-sets:show', ADMIN, 'List quotas for specific quota classs'],
  ['os_compute_api:os-quota-class-sets:update', ADMIN, 'Update quotas for specific quota class'],
  // infrastructure
  [
    'os_compute_api:os-availability-zone:list',
    ANY,
    'List availability zone information without host information',
  ],
  [
    'os_compute_api:os-availability-zone:detail',
    ADMIN,
    'List detailed availability zone information with host information',
  ],
  ['os_compute_api:os-hypervisors:list', ADMIN, 'List all hypervisors.'],
  ['os_compute_api:os-hypervisors:list-detail', ADMIN, 'List all hypervisors with details'],
  [
    'os_compute_api:os-hypervisors:statistics',
    ADMIN,
    'Show summary statistics for all hypervisors over all compute nodes.',
  ],
  ['os_compute_api:os-hypervisors:show', ADMIN, 'Show details for a hypervisor.'],
  ['os_compute_api:os-hypervisors:uptime', ADMIN, 'Show the uptime of a hypervisor.'],
  ['os_compute_api:os-hypervisors:search', ADMIN, 'Search hypervisor by hypervisor_hostname pattern.'],
  ['os_compute_api:os-hypervisors:servers', ADMIN, 'List all servers on hypervisors.'],
  ['os_compute_api:os-services:list', ADMIN, 'List all running Compute services in a region.'],
  ['os_compute_api:os-services:update', ADMIN, 'Update a Compute service.'],
  ['os_compute_api:os-services:delete', ADMIN, 'Delete a Compute service.'],
  ['os_compute_api:os-aggregates:index', ADMIN, 'List all aggregates'],
  ['os_compute_api:os-aggregates:create', ADMIN, 'Create an aggregate'],
  ['os_compute_api:os-aggregates:show', ADMIN, 'Show details for an aggregate'],
  ['os_compute_api:os-aggregates:update', ADMIN, 'Update name and/or availability zone for an aggregate'],
  ['os_compute_api:os-aggregates:delete', ADMIN, 'Delete an aggregate'],
  ['os_compute_api:os-aggregates:add_host', ADMIN, 'Add a host to an aggregate'],
  ['os_compute_api:os-aggregates:remove_host', ADMIN, 'Remove a host from an aggregate'],
  ['os_compute_api:os-aggregates:set_metadata', ADMIN, 'Create or replace metadata for an aggregate'],
  ['os_compute_api:os-server-groups:index', READER, 'List all server groups'],
  ['os_compute_api:os-server-groups:index:all_projects', ADMIN, 'List all server groups for all projects'],
  ['os_compute_api:os-server-groups:show', READER, 'Show details of a server group'],
  ['os_compute_api:os-server-groups:create', MEMBER, 'Create a new server group'],
  ['os_compute_api:os-server-groups:delete', MEMBER, 'Delete a server group'],
  ['os_compute_api:os-simple-tenant-usage:show', READER, 'Show usage statistics for a specific tenant'],
  ['os_compute_api:os-simple-tenant-usage:list', ADMIN, 'List per tenant usage statistics for all tenants'],
  ['os_compute_api:os-migrations:index', ADMIN, 'List migrations'],
  [
    'os_compute_api:extensions',
    ANY,
    'List available extensions and show information for an extension by alias',
  ],
];

export const computePolicies: PolicyRule[] = [
  ...computeBaseRules,
  ...rules.map(([name, check, description]) => ({
    name,
    check,
    description,
    scopeTypes: ['project' as const],
  })),
];

/** Rules that are not project-scoped in practice (no target project). */
export const ANY_RULES = new Set([
  'os_compute_api:flavors',
  'os_compute_api:limits',
  'os_compute_api:extensions',
]);
