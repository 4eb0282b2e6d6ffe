/**
 * Object versioning as swift/common/middleware/versioned_writes/legacy.py does it. A container with
 * `X-Versions-Location: <archive>` (stack mode) or `X-History-Location: <archive>` (history mode) copies the
 * current version of an object into the archive container, as `<3 hex digits: name length><name>/<timestamp>`,
 * before a PUT replaces it. A DELETE in stack mode brings the newest archived version back (or deletes when
 * there is none); in history mode it archives the current version and then deletes it.
 */
import { Readable } from 'node:stream';
import { swiftError } from '../faults.js';
import { utf8Length } from '../constraints.js';
import { timestamp, normal } from '../domain/time.js';
import type { ObjectRow } from '../rows.js';
import { accountAcl, parseMeta, type Services, type SwiftRequest } from './common.js';

export const DELETE_MARKER = 'application/x-deleted;swift_versions_deleted=1';

export function versioning(
  cmeta: Record<string, string>,
): { archive: string; mode: 'stack' | 'history' } | undefined {
  if (cmeta['x-versions-location']) return { archive: cmeta['x-versions-location'], mode: 'stack' };
  if (cmeta['x-history-location']) return { archive: cmeta['x-history-location'], mode: 'history' };
  return undefined;
}

const prefixOf = (name: string) => `${utf8Length(name).toString(16).padStart(3, '0')}${name}/`;

/** The archive must exist and the caller write to it (as the middleware's subrequests are authorized). */
async function archiveContainer(r: SwiftRequest, s: Services, archive: string) {
  const c = await s.mgr.container(r.account, archive);
  await s.access.require(r.who, 'object-store:object:put', r.account, {
    acl: { kind: 'write', value: parseMeta(c?.meta ?? '{}')['x-container-write'] },
    accountAcl: accountAcl(s, r.account),
  });
  if (!c) throw swiftError(412);
}

/** Copy `row` (the current version) into the archive. */
async function archiveRow(s: Services, account: string, archive: string, row: ObjectRow) {
  await s.mgr.copy(row, {
    account,
    container: archive,
    name: prefixOf(row.name) + normal(row.timestamp),
    contentType: row.content_type,
    meta: parseMeta(row.meta),
    deleteAt: row.delete_at,
    size: row.size,
  });
}

/** Before a PUT over an existing object of a versioned container. */
export async function beforeOverwrite(
  r: SwiftRequest,
  s: Services,
  cmeta: Record<string, string>,
): Promise<void> {
  const v = versioning(cmeta);
  if (!v) return;
  const current = await s.mgr.get(r.account, r.container!, r.object!);
  if (!current) return;
  await archiveContainer(r, s, v.archive);
  await archiveRow(s, r.account, v.archive, current);
}

/** DELETE in a versioned container; returns false when the container is not versioned. */
export async function deleteVersioned(
  r: SwiftRequest,
  s: Services,
  cmeta: Record<string, string>,
): Promise<boolean> {
  const v = versioning(cmeta);
  if (!v) return false;
  const { account } = r;
  const cont = r.container!;
  const name = r.object!;
  await archiveContainer(r, s, v.archive);
  const current = await s.mgr.get(account, cont, name);
  if (v.mode === 'history') {
    if (!current) throw swiftError(404);
    await archiveRow(s, account, v.archive, current);
    await s.mgr.put(
      {
        account,
        container: v.archive,
        name: prefixOf(name) + timestamp(),
        contentType: DELETE_MARKER,
        meta: {},
        deleteAt: null,
      },
      Readable.from([]),
    );
    await s.mgr.remove(current);
    return true;
  }
  // stack mode: the newest archived version replaces the current one
  const [latest] = await s.mgr.listObjects(
    account,
    v.archive,
    { from: prefixOf(name), before: `${prefixOf(name)}\u{10FFFF}`, reverse: true, limit: 1 },
    Date.now() / 1000,
  );
  if (!latest) {
    if (!current || !(await s.mgr.remove(current))) throw swiftError(404);
    return true;
  }
  await s.mgr.copy(latest, {
    account,
    container: cont,
    name,
    contentType: latest.content_type,
    meta: parseMeta(latest.meta),
    deleteAt: latest.delete_at,
    size: latest.size,
  });
  await s.mgr.remove(latest);
  return true;
}
