/** nova/policies/extension_info.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ANY, PROJECT } from './base.js';

export const extensionsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:extensions',
    ANY,
    'List available extensions and show information for an extension by alias',
    PROJECT,
  ),
];
