/** Users, passwords and groups (Keystone keystone/identity/core.py): password rules, history, lockout, membership. */
import { ApiError, badRequest, conflict, notFound } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import { bool, int, isUniqueViolation, json } from '../../../core/db/index.js';
import { hashPassword, verifyPassword } from '../passwords.js';
import { type GroupRow, type PasswordRow, type UserRow } from '../store.js';
import { ResourceManager } from './resource.js';
import { missing, type Extra, type UserInput } from './base.js';

export class IdentityBackend extends ResourceManager {
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

  protected checkPasswordRules(password: string): void {
    const sc = this.config.identity.securityCompliance;
    if (sc.passwordRegex && !new RegExp(sc.passwordRegex).test(password)) {
      throw badRequest(
        `Password validation error: The password does not meet the requirements: ${sc.passwordRegexDescription ?? sc.passwordRegex}.`,
      );
    }
  }

  protected async newPasswordRow(userId: string, password: string, selfService: boolean) {
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

  protected async checkPasswordHistory(userId: string, password: string): Promise<void> {
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
}
