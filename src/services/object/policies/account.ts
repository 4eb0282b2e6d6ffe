/** Account operations (GET/HEAD/POST /v1/AUTH_<project_id>). */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { OPERATOR, READER } from './base.js';

const A = '/v1/{account}';

export const accountRules: PolicyRule[] = [
  rule('object-store:account:get', READER, 'Show account details and list containers.', {
    ops: [
      ['GET', A],
      ['HEAD', A],
    ],
  }),
  rule(
    'object-store:account:post',
    OPERATOR,
    'Create, update or delete account metadata (and temp URL keys).',
    {
      ops: [['POST', A]],
    },
  ),
];
