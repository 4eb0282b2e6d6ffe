/**
 * Large objects. Static (swift/common/middleware/slo.py): `PUT ?multipart-manifest=put` with a JSON list of
 * `{path, etag, size_bytes, range}` segments, each checked against the stored segment (400 listing the
 * problems), stored as the manifest (X-Static-Large-Object: True); its ETag is the MD5 of the segments'
 * ETags, quoted. Dynamic (dlo.py): `X-Object-Manifest: <container>/<prefix>`, the segments being whatever
 * objects that prefix lists. GET/HEAD serve the concatenation (single ranges included); `multipart-manifest=get`
 * the manifest itself; `DELETE ?multipart-manifest=delete` removes an SLO's segments too.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { swiftError, swiftText } from '../faults.js';
import { list } from '../domain/listing.js';
import { isoDate } from '../domain/time.js';
import type { ObjectRow } from '../rows.js';
import { accountAcl, parseMeta, type Services, type SwiftRequest } from './common.js';

export const MAX_MANIFEST_SEGMENTS = 1000;
export const MAX_MANIFEST_SIZE = 8 * 1024 * 1024;
export const SLO_ETAG = 'x-object-sysmeta-slo-etag';
export const SLO_SIZE = 'x-object-sysmeta-slo-size';

/** One stored SLO segment (Swift's storage format). */
export interface SloSegment {
  name: string;
  bytes: number;
  hash: string;
  content_type: string;
  last_modified: string;
  range?: string;
}

/** A piece of a large object to stream: a segment object's bytes start..end (inclusive). */
interface Piece {
  container: string;
  name: string;
  etag?: string;
  start: number;
  end: number;
}

const splitPath = (p: string): [string, string] => {
  const v = p.replace(/^\/+/, '');
  const i = v.indexOf('/');
  if (i <= 0 || i === v.length - 1) throw swiftText(400, `Invalid segment path: ${p}`);
  return [v.slice(0, i), v.slice(i + 1)];
};

