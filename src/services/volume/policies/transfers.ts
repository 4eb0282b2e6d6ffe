/** cinder/policies/volume_transfer.py */
import { rule } from '../../../core/auth/policy.js';
import {
  SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER,
  SYSTEM_READER_OR_PROJECT_READER as READER,
} from './base.js';

const both = (method: string, suffix: string): [string, string][] => [
  [method, `/os-volume-transfer${suffix}`],
  [method, `/volume-transfers${suffix}`],
];

export const transferPolicies = [
  rule('volume:get_all_transfers', READER, 'List volume transfer.', {
    ops: [...both('GET', ''), ...both('GET', '/detail')],
  }),
  rule('volume:create_transfer', MEMBER, 'Create a volume transfer.', { ops: both('POST', '') }),
  rule('volume:get_transfer', READER, 'Show one specified volume transfer.', {
    ops: both('GET', '/{transfer_id}'),
  }),
  rule('volume:accept_transfer', MEMBER, 'Accept a volume transfer.', {
    ops: both('POST', '/{transfer_id}/accept'),
  }),
  rule('volume:delete_transfer', MEMBER, 'Delete volume transfer.', {
    ops: both('DELETE', '/{transfer_id}'),
  }),
];
