/** cinder/policies/quotas.py, quota_class.py, limits.py */
import { rule } from '../../../core/auth/policy.js';
import { ADMIN_API, SYSTEM_READER_OR_PROJECT_READER as READER } from './base.js';

export const quotaPolicies = [
  rule('volume_extension:quotas:show', READER, 'Show project quota (including usage and default).', {
    ops: [
      ['GET', '/os-quota-sets/{project_id}'],
      ['GET', '/os-quota-sets/{project_id}/default'],
      ['GET', '/os-quota-sets/{project_id}?usage=True'],
    ],
  }),
  rule('volume_extension:quotas:update', ADMIN_API, 'Update project quota.', {
    ops: [['PUT', '/os-quota-sets/{project_id}']],
  }),
  rule('volume_extension:quotas:delete', ADMIN_API, 'Delete project quota.', {
    ops: [['DELETE', '/os-quota-sets/{project_id}']],
  }),
  rule('volume_extension:quota_classes', ADMIN_API, 'Show or update project quota class.', {
    ops: [
      ['GET', '/os-quota-class-sets/{project_id}'],
      ['PUT', '/os-quota-class-sets/{project_id}'],
    ],
  }),
  rule('limits_extension:used_limits', READER, 'Show limits with used limit attributes.', {
    ops: [['GET', '/limits']],
  }),
];
