/**
 * Collections: the one place that reads `limit`/`marker` and builds paging links, in each service's dialect.
 *
 *   Nova, Cinder   `?limit=&marker=`   → `<collection>_links: [{rel: 'next', href}]` when the page is full
 *   Neutron        `?limit=&marker=&page_reverse=` → `<collection>_links` with `next` and `previous`
 *   Glance         `?limit=&marker=`   → `next: '/v2/images?…&marker=…'` (a relative href)
 *   Keystone       no paging: `links: {self, previous: null, next: null}`
 *
 * Numbers are bounded here, so no service can hand a huge or negative value to the database: a `limit`
 * above the service's maximum is clamped to it (as Nova's `max_limit`), one that is not a non-negative integer
 * is the caller's error, raised through the service's own fault (`invalid`).
 */

/** Query parameters as Fastify parses them (repeated keys become arrays). */
export type Query = Record<string, string | string[] | undefined>;

/** Every value of a query parameter, in order. */
export function allParams(q: Query, key: string): string[] {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** The last value of a query parameter (OpenStack services take the last of repeated ones). */
export function lastParam(q: Query, key: string): string | undefined {
  return allParams(q, key).at(-1);
}

export interface LimitRule {
  /** Largest page served; larger limits are clamped to it. */
  max: number;
  /** What a non-integer (or negative) limit raises, in the service's fault format. */
  invalid: (raw: string) => Error;
  /** Accept a leading `+`/`-` and surrounding blanks before judging the sign (Glance, Neutron). */
  signed?: boolean;
  /** What `limit=0` means: `zero` a page of nothing, `none` no limit (Neutron), `error` rejected. */
  zero?: 'zero' | 'none' | 'error';
}

/** `limit` read and bounded: undefined when absent (or when 0 means "no limit"). */
export function parseLimit(raw: string | undefined, rule: LimitRule): number | undefined {
  if (raw === undefined) return undefined;
  const pattern = rule.signed ? /^\s*[+-]?\d+\s*$/ : /^\d+$/;
  if (!pattern.test(raw)) throw rule.invalid(raw);
  const digits = raw.trim().replace(/^\+/, '');
  if (digits.startsWith('-') && /[1-9]/.test(digits)) throw rule.invalid(raw);
  // Compare as a string of digits first: a 30-digit limit is just "more than max", never a float.
  const bare = digits.replace(/^-?0*/, '');
  const n = bare.length > 15 ? Number.POSITIVE_INFINITY : Number(bare || '0');
  if (n === 0) {
    if (rule.zero === 'none') return undefined;
    if (rule.zero === 'error') throw rule.invalid(raw);
    return 0;
  }
  return Math.min(n, rule.max);
}

/**
 * A collection URL with the caller's other query parameters kept and paging ones replaced (as the services
 * build their `next` links: filters and sort stay, the marker moves on).
 */
export function pageHref(
  base: string,
  query: Query,
  set: Record<string, string | undefined>,
  drop: string[] = [],
): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k in set || drop.includes(k) || v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) u.append(k, x);
  }
  for (const [k, v] of Object.entries(set)) if (v !== undefined) u.set(k, v);
  const s = u.toString();
  return s ? `${base}?${s}` : base;
}

/** Rows fetched with `limit + 1` → the page and whether there is more. */
export function splitPage<T>(rows: T[], limit: number | undefined): { items: T[]; hasMore: boolean } {
  if (limit === undefined || rows.length <= limit) return { items: rows, hasMore: false };
  return { items: rows.slice(0, limit), hasMore: true };
}

export interface Link {
  rel: string;
  href: string;
}

/**
 * Nova's (and Cinder's) `<collection>_links`: one `next` link when the page is full, with the last item's
 * marker (`markerOf`, the id by default) and the caller's other parameters.
 */
export function novaLinks<T>(
  href: string,
  query: Query,
  items: T[],
  limit: number | undefined,
  markerOf: (item: T) => string = (item) => String((item as { id?: unknown }).id),
): Link[] {
  if (limit === undefined || limit === 0 || items.length < limit) return [];
  const last = items.at(-1);
  if (last === undefined) return [];
  return [{ rel: 'next', href: pageHref(href, query, { limit: String(limit), marker: markerOf(last) }) }];
}

/** Neutron's `<collection>_links`: `next` and `previous`, honouring `page_reverse`. */
export function neutronLinks(
  href: string,
  query: Query,
  page: { limit?: number; marker?: string; pageReverse?: boolean },
  items: { id?: unknown }[],
  hasMore: boolean,
): Link[] {
  if (page.limit === undefined) return [];
  const build = (marker: string, reverse: boolean) =>
    pageHref(href, query, { marker, page_reverse: reverse ? 'True' : undefined }, ['page_reverse']);
  const first = items[0]?.id;
  const last = items.at(-1)?.id;
  const links: Link[] = [];
  if (page.pageReverse) {
    if (hasMore && first) links.push({ rel: 'previous', href: build(String(first), true) });
    if (page.marker && last) links.push({ rel: 'next', href: build(String(last), false) });
  } else {
    if (hasMore && last) links.push({ rel: 'next', href: build(String(last), false) });
    if (page.marker && first) links.push({ rel: 'previous', href: build(String(first), true) });
  }
  return links;
}

/** Glance's `next`: the relative collection path with the caller's parameters and the next marker. */
export function glanceNext(path: string, query: Query, nextMarker: string | undefined): string | undefined {
  return nextMarker === undefined ? undefined : pageHref(path, query, { marker: nextMarker });
}
