/**
 * Credentials (Keystone keystone/credential/core.py) and application credentials (keystone/application_credential):
 * the rows, their uniqueness and the EC2 credential id rule. Who may act is decided by the routes.
 */
import { createHash } from 'node:crypto';
import { isUniqueViolation } from '../../../core/db/index.js';
import { badRequest, conflict, notFound } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import { hashPassword } from '../passwords.js';
import { GLOBAL_ROLE_DOMAIN, type AppCredRow, type CredentialRow } from '../store.js';
import type { Extra } from './base.js';
import { CatalogManager } from './catalog.js';

export interface AppCredInput {
  name: string;
  userId: string;
  projectId: string | null;
  system: boolean;
  secret: string;
  description?: string | null;
  expiresAt?: string | null;
  unrestricted?: boolean;
  roles: { id: string }[];
}

export interface CredentialInput {
  user_id: string;
  project_id?: string | null;
  type: string;
  blob: string;
  extra?: Extra;
}

export class CredentialManager extends CatalogManager {
  // ------------------------------------------------------------------ application credentials
  /** The roles of an application credential as its view shows them (global roles with a null domain). */
  async appCredRoles(ids: { id: string }[]) {
    return (await this.store.listRoles({ ids: ids.map((r) => r.id) })).map((r) => ({
      id: r.id,
      name: r.name,
      domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
    }));
  }

  /**
   * The roles an application credential gets: those asked for (by id or name), each of which the token must
   * carry, or all the token's roles.
   */
  appCredRolesFromToken(
    tokenRoles: { id: string; name: string }[],
    requested: { id?: string; name?: string }[] | undefined,
    userId: string,
  ): { id: string }[] {
    if (!requested || !requested.length) return tokenRoles.map((r) => ({ id: r.id }));
    return requested.map((r) => {
      const match = tokenRoles.find((t) => (r.id && t.id === r.id) || (r.name && t.name === r.name));
      if (!match)
        throw notFound(`Could not find role assignment with role: ${r.id ?? r.name}, user: ${userId}.`);
      return { id: match.id };
    });
  }

  async createAppCred(input: AppCredInput): Promise<AppCredRow> {
    const row = {
      id: hexId(),
      name: input.name,
      user_id: input.userId,
      project_id: input.projectId,
      system: input.system ? 'all' : null,
      secret_hash: await hashPassword(input.secret, Math.min(this.config.identity.bcryptRounds, 10)),
      description: input.description ?? null,
      expires_at: input.expiresAt ?? null,
      unrestricted: input.unrestricted ? 1 : 0,
      roles: JSON.stringify(input.roles),
      created_at: new Date().toISOString(),
    };
    try {
      await this.store.insert('application_credential', row);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store application_credential - Duplicate entry found with name ${input.name}.`,
        );
      throw e;
    }
    return row;
  }

  /** A user's application credential (404 when it belongs to someone else). */
  async getAppCred(userId: string, id: string): Promise<AppCredRow> {
    const a = await this.store.get('application_credential', id);
    if (!a || a.user_id !== userId) throw notFound(`Could not find Application Credential: ${id}.`);
    return a;
  }

  async deleteAppCred(id: string): Promise<void> {
    await this.store.remove('application_credential', id);
    this.changed();
  }

  // ------------------------------------------------------------------ credentials
  async getCredential(id: string): Promise<CredentialRow> {
    const c = await this.store.get('credential', id);
    if (!c) throw notFound(`Could not find credential: ${id}.`);
    return c;
  }

  async createCredential(input: CredentialInput): Promise<CredentialRow> {
    await this.getUser(input.user_id);
    let id = hexId();
    if (input.type === 'ec2') {
      if (!input.project_id) throw badRequest('Project ID not found: ec2 credentials need a project_id.');
      let blob: { access?: string };
      try {
        blob = JSON.parse(input.blob);
      } catch {
        throw badRequest('Invalid blob in credential: it must be JSON for ec2 credentials.');
      }
      if (!blob.access) throw badRequest('Credential signature mismatch: ec2 blob needs an access key.');
      id = createHash('sha256').update(blob.access).digest('hex');
    }
    if (input.project_id) await this.getProject(input.project_id);
    const row = {
      id,
      user_id: input.user_id,
      project_id: input.project_id ?? null,
      type: input.type,
      blob: input.blob,
      extra: JSON.stringify(input.extra ?? {}),
    };
    try {
      await this.store.insert('credential', row);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict('Conflict occurred attempting to store credential - Duplicate ID.');
      throw e;
    }
    return row;
  }

  async updateCredential(id: string, patch: Partial<CredentialInput>): Promise<CredentialRow> {
    await this.store.update('credential', id, {
      ...(patch.blob !== undefined ? { blob: patch.blob } : {}),
      ...(patch.type !== undefined ? { type: patch.type } : {}),
      ...(patch.user_id !== undefined ? { user_id: patch.user_id } : {}),
      ...(patch.project_id !== undefined ? { project_id: patch.project_id } : {}),
    });
    return this.getCredential(id);
  }

  async deleteCredential(id: string): Promise<void> {
    await this.store.remove('credential', id);
  }
}
