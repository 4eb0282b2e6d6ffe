/**
 * Who may do what on an account (keystoneauth's decision): the policy rule of the operation against the
 * account's project first (owner, reader, reseller admin), then the container's ACL. A refusal is 401 for an
 * anonymous caller (so clients authenticate) and 403 for an authenticated one, as Swift answers.
 */
import type { AuthContext } from '../../../core/auth/context.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { swiftError } from '../faults.js';
import { groupMatches, parseAcl, referrerAllowed, type AclUser } from './acl.js';
import { parseAccountAcl } from './account-acl.js';

/** Accounts are `AUTH_<project_id>` (keystoneauth's reseller prefix). */
export const RESELLER_PREFIX = 'AUTH_';
export const projectOfAccount = (account: string) =>
  account.startsWith(RESELLER_PREFIX) ? account.slice(RESELLER_PREFIX.length) : undefined;

export interface Requester {
  auth?: AuthContext;
  referer?: string;
}

export class Access {
  constructor(private readonly policy: PolicyEngine) {}

  /** Does the policy rule pass for this caller on this account? */
  allowed(who: Requester, rule: string, account: string): boolean {
    if (!who.auth) return false;
    const project = projectOfAccount(account);
    // An account outside the reseller prefix has no project: only rules that need none (reseller admin).
    return this.policy.check(rule, { project_id: project ?? '\0no-project' }, who.auth.creds);
  }

  /** keystoneauth's swift_owner: may see and set ACLs and other owner-only headers. */
  isOwner(who: Requester, account: string): boolean {
    return this.allowed(who, 'object-store:container:set_acl', account);
  }

  /**
   * Require `rule`, or else the container ACL given: `read` (X-Container-Read, with `listing` for a container
   * GET/HEAD: referrer access then needs `.rlistings`) or `write` (X-Container-Write), or else the account ACL
   * (X-Account-Access-Control: read-only for reads, read-write for writes, admin for everything).
   */
  async require(
    who: Requester,
    rule: string,
    account: string,
    opts: {
      acl?: { kind: 'read' | 'write'; value: string | undefined; listing?: boolean };
      accountAcl?: () => Promise<string | undefined>;
    } = {},
  ): Promise<void> {
    if (this.allowed(who, rule, account)) return;
    const acl = opts.acl;
    const u = who.auth && aclUser(who.auth);
    if (acl?.value) {
      const { referrers, groups } = parseAcl(acl.value);
      if (acl.kind === 'read' && referrerAllowed(who.referer, referrers)) {
        if (!acl.listing || groups.includes('.rlistings')) return;
      }
      if (u && groupMatches(groups, u)) return;
    }
    if (u && opts.accountAcl) {
      const grants = parseAccountAcl(await opts.accountAcl());
      const level = ruleLevel(rule);
      const ok = (k: string) => groupMatches(grants[k] ?? [], u);
      if (ok('admin') || (level !== 'admin' && ok('read-write')) || (level === 'read' && ok('read-only')))
        return;
    }
    throw swiftError(who.auth ? 403 : 401);
  }

  /** An account ACL admin is a swift_owner of the account too. */
  async isAccountAdmin(who: Requester, accountAcl: string | undefined): Promise<boolean> {
    const u = who.auth && aclUser(who.auth);
    return !!u && groupMatches(parseAccountAcl(accountAcl).admin ?? [], u);
  }
}

/** What an operation needs from an account ACL. */
function ruleLevel(rule: string): 'read' | 'write' | 'admin' {
  if (rule.endsWith(':get')) return 'read';
  if (rule.endsWith(':set_acl') || rule === 'object-store:account:post') return 'admin';
  return 'write';
}

function aclUser(a: AuthContext): AclUser {
  return {
    userId: a.userId,
    userName: a.userName,
    projectId: a.projectId ?? '',
    projectName: a.projectName ?? '',
    defaultDomain: a.userDomainId === 'default' && (a.projectDomainId ?? 'default') === 'default',
    roles: a.roles.map((r) => r.name),
  };
}
