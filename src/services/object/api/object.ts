/** Object: PUT (upload or copy), COPY, GET (ranges, conditions), HEAD, POST (metadata), DELETE. */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Corrupt } from '../backend.js';
import { checkMetadata, CONSTRAINTS, deleteAt, latin1ToUtf8, utf8Length } from '../constraints.js';
import { htmlPage, swiftError, swiftText } from '../faults.js';
import { conditional, etagList, guessType, parseRange } from '../domain/http.js';
import { enforce, exceeded, room } from '../domain/quotas.js';
import { tempUrlGrants, tempUrlHeaders } from './tempurl.js';
import { beforeOverwrite, deleteVersioned } from './versioning.js';
import { formPost, isFormPost } from './formpost.js';
import { extractArchive } from './extract.js';
import {
  assemble,
  deleteSlo,
  largeHeaders,
  pieces,
  SLO_ETAG,
  SLO_SIZE,
  sloManifest,
  type SloSegment,
} from './large.js';
import { httpDate, normal } from '../domain/time.js';
import type { ObjectRow } from '../rows.js';
import {
  accountAcl,
  empty,
  header,
  parseMeta,
  sendHeaders,
  type Services,
  type SwiftRequest,
} from './common.js';

/** Headers an object keeps beside X-Object-Meta-* (Swift's default allowed_headers). */
export const ALLOWED_HEADERS = [
  'content-disposition',
  'content-encoding',
  'x-object-manifest',
  'cache-control',
  'content-language',
  'expires',
  'x-robots-tag',
];

const truthy = (v: string | undefined) =>
  !!v && ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase());

/** The object headers of a request to store: X-Object-Meta-* and the allowed ones. */
function requestMeta(req: SwiftRequest['req']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, raw] of Object.entries(req.headers)) {
    const v = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
    if ((k.startsWith('x-object-meta-') && k.length > 'x-object-meta-'.length) || ALLOWED_HEADERS.includes(k))
      out[k] = v;
  }
  return out;
}

function objectHeaders(r: SwiftRequest, o: ObjectRow) {
  const reply = r.reply;
  reply.header('Content-Type', o.content_type);
  reply.header('Etag', o.etag);
  reply.header('Last-Modified', httpDate(o.timestamp));
  reply.header('X-Timestamp', normal(o.timestamp));
  reply.header('Accept-Ranges', 'bytes');
  if (o.delete_at !== null) reply.header('X-Delete-At', String(o.delete_at));
  sendHeaders(reply, parseMeta(o.meta), (k) => !k.startsWith('x-object-sysmeta-'));
}

/** `<container>/<object>` from X-Copy-From or Destination (412 with Swift's text when malformed). */
function pathHeader(value: string, name: string): [string, string] {
  let v: string;
  try {
    v = decodeURIComponent(value);
  } catch {
    v = value;
  }
  v = v.replace(/^\/+/, '');
  const i = v.indexOf('/');
  if (i <= 0 || i === v.length - 1)
    throw swiftText(412, `${name} header must be of the form <container name>/<object name>`);
  return [v.slice(0, i), v.slice(i + 1)];
}

/** The Content-Type to store: given, or guessed from the name (also with X-Detect-Content-Type). */
function contentType(r: SwiftRequest, name: string, fallback?: string): string {
  const given = (r.req as unknown as { swiftContentType?: string }).swiftContentType;
  let ct = given ?? fallback;
  if (!ct || truthy(header(r.req, 'x-detect-content-type'))) ct = guessType(name);
  if (latin1ToUtf8(ct) === undefined || ct.includes('\0')) throw swiftText(400, 'Invalid Content-Type');
  return ct;
}

