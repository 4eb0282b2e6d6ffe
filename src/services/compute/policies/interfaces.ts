/** nova/policies/attach_interfaces.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const interfacesPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-attach-interfaces:list',
    PROJECT_READER_OR_ADMIN,
    'List port interfaces attached to a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-attach-interfaces:show',
    PROJECT_READER_OR_ADMIN,
    'Show details of a port interface attached to a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-attach-interfaces:create',
    PROJECT_MEMBER_OR_ADMIN,
    'Attach an interface to a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-attach-interfaces:delete',
    PROJECT_MEMBER_OR_ADMIN,
    'Detach an interface from a server',
    PROJECT,
  ),
];
