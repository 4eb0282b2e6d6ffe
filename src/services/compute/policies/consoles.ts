/** nova/policies/console_output.py, remote_consoles.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT } from './base.js';

export const consolesPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-console-output',
    PROJECT_MEMBER_OR_ADMIN,
    'Show console output for a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-remote-consoles',
    PROJECT_MEMBER_OR_ADMIN,
    'Generate a URL to access remove server console',
    PROJECT,
  ),
];
