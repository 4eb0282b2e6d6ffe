/**
 * Glance's named check strings (glance/policies/base.py) and its base rule. Rule names are Glance's own
 * (unprefixed), so a Glance policy file overrides them unchanged. Targets carry Glance's ImageTarget keys:
 * project_id (= owner), owner, visibility, member_id (the caller's project when it sees a shared image it
 * does not own).
 */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';

export const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
export const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
export const IMAGE_MEMBER_CHECK = 'project_id:%(member_id)s';
export const COMMUNITY_VISIBILITY_CHECK = "'community':%(visibility)s";
export const PUBLIC_VISIBILITY_CHECK = "'public':%(visibility)s";
export const SHARED_VISIBILITY_CHECK = "'shared':%(visibility)s";
export const ADMIN = 'rule:context_is_admin';
export const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
export const ADMIN_OR_PROJECT_READER = `${ADMIN} or (${PROJECT_READER})`;
export const ADMIN_OR_PROJECT_READER_GET_IMAGE = `${ADMIN} or (role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY_VISIBILITY_CHECK} or ${PUBLIC_VISIBILITY_CHECK} or ${SHARED_VISIBILITY_CHECK}))`;
export const ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = `${ADMIN} or (role:member and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY_VISIBILITY_CHECK} or ${PUBLIC_VISIBILITY_CHECK} or ${SHARED_VISIBILITY_CHECK}))`;
export const ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = `${ADMIN} or (${PROJECT_MEMBER} and project_id:%(owner)s)`;
export const ADMIN_OR_SHARED_MEMBER = `${ADMIN} or (role:member and ${IMAGE_MEMBER_CHECK})`;
export const ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})`;
export const SERVICE_OR_ADMIN = `${ADMIN} or role:service`;

/** Glance's rules are project-scoped. */
export const PROJECT_SCOPE = { scope: ['project' as const] };

/** glance/policies/base.py `rules`. */
export const basePolicies: PolicyRule[] = [
  rule('context_is_admin', 'role:admin', 'Defines the rule for the is_admin:True check.'),
];
