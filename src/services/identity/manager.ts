/**
 * Identity operations: the rules Keystone applies beyond the request schema (uniqueness, hierarchy,
 * password rules, cascading deletes, revocation events). Routes call this; this calls the store.
 *
 * Split by concern as Keystone's managers are, each file extending the one before:
 * manager/base.ts (store, generation, revocation) → resource.ts (domains, projects) → identity.ts (users,
 * passwords, groups) → assignment.ts (roles, implied roles, grants) → catalog.ts (regions, services,
 * endpoints) → credentials.ts (credentials, application credentials).
 */
import { CredentialManager } from './manager/credentials.js';

export type { Extra, ProjectInput, RevocationTarget, UserInput } from './manager/base.js';
/** What routes need of the store's vocabulary (routes do not import the store). */
export {
  GLOBAL_ROLE_DOMAIN,
  type AssignmentRow,
  type AssignmentType,
  type ProjectRow,
  type RoleRow,
} from './store.js';

export class IdentityManager extends CredentialManager {}
