/**
 * Listings as the account and container servers build them: prefix, delimiter (subdir entries), marker,
 * end_marker, reverse (marker and end_marker swap roles), limit; each page is a range scan of the
 * (account, container, name) key, and a delimiter skips a whole subdir with one new range.
 */
import { swiftError, swiftText } from '../faults.js';
import { CONSTRAINTS, latin1ToUtf8 } from '../constraints.js';
import type { Range } from '../rows.js';

export interface ListParams {
  prefix: string;
  delimiter: string;
  marker: string;
  endMarker: string;
  reverse: boolean;
  limit: number;
}

/** The highest code point: `x + TOP` sorts after every name that starts with `x` (UTF-8 byte order). */
const TOP = '\u{10FFFF}';

const param = (q: URLSearchParams, name: string): string => {
  const v = q.get(name);
  if (v === null) return '';
  return v;
};

/** request_helpers.validate_container_params / constrain_req_limit. */
export function listParams(
  q: URLSearchParams,
  max: number = CONSTRAINTS.container_listing_limit,
): ListParams {
  for (const k of ['prefix', 'delimiter', 'marker', 'end_marker']) {
    const v = q.get(k);
    if (v !== null && v.includes('\uFFFD')) throw swiftText(400, `"${k}" parameter not valid UTF-8`);
  }
  let limit = max;
  const given = q.get('limit');
  if (given && /^\d+$/.test(given)) {
    limit = Number.parseInt(given, 10);
    if (limit > max) throw swiftText(412, `Maximum limit is ${max}`);
  }
  const rev = param(q, 'reverse').toLowerCase();
  return {
    prefix: param(q, 'prefix'),
    delimiter: param(q, 'delimiter'),
    marker: param(q, 'marker'),
    endMarker: param(q, 'end_marker'),
    reverse: ['true', '1', 'yes', 'on', 't', 'y'].includes(rev),
    limit,
  };
}

export type Entry<T> = { row: T } | { subdir: string };

/** Walk pages of `fetch` until `limit` entries (rows and subdirs) are collected. */
export async function list<T extends { name: string }>(
  p: ListParams,
  fetch: (r: Range) => Promise<T[]>,
): Promise<Entry<T>[]> {
  const out: Entry<T>[] = [];
  if (p.limit === 0) return out;
  // Bounds: forward lists (marker, end_marker), reverse lists (end_marker, marker) from the top down.
  let after: string | undefined;
  let before: string | undefined;
  let from: string | undefined;
  if (!p.reverse) {
    after = p.marker || undefined;
    before = p.endMarker || undefined;
    if (p.prefix && (after === undefined || after < p.prefix)) {
      after = undefined;
      from = p.prefix;
    }
    if (p.prefix && (before === undefined || before > p.prefix + TOP)) before = p.prefix + TOP;
  } else {
    before = p.marker || undefined;
    after = p.endMarker || undefined;
    if (p.prefix && (before === undefined || before > p.prefix + TOP)) before = p.prefix + TOP;
    if (p.prefix && (after === undefined || after < p.prefix)) {
      after = undefined;
      from = p.prefix;
    }
  }
  let lastSubdir: string | undefined;
  for (;;) {
    const want = p.limit - out.length;
    const lim = p.delimiter ? Math.min(want + 1, 1000) : want;
    const rows = await fetch({ after, before, from, reverse: p.reverse, limit: lim });
    if (!rows.length) return out;
    let jumped = false;
    for (const row of rows) {
      if (p.prefix && !row.name.startsWith(p.prefix)) return out;
      if (p.delimiter) {
        const i = row.name.indexOf(p.delimiter, p.prefix.length);
        if (i >= 0) {
          const subdir = row.name.slice(0, i + p.delimiter.length);
          if (subdir !== p.marker && subdir !== lastSubdir) {
            out.push({ subdir });
            lastSubdir = subdir;
          }
          if (p.reverse) {
            before = subdir;
          } else {
            after = subdir + TOP;
            from = undefined;
          }
          jumped = true;
          if (out.length >= p.limit) return out;
          break;
        }
      }
      out.push({ row });
      if (p.reverse) before = row.name;
      else {
        after = row.name;
        from = undefined;
      }
      if (out.length >= p.limit) return out;
    }
    if (!jumped && rows.length < lim) return out;
  }
}

export type Format = 'json' | 'xml' | 'plain';

/** request_helpers.get_listing_content_type: `format=` first, then the Accept header; 406 when neither fits. */
export function listingFormat(q: URLSearchParams, accept: string | undefined): Format {
  const f = (q.get('format') ?? '').toLowerCase();
  if (f === 'json') return 'json';
  if (f === 'xml') return 'xml';
  if (f === 'plain' || f === 'txt') return 'plain';
  if (!accept) return 'plain';
  let best: { fmt: Format; q: number; order: number } | undefined;
  const offers: [string, Format][] = [
    ['text/plain', 'plain'],
    ['application/json', 'json'],
    ['application/xml', 'xml'],
    ['text/xml', 'xml'],
  ];
  for (const part of accept.split(',')) {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    let qv = 1;
    for (const pr of params) {
      const m = /^\s*q\s*=\s*([\d.]+)/.exec(pr);
      if (m) qv = Number(m[1]);
    }
    if (!type || qv <= 0) continue;
    offers.forEach(([mime, fmt], order) => {
      const ok =
        type === mime || type === '*/*' || (type.endsWith('/*') && mime.startsWith(type.slice(0, -1)));
      if (ok && (!best || qv > best.q || (qv === best.q && order < best.order))) best = { fmt, q: qv, order };
    });
  }
  if (!best) throw swiftError(406);
  return best.fmt;
}

export const CONTENT_TYPES: Record<Format, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
};

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A listing body in the format asked for; `fields` gives each row's JSON/XML fields in Swift's order. */
export function renderListing<T extends { name: string }>(
  fmt: Format,
  kind: 'account' | 'container',
  name: string,
  entries: Entry<T>[],
  fields: (row: T) => [string, string | number][],
): string {
  if (fmt === 'plain') return entries.map((e) => ('subdir' in e ? e.subdir : e.row.name) + '\n').join('');
  if (fmt === 'json')
    return JSON.stringify(
      entries.map((e) => ('subdir' in e ? { subdir: e.subdir } : Object.fromEntries(fields(e.row)))),
    );
  const item = kind === 'account' ? 'container' : 'object';
  const parts = entries.map((e) => {
    if ('subdir' in e)
      return `<subdir name="${xmlEscape(e.subdir)}"><name>${xmlEscape(e.subdir)}</name></subdir>`;
    return `<${item}>${fields(e.row)
      .map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`)
      .join('')}</${item}>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${kind} name="${xmlEscape(name)}">${parts.join('')}</${kind}>`;
}

/** A stored (latin-1 raw) content type as text for listings. */
export const textOf = (raw: string) => latin1ToUtf8(raw) ?? raw;
