/** cinder/policies/services.py, scheduler_stats.py, capabilities.py */
import { rule } from '../../../core/auth/policy.js';
import { ADMIN_API } from './base.js';

export const servicePolicies = [
  rule('volume_extension:services:index', ADMIN_API, 'List all services.', {
    ops: [['GET', '/os-services']],
  }),
  rule(
    'volume_extension:services:update',
    ADMIN_API,
    'Update service, including failover_host, thaw, freeze, disable, enable, set-log and get-log actions.',
    {
      ops: [['PUT', '/os-services/{action}']],
    },
  ),
  rule('scheduler_extension:scheduler_stats:get_pools', ADMIN_API, 'List all backend pools.', {
    ops: [['GET', '/scheduler-stats/get_pools']],
  }),
  rule('volume_extension:capabilities', ADMIN_API, 'Show backend capabilities.', {
    ops: [['GET', '/capabilities/{host_name}']],
  }),
];