export async function object(r: SwiftRequest, s: Services) {
  const { method, account } = r;
  const cont = r.container!;
  const name = r.object!;
  if (isFormPost(r)) return formPost(r, s);
  if (method === 'PUT' && r.query.has('extract-archive')) return extractArchive(r, s);
  // The hot path: a reader of the account with no temp URL needs no container row (an object row implies
  // its container exists).
  if (
    (method === 'GET' || method === 'HEAD') &&
    !r.query.has('temp_url_sig') &&
    s.access.allowed(r.who, 'object-store:object:get', account)
  ) {
    const row = await s.mgr.get(account, cont, name);
    if (!row) throw swiftError(404);
    return send(r, s, row, {});
  }
  const containerRow = await s.mgr.container(account, cont);
  const cmeta = parseMeta(containerRow?.meta ?? '{}');
  const acctAcl = accountAcl(s, account);
  const read = { kind: 'read' as const, value: cmeta['x-container-read'] };
  const write = { kind: 'write' as const, value: cmeta['x-container-write'] };
  // A valid temp URL stands for the policy and the ACLs (for its one method, on its one object or prefix).
  const temp = await tempUrlGrants(r, s, s.prefix);
  const require = async (rule: string, acl: typeof read | typeof write) => {
    if (!temp) await s.access.require(r.who, rule, account, { acl, accountAcl: acctAcl });
  };
  switch (method) {
    case 'GET':
    case 'HEAD': {
      await require('object-store:object:get', read);
      if (!containerRow) throw swiftError(404);
      const row = await s.mgr.get(account, cont, name);
      if (!row) throw swiftError(404);
      return send(r, s, row, temp ? tempUrlHeaders(r, parseMeta(row.meta)['content-disposition']) : {});
    }
    case 'PUT':
      await require('object-store:object:put', write);
      return put(r, s, !!containerRow);
    case 'COPY': {
      await require('object-store:object:get', read);
      const dest = header(r.req, 'destination');
      if (!dest) throw swiftText(412, 'Destination header required');
      const [dc, dn] = pathHeader(dest, 'Destination');
      const destAccount = header(r.req, 'destination-account') ?? account;
      const dContainer = await s.mgr.container(destAccount, dc);
      await s.access.require(r.who, 'object-store:object:put', destAccount, {
        acl: { kind: 'write', value: parseMeta(dContainer?.meta ?? '{}')['x-container-write'] },
        accountAcl: accountAcl(s, destAccount),
      });
      if (!containerRow) throw swiftError(404);
      const src = await s.mgr.get(account, cont, name);
      if (!src) throw swiftError(404);
      return copyTo(r, s, src, cont, destAccount, dc, dn, !!dContainer);
    }
    case 'POST': {
      await require('object-store:object:post', write);
      checkMetadata(r.req.headers, 'object');
      const at = deleteAt(r.req.headers, Date.now() / 1000);
      if (!containerRow) throw swiftError(404);
      const row = await s.mgr.get(account, cont, name);
      if (!row) throw swiftError(404);
      const meta = requestMeta(r.req);
      // Object POST replaces the user metadata as a whole (fast-POST); the manifest header stays unless resent.
      const old = parseMeta(row.meta);
      if (old['x-object-manifest'] && !('x-object-manifest' in meta))
        meta['x-object-manifest'] = old['x-object-manifest'];
      if (old['x-static-large-object']) meta['x-static-large-object'] = old['x-static-large-object'];
      const given = (r.req as unknown as { swiftContentType?: string }).swiftContentType;
      const ok = await s.mgr.updateObject(account, cont, name, row.timestamp, {
        meta: JSON.stringify(meta),
        delete_at: at ?? null,
        ...(given ? { content_type: contentType(r, name, row.content_type) } : {}),
      });
      if (!ok) throw swiftError(404);
      r.reply.code(202).header('content-type', 'text/html; charset=UTF-8');
      return r.reply.send(htmlPage(202));
    }
    case 'DELETE': {
      await require('object-store:object:delete', write);
      if (!containerRow) throw swiftError(404);
      const row = await s.mgr.get(account, cont, name);
      if (
        row &&
        r.query.get('multipart-manifest') === 'delete' &&
        parseMeta(row.meta)['x-static-large-object']
      )
        return deleteSlo(r, s, row);
      if (await deleteVersioned(r, s, cmeta)) return empty(r.reply, 204);
      if (!row || !(await s.mgr.remove(row))) throw swiftError(404);
      return empty(r.reply, 204);
    }
    default:
      throw swiftError(405, { allow: 'HEAD, GET, PUT, POST, DELETE, COPY' });
  }
}

