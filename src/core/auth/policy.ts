/**
 * Policy engine: rules as data, check strings in oslo.policy syntax.
 *
 *   role:reader and (system_scope:all or project_id:%(target.project.id)s)
 *   rule:admin_required or not user_id:%(user_id)s
 *   @  (always)   !  (never)
 *
 * Left-hand side of a generic check is a (dotted) credential attribute; the right-hand side is a literal,
 * `True`/`False`, a quoted string, or a `%(name)s` substitution from the flattened target.
 */
import { readFileSync } from 'node:fs';
import YAML from 'yaml';

export type ScopeType = 'system' | 'domain' | 'project';

export interface PolicyRule {
  name: string;
  check: string;
  scopeTypes?: ScopeType[];
  description?: string;
  operations?: { method: string; path: string }[];
}

/**
 * One rule in the house style every service's `policies/<resource>.ts` uses: a name, a check string built
 * from the service's named constants (`policies/base.ts`), a description, and optionally scope types and the
 * API operations it guards, as oslo.policy's `DocumentedRuleDefault`.
 */
export function rule(
  name: string,
  check: string,
  description: string,
  opts: { scope?: ScopeType[]; ops?: [method: string, path: string][] } = {},
): PolicyRule {
  const r: PolicyRule = { name, check, description };
  if (opts.scope) r.scopeTypes = opts.scope;
  if (opts.ops) r.operations = opts.ops.map(([method, path]) => ({ method, path }));
  return r;
}

/** What the policy engine knows about the caller (oslo.context's policy values). */
export interface Credentials {
  user_id?: string;
  user_domain_id?: string;
  project_id?: string;
  project_domain_id?: string;
  domain_id?: string;
  system_scope?: string;
  roles: string[];
  [key: string]: unknown;
}

type Node =
  | { t: 'true' }
  | { t: 'false' }
  | { t: 'and'; a: Node[] }
  | { t: 'or'; a: Node[] }
  | { t: 'not'; a: Node }
  | { t: 'rule'; name: string }
  | { t: 'role'; role: string }
  | { t: 'generic'; kind: string; match: string };

/** As oslo.policy: split on whitespace, then peel leading "(" and trailing ")" off each word. */
function tokenize(s: string): string[] {
  const out: string[] = [];
  for (let word of s.split(/\s+/).filter(Boolean)) {
    while (word.startsWith('(')) {
      out.push('(');
      word = word.slice(1);
    }
    let close = 0;
    // Placeholders end in ")s", so a trailing ")" is always a closing parenthesis.
    while (word.endsWith(')')) {
      close++;
      word = word.slice(0, -1);
    }
    if (word) out.push(word);
    for (let i = 0; i < close; i++) out.push(')');
  }
  return out;
}

export function parseCheck(check: string): Node {
  const toks = tokenize(check.trim());
  if (toks.length === 0) return { t: 'true' };
  let i = 0;
  const peek = () => toks[i];
  function parseOr(): Node {
    const parts = [parseAnd()];
    while (peek()?.toLowerCase() === 'or') {
      i++;
      parts.push(parseAnd());
    }
    return parts.length === 1 ? parts[0]! : { t: 'or', a: parts };
  }
  function parseAnd(): Node {
    const parts = [parseNot()];
    while (peek()?.toLowerCase() === 'and') {
      i++;
      parts.push(parseNot());
    }
    return parts.length === 1 ? parts[0]! : { t: 'and', a: parts };
  }
  function parseNot(): Node {
    if (peek()?.toLowerCase() === 'not') {
      i++;
      return { t: 'not', a: parseNot() };
    }
    return parseAtom();
  }
  function parseAtom(): Node {
    const tok = toks[i++];
    if (tok === undefined) throw new Error(`policy: unexpected end of "${check}"`);
    if (tok === '(') {
      const n = parseOr();
      if (toks[i++] !== ')') throw new Error(`policy: missing ) in "${check}"`);
      return n;
    }
    if (tok === '@') return { t: 'true' };
    if (tok === '!') return { t: 'false' };
    const idx = tok.indexOf(':');
    if (idx < 0) throw new Error(`policy: bad check "${tok}" in "${check}"`);
    const kind = tok.slice(0, idx);
    const match = tok.slice(idx + 1);
    if (kind === 'rule') return { t: 'rule', name: match };
    if (kind === 'role') return { t: 'role', role: match.toLowerCase() };
    return { t: 'generic', kind, match };
  }
  const node = parseOr();
  if (i !== toks.length) throw new Error(`policy: trailing tokens in "${check}"`);
  return node;
}