function parseSegRange(range: string, size: number): [number, number] | undefined {
  const m = /^(\d*)-(\d*)$/.exec(range.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') return [Math.max(size - Number(m[2]), 0), size - 1];
  const a = Number(m[1]);
  const b = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return a <= b ? [a, b] : undefined;
}

/** The body of a request (a manifest: bounded). */
async function readBody(r: SwiftRequest, limit: number): Promise<string> {
  const b = r.req.body as Readable | undefined;
  if (!b || typeof b.on !== 'function') return '';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of b as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw swiftText(413, `Manifest File > ${limit} bytes`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Validate an SLO manifest PUT; returns the manifest to store, its total size and ETag. */
export async function sloManifest(
  r: SwiftRequest,
  s: Services,
): Promise<{ body: Buffer; size: number; sloEtag: string }> {
  const text = await readBody(r, MAX_MANIFEST_SIZE);
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw swiftText(400, 'Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(doc)) throw swiftText(400, 'Manifest must be a list.\n');
  if (doc.length > MAX_MANIFEST_SEGMENTS)
    throw swiftText(413, `Number of segments must be <= ${MAX_MANIFEST_SEGMENTS}`);
  if (!doc.length) throw swiftText(400, 'Manifest must have at least one segment.\n');
  const problems: [string, string][] = [];
  const stored: SloSegment[] = [];
  let total = 0;
  const sloEtag = createHash('md5');
  for (const [i, seg] of (doc as Record<string, unknown>[]).entries()) {
    if (!seg || typeof seg !== 'object' || typeof seg.path !== 'string')
      throw swiftText(400, `Index ${i}: expected "path" key or "data" key in manifest\n`);
    const [c, o] = splitPath(seg.path);
    const cont = await s.mgr.container(r.account, c);
    await s.access.require(r.who, 'object-store:object:get', r.account, {
      acl: { kind: 'read', value: parseMeta(cont?.meta ?? '{}')['x-container-read'] },
      accountAcl: accountAcl(s, r.account),
    });
    const row = cont && (await s.mgr.get(r.account, c, o));
    const quoted = encodeURIComponent(seg.path.replace(/^\/+/, '')).replace(/%2F/g, '/');
    if (!row) {
      problems.push([quoted, '404 Not Found']);
      continue;
    }
    const meta = parseMeta(row.meta);
    if (meta['x-static-large-object']) {
      problems.push([quoted, 'Sub-SLOs are not supported']);
      continue;
    }
    if (seg.size_bytes !== undefined && seg.size_bytes !== null && Number(seg.size_bytes) !== row.size)
      problems.push([quoted, 'Size Mismatch']);
    if (seg.etag !== undefined && seg.etag !== null && String(seg.etag).replace(/"/g, '') !== row.etag)
      problems.push([quoted, 'Etag Mismatch']);
    let length = row.size;
    const entry: SloSegment = {
      name: `/${seg.path.replace(/^\/+/, '')}`,
      bytes: row.size,
      hash: row.etag,
      content_type: row.content_type,
      last_modified: isoDate(row.timestamp),
    };
    if (typeof seg.range === 'string') {
      const g = parseSegRange(seg.range, row.size);
      if (!g) {
        problems.push([quoted, 'Unsatisfiable Range']);
        continue;
      }
      length = g[1] - g[0] + 1;
      entry.range = `${g[0]}-${g[1]}`;
      sloEtag.update(`${row.etag}:${entry.range};`);
    } else sloEtag.update(row.etag);
    if (length < 1 && i !== doc.length - 1)
      problems.push([quoted, 'Too small; each segment must be at least 1 byte.']);
    total += length;
    stored.push(entry);
  }
  if (problems.length)
    throw swiftText(400, `Errors:\n${problems.map(([n, p]) => `${n}, ${p}`).join('\n')}\n`);
  const etag = sloEtag.digest('hex');
  const given = r.req.headers.etag;
  if (typeof given === 'string' && given.replace(/"/g, '') !== etag) throw swiftError(422);
  return { body: Buffer.from(JSON.stringify(stored)), size: total, sloEtag: etag };
}

/** The pieces of a large object (SLO or DLO), or undefined for a plain object. */
export async function pieces(r: SwiftRequest, s: Services, row: ObjectRow): Promise<Piece[] | undefined> {
  const meta = parseMeta(row.meta);
  if (meta['x-static-large-object']) {
    const { handle } = await s.mgr.open(row);
    const chunks: Buffer[] = [];
    try {
      for await (const c of handle.stream(undefined, row.etag)) chunks.push(c as Buffer);
    } finally {
      await handle.close();
    }
    const segs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SloSegment[];
    return segs.map((g) => {
      const [c, o] = splitPath(g.name);
      const [start, end] = g.range ? g.range.split('-').map(Number) : [0, g.bytes - 1];
      return { container: c, name: o, etag: g.hash, start: start!, end: end! };
    });
  }
  const manifest = meta['x-object-manifest'];
  if (manifest) {
    let c: string;
    let prefix: string;
    try {
      const v = decodeURIComponent(manifest).replace(/^\/+/, '');
      const i = v.indexOf('/');
      c = i < 0 ? v : v.slice(0, i);
      prefix = i < 0 ? '' : v.slice(i + 1);
    } catch {
      return [];
    }
    const cont = await s.mgr.container(r.account, c);
    await s.access.require(r.who, 'object-store:container:get', r.account, {
      acl: { kind: 'read', value: parseMeta(cont?.meta ?? '{}')['x-container-read'] },
      accountAcl: accountAcl(s, r.account),
    });
    if (!cont) return [];
    const now = Date.now() / 1000;
    const entries = await list(
      { prefix, delimiter: '', marker: '', endMarker: '', reverse: false, limit: 10_000 },
      (range) => s.mgr.listObjects(r.account, c, range, now),
    );
    return entries.flatMap((e) =>
      'row' in e && e.row.size > 0
        ? [{ container: c, name: e.row.name, etag: e.row.etag, start: 0, end: e.row.size - 1 }]
        : [],
    );
  }
  return undefined;
}

/** Length and ETag a large object answers with. */
export function largeHeaders(row: ObjectRow, ps: Piece[], isSlo: boolean): { length: number; etag: string } {
  const meta = parseMeta(row.meta);
  const length = ps.reduce((n, p) => n + (p.end - p.start + 1), 0);
  if (isSlo) return { length, etag: `"${meta[SLO_ETAG] ?? ''}"` };
  const h = createHash('md5');
  for (const p of ps) h.update(p.etag ?? '');
  return { length, etag: `"${h.digest('hex')}"` };
}

/** Stream bytes start..end (inclusive) of the concatenation of `ps`. */
export function assemble(s: Services, account: string, ps: Piece[], start: number, end: number): Readable {
  async function* gen() {
    let offset = 0;
    for (const p of ps) {
      const len = p.end - p.start + 1;
      const from = Math.max(start - offset, 0);
      const to = Math.min(end - offset, len - 1);
      offset += len;
      if (to < 0 || from > len - 1) continue;
      const row = await s.mgr.get(account, p.container, p.name);
      if (!row || (p.etag && row.etag !== p.etag))
        throw new Error(`large object segment ${p.container}/${p.name} is missing or changed`);
      const { handle } = await s.mgr.open(row);
      try {
        for await (const c of handle.stream({ start: p.start + from, end: p.start + to })) yield c as Buffer;
      } finally {
        await handle.close();
      }
      if (offset > end) return;
    }
  }
  return Readable.from(gen());
}

/** DELETE ?multipart-manifest=delete: the segments, then the manifest; a bulk-delete style summary. */
export async function deleteSlo(r: SwiftRequest, s: Services, row: ObjectRow) {
  const ps = (await pieces(r, s, row)) ?? [];
  let deleted = 0;
  let notFound = 0;
  for (const p of ps) {
    const c = await s.mgr.container(r.account, p.container);
    await s.access.require(r.who, 'object-store:object:delete', r.account, {
      acl: { kind: 'write', value: parseMeta(c?.meta ?? '{}')['x-container-write'] },
      accountAcl: accountAcl(s, r.account),
    });
    if (await s.mgr.delete(r.account, p.container, p.name)) deleted++;
    else notFound++;
  }
  if (await s.mgr.remove(row)) deleted++;
  else notFound++;
  const doc = {
    'Number Deleted': deleted,
    'Number Not Found': notFound,
    'Response Body': '',
    'Response Status': '200 OK',
    Errors: [],
  };
  r.reply.code(200);
  if (/application\/json/.test(r.req.headers.accept ?? ''))
    return r.reply.header('content-type', 'application/json').send(JSON.stringify(doc));
  return r.reply
    .header('content-type', 'text/plain')
    .send(
      `Number Deleted: ${deleted}\nNumber Not Found: ${notFound}\nResponse Body: \nResponse Status: 200 OK\nErrors:\n`,
    );
}
