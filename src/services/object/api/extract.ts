/**
 * Extract archive (swift/common/middleware/bulk.py): `PUT /v1/<account>[/<container>[/<prefix>]]
 * ?extract-archive=tar|tar.gz` turns each regular file of the archive into an object (`<container>/<name>`: at
 * the account level the first path component names the container, created when missing). The archive streams:
 * each file's bytes go straight to the backend, none is held whole. Answers 200 with a summary (201 Created
 * inside, or the failures), text or JSON after Accept.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ApiError } from '../../../core/errors.js';
import { swiftError, swiftText } from '../faults.js';
import { guessType } from '../domain/http.js';
import { enforce } from '../domain/quotas.js';
import { projectOfAccount } from '../domain/access.js';
import { timestamp } from '../domain/time.js';
import { CONSTRAINTS, utf8Length } from '../constraints.js';
import { accountAcl, parseMeta, type Services, type SwiftRequest } from './common.js';

export const MAX_FAILED_EXTRACTIONS = 1000;

/** Reads exact byte counts from a stream (the tar parser's input). */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer>;
  private done = false;
  constructor(src: AsyncIterable<Buffer>) {
    this.it = src[Symbol.asyncIterator]();
  }
  private async fill(n: number) {
    while (this.buf.length < n && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = this.buf.length ? Buffer.concat([this.buf, r.value]) : r.value;
    }
  }
  /** Exactly n bytes, or fewer at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(out.length);
    return out;
  }
  /** n bytes as a stream of chunks (for a file's body). */
  async *chunks(n: number): AsyncIterable<Buffer> {
    let left = n;
    while (left > 0) {
      if (!this.buf.length) {
        if (this.done) throw swiftText(400, 'Invalid Tar File: truncated');
        await this.fill(1);
        continue;
      }
      const take = this.buf.subarray(0, Math.min(left, this.buf.length));
      this.buf = this.buf.subarray(take.length);
      left -= take.length;
      yield take;
    }
  }
}

const str = (b: Buffer, off: number, len: number) => {
  const s = b.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z < 0 ? s : s.subarray(0, z)).toString('utf8');
};
const octal = (b: Buffer, off: number, len: number) => Number.parseInt(str(b, off, len).trim() || '0', 8);

/** Regular files of a tar stream: name, size and a body stream the caller must consume before the next. */
async function* tarEntries(
  src: AsyncIterable<Buffer>,
): AsyncIterable<{ name: string; size: number; body: Readable }> {
  const r = new ByteReader(src);
  let longName: string | undefined;
  for (;;) {
    const h = await r.read(512);
    if (h.length < 512 || h.every((x) => x === 0)) return;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 48);
    const pad = (512 - (size % 512)) % 512;
    if (type === 'L' || type === 'x') {
      const parts: Buffer[] = [];
      for await (const c of r.chunks(size)) parts.push(c);
      const data = Buffer.concat(parts);
      await r.read(pad);
      if (type === 'L') longName = str(data, 0, data.length);
      else {
        const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
        if (m) longName = m[1];
      }
      continue;
    }
    const prefix = str(h, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100));
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') {
      const body = Readable.from(r.chunks(size));
      yield { name, size, body };
      for await (const _ of body) void _; // whatever the consumer left
    } else for await (const _ of r.chunks(size)) void _;
    await r.read(pad);
  }
}

export async function extractArchive(r: SwiftRequest, s: Services) {
  const kind = r.query.get('extract-archive');
  if (kind !== 'tar' && kind !== 'tar.gz' && kind !== 'tgz')
    throw swiftText(400, 'Unsupported archive format');
  const body = r.req.body as Readable | undefined;
  if (!body || typeof body.pipe !== 'function') throw swiftError(411);
  const project = projectOfAccount(r.account);
  if (!project) throw swiftError(404);
  const src = kind === 'tar' ? body : body.pipe(createGunzip());
  const base = [r.container, r.object].filter((x) => x !== undefined).join('/');
  let created = 0;
  const failed: [string, string][] = [];
  const known = new Set<string>();
  try {
    for await (const e of tarEntries(src as AsyncIterable<Buffer>)) {
      let path = e.name.replace(/^\.\//, '').replace(/^\/+/, '');
      if (base) path = `${base}/${path}`;
      const i = path.indexOf('/');
      if (i <= 0 || i === path.length - 1) continue; // directories, or no container
      const container = path.slice(0, i);
      const name = path.slice(i + 1);
      try {
        if (utf8Length(name) > CONSTRAINTS.max_object_name_length || name.includes('\0'))
          throw swiftError(400);
        if (e.size > CONSTRAINTS.max_file_size) throw swiftError(413);
        let c = await s.mgr.container(r.account, container);
        if (!c && !known.has(container)) {
          await s.access.require(r.who, 'object-store:container:put', r.account, {
            accountAcl: accountAcl(s, r.account),
          });
          const ts = timestamp();
          await s.mgr.putContainer(
            {
              account: r.account,
              name: container,
              created_at: ts,
              put_timestamp: ts,
              storage_policy: 'Policy-0',
              meta: '{}',
            },
            project,
            () => ({}),
          );
          c = await s.mgr.container(r.account, container);
        }
        known.add(container);
        await s.access.require(r.who, 'object-store:object:put', r.account, {
          acl: { kind: 'write', value: parseMeta(c?.meta ?? '{}')['x-container-write'] },
          accountAcl: accountAcl(s, r.account),
        });
        await s.mgr.put(
          {
            account: r.account,
            container,
            name,
            contentType: guessType(name),
            meta: {},
            deleteAt: null,
            check: (c2, a2, old, size) => enforce(c2, a2, old, size, parseMeta),
          },
          e.body,
        );
        created++;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (err.status === 401) throw err;
        failed.push([
          encodeURIComponent(path).replace(/%2F/g, '/'),
          `${err.status} ${statusText(err.status)}`,
        ]);
        if (failed.length >= MAX_FAILED_EXTRACTIONS) break;
      }
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw swiftText(400, `Invalid Tar File: ${(err as Error).message}`);
  }
  const status = failed.length ? '400 Bad Request' : '201 Created';
  const doc = {
    'Number Files Created': created,
    'Response Body': '',
    'Response Status': status,
    Errors: failed,
  };
  r.reply.code(200);
  if (/application\/json/.test(r.req.headers.accept ?? ''))
    return r.reply.header('content-type', 'application/json').send(JSON.stringify(doc));
  return r.reply
    .header('content-type', 'text/plain')
    .send(
      `Number Files Created: ${created}\nResponse Body: \nResponse Status: ${status}\nErrors:\n${failed.map(([n, st]) => `${n}, ${st}\n`).join('')}`,
    );
}

const statusText = (n: number) =>
  ({
    400: 'Bad Request',
    403: 'Forbidden',
    404: 'Not Found',
    412: 'Precondition Failed',
    413: 'Request Entity Too Large',
  })[n] ?? 'Error';
