/** cinder/policies/volume_actions.py: one rule per action of POST /volumes/{volume_id}/action. */
import { rule } from '../../../core/auth/policy.js';
import { ADMIN_API, SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER } from './base.js';

const action = (name: string) => [['POST', `/volumes/{volume_id}/action (${name})`]] as [string, string][];

export const volumeActionPolicies = [
  rule('volume:extend', MEMBER, 'Extend a volume.', { ops: action('os-extend') }),
  rule('volume:extend_attached_volume', MEMBER, 'Extend a attached volume.', { ops: action('os-extend') }),
  rule('volume:revert_to_snapshot', MEMBER, 'Revert a volume to a snapshot.', { ops: action('revert') }),
  rule('volume_extension:volume_admin_actions:reset_status', ADMIN_API, 'Reset status of a volume.', {
    ops: action('os-reset_status'),
  }),
  rule('volume:retype', MEMBER, 'Retype a volume.', { ops: action('os-retype') }),
  rule('volume:update_readonly_flag', MEMBER, "Update a volume's readonly flag.", {
    ops: action('os-update_readonly_flag'),
  }),
  rule('volume_extension:volume_admin_actions:force_delete', ADMIN_API, 'Force delete a volume.', {
    ops: action('os-force_delete'),
  }),
  rule(
    'volume_extension:volume_actions:upload_public',
    ADMIN_API,
    'Upload a volume to image with public visibility.',
    {
      ops: action('os-volume_upload_image'),
    },
  ),
  rule('volume_extension:volume_actions:upload_image', MEMBER, 'Upload a volume to image.', {
    ops: action('os-volume_upload_image'),
  }),
  rule('volume_extension:volume_admin_actions:force_detach', ADMIN_API, 'Force detach a volume.', {
    ops: action('os-force_detach'),
  }),
  rule('volume_extension:volume_actions:initialize_connection', MEMBER, 'Initialize volume attachment.', {
    ops: action('os-initialize_connection'),
  }),
  rule('volume_extension:volume_actions:terminate_connection', MEMBER, 'Terminate volume attachment.', {
    ops: action('os-terminate_connection'),
  }),
  rule('volume_extension:volume_actions:roll_detaching', MEMBER, "Roll back volume status to 'in-use'.", {
    ops: action('os-roll_detaching'),
  }),
  rule('volume_extension:volume_actions:reserve', MEMBER, 'Mark volume as reserved.', {
    ops: action('os-reserve'),
  }),
  rule('volume_extension:volume_actions:unreserve', MEMBER, 'Unmark volume as reserved.', {
    ops: action('os-unreserve'),
  }),
  rule('volume_extension:volume_actions:begin_detaching', MEMBER, 'Begin detach volumes.', {
    ops: action('os-begin_detaching'),
  }),
  rule('volume_extension:volume_actions:attach', MEMBER, 'Add attachment metadata.', {
    ops: action('os-attach'),
  }),
  rule('volume_extension:volume_actions:detach', MEMBER, 'Clear attachment metadata.', {
    ops: action('os-detach'),
  }),
];
