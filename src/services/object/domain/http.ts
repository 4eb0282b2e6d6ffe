/**
 * HTTP details of object reads and writes as swob implements them: Range (single and multiple byte ranges),
 * conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since) and ETag lists.
 */
import { parseHttpDate } from './time.js';

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

const MAX_RANGES = 50;

/**
 * swob.Range + ranges_for_length: `undefined` when the header is absent or malformed (serve the whole
 * object), `[]` when no range is satisfiable (416), else the satisfiable ranges in order given.
 */
export function parseRange(header: string | undefined, size: number): ByteRange[] | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const specs = m[1]!.split(',').map((s) => s.trim());
  if (specs.length > MAX_RANGES) return undefined;
  const parsed: [number | null, number | null][] = [];
  for (const s of specs) {
    const r = /^(\d*)-(\d*)$/.exec(s);
    if (!r || (r[1] === '' && r[2] === '')) return undefined;
    const a = r[1] === '' ? null : Number(r[1]);
    const b = r[2] === '' ? null : Number(r[2]);
    if (a !== null && b !== null && b < a) return undefined;
    parsed.push([a, b]);
  }
  if (size === 0) return undefined;
  const out: ByteRange[] = [];
  for (const [a, b] of parsed) {
    if (a === null) {
      // suffix: the last b bytes
      if (b === 0) continue;
      out.push({ start: Math.max(size - b!, 0), end: size - 1 });
    } else if (a < size) {
      out.push({ start: a, end: b === null ? size - 1 : Math.min(b, size - 1) });
    }
  }
  return out;
}

/** Values of an If-Match / If-None-Match header, quotes removed (`*` kept). */
export function etagList(header: string | undefined): string[] | undefined {
  if (header === undefined) return undefined;
  return header
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^W\//, '')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter(Boolean);
}

/**
 * The outcome of a GET/HEAD's conditions against the object's ETag and timestamp: 412, 304 or undefined
 * (serve it), in swob's order.
 */
export function conditional(
  headers: Record<string, string | string[] | undefined>,
  etag: string,
  timestamp: string,
): 304 | 412 | undefined {
  const h = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v.join(',') : v;
  };
  const lastModified = Math.ceil(Number(timestamp));
  const ifMatch = etagList(h('if-match'));
  if (ifMatch && !ifMatch.includes('*') && !ifMatch.includes(etag)) return 412;
  const ifNone = etagList(h('if-none-match'));
  if (ifNone && (ifNone.includes('*') || ifNone.includes(etag))) return 304;
  const ims = parseHttpDate(h('if-modified-since'));
  if (!ifNone && ims !== undefined && lastModified <= ims) return 304;
  const ius = parseHttpDate(h('if-unmodified-since'));
  if (!ifMatch && ius !== undefined && lastModified > ius) return 412;
  return undefined;
}

const TYPES: Record<string, string> = {
  txt: 'text/plain',
  text: 'text/plain',
  log: 'text/plain',
  conf: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  htm: 'text/html',
  css: 'text/css',
  csv: 'text/csv',
  xml: 'application/xml',
  js: 'text/javascript',
  mjs: 'text/javascript',
  json: 'application/json',
  pdf: 'application/pdf',
  zip: 'application/zip',
  gz: 'application/gzip',
  tgz: 'application/gzip',
  tar: 'application/x-tar',
  bz2: 'application/x-bzip2',
  xz: 'application/x-xz',
  iso: 'application/x-iso9660-image',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  ico: 'image/vnd.microsoft.icon',
  mp3: 'audio/mpeg',
  wav: 'audio/x-wav',
  mp4: 'video/mp4',
  webm: 'video/webm',
  py: 'text/x-python',
  sh: 'application/x-sh',
  yaml: 'application/yaml',
  yml: 'application/yaml',
};

/** Python's mimetypes.guess_type for common extensions, as Swift's proxy guesses a missing Content-Type. */
export function guessType(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  if (dot < 0) return 'application/octet-stream';
  return TYPES[base.slice(dot + 1).toLowerCase()] ?? 'application/octet-stream';
}
