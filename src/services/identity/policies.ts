import type { PolicyRule } from '../../core/auth/policy.js';
// Generated from keystone/common/policies (Keystone master 30ef2ffa65a3486ef882f00538e20f2253c57d4c,
// 29.0.0-61-g30ef2ffa6, 2026-07-17); check strings verbatim (new secure-RBAC defaults, not the deprecated
// ones), with the base.py constants substituted. Rule order follows keystone.common.policies.list_rules().
// Operations whose Keystone 'method' is a list (system grants) are expanded to one entry per method;
// the stray leading space in identity:list_projects_for_user's path (' /v3/auth/projects') is trimmed.

/** keystone/common/policies/base.py `rules` (oslo.policy RuleDefault; no scope types). */
export const identityBaseRules: PolicyRule[] = [
  { name: 'admin_required', check: 'role:admin or is_admin:1' },
  { name: 'service_role', check: 'role:service' },
  { name: 'service_or_admin', check: 'rule:admin_required or rule:service_role' },
  { name: 'owner', check: 'user_id:%(user_id)s' },
  { name: 'admin_or_owner', check: 'rule:admin_required or rule:owner' },
  { name: 'token_subject', check: 'user_id:%(target.token.user_id)s' },
  { name: 'admin_or_token_subject', check: 'rule:admin_required or rule:token_subject' },
  { name: 'service_admin_or_token_subject', check: 'rule:service_or_admin or rule:token_subject' },
  {
    name: 'domain_managed_target_role',
    check: "'manager':%(target.role.name)s or 'member':%(target.role.name)s or 'reader':%(target.role.name)s",
  },
];