async function put(r: SwiftRequest, s: Services, containerExists: boolean) {
  const { req, account } = r;
  const cont = r.container!;
  const name = r.object!;
  const len = utf8Length(name);
  if (len > CONSTRAINTS.max_object_name_length)
    throw swiftText(400, `Object name length of ${len} longer than ${CONSTRAINTS.max_object_name_length}`);
  const te = header(req, 'transfer-encoding');
  const cl = header(req, 'content-length');
  if (te !== undefined && te.toLowerCase() !== 'chunked')
    throw swiftText(501, `Unsupported Transfer-Coding header value specified in Transfer-Encoding header`);
  if (cl !== undefined && !/^\d+$/.test(cl)) throw swiftText(400, 'Invalid Content-Length header value');
  if (cl !== undefined && Number(cl) > CONSTRAINTS.max_file_size)
    throw swiftText(413, 'Your request is too large.');
  const copyFrom = header(req, 'x-copy-from');
  if (cl === undefined && te === undefined && copyFrom === undefined)
    throw swiftText(411, 'Missing Content-Length header.');
  checkMetadata(req.headers, 'object');
  const at = deleteAt(req.headers, Date.now() / 1000);
  const ifNone = etagList(header(req, 'if-none-match'));
  if (ifNone && !(ifNone.length === 1 && ifNone[0] === '*'))
    throw swiftText(400, 'If-None-Match only supports *');
  const isManifest = r.query.get('multipart-manifest') === 'put';
  if (req.headers['x-static-large-object'] !== undefined && !isManifest)
    throw swiftText(
      400,
      'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.',
    );
  if (copyFrom !== undefined) {
    if (isManifest) throw swiftText(400, 'Multipart Manifest PUTs cannot be COPY requests');
    if (cl !== undefined && cl !== '0') throw swiftText(400, 'Copy requests require a zero byte body');
    const [sc, sn] = pathHeader(copyFrom, 'X-Copy-From');
    const srcAccount = header(req, 'x-copy-from-account') ?? account;
    const srcContainer = await s.mgr.container(srcAccount, sc);
    await s.access.require(r.who, 'object-store:object:get', srcAccount, {
      acl: { kind: 'read', value: parseMeta(srcContainer?.meta ?? '{}')['x-container-read'] },
      accountAcl: accountAcl(s, srcAccount),
    });
    const src = srcContainer && (await s.mgr.get(srcAccount, sc, sn));
    if (!src) throw swiftError(404);
    return copyTo(r, s, src, sc, account, cont, name, containerExists, srcAccount);
  }
  const c = await s.mgr.container(account, cont);
  if (!c) throw swiftError(404);
  if (ifNone && (await s.mgr.get(account, cont, name))) throw swiftError(412);
  await beforeOverwrite(r, s, parseMeta(c.meta));
  const a = await s.mgr.account(account);
  const limit = room(parseMeta(c.meta), c, parseMeta(a?.meta ?? '{}'), a);
  if (cl !== undefined && Number(cl) > limit) throw exceeded();
  if (isManifest) {
    const m = await sloManifest(r, s);
    const row = await s.mgr.put(
      {
        account,
        container: cont,
        name,
        contentType: contentType(r, name),
        meta: {
          ...requestMeta(req),
          'x-static-large-object': 'True',
          [SLO_ETAG]: m.sloEtag,
          [SLO_SIZE]: String(m.size),
        },
        deleteAt: at ?? null,
        size: m.size,
        check: (_c, _a, old) => {
          if (ifNone && old) throw swiftError(412);
        },
      },
      Readable.from([m.body]),
    );
    r.reply.header('Etag', `"${m.sloEtag}"`).header('Last-Modified', httpDate(row.timestamp));
    return empty(r.reply, 201);
  }
  const etag = header(req, 'etag')?.replace(/^"(.*)"$/, '$1');
  const row = await s.mgr.put(
    {
      account,
      container: cont,
      name,
      contentType: contentType(r, name),
      meta: requestMeta(req),
      deleteAt: at ?? null,
      etag,
      limit,
      check: (c2, a2, old, size) => {
        if (ifNone && old) throw swiftError(412);
        enforce(c2, a2, old, size, parseMeta);
      },
    },
    bodyOf(r),
  );
  r.reply.header('Etag', row.etag).header('Last-Modified', httpDate(row.timestamp));
  return empty(r.reply, 201);
}

