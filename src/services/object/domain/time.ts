/**
 * Swift's timestamps: seconds since the epoch with 5 decimals (`1733450000.12345`, X-Timestamp), strictly
 * increasing within the process so that the last write wins; HTTP dates (Last-Modified, rounded up to the
 * second as Swift does) and listing dates (`2024-12-06T02:35:00.123450`, always 6 fractional digits).
 */
let last = 0;

/** A new timestamp, > every one handed out before by this process. */
export function timestamp(): string {
  let t = Math.round(Date.now() * 100) / 100_000; // 10 µs resolution
  if (t <= last) t = Math.round((last + 0.00001) * 100_000) / 100_000;
  last = t;
  return t.toFixed(5);
}

/** Normalize a stored timestamp to Swift's 16.5 form. */
export const normal = (ts: string | number) => Number(ts).toFixed(5);

/** Last-Modified: the HTTP date of the timestamp rounded up to the second. */
export const httpDate = (ts: string | number) => new Date(Math.ceil(Number(ts)) * 1000).toUTCString();

/** Listing `last_modified`: ISO 8601 without zone, microseconds always shown. */
export function isoDate(ts: string | number): string {
  const n = Number(ts);
  const secs = Math.floor(n);
  const micros = Math.round((n - secs) * 1_000_000);
  return `${new Date(secs * 1000).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}`;
}

/** Epoch seconds of an HTTP date header, or undefined when it does not parse. */
export function parseHttpDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t / 1000;
}
