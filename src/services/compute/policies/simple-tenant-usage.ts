/** nova/policies/simple_tenant_usage.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const simpleTenantUsagePolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-simple-tenant-usage:show',
    PROJECT_READER_OR_ADMIN,
    'Show usage statistics for a specific tenant',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-simple-tenant-usage:list',
    ADMIN,
    'List per tenant usage statistics for all tenants',
    PROJECT,
  ),
];
