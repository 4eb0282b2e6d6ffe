/** cinder/policies/volume_type.py, type_extra_specs.py, volume_access.py */
import { rule } from '../../../core/auth/policy.js';
import {
  ADMIN_API,
  SYSTEM_ADMIN_OR_PROJECT_MEMBER as MEMBER,
  SYSTEM_READER_OR_PROJECT_READER as READER,
} from './base.js';

export const typePolicies = [
  rule('volume_extension:types_manage', ADMIN_API, 'Manage volume types (deprecated umbrella rule).'),
  rule('volume_extension:type_create', ADMIN_API, 'Create volume type.', { ops: [['POST', '/types']] }),
  rule('volume_extension:type_update', ADMIN_API, 'Update volume type.', { ops: [['PUT', '/types']] }),
  rule('volume_extension:type_delete', ADMIN_API, 'Delete volume type.', { ops: [['DELETE', '/types']] }),
  rule('volume_extension:type_get', READER, 'Get one specific volume type.', {
    ops: [['GET', '/types/{type_id}']],
  }),
  rule('volume_extension:type_get_all', READER, 'List volume types.', { ops: [['GET', '/types/']] }),
  rule(
    'volume_extension:access_types_extra_specs',
    READER,
    "Include the volume type's extra_specs attribute in the volume type list or show requests.",
  ),
  rule(
    'volume_extension:access_types_qos_specs_id',
    ADMIN_API,
    "Include the volume type's QoS specifications ID attribute in the volume type list or show requests.",
  ),
  rule('volume_extension:types_extra_specs:index', READER, 'List type extra specs.', {
    ops: [['GET', '/types/{type_id}/extra_specs']],
  }),
  rule('volume_extension:types_extra_specs:create', ADMIN_API, 'Create type extra specs.', {
    ops: [['POST', '/types/{type_id}/extra_specs']],
  }),
  rule('volume_extension:types_extra_specs:show', READER, 'Show one specified type extra specs.', {
    ops: [['GET', '/types/{type_id}/extra_specs/{extra_spec_key}']],
  }),
  rule(
    'volume_extension:types_extra_specs:read_sensitive',
    ADMIN_API,
    'Include extra_specs fields that may reveal sensitive information about the deployment that should not be exposed to end users.',
  ),
  rule('volume_extension:types_extra_specs:update', ADMIN_API, 'Update type extra specs.', {
    ops: [['PUT', '/types/{type_id}/extra_specs/{extra_spec_key}']],
  }),
  rule('volume_extension:types_extra_specs:delete', ADMIN_API, 'Delete type extra specs.', {
    ops: [['DELETE', '/types/{type_id}/extra_specs/{extra_spec_key}']],
  }),
  rule(
    'volume_extension:volume_type_access',
    MEMBER,
    "Adds the boolean field 'os-volume-type-access:is_public' to the responses.",
  ),
  rule(
    'volume_extension:volume_type_access:addProjectAccess',
    ADMIN_API,
    'Add volume type access for project.',
    {
      ops: [['POST', '/types/{type_id}/action (addProjectAccess)']],
    },
  ),
  rule(
    'volume_extension:volume_type_access:removeProjectAccess',
    ADMIN_API,
    'Remove volume type access for project.',
    {
      ops: [['POST', '/types/{type_id}/action (removeProjectAccess)']],
    },
  ),
  rule(
    'volume_extension:volume_type_access:get_all_for_type',
    ADMIN_API,
    'List private volume type access detail, that is, list the projects that have access to this volume type.',
    {
      ops: [['GET', '/types/{type_id}/os-volume-type-access']],
    },
  ),
];