async function copyTo(
  r: SwiftRequest,
  s: Services,
  src: ObjectRow,
  srcContainer: string,
  account: string,
  cont: string,
  name: string,
  containerExists: boolean,
  srcAccount = r.account,
) {
  const len = utf8Length(name);
  if (len > CONSTRAINTS.max_object_name_length)
    throw swiftText(400, `Object name length of ${len} longer than ${CONSTRAINTS.max_object_name_length}`);
  checkMetadata(r.req.headers, 'object');
  const at = deleteAt(r.req.headers, Date.now() / 1000);
  if (!containerExists) throw swiftError(404);
  const fresh = truthy(header(r.req, 'x-fresh-metadata'));
  const meta = { ...(fresh ? {} : parseMeta(src.meta)), ...requestMeta(r.req) };
  // A large object is copied as its assembled bytes (a plain object), unless multipart-manifest=get.
  const ps = r.query.get('multipart-manifest') === 'get' ? undefined : await pieces(r, s, src);
  if (ps) {
    for (const k of ['x-static-large-object', 'x-object-manifest', SLO_ETAG, SLO_SIZE]) delete meta[k];
  }
  const spec = {
    account,
    container: cont,
    name,
    contentType: contentType(r, name, src.content_type),
    meta,
    deleteAt: at ?? null,
    check: (
      c2: Parameters<typeof enforce>[0],
      a2: Parameters<typeof enforce>[1],
      old: ObjectRow | undefined,
      size: number,
    ) => enforce(c2, a2, old, size, parseMeta),
  };
  const isSlo = !!parseMeta(src.meta)['x-static-large-object'];
  const destContainer = await s.mgr.container(account, cont);
  if (destContainer)
    await beforeOverwrite({ ...r, account, container: cont, object: name }, s, parseMeta(destContainer.meta));
  const row = ps
    ? await s.mgr.put(spec, assemble(s, srcAccount, ps, 0, largeHeaders(src, ps, isSlo).length - 1))
    : await s.mgr.copy(src, isSlo ? { ...spec, size: src.size } : spec);
  r.reply
    .header('Etag', row.etag)
    .header('Last-Modified', httpDate(row.timestamp))
    .header(
      'X-Copied-From',
      `${encodeURIComponent(srcContainer)}/${encodeURIComponent(src.name).replace(/%2F/g, '/')}`,
    )
    .header('X-Copied-From-Last-Modified', httpDate(src.timestamp))
    .header('X-Copied-From-Account', encodeURIComponent(srcAccount));
  return empty(r.reply, 201);
}

/** The request body as a stream (an empty one when there is none). */
function bodyOf(r: SwiftRequest): Readable {
  const b = r.req.body as Readable | undefined;
  if (b && typeof b.pipe === 'function') return b;
  return Readable.from([]);
}

/** GET/HEAD of one object row: conditions, ranges, streaming with the MD5 checked on full reads. */
async function send(r: SwiftRequest, s: Services, found: ObjectRow, extra: Record<string, string>) {
  const { reply } = r;
  const mm = r.query.get('multipart-manifest');
  const fmeta = parseMeta(found.meta);
  const isSlo = !!fmeta['x-static-large-object'];
  if (mm === 'get' && isSlo) return sendManifest(r, s, found);
  if (mm !== 'get' && (isSlo || fmeta['x-object-manifest'])) return sendLarge(r, s, found, isSlo, extra);
  const cond = conditional(r.req.headers, found.etag, found.timestamp);
  if (cond === 304) {
    reply.header('Etag', found.etag).header('Last-Modified', httpDate(found.timestamp));
    return reply.code(304).send();
  }
  if (cond === 412) {
    reply.header('Etag', found.etag).header('Last-Modified', httpDate(found.timestamp));
    throw swiftError(412);
  }
  if (r.method === 'HEAD') {
    objectHeaders(r, found);
    reply.headers(extra);
    reply.header('Content-Length', String(found.size));
    return reply.code(200).send();
  }
  const { row, handle } = await s.mgr.open(found);
  objectHeaders(r, row);
  reply.headers(extra);
  const ranges = parseRange(header(r.req, 'range'), row.size);
  const close = () => void handle.close();
  if (ranges && ranges.length === 0) {
    close();
    reply.header('Content-Range', `bytes */${row.size}`);
    throw swiftError(416, { 'content-range': `bytes */${row.size}` });
  }
  if (!ranges) {
    const stream = handle.stream(undefined, row.etag);
    stream.on('error', (e) => {
      if (e instanceof Corrupt) void s.mgr.corrupt(row).catch(() => undefined);
    });
    stream.on('close', close);
    reply.header('Content-Length', String(row.size));
    return reply.code(200).send(stream);
  }
  if (ranges.length === 1) {
    const [g] = ranges as [{ start: number; end: number }];
    const stream = handle.stream(g);
    stream.on('close', close);
    reply.header('Content-Range', `bytes ${g.start}-${g.end}/${row.size}`);
    reply.header('Content-Length', String(g.end - g.start + 1));
    return reply.code(206).send(stream);
  }
  const boundary = randomBytes(16).toString('hex');
  const heads = ranges.map(
    (g) =>
      `--${boundary}\r\nContent-Type: ${row.content_type}\r\nContent-Range: bytes ${g.start}-${g.end}/${row.size}\r\n\r\n`,
  );
  const tail = `--${boundary}--`;
  const length =
    ranges.reduce((n, g, i) => n + Buffer.byteLength(heads[i]!, 'latin1') + (g.end - g.start + 1) + 2, 0) +
    tail.length;
  async function* parts() {
    try {
      for (let i = 0; i < ranges!.length; i++) {
        yield Buffer.from(heads[i]!, 'latin1');
        for await (const chunk of handle.stream(ranges![i])) yield chunk as Buffer;
        yield Buffer.from('\r\n');
      }
      yield Buffer.from(tail);
    } finally {
      close();
    }
  }
  reply.header('Content-Type', `multipart/byteranges;boundary=${boundary}`);
  reply.header('Content-Length', String(length));
  return reply.code(206).send(Readable.from(parts()));
}

