/**
 * Cinder's named check strings (cinder/policies/base.py): the rules every other policy file builds on. The
 * defaults are Cinder's current ones (the "xena" persona rules): admin, project member, project reader.
 */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';

const PROJECT_MEMBER = 'role:member and project_id:%(project_id)s';
const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
const LEGACY_SYSTEM_ADMIN = 'role:admin';

/** Most admin APIs (reset-status, force-delete, types, quotas update, services). */
export const ADMIN_API = 'rule:admin_api';
/** Admin, or a member of the resource's project. */
export const SYSTEM_ADMIN_OR_PROJECT_MEMBER = 'rule:xena_system_admin_or_project_member';
/** Admin, or a reader of the resource's project. */
export const SYSTEM_READER_OR_PROJECT_READER = 'rule:xena_system_admin_or_project_reader';
/** Anyone authenticated. */
export const ANYONE = '';
/** Stackbox's rule for documents Cinder serves without a rule (availability zones, extensions). */
export const DISCOVERY_RULE = 'block-storage:discovery';

export const baseRules: PolicyRule[] = [
  rule(
    'context_is_admin',
    'role:admin',
    "Decides what is required for the 'is_admin:True' check to succeed.",
  ),
  rule(
    'admin_api',
    'is_admin:True or (role:admin and is_admin_project:True)',
    'Default rule for most Admin APIs.',
  ),
  rule(
    'xena_system_admin_or_project_reader',
    `(${LEGACY_SYSTEM_ADMIN}) or (${PROJECT_READER})`,
    'NOTE: this purely role-based rule recognizes only project scope',
  ),
  rule(
    'xena_system_admin_or_project_member',
    `(${LEGACY_SYSTEM_ADMIN}) or (${PROJECT_MEMBER})`,
    'NOTE: this purely role-based rule recognizes only project scope',
  ),
  rule(
    DISCOVERY_RULE,
    ANYONE,
    'Availability zones and extensions: any authenticated user (Cinder has no rule).',
  ),
];
