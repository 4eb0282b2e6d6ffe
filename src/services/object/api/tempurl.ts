/**
 * TempURL (swift/common/middleware/tempurl.py): `?temp_url_sig=…&temp_url_expires=…[&temp_url_prefix=…]
 * [&filename=…][&inline]` lets anyone holding the URL do one method on one object (or every object under a
 * prefix) until it expires. The signature is HMAC-SHA1/256/512 (hex, or `<algo>:<base64>`) of
 * `METHOD\nEXPIRES\nPATH` with the account's or the container's X-*-Meta-Temp-URL-Key(-2); PATH is
 * `/v1/AUTH_…/<container>/<object>` (or `prefix:/v1/…/<prefix>`), also accepted with this deployment's
 * `/object-store` prefix in front.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { swiftText } from '../faults.js';
import { parseMeta, type Services, type SwiftRequest } from './common.js';

export const TEMPURL_METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
export const DIGESTS = ['sha1', 'sha256', 'sha512'] as const;

const invalid = (method: string) =>
  swiftText(401, method === 'HEAD' ? '' : '401 Unauthorized: Temp URL invalid\n');

/** The expiry as epoch seconds (integer or `%Y-%m-%dT%H:%M:%SZ`), or undefined. */
function expiresOf(v: string): number | undefined {
  if (/^\d+$/.test(v)) return Number(v);
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)Z$/.exec(v);
  if (!m) return undefined;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000;
}

function digestOf(sig: string): { algo: (typeof DIGESTS)[number]; hex: string } | undefined {
  const i = sig.indexOf(':');
  if (i > 0) {
    const algo = sig.slice(0, i) as (typeof DIGESTS)[number];
    if (!DIGESTS.includes(algo)) return undefined;
    const b64 = sig
      .slice(i + 1)
      .replace(/-/g, '+')
      .replace(/_/g, '/');
    return { algo, hex: Buffer.from(b64, 'base64').toString('hex') };
  }
  if (!/^[0-9a-f]+$/i.test(sig)) return undefined;
  const algo = ({ 40: 'sha1', 64: 'sha256', 128: 'sha512' } as const)[sig.length as 40 | 64 | 128];
  return algo && { algo, hex: sig.toLowerCase() };
}

/**
 * If the request carries a temp URL, check it: returns true when it grants this request (the caller then
 * skips the policy), false when there is no temp URL, and throws Swift's 401 when it is invalid or expired.
 */
export async function tempUrlGrants(r: SwiftRequest, s: Services, prefix: string): Promise<boolean> {
  const sig = r.query.get('temp_url_sig');
  const exp = r.query.get('temp_url_expires');
  if (sig === null && exp === null) return false;
  if (!sig || !exp || r.object === undefined || !TEMPURL_METHODS.includes(r.method)) throw invalid(r.method);
  const expires = expiresOf(exp);
  if (expires === undefined || expires <= Date.now() / 1000) throw invalid(r.method);
  const d = digestOf(sig);
  if (!d) throw invalid(r.method);
  const tp = r.query.get('temp_url_prefix');
  if (tp !== null && !r.object.startsWith(tp)) throw invalid(r.method);
  const a = parseMeta((await s.mgr.account(r.account))?.meta ?? '{}');
  const c = parseMeta((await s.mgr.container(r.account, r.container!))?.meta ?? '{}');
  const keys = [
    a['x-account-meta-temp-url-key'],
    a['x-account-meta-temp-url-key-2'],
    c['x-container-meta-temp-url-key'],
    c['x-container-meta-temp-url-key-2'],
  ].filter((k): k is string => !!k);
  if (!keys.length) throw invalid(r.method);
  const tail = tp === null ? `${r.account}/${r.container}/${r.object}` : `${r.account}/${r.container}/${tp}`;
  const paths = [`/v1/${tail}`, `${prefix}/v1/${tail}`].map((p) => (tp === null ? p : `prefix:${p}`));
  const methods = r.method === 'HEAD' ? ['HEAD', 'GET', 'POST', 'PUT'] : [r.method];
  const want = Buffer.from(d.hex, 'hex');
  for (const key of keys)
    for (const m of methods)
      for (const p of paths) {
        // The key and path are bytes as Swift sees them (raw header value; UTF-8 path).
        const mac = createHmac(d.algo, Buffer.from(key, 'latin1'))
          .update(`${m}\n${expires}\n${p}`, 'utf8')
          .digest();
        if (mac.length === want.length && timingSafeEqual(mac, want)) return true;
      }
  throw invalid(r.method);
}

/** Content-Disposition and Expires of a successful temp URL GET/HEAD. */
export function tempUrlHeaders(r: SwiftRequest, existing: string | undefined): Record<string, string> {
  const filename = r.query.get('filename');
  const inline = r.query.has('inline');
  const fmt = (type: string, name: string) =>
    `${type}; filename="${encodeURIComponent(name).replace(/%20/g, ' ').replace(/%2F/g, '/')}"; filename*=UTF-8''${encodeURIComponent(name)}`;
  let value: string;
  if (inline) value = filename ? fmt('inline', filename) : 'inline';
  else if (filename) value = fmt('attachment', filename);
  else if (existing) value = existing;
  else value = fmt('attachment', r.object!.replace(/\/+$/, '').split('/').pop() ?? '');
  const exp = expiresOf(r.query.get('temp_url_expires') ?? '') ?? 0;
  return { 'content-disposition': value.replace(/\n/g, '%0A'), expires: new Date(exp * 1000).toUTCString() };
}