/** GET ?multipart-manifest=get of an SLO: its segment list (`format=raw`: the PUT format). */
async function sendManifest(r: SwiftRequest, s: Services, row: ObjectRow) {
  const { handle } = await s.mgr.open(row);
  const chunks: Buffer[] = [];
  try {
    for await (const c of handle.stream(undefined, row.etag)) chunks.push(c as Buffer);
  } finally {
    await handle.close();
  }
  const segs = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SloSegment[];
  const body =
    r.query.get('format') === 'raw'
      ? JSON.stringify(
          segs.map((g) => ({
            path: g.name,
            etag: g.hash,
            size_bytes: g.bytes,
            ...(g.range ? { range: g.range } : {}),
          })),
        )
      : JSON.stringify(segs);
  objectHeaders(r, row);
  r.reply.header('Content-Type', 'application/json; charset=utf-8').header('X-Static-Large-Object', 'True');
  r.reply.header('Content-Length', String(Buffer.byteLength(body)));
  if (r.method === 'HEAD') return r.reply.code(200).send();
  return r.reply.code(200).send(body);
}

/** GET/HEAD of an SLO or DLO: the concatenation of its segments (single ranges too). */
async function sendLarge(
  r: SwiftRequest,
  s: Services,
  row: ObjectRow,
  isSlo: boolean,
  extra: Record<string, string>,
) {
  const { reply } = r;
  const ps = (await pieces(r, s, row)) ?? [];
  const { length, etag } = largeHeaders(row, ps, isSlo);
  const cond = conditional(r.req.headers, etag.replace(/"/g, ''), row.timestamp);
  if (cond === 304) return reply.header('Etag', etag).code(304).send();
  if (cond === 412) throw swiftError(412);
  objectHeaders(r, row);
  reply.headers(extra);
  reply.header('Etag', etag);
  if (isSlo) reply.header('X-Static-Large-Object', 'True');
  const ranges = parseRange(header(r.req, 'range'), length);
  if (ranges && ranges.length === 0) throw swiftError(416, { 'content-range': `bytes */${length}` });
  const g = ranges?.length === 1 ? ranges[0]! : undefined;
  if (g) {
    reply.header('Content-Range', `bytes ${g.start}-${g.end}/${length}`);
    reply.header('Content-Length', String(g.end - g.start + 1));
    reply.code(206);
  } else {
    reply.header('Content-Length', String(length));
    reply.code(200);
  }
  if (r.method === 'HEAD') return reply.send();
  if (length === 0) return reply.send('');
  return reply.send(assemble(s, r.account, ps, g?.start ?? 0, g?.end ?? length - 1));
}
