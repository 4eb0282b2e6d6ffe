/** nova/policies/server_topology.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const serverTopologyPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-server-topology:index',
    PROJECT_READER_OR_ADMIN,
    'Show the NUMA topology data for a server',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-server-topology:host:index',
    ADMIN,
    'Show the NUMA topology data for a server with host',
    PROJECT,
  ),
];
