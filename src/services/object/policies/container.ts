/** Container operations; X-Container-Read also grants GET/HEAD (listing) per container. */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { OPERATOR, READER } from './base.js';

const C = '/v1/{account}/{container}';

export const containerRules: PolicyRule[] = [
  rule('object-store:container:get', READER, 'Show container details and list objects.', {
    ops: [
      ['GET', C],
      ['HEAD', C],
    ],
  }),
  rule('object-store:container:put', OPERATOR, 'Create a container or update it.', { ops: [['PUT', C]] }),
  rule('object-store:container:post', OPERATOR, 'Create, update or delete container metadata.', {
    ops: [['POST', C]],
  }),
  rule('object-store:container:delete', OPERATOR, 'Delete an empty container.', { ops: [['DELETE', C]] }),
  rule(
    'object-store:container:set_acl',
    OPERATOR,
    'Set or see X-Container-Read / X-Container-Write (and other owner-only headers).',
    {
      ops: [
        ['PUT', C],
        ['POST', C],
      ],
    },
  ),
];
