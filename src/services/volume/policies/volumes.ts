/** cinder/policies/volumes.py and volume_metadata.py */
import { rule } from '../../../core/auth/policy.js';
import {
  ADMIN_API,
  SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER,
  SYSTEM_READER_OR_PROJECT_READER as READER,
} from './base.js';

export const volumePolicies = [
  rule('volume:create', MEMBER, 'Create volume.', { ops: [['POST', '/volumes']] }),
  rule('volume:create_from_image', MEMBER, 'Create volume from image.', { ops: [['POST', '/volumes']] }),
  rule('volume:get', READER, 'Show volume.', { ops: [['GET', '/volumes/{volume_id}']] }),
  rule('volume:get_all', READER, 'List volumes or get summary of volumes.', {
    ops: [
      ['GET', '/volumes'],
      ['GET', '/volumes/detail'],
      ['GET', '/volumes/summary'],
    ],
  }),
  rule('volume:update', MEMBER, "Update volume or update a volume's bootable status.", {
    ops: [
      ['PUT', '/volumes'],
      ['POST', '/volumes/{volume_id}/action (os-set_bootable)'],
    ],
  }),
  rule('volume:delete', MEMBER, 'Delete volume.', { ops: [['DELETE', '/volumes/{volume_id}']] }),
  rule('volume:force_delete', ADMIN_API, 'Force Delete a volume.', {
    ops: [['DELETE', '/volumes/{volume_id}']],
  }),
  rule('volume_extension:volume_host_attribute', ADMIN_API, 'List or show volume with host attribute.'),
  rule('volume_extension:volume_tenant_attribute', READER, 'List or show volume with tenant attribute.'),
  rule(
    'volume_extension:volume_mig_status_attribute',
    ADMIN_API,
    'List or show volume with migration status attribute.',
  ),
  rule('volume_extension:volume_encryption_metadata', READER, "Show volume's encryption metadata."),
  rule('volume:multiattach', MEMBER, 'Create multiattach capable volume.', { ops: [['POST', '/volumes']] }),
  rule(
    'volume:get_volume_metadata',
    READER,
    "Show volume's metadata or one specified metadata with a given key.",
    {
      ops: [
        ['GET', '/volumes/{volume_id}/metadata'],
        ['GET', '/volumes/{volume_id}/metadata/{key}'],
      ],
    },
  ),
  rule('volume:create_volume_metadata', MEMBER, 'Create volume metadata.', {
    ops: [['POST', '/volumes/{volume_id}/metadata']],
  }),
  rule(
    'volume:update_volume_metadata',
    MEMBER,
    "Replace a volume's metadata dictionary or update a single metadatum with a given key.",
    {
      ops: [
        ['PUT', '/volumes/{volume_id}/metadata'],
        ['PUT', '/volumes/{volume_id}/metadata/{key}'],
      ],
    },
  ),
  rule('volume:delete_volume_metadata', MEMBER, "Delete a volume's metadatum with the given key.", {
    ops: [['DELETE', '/volumes/{volume_id}/metadata/{key}']],
  }),
  rule(
    'volume_extension:volume_image_metadata:show',
    READER,
    "Include volume's image metadata in volume detail.",
  ),
  rule('volume_extension:volume_image_metadata:set', MEMBER, 'Set image metadata for a volume'),
  rule(
    'volume_extension:volume_image_metadata:remove',
    MEMBER,
    'Remove specific image metadata from a volume',
  ),
  rule('volume:update_volume_admin_metadata', ADMIN_API, 'Update volume admin metadata.'),
];
