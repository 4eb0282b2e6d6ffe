/** Images and their data (glance/policies/image.py). */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';
import {
  ADMIN,
  ADMIN_OR_PROJECT_MEMBER,
  ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE,
  ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
  ADMIN_OR_PROJECT_READER,
  ADMIN_OR_PROJECT_READER_GET_IMAGE,
  PROJECT_SCOPE,
} from './base.js';

export const imageRules: PolicyRule[] = [
  rule('add_image', ADMIN_OR_PROJECT_MEMBER_CREATE_IMAGE, 'Create new image', PROJECT_SCOPE),
  rule('delete_image', ADMIN_OR_PROJECT_MEMBER, 'Deletes the image', PROJECT_SCOPE),
  rule('get_image', ADMIN_OR_PROJECT_READER_GET_IMAGE, 'Get specified image', PROJECT_SCOPE),
  rule('get_images', ADMIN_OR_PROJECT_READER, 'Get all available images', PROJECT_SCOPE),
  rule('modify_image', ADMIN_OR_PROJECT_MEMBER, 'Updates given image', PROJECT_SCOPE),
  rule('publicize_image', ADMIN, 'Publicize given image', PROJECT_SCOPE),
  rule('communitize_image', ADMIN_OR_PROJECT_MEMBER, 'Communitize given image', PROJECT_SCOPE),
  rule('download_image', ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE, 'Downloads given image', PROJECT_SCOPE),
  rule('upload_image', ADMIN_OR_PROJECT_MEMBER, 'Uploads data to specified image', PROJECT_SCOPE),
  rule('get_image_location', ADMIN_OR_PROJECT_READER, 'Gets specified image location', PROJECT_SCOPE),
  rule('deactivate', ADMIN_OR_PROJECT_MEMBER, 'Deactivate image', PROJECT_SCOPE),
  rule('reactivate', ADMIN_OR_PROJECT_MEMBER, 'Reactivate image', PROJECT_SCOPE),
];
