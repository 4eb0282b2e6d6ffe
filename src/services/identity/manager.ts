/**
 * Identity operations: the rules Keystone applies beyond the request schema (uniqueness, hierarchy,
 * password rules, cascading deletes, revocation events). Routes call this; this calls the store.
 */
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../core/errors.js';
import { hexId } from '../../core/ids.js';
import { bool, int, isUniqueViolation, json } from '../../core/db/index.js';
import { hashPassword, verifyPassword } from './passwords.js';
import {
  GLOBAL_ROLE_DOMAIN,
  ROOT_DOMAIN,
  type AssignmentRow,
  type AssignmentType,
  type GroupRow,
  type IdentityStore,
  type PasswordRow,
  type ProjectRow,
  type RoleRow,
  type UserRow,
} from './store.js';

export type Extra = Record<string, unknown>;

export interface ProjectInput {
  id?: string;
  name: string;
  domain_id?: string;
  parent_id?: string | null;
  is_domain?: boolean;
  enabled?: boolean;
  description?: string | null;
  tags?: string[];
  options?: Extra;
  extra?: Extra;
}

export interface UserInput {
  id?: string;
  name: string;
  domain_id: string;
  enabled?: boolean;
  password?: string | null;
  default_project_id?: string | null;
  description?: string | null;
  email?: string | null;
  options?: Extra;
  extra?: Extra;
}

export interface RevocationTarget {
  userId?: string;
  projectId?: string;
  domainId?: string;
  roleId?: string;
  auditId?: string;
  auditChainId?: string;
}

/** Raised for role assignment actors/targets; Keystone reports the missing piece by kind. */
const missing = (kind: string, id: string) => notFound(`Could not find ${kind}: ${id}.`, `${kind}NotFound`);

export class IdentityManager {
  /** Bumped on every write that can change a token's validity or roles; token caches key on it. */
  generation = 0;
  /** Listeners told about new revocation events (the token service keeps its in-memory list current). */
  onRevoke: ((seq: number) => void)[] = [];

  constructor(
    readonly store: IdentityStore,
    readonly config: Config,
    readonly log: Logger,
  ) {}

  private changed(): void {
    this.generation++;
  }

  // ------------------------------------------------------------------ domains
  async getDomain(id: string): Promise<ProjectRow> {
    const d = await this.store.get('project', id);
    if (!d || !bool(d.is_domain)) throw missing('domain', id);
    return d;
  }

  async domainByName(name: string): Promise<ProjectRow> {
    const d = await this.store.projectByName(ROOT_DOMAIN, name);
    if (!d) throw missing('domain', name);
    return d;
  }

  async createDomain(
    input: Omit<ProjectInput, 'domain_id' | 'parent_id' | 'is_domain'>,
  ): Promise<ProjectRow> {
    return this.createProject({ ...input, is_domain: true });
  }

  async updateDomain(id: string, patch: Partial<ProjectInput>): Promise<ProjectRow> {
    await this.getDomain(id);
    return this.updateProject(id, patch);
  }

  async deleteDomain(id: string): Promise<void> {
    const d = await this.getDomain(id);
    if (bool(d.enabled)) {
      throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
    }
    await this.store.transaction(async (s) => {
      // Everything owned by the domain goes with it, as Keystone's domain delete cascades.
      for (const u of await s.listUsers({ domainId: id })) await this.deleteUserRows(s, u.id);
      for (const g of await s.listGroups({ domainId: id })) {
        await s.removeAssignmentsFor({ actorId: g.id });
        await s.remove('group', g.id);
      }
      for (const r of await s.listRoles({ domainId: id })) await s.remove('role', r.id);
      const projects = (await s.listProjects({ domainId: id })).filter((p) => p.id !== id);
      // children before parents
      const depth = (p: ProjectRow): number => {
        let n = 0;
        let cur: ProjectRow | undefined = p;
        while (cur && cur.parent_id && cur.parent_id !== id && n < 100) {
          cur = projects.find((x) => x.id === cur!.parent_id);
          n++;
        }
        return n;
      };
      for (const p of projects.sort((a, b) => depth(b) - depth(a))) {
        await s.removeAssignmentsFor({ targetId: p.id });
        await s.remove('project', p.id);
      }
      await s.removeAssignmentsFor({ targetId: id });
      await s.remove('project', id);
    });
    await this.revoke({ domainId: id });
  }

