/**
 * The identity manager's base: the store, the write generation token caches key on, and revocation events
 * (Keystone's revoke model). The managers by concern extend it in a chain (resource → identity →
 * assignment → catalog → credentials), so `IdentityManager` keeps one surface for routes and the token
 * service.
 */
import type { Logger } from 'pino';
import type { Config } from '../../../core/config.js';
import { badRequest, notFound } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import { type IdentityStore } from '../store.js';

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
export const missing = (kind: string, id: string) =>
  notFound(`Could not find ${kind}: ${id}.`, `${kind}NotFound`);

export class ManagerBase {
  /** Bumped on every write that can change a token's validity or roles; token caches key on it. */
  generation = 0;
  /** Listeners told about new revocation events (the token service keeps its in-memory list current). */
  onRevoke: ((seq: number) => void)[] = [];

  constructor(
    readonly store: IdentityStore,
    readonly config: Config,
    readonly log: Logger,
  ) {}

  protected changed(): void {
    this.generation++;
  }

  // ------------------------------------------------------------------ revocation
  protected revSeq = 0;

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

  /** Delete a user's rows inside a transaction (user delete and domain delete cascade through it). */
  protected async deleteUserRows(s: IdentityStore, id: string): Promise<void> {
    await s.removeAssignmentsFor({ actorId: id });
    await s.removeCredentialsOf(id);
    await s.remove('user', id);
  }
}

export function validateTags(tags: string[] | undefined): void {
  if (!tags) return;
  if (tags.length > 80) throw badRequest('Invalid input: a project may have at most 80 tags.');
  for (const t of tags) {
    if (t.length === 0 || t.length > 255 || t.includes('/') || t.includes(',')) {
      throw badRequest(`Invalid tag "${t}": tags are 1-255 characters and may not contain "/" or ",".`);
    }
  }
}
