/** nova/policies/volumes_attachments.py */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import { PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN, PROJECT } from './base.js';

export const volumeAttachmentsPolicies: PolicyRule[] = [
  rule(
    'os_compute_api:os-volumes-attachments:index',
    PROJECT_READER_OR_ADMIN,
    'List volume attachments for an instance',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-volumes-attachments:show',
    PROJECT_READER_OR_ADMIN,
    'Show details of a volume attachment',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-volumes-attachments:create',
    PROJECT_MEMBER_OR_ADMIN,
    'Attach a volume to an instance',
    PROJECT,
  ),
  rule(
    'os_compute_api:os-volumes-attachments:delete',
    PROJECT_MEMBER_OR_ADMIN,
    'Detach a volume from an instance',
    PROJECT,
  ),
];
