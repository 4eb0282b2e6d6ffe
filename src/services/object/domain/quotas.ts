/**
 * Container and account quotas (swift/common/middleware/container_quotas.py, account_quotas.py):
 * X-Container-Meta-Quota-Bytes / -Quota-Count (set by whoever may write the container's metadata) and
 * X-Account-Meta-Quota-Bytes (set only by a reseller admin). An upload that would pass one is a 413
 * "Upload exceeds quota."; the check runs in the transaction that commits the object, so concurrent uploads
 * cannot pass a quota together, and the upload itself is cut as soon as it passes the room left.
 */
import { swiftText } from '../faults.js';
import type { AccountRow, ContainerRow, ObjectRow } from '../rows.js';

const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined);
export const exceeded = () => swiftText(413, 'Upload exceeds quota.');

/** 400 for quota headers that are not integers (container PUT/POST, account POST). */
export function checkQuotaHeaders(headers: Record<string, string | string[] | undefined>): void {
  const v = (k: string) => {
    const x = headers[k];
    return Array.isArray(x) ? x.join(',') : x;
  };
  const bytes = v('x-container-meta-quota-bytes');
  if (bytes && num(bytes) === undefined) throw swiftText(400, 'Invalid bytes quota.');
  const count = v('x-container-meta-quota-count');
  if (count && num(count) === undefined) throw swiftText(400, 'Invalid count quota.');
  const acct = v('x-account-meta-quota-bytes');
  if (acct && num(acct) === undefined) throw swiftText(400, 'Invalid quota value.');
}

/** The most bytes an upload may bring (Infinity without quotas), from the counters read before it starts. */
export function room(
  cmeta: Record<string, string>,
  c: ContainerRow | undefined,
  ameta: Record<string, string>,
  a: AccountRow | undefined,
): number {
  let r = Infinity;
  const cq = num(cmeta['x-container-meta-quota-bytes']);
  if (cq !== undefined && c) r = Math.min(r, Math.max(cq - c.bytes_used, 0));
  const aq = num(ameta['x-account-meta-quota-bytes']);
  if (aq !== undefined && a) r = Math.min(r, Math.max(aq - a.bytes_used, 0));
  return r;
}

/** The exact check, inside the committing transaction, for an object of `size` bytes replacing `old`. */
export function enforce(
  c: ContainerRow,
  a: AccountRow | undefined,
  old: ObjectRow | undefined,
  size: number,
  parse: (meta: string) => Record<string, string>,
): void {
  // As Swift's middlewares count: the upload's whole size on top of what is used, an overwrite included.
  const delta = size;
  void old;
  const cmeta = parse(c.meta);
  const cq = num(cmeta['x-container-meta-quota-bytes']);
  if (cq !== undefined && c.bytes_used + delta > cq) throw exceeded();
  const cc = num(cmeta['x-container-meta-quota-count']);
  if (cc !== undefined && c.object_count + 1 > cc) throw exceeded();
  if (a) {
    const aq = num(parse(a.meta)['x-account-meta-quota-bytes']);
    if (aq !== undefined && a.bytes_used + delta > aq) throw exceeded();
  }
}
