/** cinder/policies/snapshots.py, snapshot_actions.py, snapshot_metadata.py */
import { rule } from '../../../core/auth/policy.js';
import {
  ADMIN_API,
  SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER,
  SYSTEM_READER_OR_PROJECT_READER as READER,
} from './base.js';

export const snapshotPolicies = [
  rule('volume:get_snapshot', READER, 'Show snapshot.', { ops: [['GET', '/snapshots/{snapshot_id}']] }),
  rule('volume:get_all_snapshots', READER, 'List snapshots.', {
    ops: [
      ['GET', '/snapshots'],
      ['GET', '/snapshots/detail'],
    ],
  }),
  rule(
    'volume_extension:extended_snapshot_attributes',
    READER,
    'List or show snapshots with extended attributes.',
  ),
  rule('volume:create_snapshot', MEMBER, 'Create snapshot.', { ops: [['POST', '/snapshots']] }),
  rule('volume:update_snapshot', MEMBER, 'Update snapshot.', { ops: [['PUT', '/snapshots/{snapshot_id}']] }),
  rule('volume:delete_snapshot', MEMBER, 'Delete snapshot.', {
    ops: [['DELETE', '/snapshots/{snapshot_id}']],
  }),
  rule('volume_extension:snapshot_admin_actions:reset_status', ADMIN_API, 'Reset status of a snapshot.', {
    ops: [['POST', '/snapshots/{snapshot_id}/action (os-reset_status)']],
  }),
  rule('volume_extension:snapshot_admin_actions:force_delete', ADMIN_API, 'Force delete a snapshot.', {
    ops: [['POST', '/snapshots/{snapshot_id}/action (os-force_delete)']],
  }),
  rule(
    'volume:get_snapshot_metadata',
    READER,
    "Show snapshot's metadata or one specified metadata with a given key.",
    {
      ops: [['GET', '/snapshots/{snapshot_id}/metadata']],
    },
  ),
  rule(
    'volume:update_snapshot_metadata',
    MEMBER,
    "Update snapshot's metadata or one specified metadata with a given key.",
    {
      ops: [['PUT', '/snapshots/{snapshot_id}/metadata']],
    },
  ),
  rule('volume:delete_snapshot_metadata', MEMBER, "Delete snapshot's specified metadata with a given key.", {
    ops: [['DELETE', '/snapshots/{snapshot_id}/metadata/{key}']],
  }),
];
