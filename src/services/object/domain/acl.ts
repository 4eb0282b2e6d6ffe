/**
 * Container ACLs as Swift reads them (swift/common/middleware/acl.py, keystoneauth.py):
 * `X-Container-Read: .r:*,.rlistings,<project_id>:<user_id>,<project>:*,*:<user>,<role>` — referrer entries
 * (`.r:`) grant anonymous reads (listing only with `.rlistings`), the others grant an authenticated user by
 * project and user (ids, or names in the Default domain) or by one of their roles. Write ACLs ignore referrers.
 */
import { swiftText } from '../faults.js';

export interface Acl {
  referrers: string[];
  groups: string[];
}

const repr = (v: string) => `'${v}'`;

/** acl.clean_acl: normalise and validate one ACL header (400 with Swift's text when malformed). */
export function cleanAcl(name: string, value: string): string {
  const out: string[] = [];
  for (const raw of value.split(',')) {
    const v = raw.trim();
    if (!v) continue;
    const i = v.indexOf(':');
    if (i < 0) {
      out.push(v);
      continue;
    }
    const first = v.slice(0, i).trim();
    let second = v.slice(i + 1).trim();
    if (!first || !first.startsWith('.')) {
      out.push(v);
      continue;
    }
    if (!['.r', '.ref', '.referer', '.referrer'].includes(first))
      throw swiftText(400, `Unknown designator ${repr(first)} in ACL: ${repr(v)}`);
    if (name.toLowerCase().includes('write'))
      throw swiftText(400, `Referrers not allowed in write ACL: ${repr(v)}`);
    let negate = false;
    if (second.startsWith('-')) {
      negate = true;
      second = second.slice(1).trim();
    }
    if (second && second !== '*' && second.startsWith('*')) second = second.slice(1).trim();
    if (!second || second === '.')
      throw swiftText(400, `No host/domain value after referrer designation in ACL: ${repr(v)}`);
    out.push(`.r:${negate ? '-' : ''}${second}`);
  }
  return out.join(',');
}

/** acl.parse_acl: referrers (without `.r:`) and the other entries. */
export function parseAcl(value: string | undefined): Acl {
  const referrers: string[] = [];
  const groups: string[] = [];
  for (const raw of (value ?? '').split(',')) {
    const v = raw.trim();
    if (!v) continue;
    if (v.startsWith('.r:')) referrers.push(v.slice(3));
    else groups.push(v);
  }
  return { referrers, groups };
}

/** acl.referrer_allowed: the last matching referrer entry wins; `-` entries deny. */
export function referrerAllowed(referer: string | undefined, referrers: string[]): boolean {
  let allow = false;
  if (!referrers.length) return false;
  let host = 'unknown';
  try {
    host = (referer && new URL(referer).hostname) || 'unknown';
  } catch {
    host = 'unknown';
  }
  const matches = (m: string) => m === host || (m.startsWith('.') && host.endsWith(m));
  for (const m of referrers) {
    if (m.startsWith('-')) {
      if (matches(m.slice(1))) allow = false;
    } else if (m === '*' || matches(m)) allow = true;
  }
  return allow;
}

/** Who is asking, as keystoneauth matches ACL entries. */
export interface AclUser {
  userId: string;
  userName: string;
  projectId: string;
  projectName: string;
  /** User and project are both in the Default domain (names are then accepted, as keystoneauth does). */
  defaultDomain: boolean;
  roles: string[];
}

/** keystoneauth._authorize_cross_tenant and the role check: does one of the ACL's groups name this user? */
export function groupMatches(groups: string[], u: AclUser): boolean {
  const candidates = [`${u.projectId}:${u.userId}`, `${u.projectId}:*`, `*:${u.userId}`, '*:*'];
  if (u.defaultDomain)
    candidates.push(`${u.projectName}:${u.userName}`, `${u.projectName}:*`, `*:${u.userName}`);
  const roles = u.roles.map((r) => r.toLowerCase());
  return groups.some((g) => candidates.includes(g) || (!g.includes(':') && roles.includes(g.toLowerCase())));
}
