/**
 * Swift's constraints (swift/common/constraints.py defaults), published in /info, and the checks that use
 * them. Lengths are in bytes, as Swift counts them (WSGI strings): headers arrive in Node as latin-1 strings,
 * so a header value's `.length` is its byte count.
 */
import { swiftText } from './faults.js';

export const CONSTRAINTS = {
  max_file_size: 5_368_709_122,
  max_meta_name_length: 128,
  max_meta_value_length: 256,
  max_meta_count: 90,
  max_meta_overall_size: 4096,
  max_header_size: 8192,
  max_request_line: 8192,
  max_object_name_length: 1024,
  container_listing_limit: 10_000,
  account_listing_limit: 10_000,
  max_account_name_length: 256,
  max_container_name_length: 256,
  valid_api_versions: ['v1', 'v1.0'],
  extra_header_count: 0,
  auto_create_account_prefix: '.',
} as const;

/** Bytes of a JS (UTF-16) string once UTF-8 encoded. */
export const utf8Length = (s: string) => Buffer.byteLength(s, 'utf8');

/** A latin-1 header string (raw bytes) as UTF-8 text, or undefined when the bytes are not valid UTF-8. */
export function latin1ToUtf8(raw: string): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'latin1'));
  } catch {
    return undefined;
  }
}

/** A UTF-8 string as the latin-1 string Node writes byte for byte into a header. */
export const utf8ToLatin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** swift check_utf8: valid UTF-8 (already decoded here), not empty, no NUL. */
export const validName = (s: string) => s.length > 0 && !s.includes('\0');

export type Target = 'account' | 'container' | 'object';

/**
 * constraints.check_metadata: the `x-<target>-meta-*` headers of one request (`headers` are Node's, lower-case
 * names and latin-1 values). Throws Swift's 400 with its text.
 */
export function checkMetadata(headers: Record<string, string | string[] | undefined>, target: Target): void {
  const prefix = `x-${target}-meta-`;
  let count = 0;
  let size = 0;
  for (const [k, raw] of Object.entries(headers)) {
    const value = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
    if (value.length > CONSTRAINTS.max_header_size)
      throw swiftText(400, `Header value too long: ${k.slice(0, CONSTRAINTS.max_meta_name_length)}`);
    if (!k.startsWith(prefix)) continue;
    const key = k.slice(prefix.length);
    if (!key) throw swiftText(400, 'Metadata name cannot be empty');
    if (
      target !== 'object' &&
      (latin1ToUtf8(key) === undefined || (value && latin1ToUtf8(value) === undefined))
    )
      throw swiftText(400, 'Metadata must be valid UTF-8');
    count++;
    size += key.length + value.length;
    if (key.length > CONSTRAINTS.max_meta_name_length)
      throw swiftText(400, `Metadata name too long: ${prefix}${key}`);
    if (value.length > CONSTRAINTS.max_meta_value_length)
      throw swiftText(
        400,
        `Metadata value longer than ${CONSTRAINTS.max_meta_value_length}: ${prefix}${key}`,
      );
    if (count > CONSTRAINTS.max_meta_count)
      throw swiftText(400, `Too many metadata items; max ${CONSTRAINTS.max_meta_count}`);
    if (size > CONSTRAINTS.max_meta_overall_size)
      throw swiftText(400, `Total metadata too large; max ${CONSTRAINTS.max_meta_overall_size}`);
  }
}

/**
 * The account and container servers check the metadata they would store as a whole (swift/common/db.py
 * validate_metadata): every `meta` item after the update, same limits.
 */
export function checkStoredMetadata(meta: Record<string, string>): void {
  let count = 0;
  let size = 0;
  for (const [k, v] of Object.entries(meta)) {
    count++;
    size += k.length + v.length;
  }
  if (count > CONSTRAINTS.max_meta_count)
    throw swiftText(400, `Too many metadata items; max ${CONSTRAINTS.max_meta_count}`);
  if (size > CONSTRAINTS.max_meta_overall_size)
    throw swiftText(400, `Total metadata too large; max ${CONSTRAINTS.max_meta_overall_size}`);
}

/**
 * constraints.check_delete_headers: X-Delete-After (seconds from now) becomes X-Delete-At; both must be
 * integers in the future. Returns the expiry (epoch seconds) or undefined, or null when the header asks to
 * remove it (an empty X-Delete-At on POST).
 */
export function deleteAt(
  headers: Record<string, string | string[] | undefined>,
  now: number,
): number | undefined {
  const after = headers['x-delete-after'];
  const at = headers['x-delete-at'];
  if (typeof after === 'string') {
    if (!/^\s*[-+]?\d+\s*$/.test(after)) throw swiftText(400, 'Non-integer X-Delete-After');
    const t = Math.floor(now + Number.parseInt(after, 10));
    if (t <= now) throw swiftText(400, 'X-Delete-After in past');
    return t;
  }
  if (typeof at === 'string') {
    if (!/^\s*[-+]?\d+\s*$/.test(at)) throw swiftText(400, 'Non-integer X-Delete-At');
    const t = Number.parseInt(at, 10);
    if (t <= now) throw swiftText(400, 'X-Delete-At in past');
    return t;
  }
  return undefined;
}
