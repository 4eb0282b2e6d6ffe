/** Image members: sharing (glance/policies/image.py, member rules). */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import {
  ADMIN_OR_PROJECT_MEMBER,
  ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER,
  ADMIN_OR_SHARED_MEMBER,
  PROJECT_SCOPE,
} from './base.js';

export const memberRules: PolicyRule[] = [
  rule('add_member', ADMIN_OR_PROJECT_MEMBER, 'Create image member', PROJECT_SCOPE),
  rule('delete_member', ADMIN_OR_PROJECT_MEMBER, 'Delete image member', PROJECT_SCOPE),
  rule('get_member', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'Show image member details', PROJECT_SCOPE),
  rule('get_members', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'List image members', PROJECT_SCOPE),
  rule('modify_member', ADMIN_OR_SHARED_MEMBER, 'Update image member', PROJECT_SCOPE),
];
