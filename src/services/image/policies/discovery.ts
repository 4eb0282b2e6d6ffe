/** Discovery (glance/policies/discovery.py). */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_SCOPE, SERVICE_OR_ADMIN } from './base.js';

export const discoveryRules: PolicyRule[] = [
  rule('stores_info_detail', SERVICE_OR_ADMIN, 'Expose store specific information', PROJECT_SCOPE),
];
