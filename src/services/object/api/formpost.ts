/**
 * FormPost (swift/common/middleware/formpost.py): a browser form POSTs `multipart/form-data` to
 * `/v1/<account>/<container>[/<prefix>]` with `redirect`, `max_file_size`, `max_file_count`, `expires` and
 * `signature` = HMAC(temp URL key, "path\nredirect\nmax_file_size\nmax_file_count\nexpires"); each file field
 * becomes the object `<prefix><filename>`. Answers 201 (or a 303 to `redirect?status=…&message=…`).
 * The form is read whole (bounded by max_file_size × max_file_count), as a browser upload is small.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApiError } from '../../../core/errors.js';
import { swiftText } from '../faults.js';
import { enforce } from '../domain/quotas.js';
import { guessType } from '../domain/http.js';
import { deleteAt } from '../constraints.js';
import { parseMeta, type Services, type SwiftRequest } from './common.js';

const DIGEST_BY_LEN: Record<number, string> = { 40: 'sha1', 64: 'sha256', 128: 'sha512' };

export const isFormPost = (r: SwiftRequest) =>
  r.method === 'POST' &&
  /^multipart\/form-data/i.test(r.req.swiftContentType ?? '') &&
  r.container !== undefined;

function result(r: SwiftRequest, status: number, message: string, redirect: string | undefined) {
  const line = `${status} ${({ 201: 'Created', 400: 'Bad Request', 401: 'Unauthorized', 413: 'Request Entity Too Large' } as Record<number, string>)[status] ?? 'Error'}`;
  if (!redirect) {
    const body = message ? `${line}\r\nFormPost: ${message.replace(/\b\w/g, (c) => c.toUpperCase())}` : line;
    return r.reply.code(status).header('content-type', 'text/plain').send(body);
  }
  const loc = `${redirect}${redirect.includes('?') ? '&' : '?'}status=${status}&message=${encodeURIComponent(message)}`;
  return r.reply
    .code(303)
    .header('location', loc)
    .header('content-type', 'text/html; charset=UTF-8')
    .send(`<html><body><p><a href="${loc}">Click to continue...</a></p></body></html>`);
}

export async function formPost(r: SwiftRequest, s: Services) {
  const fail = (status: number, msg: string) => swiftText(status, `FormPost: ${msg}`);
  const len = Number(r.req.headers['content-length'] ?? 0);
  if (len > 64 * 1024 * 1024) throw fail(413, 'form too large');
  const body = r.req.body as Readable | undefined;
  const form = await new Response(body ? (Readable.toWeb(body) as ReadableStream) : '', {
    headers: { 'content-type': r.req.swiftContentType ?? '' },
  })
    .formData()
    .catch(() => {
      throw fail(400, 'invalid starting boundary');
    });
  const attr = (k: string) => {
    const v = form.get(k);
    return typeof v === 'string' ? v.replace(/[\r\n-]+$/, '') : undefined;
  };
  const redirect = attr('redirect');
  const maxSize = attr('max_file_size') ?? '0';
  const maxCount = attr('max_file_count') ?? '0';
  const expires = attr('expires') ?? '0';
  if (!/^\d+$/.test(maxSize)) throw fail(400, 'max_file_size not an integer');
  if (!/^\d+$/.test(maxCount)) throw fail(400, 'max_file_count not an integer');
  if (!/^\d+$/.test(expires)) throw fail(400, 'expired not an integer');
  const files = [...form.entries()].filter((e): e is [string, File] => typeof e[1] !== 'string');
  if (!files.length) return result(r, 400, 'no files to process', redirect);
  if (files.length > Number(maxCount)) return result(r, 400, 'max file count exceeded', redirect);
  if (Number(expires) < Date.now() / 1000) throw fail(401, 'form expired');
  // signature
  const a = parseMeta((await s.mgr.account(r.account))?.meta ?? '{}');
  const c = await s.mgr.container(r.account, r.container!);
  const cm = parseMeta(c?.meta ?? '{}');
  const keys = [
    a['x-account-meta-temp-url-key'],
    a['x-account-meta-temp-url-key-2'],
    cm['x-container-meta-temp-url-key'],
    cm['x-container-meta-temp-url-key-2'],
  ].filter((k): k is string => !!k);
  const sig = attr('signature') ?? '';
  let algo: string | undefined;
  let want: Buffer;
  const i = sig.indexOf(':');
  if (i > 0) {
    algo = sig.slice(0, i);
    want = Buffer.from(
      sig
        .slice(i + 1)
        .replace(/-/g, '+')
        .replace(/_/g, '/'),
      'base64',
    );
  } else {
    algo = DIGEST_BY_LEN[sig.length];
    want = Buffer.from(/^[0-9a-f]*$/i.test(sig) ? sig : '', 'hex');
  }
  if (!algo || !['sha1', 'sha256', 'sha512'].includes(algo) || !keys.length)
    throw fail(401, 'invalid signature');
  const tail = `${r.account}/${r.container}${r.object !== undefined ? `/${r.object}` : ''}`;
  const ok = [`/v1/${tail}`, `${s.prefix}/v1/${tail}`].some((path) =>
    keys.some((key) => {
      const mac = createHmac(algo, Buffer.from(key, 'latin1'))
        .update(`${path}\n${redirect ?? ''}\n${maxSize}\n${maxCount}\n${expires}`, 'utf8')
        .digest();
      return mac.length === want.length && timingSafeEqual(mac, want);
    }),
  );
  if (!ok) throw fail(401, 'invalid signature');
  if (!c) return result(r, 404, '', redirect);
  let at: number | undefined;
  try {
    const h: Record<string, string> = {};
    if (attr('x_delete_at')) h['x-delete-at'] = attr('x_delete_at')!;
    if (attr('x_delete_after')) h['x-delete-after'] = attr('x_delete_after')!;
    at = deleteAt(h, Date.now() / 1000);
  } catch (e) {
    if (e instanceof ApiError) throw fail(400, e.message);
    throw e;
  }
  const prefix = r.object ?? '';
  for (const [, file] of files) {
    if (file.size > Number(maxSize)) return result(r, 400, 'max_file_size exceeded', redirect);
    const name = `${prefix}${file.name || 'filename'}`;
    try {
      await s.mgr.put(
        {
          account: r.account,
          container: r.container!,
          name,
          contentType: attr('content-type') ?? (file.type || guessType(name)),
          meta: {},
          deleteAt: at ?? null,
          check: (c2, a2, old, size) => enforce(c2, a2, old, size, parseMeta),
        },
        Readable.fromWeb(file.stream() as never),
      );
    } catch (e) {
      if (e instanceof ApiError) return result(r, e.status, e.message, redirect);
      throw e;
    }
  }
  return result(r, 201, '', redirect);
}
