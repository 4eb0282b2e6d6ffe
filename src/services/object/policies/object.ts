/** Object operations; X-Container-Read grants GET/HEAD, X-Container-Write PUT/POST/DELETE/COPY per container. */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { OPERATOR, READER } from './base.js';

const O = '/v1/{account}/{container}/{object}';

export const objectRules: PolicyRule[] = [
  rule('object-store:object:get', READER, 'Get object content and metadata.', {
    ops: [
      ['GET', O],
      ['HEAD', O],
    ],
  }),
  rule('object-store:object:put', OPERATOR, 'Create or replace an object (also the destination of a copy).', {
    ops: [
      ['PUT', O],
      ['COPY', O],
    ],
  }),
  rule('object-store:object:post', OPERATOR, 'Create or update object metadata.', { ops: [['POST', O]] }),
  rule('object-store:object:delete', OPERATOR, 'Delete an object.', { ops: [['DELETE', O]] }),
];
