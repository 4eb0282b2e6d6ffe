/**
 * X-Account-Access-Control (swift/common/middleware/acl.py, format v2): JSON `{"admin": [...],
 * "read-write": [...], "read-only": [...]}` of `<project_id>:<user_id>`-style entries. Stored as given (after
 * validation) and applied by domain/access.ts.
 */
import { swiftText } from '../faults.js';

const KEYS = ['admin', 'read-write', 'read-only'];

/** The header's value normalised, '' to remove, undefined when absent; 400 when it is not such JSON. */
export function cleanAccountAcl(raw: string | string[] | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = Array.isArray(raw) ? raw.join(',') : raw;
  if (v.trim() === '') return '';
  let doc: unknown;
  try {
    doc = JSON.parse(v);
  } catch {
    throw swiftText(400, 'Account ACL must be a valid JSON object');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw swiftText(400, 'Account ACL must be a valid JSON object');
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(doc)) {
    if (!KEYS.includes(k)) throw swiftText(400, `Invalid key '${k}' in account ACL`);
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string'))
      throw swiftText(400, `Value for key '${k}' must be a list`);
    if (list.length) out[k] = list as string[];
  }
  return Object.keys(out).length ? JSON.stringify(out) : '';
}

/** The account ACL's grants, or an empty one. */
export function parseAccountAcl(v: string | undefined): Record<string, string[]> {
  if (!v) return {};
  try {
    return JSON.parse(v) as Record<string, string[]>;
  } catch {
    return {};
  }
}
