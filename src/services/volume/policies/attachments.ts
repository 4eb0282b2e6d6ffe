/** cinder/policies/attachments.py (the attachments API, 3.27+) */
import { rule } from '../../../core/auth/policy.js';
import { ANYONE, SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER } from './base.js';

export const attachmentPolicies = [
  rule('volume:attachment_create', ANYONE, 'Create attachment.', { ops: [['POST', '/attachments']] }),
  rule('volume:attachment_update', MEMBER, 'Update attachment.', {
    ops: [['PUT', '/attachments/{attachment_id}']],
  }),
  rule('volume:attachment_delete', MEMBER, 'Delete attachment.', {
    ops: [['DELETE', '/attachments/{attachment_id}']],
  }),
  rule('volume:attachment_complete', MEMBER, 'Mark a volume attachment process as completed (in-use)', {
    ops: [['POST', '/attachments/{attachment_id}/action (os-complete)']],
  }),
  rule('volume:multiattach_bootable_volume', MEMBER, 'Allow multiattach of bootable volumes.'),
];
