/** nova/policies/flavor_manage.py, flavor_access.py, flavor_extra_specs.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, ANY, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const flavorsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:flavors',
    ANY,
    'List and show flavors (Nova has no rule: any authenticated user).',
    PROJECT,
  ),
  rule('os_compute_api:os-flavor-manage:create', ADMIN, 'Create a flavor', PROJECT),
  rule('os_compute_api:os-flavor-manage:update', ADMIN, 'Update a flavor', PROJECT),
  rule('os_compute_api:os-flavor-manage:delete', ADMIN, 'Delete a flavor', PROJECT),
  rule('os_compute_api:os-flavor-access', ADMIN, 'List flavor access information', PROJECT),
  rule('os_compute_api:os-flavor-access:add_tenant_access', ADMIN, 'Add flavor access to a tenant', PROJECT),
  rule(
    'os_compute_api:os-flavor-access:remove_tenant_access',
    ADMIN,
    'Remove flavor access from a tenant',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-flavor-extra-specs:index',
    PROJECT_READER_OR_ADMIN,
    'List extra specs for a flavor',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-flavor-extra-specs:show',
    PROJECT_READER_OR_ADMIN,
    'Show an extra spec for a flavor',
    PROJECT,
  ),
  rule('os_compute_api:os-flavor-extra-specs:create', ADMIN, 'Create extra specs for a flavor', PROJECT),
  rule('os_compute_api:os-flavor-extra-specs:update', ADMIN, 'Update an extra spec for a flavor', PROJECT),
  rule('os_compute_api:os-flavor-extra-specs:delete', ADMIN, 'Delete an extra spec for a flavor', PROJECT),
];
