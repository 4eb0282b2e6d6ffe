/**
 * Glance's default policy rules (glance/policies/base.py, image.py, discovery.py), as data. Names are
 * Glance's own (unprefixed), so a Glance policy file overrides them unchanged. Targets carry Glance's
 * ImageTarget keys: project_id (= owner), owner, visibility, member_id (the caller's project when it sees
 * a shared image it does not own).
 */
import type { PolicyRule } from '../../core/auth/policy.js';

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const IMAGE_MEMBER_CHECK = 'project_id:%(member_id)s';
const COMMUNITY = "'community':%(visibility)s";
const PUBLIC = "'public':%(visibility)s";
const SHARED = "'shared':%(visibility)s";
const ADMIN = 'rule:context_is_admin';
const ADMIN_OR_PROJECT_MEMBER = `${ADMIN} or (${PROJECT_MEMBER})`;
const ADMIN_OR_PROJECT_READER = `${ADMIN} or (${PROJECT_READER})`;
const ADMIN_OR_PROJECT_READER_GET_IMAGE = `${ADMIN} or (role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY} or ${PUBLIC} or ${SHARED}))`;
const ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = `${ADMIN} or (role:member and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK} or ${COMMUNITY} or ${PUBLIC} or ${SHARED}))`;
const ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE = `${ADMIN} or (${PROJECT_MEMBER} and project_id:%(owner)s)`;
const ADMIN_OR_SHARED_MEMBER = `${ADMIN} or (role:member and ${IMAGE_MEMBER_CHECK})`;
const ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER = `${ADMIN} or role:reader and (project_id:%(project_id)s or ${IMAGE_MEMBER_CHECK})`;
const SERVICE_OR_ADMIN = `${ADMIN} or role:service`;

const project = (name: string, check: string, description: string): PolicyRule => ({
  name,
  check,
  scopeTypes: ['project'],
  description,
});

export const imagePolicies: PolicyRule[] = [
  {
    name: 'context_is_admin',
    check: 'role:admin',
    description: 'Defines the rule for the is_admin:True check.',
  },
  project('add_image', ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE, 'Create new image'),
  project('delete_image', ADMIN_OR_PROJECT_MEMBER, 'Deletes the image'),
  project('get_image', ADMIN_OR_PROJECT_READER_GET_IMAGE, 'Get specified image'),
  project('get_images', ADMIN_OR_PROJECT_READER, 'Get all available images'),
  project('modify_image', ADMIN_OR_PROJECT_MEMBER, 'Updates given image'),
  project('publicize_image', ADMIN, 'Publicize given image'),
  project('communitize_image', ADMIN_OR_PROJECT_MEMBER, 'Communitize given image'),
  project('download_image', ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE, 'Downloads given image'),
  project('upload_image', ADMIN_OR_PROJECT_MEMBER, 'Uploads data to specified image'),
  project('get_image_location', ADMIN_OR_PROJECT_READER, 'Gets specified image location'),
  project('add_member', ADMIN_OR_PROJECT_MEMBER, 'Create image member'),
  project('delete_member', ADMIN_OR_PROJECT_MEMBER, 'Delete image member'),
  project('get_member', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'Show image member details'),
  project('get_members', ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER, 'List image members'),
  project('modify_member', ADMIN_OR_SHARED_MEMBER, 'Update image member'),
  project('deactivate', ADMIN_OR_PROJECT_MEMBER, 'Deactivate image'),
  project('reactivate', ADMIN_OR_PROJECT_MEMBER, 'Reactivate image'),
  project('stores_info_detail', SERVICE_OR_ADMIN, 'Expose store specific information'),
];
