/** Collection query parameters as Neutron reads them: filters, fields, sort_key/sort_dir, limit/marker. */
import {
  allParams as all,
  lastParam,
  neutronLinks,
  parseLimit,
  type Link,
  type Query,
} from '../../core/http/collection.js';
import { badRequest } from './errors.js';
import { normalizeIp } from './ipam.js';
import type { Cond } from './store.js';

export type { Query };

export interface ColumnAttr {
  col: string;
  type: 'string' | 'bool' | 'int';
}

export interface CollectionDef {
  collection: string;
  member: string;
  /** Attributes that map to a column: filterable and sortable. */
  columns: Record<string, ColumnAttr>;
  /** Attributes of the resource that cannot be filtered on (accepted and ignored, as Neutron does for them). */
  others: string[];
  /** Resource type in the tags table, when the resource has tags. */
  tagType?: string;
}

export interface ListParams {
  filters: Record<string, string[]>;
  fields?: string[];
  sort: { key: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  marker?: string;
  pageReverse: boolean;
}

const RESERVED = ['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse'];
const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'];

/** Neutron's `limit`: an integer 0 or greater (0 = no limit), bounded to what a SQL integer holds. */
const LIMIT = {
  max: 2 ** 31 - 1,
  invalid: (raw: string) => badRequest(`Limit must be an integer 0 or greater and not '${raw}'`),
  signed: true,
  zero: 'none' as const,
};

export function parseListParams(q: Query, def: CollectionDef, special: string[] = []): ListParams {
  const filters: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(q)) {
    if (RESERVED.includes(k) || v === undefined) continue;
    const known =
      k in def.columns ||
      def.others.includes(k) ||
      special.includes(k) ||
      k === 'tenant_id' ||
      (def.tagType !== undefined && TAG_FILTERS.includes(k));
    if (!known) throw badRequest(`['${k}'] is invalid attribute for filtering`);
    filters[k] = Array.isArray(v) ? v : [v];
  }
  const fields = all(q, 'fields')
    .flatMap((f) => f.split(','))
    .filter(Boolean);
  const keys = all(q, 'sort_key');
  const dirs = all(q, 'sort_dir');
  if (dirs.length && dirs.length !== keys.length) {
    throw badRequest('The number of sort_keys and sort_dirs must be same');
  }
  const sort = keys.map((key, i) => {
    const attr = key === 'tenant_id' ? 'project_id' : key;
    if (!(attr in def.columns)) {
      throw badRequest(`${key} is an invalid attribute for sort_keys`);
    }
    const dir = (dirs[i] ?? 'asc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') {
      throw badRequest(`${dirs[i]} is an invalid value for sort_dir, valid values are 'asc' and 'desc'`);
    }
    return { key: attr, dir: dir as 'asc' | 'desc' };
  });
  const limit = parseLimit(lastParam(q, 'limit'), LIMIT);
  const marker = all(q, 'marker').at(-1);
  const pr = all(q, 'page_reverse').at(-1);
  return {
    filters,
    fields: fields.length ? fields : undefined,
    sort,
    limit,
    marker,
    pageReverse: pr === 'True' || pr === 'true',
  };
}

function boolValue(attr: string, v: string): number {
  const l = v.toLowerCase();
  if (l === 'true' || l === '1') return 1;
  if (l === 'false' || l === '0') return 0;
  throw badRequest(`Invalid input for ${attr}. Reason: '${v}' cannot be converted to boolean.`);
}

/** SQL conditions for the column filters and the tag filters. */
export function columnConds(def: CollectionDef, params: ListParams): Cond[] {
  const conds: Cond[] = [];
  for (const [k, vals] of Object.entries(params.filters)) {
    const attr = k === 'tenant_id' ? 'project_id' : k;
    const c = def.columns[attr];
    if (c) {
      const values = vals.flatMap((v): (string | number)[] => {
        if (c.type === 'bool') return [boolValue(k, v)];
        if (c.type === 'int') {
          if (!/^-?\d+$/.test(v))
            throw badRequest(`Invalid input for ${k}. Reason: '${v}' is not an integer.`);
          return [Number.parseInt(v, 10)];
        }
        // Addresses are stored in canonical form: match `2001:DB8::1` as `2001:db8::1`.
        if (attr.endsWith('ip_address') || attr === 'gateway_ip') return [normalizeIp(v) ?? v];
        return [v];
      });
      conds.push({ eq: c.col, values });
    }
  }
  if (def.tagType) {
    const split = (k: string) => (params.filters[k] ?? []).flatMap((v) => v.split(',')).filter(Boolean);
    const tagged = (tags: string[]): Cond => ({
      in: 'id',
      table: 'net_tags',
      select: 'resource_id',
      where: [
        { eq: 'resource_type', values: [def.tagType!] },
        { eq: 'tag', values: tags },
      ],
    });
    for (const t of split('tags')) conds.push(tagged([t]));
    const any = split('tags-any');
    if (any.length) conds.push(tagged(any));
    const notAll = split('not-tags');
    if (notAll.length) conds.push({ or: notAll.map((t) => ({ ...tagged([t]), not: true })) });
    const notAny = split('not-tags-any');
    if (notAny.length) conds.push({ ...tagged(notAny), not: true });
  }
  return conds;
}

/** Neutron's `<collection>_links` for a page (core/http/collection.ts, Neutron's dialect). */
export function pageLinks(
  baseUrl: string,
  query: Query,
  collection: string,
  params: ListParams,
  items: { id?: unknown }[],
  hasMore: boolean,
): Link[] {
  return neutronLinks(`${baseUrl}/${collection}`, query, params, items, hasMore);
}
