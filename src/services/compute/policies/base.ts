/**
 * Nova's named check strings (nova/policies/base.py) and the base rules they refer to. Every
 * `policies/<resource>.ts` builds its rules from these constants, never from raw check strings.
 */
import type { PolicyRule, ScopeType } from '../../../core/auth/policy.js';

/** base.ADMIN */
export const ADMIN = 'rule:context_is_admin';
/** base.PROJECT_MEMBER_OR_ADMIN */
export const PROJECT_MEMBER_OR_ADMIN = 'rule:project_member_or_admin';
/** base.PROJECT_READER_OR_ADMIN */
export const PROJECT_READER_OR_ADMIN = 'rule:project_reader_or_admin';
/** Any authenticated caller (Nova's RULE_ANY / a rule that is not checked). */
export const ANY = '@';
/** keypairs.py: an admin, or the owner of the key pair. */
export const ADMIN_OR_OWNER = '(rule:context_is_admin) or user_id:%(user_id)s';

/** Every compute rule is project-scoped, as in Nova (`scope_types=['project']`). */
export const PROJECT: { scope: ScopeType[] } = { scope: ['project'] };

export const computeBaseRules: PolicyRule[] = [
  {
    name: 'context_is_admin',
    check: 'role:admin',
    description: "Decides what is required for the 'is_admin:True' check to succeed.",
  },
  { name: 'project_manager_api', check: 'role:manager and project_id:%(project_id)s' },
  { name: 'project_member_api', check: 'role:member and project_id:%(project_id)s' },
  { name: 'project_reader_api', check: 'role:reader and project_id:%(project_id)s' },
  { name: 'project_manager_or_admin', check: 'rule:project_manager_api or rule:context_is_admin' },
  { name: 'project_member_or_admin', check: `rule:project_member_api or ${ADMIN}` },
  { name: 'project_reader_or_admin', check: `rule:project_reader_api or ${ADMIN}` },
];
