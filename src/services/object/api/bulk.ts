/**
 * Bulk delete (swift/common/middleware/bulk.py): `POST /v1/<account>?bulk-delete` (or `DELETE`) with a body of
 * newline-separated, URL-encoded `<container>/<object>` or `<container>` paths. Each one is authorized and
 * deleted as its own request would be; the answer is 200 with a summary (text, or JSON / XML after Accept).
 */
import type { Readable } from 'node:stream';
import { ApiError } from '../../../core/errors.js';
import { swiftText } from '../faults.js';
import { accountAcl, parseMeta, type Services, type SwiftRequest } from './common.js';

export const BULK_MAX = 10_000;
const MAX_PATH = 1024 + 256 + 2;

async function readBody(body: Readable | undefined, limit: number): Promise<string> {
  if (!body || typeof body.on !== 'function') return '';
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw swiftText(413, `Maximum Bulk Deletes: ${BULK_MAX} per request`);
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export async function bulkDelete(r: SwiftRequest, s: Services) {
  const text = await readBody(r.req.body as Readable | undefined, BULK_MAX * (MAX_PATH * 3 + 1));
  const paths = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  if (paths.length > BULK_MAX) throw swiftText(413, `Maximum Bulk Deletes: ${BULK_MAX} per request`);
  if (!paths.length) throw swiftText(400, 'Invalid bulk delete.');
  let deleted = 0;
  let notFound = 0;
  const errors: [string, string][] = [];
  const status = (code: number) =>
    ({
      400: '400 Bad Request',
      401: '401 Unauthorized',
      403: '403 Forbidden',
      409: '409 Conflict',
      412: '412 Precondition Failed',
    })[code] ?? `${code} Error`;
  // Objects before the containers they empty: Swift deletes in the order given; clients send objects first.
  for (const raw of paths) {
    let path: string;
    try {
      path = decodeURIComponent(raw).replace(/^\/+/, '');
    } catch {
      errors.push([raw, '412 Precondition Failed']);
      continue;
    }
    const i = path.indexOf('/');
    const container = i < 0 ? path : path.slice(0, i);
    const object = i < 0 ? undefined : path.slice(i + 1);
    try {
      if (!container || path.includes('\0')) throw swiftText(412, 'Invalid path');
      const c = await s.mgr.container(r.account, container);
      if (object) {
        await s.access.require(r.who, 'object-store:object:delete', r.account, {
          acl: { kind: 'write', value: parseMeta(c?.meta ?? '{}')['x-container-write'] },
          accountAcl: accountAcl(s, r.account),
        });
        const row = c && (await s.mgr.get(r.account, container, object));
        if (row && (await s.mgr.remove(row))) deleted++;
        else notFound++;
      } else {
        await s.access.require(r.who, 'object-store:container:delete', r.account, {
          accountAcl: accountAcl(s, r.account),
        });
        const res = await s.mgr.deleteContainer(r.account, container);
        if (res === 'deleted') deleted++;
        else if (res === 'missing') notFound++;
        else errors.push([raw, '409 Conflict']);
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      errors.push([raw, status(e.status)]);
    }
  }
  const responseStatus = errors.length
    ? errors.every((e) => e[1] === errors[0]![1])
      ? errors[0]![1]
      : '400 Bad Request'
    : '200 OK';
  const doc = {
    'Number Deleted': deleted,
    'Number Not Found': notFound,
    'Response Body': '',
    'Response Status': responseStatus,
    Errors: errors,
  };
  const accept = r.req.headers.accept ?? '';
  r.reply.code(200);
  if (/application\/json/.test(accept))
    return r.reply.header('content-type', 'application/json').send(JSON.stringify(doc));
  if (/(application|text)\/xml/.test(accept)) {
    const esc = (x: string) => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return r.reply
      .header('content-type', 'application/xml')
      .send(
        `<?xml version="1.0" encoding="UTF-8"?>\n<delete><number_deleted>${deleted}</number_deleted><number_not_found>${notFound}</number_not_found><response_body></response_body><response_status>${responseStatus}</response_status><errors>${errors
          .map(([n, st]) => `<object><name>${esc(n)}</name><status>${st}</status></object>`)
          .join('')}</errors></delete>`,
      );
  }
  return r.reply
    .header('content-type', 'text/plain')
    .send(
      `Number Deleted: ${deleted}\nNumber Not Found: ${notFound}\nResponse Body: \nResponse Status: ${responseStatus}\nErrors:\n${errors
        .map(([n, st]) => `${n}, ${st}\n`)
        .join('')}`,
    );
}