  // ------------------------------------------------------------------ projects
  async getProject(id: string): Promise<ProjectRow> {
    const p = await this.store.get('project', id);
    if (!p || bool(p.is_domain)) throw missing('project', id);
    return p;
  }

  /** A project or a domain acting as a project (is_domain); for grants on /v3/projects. */
  async getProjectOrDomain(id: string): Promise<ProjectRow> {
    const p = await this.store.get('project', id);
    if (!p) throw missing('project', id);
    return p;
  }

  async createProject(input: ProjectInput): Promise<ProjectRow> {
    const isDomain = input.is_domain === true;
    let domainId: string;
    let parentId: string | null;
    if (isDomain) {
      domainId = ROOT_DOMAIN;
      parentId = null;
      if (input.parent_id) throw badRequest('A domain cannot have a parent.');
    } else {
      if (input.parent_id) {
        const parent = await this.store.get('project', input.parent_id);
        if (!parent) throw missing('project', input.parent_id);
        const parentDomain = bool(parent.is_domain) ? parent.id : parent.domain_id;
        if (input.domain_id && input.domain_id !== parentDomain) {
          throw badRequest('Cannot create project, the parent and the project must be in the same domain.');
        }
        domainId = parentDomain;
        parentId = parent.id;
      } else {
        domainId = input.domain_id ?? 'default';
        parentId = domainId;
      }
      const dom = await this.store.get('project', domainId);
      if (!dom || !bool(dom.is_domain)) throw missing('domain', domainId);
    }
    validateTags(input.tags);
    const row: ProjectRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: domainId,
      parent_id: parentId,
      is_domain: int(isDomain),
      enabled: int(input.enabled ?? true),
      description: input.description ?? (isDomain ? '' : ''),
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(input.options ?? {}),
    };
    try {
      await this.store.transaction(async (s) => {
        await s.insert('project', row);
        if (input.tags) await s.setProjectTags(row.id, input.tags);
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          isDomain
            ? `Conflict occurred attempting to store domain - Duplicate entry found with name ${input.name}.`
            : `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${input.name}.`,
        );
      }
      throw e;
    }
    this.changed();
    return row;
  }

  async updateProject(id: string, patch: Partial<ProjectInput>): Promise<ProjectRow> {
    const p = await this.getProjectOrDomain(id);
    if (patch.domain_id !== undefined && patch.domain_id !== p.domain_id) {
      throw badRequest('Update of `domain_id` is not allowed.');
    }
    if (patch.parent_id !== undefined && patch.parent_id !== p.parent_id) {
      throw forbidden('Update of `parent_id` is not allowed.');
    }
    if (patch.is_domain !== undefined && patch.is_domain !== bool(p.is_domain)) {
      throw badRequest('Update of `is_domain` is not allowed.');
    }
    validateTags(patch.tags);
    const disabling = patch.enabled === false && bool(p.enabled);
    if (disabling && !bool(p.is_domain)) {
      const children = await this.store.listProjects({ parentId: id, enabled: true });
      if (children.length > 0) {
        throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
      }
    }
    const upd: Partial<ProjectRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.enabled !== undefined) upd.enabled = int(patch.enabled);
    if (patch.options !== undefined)
      upd.options = JSON.stringify({ ...json(p.options, {}), ...patch.options });
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(p.extra, {}), ...patch.extra });
    try {
      await this.store.transaction(async (s) => {
        await s.update('project', id, upd);
        if (patch.tags !== undefined) await s.setProjectTags(id, patch.tags);
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store project - Duplicate entry found with name ${patch.name}.`,
        );
      }
      throw e;
    }
    if (disabling) await this.revoke(bool(p.is_domain) ? { domainId: id } : { projectId: id });
    this.changed();
    return (await this.store.get('project', id))!;
  }

  async deleteProject(id: string): Promise<void> {
    await this.getProject(id);
    const children = await this.store.listProjects({ parentId: id });
    if (children.length > 0) {
      throw forbidden(`Cannot delete the project ${id} since it is not a leaf in the hierarchy.`);
    }
    await this.store.transaction(async (s) => {
      await s.removeAssignmentsFor({ targetId: id });
      await s.remove('project', id);
    });
    await this.revoke({ projectId: id });
  }

  async ancestors(p: ProjectRow): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let cur = p;
    for (let i = 0; i < 64 && cur.parent_id; i++) {
      const parent = await this.store.get('project', cur.parent_id);
      if (!parent || bool(parent.is_domain)) break;
      out.push(parent);
      cur = parent;
    }
    return out;
  }

  async subtree(id: string): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let frontier = [id];
    for (let i = 0; i < 64 && frontier.length; i++) {
      const next: ProjectRow[] = [];
      for (const pid of frontier)
        next.push(...(await this.store.listProjects({ parentId: pid, isDomain: false })));
      out.push(...next);
      frontier = next.map((p) => p.id);
    }
    return out;
  }

  // ------------------------------------------------------------------ users
  async getUser(id: string): Promise<UserRow> {
    const u = await this.store.get('user', id);
    if (!u) throw missing('user', id);
    return u;
  }

  async passwordExpiresAt(userId: string): Promise<string | null> {
    const [pw] = await this.store.passwords(userId);
    return pw?.expires_at ?? null;
  }

  private checkPasswordRules(password: string): void {
    const sc = this.config.identity.securityCompliance;
    if (sc.passwordRegex && !new RegExp(sc.passwordRegex).test(password)) {
      throw badRequest(
        `Password validation error: The password does not meet the requirements: ${sc.passwordRegexDescription ?? sc.passwordRegex}.`,
      );
    }
  }

  private async newPasswordRow(userId: string, password: string, selfService: boolean) {
    const sc = this.config.identity.securityCompliance;
    const now = new Date();
    const expires =
      sc.passwordExpiresDays > 0
        ? new Date(now.getTime() + sc.passwordExpiresDays * 86400_000).toISOString()
        : null;
    return {
      id: hexId(),
      user_id: userId,
      hash: await hashPassword(password, this.config.identity.bcryptRounds),
      created_at: now.toISOString(),
      expires_at: expires,
      self_service: int(selfService),
    };
  }

  async createUser(input: UserInput): Promise<UserRow> {
    const dom = await this.store.get('project', input.domain_id);
    if (!dom || !bool(dom.is_domain)) throw missing('domain', input.domain_id);
    if (input.default_project_id) await this.getProject(input.default_project_id);
    if (input.password) this.checkPasswordRules(input.password);
    const now = new Date().toISOString();
    const row: UserRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: input.domain_id,
      enabled: int(input.enabled ?? true),
      default_project_id: input.default_project_id ?? null,
      description: input.description ?? null,
      email: input.email ?? null,
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(input.options ?? {}),
      created_at: now,
      last_active_at: null,
      failed_auth_count: 0,
      failed_auth_at: null,
    };
    const pw = input.password ? await this.newPasswordRow(row.id, input.password, false) : undefined;
    if (
      pw &&
      this.config.identity.securityCompliance.changePasswordUponFirstUse &&
      input.options?.ignore_change_password_upon_first_use !== true
    )
      pw.expires_at = now;
    try {
      await this.store.transaction(async (s) => {
        await s.insert('user', row);
        if (pw) await s.addPassword(pw);
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store user - Duplicate entry found with name ${input.name} at domain ID ${input.domain_id}.`,
        );
      }
      throw e;
    }
    return row;
  }

  async updateUser(id: string, patch: Partial<UserInput>): Promise<UserRow> {
    const u = await this.getUser(id);
    if (patch.domain_id !== undefined && patch.domain_id !== u.domain_id) {
      throw badRequest('Update of `domain_id` is not allowed.');
    }
    if (patch.default_project_id) await this.getProject(patch.default_project_id);
    const upd: Partial<UserRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.enabled !== undefined) {
      upd.enabled = int(patch.enabled);
      if (patch.enabled) {
        upd.failed_auth_count = 0;
        upd.failed_auth_at = null;
      }
    }
    if (patch.default_project_id !== undefined) upd.default_project_id = patch.default_project_id;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.email !== undefined) upd.email = patch.email;
    if (patch.options !== undefined)
      upd.options = JSON.stringify({ ...json(u.options, {}), ...patch.options });
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(u.extra, {}), ...patch.extra });
    let pw: PasswordRow | undefined;
    if (typeof patch.password === 'string') {
      this.checkPasswordRules(patch.password);
      await this.checkPasswordHistory(id, patch.password);
      pw = await this.newPasswordRow(id, patch.password, false);
      if (
        this.config.identity.securityCompliance.changePasswordUponFirstUse &&
        json<Extra>(u.options, {}).ignore_change_password_upon_first_use !== true
      )
        pw.expires_at = pw.created_at;
      upd.failed_auth_count = 0;
    }
    try {
      await this.store.transaction(async (s) => {
        await s.update('user', id, upd);
        if (pw) {
          await s.addPassword(pw);
          await s.prunePasswords(
            id,
            Math.max(1, this.config.identity.securityCompliance.uniqueLastPasswordCount),
          );
        }
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store user - Duplicate entry found with name ${patch.name} at domain ID ${u.domain_id}.`,
        );
      }
      throw e;
    }
    if (patch.enabled === false || pw) await this.revoke({ userId: id });
    this.changed();
    return (await this.store.get('user', id))!;
  }

  private async checkPasswordHistory(userId: string, password: string): Promise<void> {
    const n = this.config.identity.securityCompliance.uniqueLastPasswordCount;
    if (n <= 1) return;
    const history = (await this.store.passwords(userId)).slice(0, n);
    for (const h of history) {
      if (await verifyPassword(password, h.hash)) {
        throw badRequest(
          `Password validation error: The new password cannot be identical to a previous password. The total number which includes the new password must be unique is ${n}.`,
        );
      }
    }
  }

  /** Self-service password change: POST /v3/users/{id}/password. */
  async changePassword(userId: string, original: string, password: string): Promise<void> {
    const u = await this.getUser(userId);
    const [current] = await this.store.passwords(userId);
    if (!current || !(await verifyPassword(original, current.hash))) {
      throw new ApiError(401, 'The request you have made requires authentication.');
    }
    const sc = this.config.identity.securityCompliance;
    if (
      sc.minimumPasswordAgeDays > 0 &&
      current &&
      !(current.expires_at && current.expires_at <= current.created_at)
    ) {
      const age = Date.now() - Date.parse(current.created_at);
      if (age < sc.minimumPasswordAgeDays * 86400_000) {
        throw badRequest(
          `Cannot change password before minimum age ${sc.minimumPasswordAgeDays} days is reached.`,
        );
      }
    }
    this.checkPasswordRules(password);
    await this.checkPasswordHistory(userId, password);
    const pw = await this.newPasswordRow(userId, password, true);
    await this.store.transaction(async (s) => {
      await s.addPassword(pw);
      await s.prunePasswords(userId, Math.max(1, sc.uniqueLastPasswordCount));
      await s.update('user', u.id, { failed_auth_count: 0, failed_auth_at: null });
    });
    await this.revoke({ userId });
  }

  private async deleteUserRows(s: IdentityStore, id: string): Promise<void> {
    await s.removeAssignmentsFor({ actorId: id });
    await s.removeCredentialsOf(id);
    await s.remove('user', id);
  }

  async deleteUser(id: string): Promise<void> {
    await this.getUser(id);
    await this.store.transaction((s) => this.deleteUserRows(s, id));
    await this.revoke({ userId: id });
  }

  // ------------------------------------------------------------------ groups
  async getGroup(id: string): Promise<GroupRow> {
    const g = await this.store.get('group', id);
    if (!g) throw missing('group', id);
    return g;
  }

  async createGroup(input: { name: string; domain_id: string; description?: string | null; extra?: Extra }) {
    const dom = await this.store.get('project', input.domain_id);
    if (!dom || !bool(dom.is_domain)) throw missing('domain', input.domain_id);
    const row: GroupRow = {
      id: hexId(),
      name: input.name,
      domain_id: input.domain_id,
      description: input.description ?? '',
      extra: JSON.stringify(input.extra ?? {}),
    };
    try {
      await this.store.insert('group', row);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store group - Duplicate entry found with name ${input.name} at domain ID ${input.domain_id}.`,
        );
      }
      throw e;
    }
    return row;
  }

  async updateGroup(
    id: string,
    patch: { name?: string; description?: string | null; domain_id?: string; extra?: Extra },
  ) {
    const g = await this.getGroup(id);
    if (patch.domain_id !== undefined && patch.domain_id !== g.domain_id) {
      throw badRequest('Update of `domain_id` is not allowed.');
    }
    const upd: Partial<GroupRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(g.extra, {}), ...patch.extra });
    try {
      await this.store.update('group', id, upd);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store group - Duplicate entry found with name ${patch.name}.`,
        );
      throw e;
    }
    return (await this.store.get('group', id))!;
  }

  async deleteGroup(id: string): Promise<void> {
    await this.getGroup(id);
    const members = await this.store.userIdsOfGroup(id);
    await this.store.transaction(async (s) => {
      await s.removeAssignmentsFor({ actorId: id });
      await s.remove('group', id);
    });
    for (const u of members) await this.revoke({ userId: u });
  }

  async addUserToGroup(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    await this.store.addMember(userId, groupId);
    this.changed();
  }

  async removeUserFromGroup(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    if ((await this.store.removeMember(userId, groupId)) === 0) {
      throw notFound(`User ${userId} is not a member of group ${groupId}.`);
    }
    await this.revoke({ userId });
  }

  async checkUserInGroup(groupId: string, userId: string): Promise<void> {
    await this.getGroup(groupId);
    await this.getUser(userId);
    if (!(await this.store.groupIdsOfUser(userId)).includes(groupId)) {
      throw notFound(`User ${userId} is not a member of group ${groupId}.`);
    }
  }

  // ------------------------------------------------------------------ roles
  async getRole(id: string): Promise<RoleRow> {
    const r = await this.store.get('role', id);
    if (!r) throw missing('role', id);
    return r;
  }

  async createRole(input: {
    id?: string;
    name: string;
    domain_id?: string | null;
    description?: string | null;
    options?: Extra;
    extra?: Extra;
  }) {
    if (input.domain_id) await this.getDomain(input.domain_id);
    const row: RoleRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: input.domain_id ?? GLOBAL_ROLE_DOMAIN,
      description: input.description ?? null,
      options: JSON.stringify(input.options ?? {}),
      extra: JSON.stringify(input.extra ?? {}),
    };
    try {
      await this.store.insert('role', row);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store role - Duplicate entry found with name ${input.name}.`,
        );
      }
      throw e;
    }
    return row;
  }

  async updateRole(
    id: string,
    patch: {
      name?: string;
      description?: string | null;
      domain_id?: string | null;
      options?: Extra;
      extra?: Extra;
    },
  ) {
    const r = await this.getRole(id);
    const cur = r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id;
    if (patch.domain_id !== undefined && patch.domain_id !== cur)
      throw badRequest('Update of `domain_id` is not allowed.');
    if (
      json<Extra>(r.options, {}).immutable === true &&
      !(patch.options && patch.options.immutable === false)
    ) {
      throw forbidden(`Role ${id} is immutable.`);
    }
    const upd: Partial<RoleRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.options !== undefined)
      upd.options = JSON.stringify({ ...json(r.options, {}), ...patch.options });
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(r.extra, {}), ...patch.extra });
    try {
      await this.store.update('role', id, upd);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store role - Duplicate entry found with name ${patch.name}.`,
        );
      throw e;
    }
    this.changed();
    return (await this.store.get('role', id))!;
  }

  async deleteRole(id: string): Promise<void> {
    const r = await this.getRole(id);
    if (json<Extra>(r.options, {}).immutable === true) throw forbidden(`Role ${id} is immutable.`);
    const affected = await this.store.assignments({ roleIds: [id] });
    await this.store.transaction(async (s) => {
      await s.db.deleteFrom('assignment').where('role_id', '=', id).execute();
      await s.db
        .deleteFrom('implied_role')
        .where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)]))
        .execute();
      await s.remove('role', id);
    });
    for (const a of affected) if (a.type.startsWith('User')) await this.revoke({ userId: a.actor_id });
    this.changed();
  }

  async createImpliedRole(prior: string, implied: string): Promise<void> {
    const p = await this.getRole(prior);
    const i = await this.getRole(implied);
    if (i.name === 'admin' && i.domain_id === GLOBAL_ROLE_DOMAIN) {
      throw forbidden('admin role may not be implied by another role.');
    }
    if (p.domain_id !== GLOBAL_ROLE_DOMAIN && i.domain_id === GLOBAL_ROLE_DOMAIN) {
      // Keystone allows a domain-specific role to imply a global one, not the reverse.
    } else if (p.domain_id === GLOBAL_ROLE_DOMAIN && i.domain_id !== GLOBAL_ROLE_DOMAIN) {
      throw forbidden('A global role may not imply a domain-specific role.');
    }
    // Refuse cycles.
    const rules = await this.store.impliedRules();
    const reach = new Set<string>([implied]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of rules) {
        if (reach.has(r.prior_role_id) && !reach.has(r.implied_role_id)) {
          reach.add(r.implied_role_id);
          grew = true;
        }
      }
    }
    if (reach.has(prior) || prior === implied) throw forbidden('Implied role would create a cycle.');
    await this.store.addImplied(prior, implied);
    this.changed();
  }

  async deleteImpliedRole(prior: string, implied: string): Promise<void> {
    await this.getRole(prior);
    await this.getRole(implied);
    if ((await this.store.removeImplied(prior, implied)) === 0) {
      throw notFound(`${prior} does not imply ${implied}.`, 'ImpliedRoleNotFound');
    }
    this.changed();
  }

  async checkImpliedRole(prior: string, implied: string): Promise<void> {
    await this.getRole(prior);
    await this.getRole(implied);
    const rules = await this.store.impliedRules();
    if (!rules.some((r) => r.prior_role_id === prior && r.implied_role_id === implied)) {
      throw notFound(`${prior} does not imply ${implied}.`, 'ImpliedRoleNotFound');
    }
  }

  /** Expand role ids with every role they imply (transitively). */
  async expandImplied(roleIds: Iterable<string>): Promise<Set<string>> {
    const out = new Set(roleIds);
    const rules = await this.store.impliedRules();
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of rules) {
        if (out.has(r.prior_role_id) && !out.has(r.implied_role_id)) {
          out.add(r.implied_role_id);
          grew = true;
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ grants
  async grant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    await this.store.addAssignment(a);
    this.changed();
  }

  async checkGrant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    const found = await this.store.assignments({
      types: [a.type],
      actorIds: [a.actor_id],
      targetIds: [a.target_id],
      roleIds: [a.role_id],
      inherited: bool(a.inherited),
    });
    if (found.length === 0) throw this.assignmentMissing(a);
  }

  private assignmentMissing(a: AssignmentRow): ApiError {
    const actor = a.type.startsWith('User') ? 'user' : 'group';
    const target = a.type.endsWith('Project') ? 'project' : a.type.endsWith('Domain') ? 'domain' : 'system';
    return notFound(
      `Could not find role assignment with role: ${a.role_id}, ${actor}: ${a.actor_id}, ${target}: ${a.target_id}.`,
      'RoleAssignmentNotFound',
    );
  }

  async revokeGrant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    if ((await this.store.removeAssignment(a)) === 0) throw this.assignmentMissing(a);
    const users = a.type.startsWith('User') ? [a.actor_id] : await this.store.userIdsOfGroup(a.actor_id);
    for (const u of users) {
      if (a.type.endsWith('Project')) await this.revoke({ userId: u, projectId: a.target_id });
      else if (a.type.endsWith('Domain'))
        await this.revoke({ userId: u, domainId: bool(a.inherited) ? undefined : a.target_id });
      else await this.revoke({ userId: u });
    }
    this.changed();
  }

  private async checkGrantParts(a: AssignmentRow): Promise<void> {
    const role = await this.getRole(a.role_id);
    if (a.type.startsWith('User')) await this.getUser(a.actor_id);
    else await this.getGroup(a.actor_id);
    let targetDomain: string | undefined;
    if (a.type.endsWith('Project')) {
      const p = await this.getProjectOrDomain(a.target_id);
      targetDomain = bool(p.is_domain) ? p.id : p.domain_id;
    } else if (a.type.endsWith('Domain')) {
      targetDomain = (await this.getDomain(a.target_id)).id;
    }
    if (role.domain_id !== GLOBAL_ROLE_DOMAIN && targetDomain && role.domain_id !== targetDomain) {
      throw forbidden(
        `Cannot assign domain-specific role ${role.id} from domain ${role.domain_id} to a target in domain ${targetDomain}.`,
      );
    }
  }

  async rolesOf(
    type: AssignmentType,
    actorId: string,
    targetId: string,
    inherited = false,
  ): Promise<RoleRow[]> {
    const rows = await this.store.assignments({
      types: [type],
      actorIds: [actorId],
      targetIds: [targetId],
      inherited,
    });
    return this.store.listRoles({ ids: rows.map((r) => r.role_id) });
  }

  /**
   * Effective role ids of a user on a scope: direct and group assignments, inherited assignments from
   * the project's ancestors and domain, expanded with implied roles.
   */
  async effectiveRoleIds(userId: string, scope: { projectId?: string; domainId?: string; system?: boolean }) {
    const groups = await this.store.groupIdsOfUser(userId);
    const actors = [userId, ...groups];
    const ids = new Set<string>();
    if (scope.system) {
      for (const a of await this.store.assignments({
        types: ['UserSystem', 'GroupSystem'],
        actorIds: actors,
        targetIds: ['system'],
      }))
        ids.add(a.role_id);
    } else if (scope.domainId) {
      for (const a of await this.store.assignments({
        types: ['UserDomain', 'GroupDomain'],
        actorIds: actors,
        targetIds: [scope.domainId],
        inherited: false,
      }))
        ids.add(a.role_id);
    } else if (scope.projectId) {
      const p = await this.store.get('project', scope.projectId);
      if (!p) return ids;
      for (const a of await this.store.assignments({
        types: ['UserProject', 'GroupProject'],
        actorIds: actors,
        targetIds: [p.id],
        inherited: false,
      }))
        ids.add(a.role_id);
      const inheritedFrom = [(await this.ancestors(p)).map((x) => x.id), p.domain_id].flat();
      for (const a of await this.store.assignments({
        types: ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain'],
        actorIds: actors,
        targetIds: inheritedFrom,
        inherited: true,
      }))
        ids.add(a.role_id);
    }
    return this.expandImplied(ids);
  }

  // ------------------------------------------------------------------ revocation
  private revSeq = 0;

  /** Record a revocation event (Keystone's revoke model): tokens matching every given field are revoked. */
  async revoke(t: RevocationTarget): Promise<void> {
    const now = new Date();
    const seq = Math.max(await this.store.maxRevocationSeq(), this.revSeq) + 1;
    this.revSeq = seq;
    const expires = new Date(now.getTime() + this.config.identity.tokenExpirationSeconds * 1000 + 3600_000);
    await this.store.addRevocation({
      id: hexId(),
      seq,
      user_id: t.userId ?? null,
      project_id: t.projectId ?? null,
      domain_id: t.domainId ?? null,
      role_id: t.roleId ?? null,
      audit_id: t.auditId ?? null,
      audit_chain_id: t.auditChainId ?? null,
      issued_before: now.toISOString(),
      revoked_at: now.toISOString(),
      expires_at: expires.toISOString(),
    });
    this.changed();
    for (const l of this.onRevoke) l(seq);
  }
}

function validateTags(tags: string[] | undefined): void {
  if (!tags) return;
  if (tags.length > 80) throw badRequest('Invalid input: a project may have at most 80 tags.');
  for (const t of tags) {
    if (t.length === 0 || t.length > 255 || t.includes('/') || t.includes(',')) {
      throw badRequest(`Invalid tag "${t}": tags are 1-255 characters and may not contain "/" or ",".`);
    }
  }
}