function lookup(obj: unknown, path: string): unknown {
  if (obj && typeof obj === 'object' && path in (obj as Record<string, unknown>))
    return (obj as Record<string, unknown>)[path];
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** Flatten {target: {project: {id}}} to {'target.project.id': ...} as Keystone does, keeping the nested form too. */
export function flatten(obj: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, key, out);
    else out[key] = v;
  }
  return out;
}

export class PolicyEngine {
  private rules = new Map<string, PolicyRule>();
  private compiled = new Map<string, Node>();

  constructor(rules: PolicyRule[] = []) {
    this.register(rules);
  }

  register(rules: PolicyRule[]): void {
    for (const r of rules) {
      this.rules.set(r.name, r);
      this.compiled.set(r.name, parseCheck(r.check));
    }
  }

  /** Override check strings from a YAML/JSON file (`"identity:get_user": "role:admin"`), as oslo.policy does. */
  loadOverrides(file: string): void {
    const data = YAML.parse(readFileSync(file, 'utf8')) as Record<string, string> | null;
    for (const [name, check] of Object.entries(data ?? {})) {
      const existing = this.rules.get(name);
      this.register([{ ...(existing ?? { name }), name, check: String(check) }]);
    }
  }

  has(name: string): boolean {
    return this.rules.has(name);
  }

  list(): PolicyRule[] {
    return [...this.rules.values()];
  }

  /** Scope of a set of credentials, for scope_types enforcement. */
  static scopeOf(creds: Credentials): ScopeType | undefined {
    if (creds.system_scope) return 'system';
    if (creds.domain_id) return 'domain';
    if (creds.project_id) return 'project';
    return undefined;
  }

  /** True when the rule allows these credentials on this target. Unknown rules deny. */
  check(name: string, target: Record<string, unknown>, creds: Credentials): boolean {
    const rule = this.rules.get(name);
    const node = this.compiled.get(name);
    if (!rule || !node) return false;
    if (rule.scopeTypes && rule.scopeTypes.length > 0) {
      const scope = PolicyEngine.scopeOf(creds);
      if (!scope || !rule.scopeTypes.includes(scope)) return false;
    }
    const flat = flatten(target);
    return this.evaluate(node, flat, creds, 0);
  }

  private evaluate(n: Node, target: Record<string, unknown>, creds: Credentials, depth: number): boolean {
    if (depth > 50) throw new Error('policy: rule recursion too deep');
    switch (n.t) {
      case 'true':
        return true;
      case 'false':
        return false;
      case 'and':
        return n.a.every((x) => this.evaluate(x, target, creds, depth));
      case 'or':
        return n.a.some((x) => this.evaluate(x, target, creds, depth));
      case 'not':
        return !this.evaluate(n.a, target, creds, depth);
      case 'rule': {
        const sub = this.compiled.get(n.name);
        return sub ? this.evaluate(sub, target, creds, depth + 1) : false;
      }
      case 'role': {
        let role = n.role;
        if (role.startsWith('%(')) {
          const v = substitute(role, target);
          if (v === undefined) return false;
          role = v.toLowerCase();
        }
        return creds.roles.some((r) => r.toLowerCase() === role);
      }
      case 'generic': {
        // oslo.policy GenericCheck: match = self.match % target; then compare with a literal or a credential.
        let expected: string | undefined = n.match;
        if (n.match.includes('%(')) expected = substitute(n.match, target);
        if (expected === undefined) return false;
        const lit = literal(n.kind);
        if (lit !== undefined) return lit === expected;
        const actual = lookup(creds, n.kind);
        if (actual === undefined) return false;
        if (Array.isArray(actual)) return actual.map(pyStr).includes(expected);
        return pyStr(actual) === expected;
      }
    }
  }
}

/** Render a value as Python's str() would, since oslo.policy compares strings made that way. */
function pyStr(v: unknown): string {
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

/** `%(key)s` from the flattened target; a missing key fails the check (KeyError in oslo.policy). */
function substitute(m: string, target: Record<string, unknown>): string | undefined {
  const key = /^%\((.+)\)s$/.exec(m)?.[1];
  if (!key) return undefined;
  const v = key in target ? target[key] : lookup(target, key);
  if (v === undefined) return undefined;
  return pyStr(v);
}

/** A Python literal on the left of a generic check (None, True, 1, 'manager'), else undefined. */
function literal(kind: string): string | undefined {
  if (/^'.*'$/.test(kind) || /^".*"$/.test(kind)) return kind.slice(1, -1);
  if (kind === 'None' || kind === 'True' || kind === 'False' || /^-?\d+(\.\d+)?$/.test(kind)) return kind;
  return undefined;
}