export const identityPolicies: PolicyRule[] = [
  // keystone/common/policies/application_credential.py
  {
    name: 'identity:get_application_credential',
    check: '(rule:admin_required) or (role:reader and system_scope:all) or rule:owner',
    scopeTypes: ['system', 'project'],
    description: 'Show application credential details.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}/application_credentials/{application_credential_id}' },
      { method: 'HEAD', path: '/v3/users/{user_id}/application_credentials/{application_credential_id}' },
    ],
  },
  {
    name: 'identity:list_application_credentials',
    check: '(rule:admin_required) or (role:reader and system_scope:all) or rule:owner',
    scopeTypes: ['system', 'project'],
    description: 'List application credentials for a user.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}/application_credentials' },
      { method: 'HEAD', path: '/v3/users/{user_id}/application_credentials' },
    ],
  },
  {
    name: 'identity:create_application_credential',
    check: 'user_id:%(user_id)s',
    scopeTypes: ['project'],
    description: 'Create an application credential.',
    operations: [{ method: 'POST', path: '/v3/users/{user_id}/application_credentials' }],
  },
  {
    name: 'identity:delete_application_credential',
    check: 'rule:admin_or_owner',
    scopeTypes: ['system', 'project'],
    description: 'Delete an application credential.',
    operations: [
      { method: 'DELETE', path: '/v3/users/{user_id}/application_credentials/{application_credential_id}' },
    ],
  },
  // keystone/common/policies/auth.py
  {
    name: 'identity:get_auth_catalog',
    check: '',
    description: 'Get service catalog.',
    operations: [
      { method: 'GET', path: '/v3/auth/catalog' },
      { method: 'HEAD', path: '/v3/auth/catalog' },
    ],
  },
  {
    name: 'identity:get_auth_projects',
    check: '',
    description: 'List all projects a user has access to via role assignments.',
    operations: [
      { method: 'GET', path: '/v3/auth/projects' },
      { method: 'HEAD', path: '/v3/auth/projects' },
    ],
  },
  {
    name: 'identity:get_auth_domains',
    check: '',
    description: 'List all domains a user has access to via role assignments.',
    operations: [
      { method: 'GET', path: '/v3/auth/domains' },
      { method: 'HEAD', path: '/v3/auth/domains' },
    ],
  },
  {
    name: 'identity:get_auth_system',
    check: '',
    description: 'List systems a user has access to via role assignments.',
    operations: [
      { method: 'GET', path: '/v3/auth/system' },
      { method: 'HEAD', path: '/v3/auth/system' },
    ],
  },
  // keystone/common/policies/credential.py
  {
    name: 'identity:get_credential',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show credentials details.',
    operations: [{ method: 'GET', path: '/v3/credentials/{credential_id}' }],
  },
  {
    name: 'identity:list_credentials',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or user_id:%(target.credential.user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List credentials.',
    operations: [{ method: 'GET', path: '/v3/credentials' }],
  },
  {
    name: 'identity:create_credential',
    check: '(rule:admin_required) or user_id:%(target.credential.user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Create credential.',
    operations: [{ method: 'POST', path: '/v3/credentials' }],
  },
  {
    name: 'identity:update_credential',
    check: '(rule:admin_required) or user_id:%(target.credential.user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Update credential.',
    operations: [{ method: 'PATCH', path: '/v3/credentials/{credential_id}' }],
  },
  {
    name: 'identity:delete_credential',
    check: '(rule:admin_required) or user_id:%(target.credential.user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Delete credential.',
    operations: [{ method: 'DELETE', path: '/v3/credentials/{credential_id}' }],
  },
  // keystone/common/policies/domain.py
  {
    name: 'identity:get_domain',
    check:
      'rule:admin_required or (role:reader and system_scope:all) or token.domain.id:%(target.domain.id)s or token.project.domain.id:%(target.domain.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show domain details.',
    operations: [{ method: 'GET', path: '/v3/domains/{domain_id}' }],
  },
  {
    name: 'identity:list_domains',
    check:
      'rule:admin_required or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain.id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List domains.',
    operations: [{ method: 'GET', path: '/v3/domains' }],
  },
  {
    name: 'identity:create_domain',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create domain.',
    operations: [{ method: 'POST', path: '/v3/domains' }],
  },
  {
    name: 'identity:update_domain',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update domain.',
    operations: [{ method: 'PATCH', path: '/v3/domains/{domain_id}' }],
  },
  {
    name: 'identity:delete_domain',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete domain.',
    operations: [{ method: 'DELETE', path: '/v3/domains/{domain_id}' }],
  },
  // keystone/common/policies/endpoint.py
  {
    name: 'identity:get_endpoint',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Show endpoint details.',
    operations: [{ method: 'GET', path: '/v3/endpoints/{endpoint_id}' }],
  },
  {
    name: 'identity:list_endpoints',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List endpoints.',
    operations: [{ method: 'GET', path: '/v3/endpoints' }],
  },
  {
    name: 'identity:create_endpoint',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create endpoint.',
    operations: [{ method: 'POST', path: '/v3/endpoints' }],
  },
  {
    name: 'identity:update_endpoint',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update endpoint.',
    operations: [{ method: 'PATCH', path: '/v3/endpoints/{endpoint_id}' }],
  },
  {
    name: 'identity:delete_endpoint',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete endpoint.',
    operations: [{ method: 'DELETE', path: '/v3/endpoints/{endpoint_id}' }],
  },
  // keystone/common/policies/grant.py
  {
    name: 'identity:check_grant',
    check:
      '(rule:admin_required) or ((role:reader and system_scope:all) or ((role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s))',
    scopeTypes: ['system', 'domain', 'project'],
    description:
      'Check a role grant between a target and an actor. A target can be either a domain or a project. An actor can be either a user or a group. These terms also apply to the OS-INHERIT APIs, where grants on the target are inherited to all projects in the subtree, if applicable.',
    operations: [
      { method: 'HEAD', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}' },
      { method: 'HEAD', path: '/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}' },
      { method: 'HEAD', path: '/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}' },
      {
        method: 'HEAD',
        path: '/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'HEAD',
        path: '/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'HEAD',
        path: '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'HEAD',
        path: '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
    ],
  },
  {
    name: 'identity:list_grants',
    check:
      '(rule:admin_required) or ((role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s))',
    scopeTypes: ['system', 'domain', 'project'],
    description:
      'List roles granted to an actor on a target. A target can be either a domain or a project. An actor can be either a user or a group. For the OS-INHERIT APIs, it is possible to list inherited role grants for actors on domains, where grants are inherited to all projects in the specified domain.',
    operations: [
      { method: 'GET', path: '/v3/projects/{project_id}/users/{user_id}/roles' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/users/{user_id}/roles' },
      { method: 'GET', path: '/v3/projects/{project_id}/groups/{group_id}/roles' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/groups/{group_id}/roles' },
      { method: 'GET', path: '/v3/domains/{domain_id}/users/{user_id}/roles' },
      { method: 'HEAD', path: '/v3/domains/{domain_id}/users/{user_id}/roles' },
      { method: 'GET', path: '/v3/domains/{domain_id}/groups/{group_id}/roles' },
      { method: 'HEAD', path: '/v3/domains/{domain_id}/groups/{group_id}/roles' },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/inherited_to_projects',
      },
      {
        method: 'GET',
        path: '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/inherited_to_projects',
      },
    ],
  },
  {
    name: 'identity:create_grant',
    check:
      '(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role',
    scopeTypes: ['system', 'domain', 'project'],
    description:
      'Create a role grant between a target and an actor. A target can be either a domain or a project. An actor can be either a user or a group. These terms also apply to the OS-INHERIT APIs, where grants on the target are inherited to all projects in the subtree, if applicable.',
    operations: [
      { method: 'PUT', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' },
      { method: 'PUT', path: '/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}' },
      { method: 'PUT', path: '/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}' },
      { method: 'PUT', path: '/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}' },
      {
        method: 'PUT',
        path: '/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'PUT',
        path: '/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'PUT',
        path: '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'PUT',
        path: '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
    ],
  },
  {
    name: 'identity:revoke_grant',
    check:
      '(rule:admin_required) or ((role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:admin and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and (domain_id:%(target.role.domain_id)s or None:%(target.role.domain_id)s) or ((role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.user.domain_id)s and domain_id:%(target.domain.id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.project.domain_id)s) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.domain.id)s)) and rule:domain_managed_target_role',
    scopeTypes: ['system', 'domain', 'project'],
    description:
      "Revoke a role grant between a target and an actor. A target can be either a domain or a project. An actor can be either a user or a group. These terms also apply to the OS-INHERIT APIs, where grants on the target are inherited to all projects in the subtree, if applicable. In that case, revoking the role grant in the target would remove the logical effect of inheriting it to the target's projects subtree.",
    operations: [
      { method: 'DELETE', path: '/v3/projects/{project_id}/users/{user_id}/roles/{role_id}' },
      { method: 'DELETE', path: '/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}' },
      { method: 'DELETE', path: '/v3/domains/{domain_id}/users/{user_id}/roles/{role_id}' },
      { method: 'DELETE', path: '/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}' },
      {
        method: 'DELETE',
        path: '/v3/OS-INHERIT/projects/{project_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'DELETE',
        path: '/v3/OS-INHERIT/projects/{project_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'DELETE',
        path: '/v3/OS-INHERIT/domains/{domain_id}/users/{user_id}/roles/{role_id}/inherited_to_projects',
      },
      {
        method: 'DELETE',
        path: '/v3/OS-INHERIT/domains/{domain_id}/groups/{group_id}/roles/{role_id}/inherited_to_projects',
      },
    ],
  },
  {
    name: 'identity:list_system_grants_for_user',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List all grants a specific user has on the system.',
    operations: [
      { method: 'HEAD', path: '/v3/system/users/{user_id}/roles' },
      { method: 'GET', path: '/v3/system/users/{user_id}/roles' },
    ],
  },
  {
    name: 'identity:check_system_grant_for_user',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Check if a user has a role on the system.',
    operations: [
      { method: 'HEAD', path: '/v3/system/users/{user_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/system/users/{user_id}/roles/{role_id}' },
    ],
  },
  {
    name: 'identity:create_system_grant_for_user',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Grant a user a role on the system.',
    operations: [{ method: 'PUT', path: '/v3/system/users/{user_id}/roles/{role_id}' }],
  },
  {
    name: 'identity:revoke_system_grant_for_user',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Remove a role from a user on the system.',
    operations: [{ method: 'DELETE', path: '/v3/system/users/{user_id}/roles/{role_id}' }],
  },
  {
    name: 'identity:list_system_grants_for_group',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List all grants a specific group has on the system.',
    operations: [
      { method: 'HEAD', path: '/v3/system/groups/{group_id}/roles' },
      { method: 'GET', path: '/v3/system/groups/{group_id}/roles' },
    ],
  },
  {
    name: 'identity:check_system_grant_for_group',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Check if a group has a role on the system.',
    operations: [
      { method: 'HEAD', path: '/v3/system/groups/{group_id}/roles/{role_id}' },
      { method: 'GET', path: '/v3/system/groups/{group_id}/roles/{role_id}' },
    ],
  },
  {
    name: 'identity:create_system_grant_for_group',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Grant a group a role on the system.',
    operations: [{ method: 'PUT', path: '/v3/system/groups/{group_id}/roles/{role_id}' }],
  },
  {
    name: 'identity:revoke_system_grant_for_group',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Remove a role from a group on the system.',
    operations: [{ method: 'DELETE', path: '/v3/system/groups/{group_id}/roles/{role_id}' }],
  },
  // keystone/common/policies/group.py
  {
    name: 'identity:get_group',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show group details.',
    operations: [
      { method: 'GET', path: '/v3/groups/{group_id}' },
      { method: 'HEAD', path: '/v3/groups/{group_id}' },
    ],
  },
  {
    name: 'identity:list_groups',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List groups.',
    operations: [
      { method: 'GET', path: '/v3/groups' },
      { method: 'HEAD', path: '/v3/groups' },
    ],
  },
  {
    name: 'identity:list_groups_for_user',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(user_id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List groups to which a user belongs.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}/groups' },
      { method: 'HEAD', path: '/v3/users/{user_id}/groups' },
    ],
  },
  {
    name: 'identity:create_group',
    check: '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Create group.',
    operations: [{ method: 'POST', path: '/v3/groups' }],
  },
  {
    name: 'identity:update_group',
    check: '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Update group.',
    operations: [{ method: 'PATCH', path: '/v3/groups/{group_id}' }],
  },
  {
    name: 'identity:delete_group',
    check: '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Delete group.',
    operations: [{ method: 'DELETE', path: '/v3/groups/{group_id}' }],
  },
  {
    name: 'identity:list_users_in_group',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List members of a specific group.',
    operations: [
      { method: 'GET', path: '/v3/groups/{group_id}/users' },
      { method: 'HEAD', path: '/v3/groups/{group_id}/users' },
    ],
  },
  {
    name: 'identity:remove_user_from_group',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Remove user from group.',
    operations: [{ method: 'DELETE', path: '/v3/groups/{group_id}/users/{user_id}' }],
  },
  {
    name: 'identity:check_user_in_group',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Check whether a user is a member of a group.',
    operations: [
      { method: 'HEAD', path: '/v3/groups/{group_id}/users/{user_id}' },
      { method: 'GET', path: '/v3/groups/{group_id}/users/{user_id}' },
    ],
  },
  {
    name: 'identity:add_user_to_group',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.group.domain_id)s and domain_id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Add user to group.',
    operations: [{ method: 'PUT', path: '/v3/groups/{group_id}/users/{user_id}' }],
  },
  // keystone/common/policies/implied_role.py
  {
    name: 'identity:get_implied_role',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description:
      'Get information about an association between two roles. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role.',
    operations: [{ method: 'GET', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }],
  },
  {
    name: 'identity:list_implied_roles',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description:
      'List associations between two roles. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role. This will return all the implied roles that would be assumed by the user who gets the specified prior role.',
    operations: [
      { method: 'GET', path: '/v3/roles/{prior_role_id}/implies' },
      { method: 'HEAD', path: '/v3/roles/{prior_role_id}/implies' },
    ],
  },
  {
    name: 'identity:create_implied_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description:
      'Create an association between two roles. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role.',
    operations: [{ method: 'PUT', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }],
  },
  {
    name: 'identity:delete_implied_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description:
      'Delete the association between two roles. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role. Removing the association will cause that effect to be eliminated.',
    operations: [{ method: 'DELETE', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }],
  },
  {
    name: 'identity:list_role_inference_rules',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description:
      'List all associations between two roles in the system. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role.',
    operations: [
      { method: 'GET', path: '/v3/role_inferences' },
      { method: 'HEAD', path: '/v3/role_inferences' },
    ],
  },
  {
    name: 'identity:check_implied_role',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description:
      'Check an association between two roles. When a relationship exists between a prior role and an implied role and the prior role is assigned to a user, the user also assumes the implied role.',
    operations: [{ method: 'HEAD', path: '/v3/roles/{prior_role_id}/implies/{implied_role_id}' }],
  },
  // keystone/common/policies/policy.py
  {
    name: 'identity:get_policy',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Show policy details.',
    operations: [{ method: 'GET', path: '/v3/policies/{policy_id}' }],
  },
  {
    name: 'identity:list_policies',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List policies.',
    operations: [{ method: 'GET', path: '/v3/policies' }],
  },
  {
    name: 'identity:create_policy',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create policy.',
    operations: [{ method: 'POST', path: '/v3/policies' }],
  },
  {
    name: 'identity:update_policy',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update policy.',
    operations: [{ method: 'PATCH', path: '/v3/policies/{policy_id}' }],
  },
  {
    name: 'identity:delete_policy',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete policy.',
    operations: [{ method: 'DELETE', path: '/v3/policies/{policy_id}' }],
  },
  // keystone/common/policies/project.py
  {
    name: 'identity:get_project',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show project details.',
    operations: [{ method: 'GET', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:list_projects',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List projects.',
    operations: [{ method: 'GET', path: '/v3/projects' }],
  },
  {
    name: 'identity:list_user_projects',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List projects for user.',
    operations: [{ method: 'GET', path: '/v3/users/{user_id}/projects' }],
  },
  {
    name: 'identity:create_project',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Create project.',
    operations: [{ method: 'POST', path: '/v3/projects' }],
  },
  {
    name: 'identity:update_project',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Update project.',
    operations: [{ method: 'PATCH', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:delete_project',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Delete project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}' }],
  },
  {
    name: 'identity:list_project_tags',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List tags for a project.',
    operations: [
      { method: 'GET', path: '/v3/projects/{project_id}/tags' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/tags' },
    ],
  },
  {
    name: 'identity:get_project_tag',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s) or project_id:%(target.project.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Check if project contains a tag.',
    operations: [
      { method: 'GET', path: '/v3/projects/{project_id}/tags/{value}' },
      { method: 'HEAD', path: '/v3/projects/{project_id}/tags/{value}' },
    ],
  },
  {
    name: 'identity:update_project_tags',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Replace all tags on a project with the new set of tags.',
    operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags' }],
  },
  {
    name: 'identity:create_project_tag',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Add a single tag to a project.',
    operations: [{ method: 'PUT', path: '/v3/projects/{project_id}/tags/{value}' }],
  },
  {
    name: 'identity:delete_project_tags',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Remove all tags from a project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags' }],
  },
  {
    name: 'identity:delete_project_tag',
    check:
      '(rule:admin_required) or (role:manager and domain_id:%(target.project.domain_id)s and not None:%(target.project.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Delete a specified tag from project.',
    operations: [{ method: 'DELETE', path: '/v3/projects/{project_id}/tags/{value}' }],
  },
  // keystone/common/policies/region.py
  {
    name: 'identity:get_region',
    check: '',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show region details.',
    operations: [
      { method: 'GET', path: '/v3/regions/{region_id}' },
      { method: 'HEAD', path: '/v3/regions/{region_id}' },
    ],
  },
  {
    name: 'identity:list_regions',
    check: '',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List regions.',
    operations: [
      { method: 'GET', path: '/v3/regions' },
      { method: 'HEAD', path: '/v3/regions' },
    ],
  },
  {
    name: 'identity:create_region',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create region.',
    operations: [
      { method: 'POST', path: '/v3/regions' },
      { method: 'PUT', path: '/v3/regions/{region_id}' },
    ],
  },
  {
    name: 'identity:update_region',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update region.',
    operations: [{ method: 'PATCH', path: '/v3/regions/{region_id}' }],
  },
  {
    name: 'identity:delete_region',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete region.',
    operations: [{ method: 'DELETE', path: '/v3/regions/{region_id}' }],
  },
  // keystone/common/policies/role.py
  {
    name: 'identity:get_role',
    check:
      '(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and rule:domain_managed_target_role)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show role details.',
    operations: [
      { method: 'GET', path: '/v3/roles/{role_id}' },
      { method: 'HEAD', path: '/v3/roles/{role_id}' },
    ],
  },
  {
    name: 'identity:list_roles',
    check:
      '(rule:admin_required or (role:reader and system_scope:all)) or (role:manager and not domain_id:None)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List roles.',
    operations: [
      { method: 'GET', path: '/v3/roles' },
      { method: 'HEAD', path: '/v3/roles' },
    ],
  },
  {
    name: 'identity:create_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create role.',
    operations: [{ method: 'POST', path: '/v3/roles' }],
  },
  {
    name: 'identity:update_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update role.',
    operations: [{ method: 'PATCH', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:delete_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete role.',
    operations: [{ method: 'DELETE', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:get_domain_role',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Show domain role.',
    operations: [
      { method: 'GET', path: '/v3/roles/{role_id}' },
      { method: 'HEAD', path: '/v3/roles/{role_id}' },
    ],
  },
  {
    name: 'identity:list_domain_roles',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List domain roles.',
    operations: [
      { method: 'GET', path: '/v3/roles?domain_id={domain_id}' },
      { method: 'HEAD', path: '/v3/roles?domain_id={domain_id}' },
    ],
  },
  {
    name: 'identity:create_domain_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create domain role.',
    operations: [{ method: 'POST', path: '/v3/roles' }],
  },
  {
    name: 'identity:update_domain_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update domain role.',
    operations: [{ method: 'PATCH', path: '/v3/roles/{role_id}' }],
  },
  {
    name: 'identity:delete_domain_role',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete domain role.',
    operations: [{ method: 'DELETE', path: '/v3/roles/{role_id}' }],
  },
  // keystone/common/policies/role_assignment.py
  {
    name: 'identity:list_role_assignments',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List role assignments.',
    operations: [
      { method: 'GET', path: '/v3/role_assignments' },
      { method: 'HEAD', path: '/v3/role_assignments' },
    ],
  },
  {
    name: 'identity:list_role_assignments_for_tree',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List all role assignments for a given tree of hierarchical projects.',
    operations: [
      { method: 'GET', path: '/v3/role_assignments?include_subtree' },
      { method: 'HEAD', path: '/v3/role_assignments?include_subtree' },
    ],
  },
  // keystone/common/policies/service.py
  {
    name: 'identity:get_service',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'Show service details.',
    operations: [{ method: 'GET', path: '/v3/services/{service_id}' }],
  },
  {
    name: 'identity:list_services',
    check: 'rule:admin_required or (role:reader and system_scope:all)',
    scopeTypes: ['system', 'project'],
    description: 'List services.',
    operations: [{ method: 'GET', path: '/v3/services' }],
  },
  {
    name: 'identity:create_service',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Create service.',
    operations: [{ method: 'POST', path: '/v3/services' }],
  },
  {
    name: 'identity:update_service',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Update service.',
    operations: [{ method: 'PATCH', path: '/v3/services/{service_id}' }],
  },
  {
    name: 'identity:delete_service',
    check: 'rule:admin_required',
    scopeTypes: ['system', 'project'],
    description: 'Delete service.',
    operations: [{ method: 'DELETE', path: '/v3/services/{service_id}' }],
  },
  // keystone/common/policies/token.py
  {
    name: 'identity:check_token',
    check: 'rule:admin_required or (role:reader and system_scope:all) or rule:token_subject',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Check a token.',
    operations: [{ method: 'HEAD', path: '/v3/auth/tokens' }],
  },
  {
    name: 'identity:validate_token',
    check:
      'rule:admin_required or (role:reader and system_scope:all) or rule:service_role or rule:token_subject',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Validate a token.',
    operations: [{ method: 'GET', path: '/v3/auth/tokens' }],
  },
  {
    name: 'identity:revoke_token',
    check: 'rule:admin_required or rule:token_subject',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Revoke a token.',
    operations: [{ method: 'DELETE', path: '/v3/auth/tokens' }],
  },
  // keystone/common/policies/user.py
  {
    name: 'identity:get_user',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and token.domain.id:%(target.user.domain_id)s) or user_id:%(target.user.id)s',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Show user details.',
    operations: [
      { method: 'GET', path: '/v3/users/{user_id}' },
      { method: 'HEAD', path: '/v3/users/{user_id}' },
    ],
  },
  {
    name: 'identity:list_users',
    check:
      '(rule:admin_required) or (role:reader and system_scope:all) or (role:reader and domain_id:%(target.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'List users.',
    operations: [
      { method: 'GET', path: '/v3/users' },
      { method: 'HEAD', path: '/v3/users' },
    ],
  },
  {
    name: 'identity:list_projects_for_user',
    check: '',
    description: 'List all projects a user has access to via role assignments.',
    operations: [{ method: 'GET', path: '/v3/auth/projects' }],
  },
  {
    name: 'identity:list_domains_for_user',
    check: '',
    description: 'List all domains a user has access to via role assignments.',
    operations: [{ method: 'GET', path: '/v3/auth/domains' }],
  },
  {
    name: 'identity:create_user',
    check: '(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Create a user.',
    operations: [{ method: 'POST', path: '/v3/users' }],
  },
  {
    name: 'identity:update_user',
    check: '(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Update a user, including administrative password resets.',
    operations: [{ method: 'PATCH', path: '/v3/users/{user_id}' }],
  },
  {
    name: 'identity:delete_user',
    check: '(rule:admin_required) or (role:manager and token.domain.id:%(target.user.domain_id)s)',
    scopeTypes: ['system', 'domain', 'project'],
    description: 'Delete a user.',
    operations: [{ method: 'DELETE', path: '/v3/users/{user_id}' }],
  },
];
