/** Glance's list query (images.py RequestDeserializer.index + db/sqlalchemy/api.py filters). */
import { badRequest } from '../../../core/errors.js';
import { isImageColumn, type ListParams, type SortDir } from '../manager.js';
import { VISIBILITIES } from '../schemas.js';

const SORT_KEYS = [
  'name',
  'status',
  'container_format',
  'disk_format',
  'size',
  'id',
  'created_at',
  'updated_at',
];
const INT_COLS = new Set(['size', 'virtual_size', 'min_disk', 'min_ram']);

export type { ListParams };

/** The query string as ordered pairs (Glance keeps the caller's order in its links). */
export function queryPairs(url: string): [string, string][] {
  const i = url.indexOf('?');
  if (i < 0) return [];
  return [...new URLSearchParams(url.slice(i + 1)).entries()];
}

/** Python's dict(request.params) + urlencode: one entry per key (last value wins), first-seen order. */
export function encodeParams(pairs: [string, string][], without: string[] = []): [string, string][] {
  const m = new Map<string, string>();
  for (const [k, v] of pairs) if (!without.includes(k)) m.set(k, v);
  return [...m.entries()];
}

/** oslo_utils.timeutils.parse_isotime (iso8601), normalized to UTC, printed as stored (seconds). */
export function parseIsoTime(s: string): string | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(
      s.trim(),
    );
  if (!m) return undefined;
  let tz = m[8] ?? 'Z';
  if (/^[+-]\d{2}$/.test(tz)) tz += ':00';
  else if (/^[+-]\d{4}$/.test(tz)) tz = `${tz.slice(0, 3)}:${tz.slice(3)}`;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${tz.toUpperCase()}`;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** glance.common.utils.split_filter_op */
function splitOp(expr: string): [string, string] {
  const i = expr.indexOf(':');
  if (i < 0) return ['eq', expr];
  if (parseIsoTime(expr) !== undefined) return ['eq', expr];
  return [expr.slice(0, i), expr.slice(i + 1)];
}

/** glance.common.utils.split_filter_value_for_quotes (api-wg `in:` lists, quoted values may hold commas). */
function splitValues(value: string): string[] {
  let open = false;
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '"' || (i && value[i - 1] === '\\')) continue;
    if (open) {
      open = false;
      if (i + 1 < value.length && value[i + 1] !== ',')
        throw badRequest(
          'Invalid filter value ' + value + '. There is no comma after closing quotation mark.',
        );
    } else {
      if (i && value[i - 1] !== ',')
        throw badRequest(
          'Invalid filter value ' + value + '. There is no comma before opening quotation mark.',
        );
      open = true;
    }
  }
  if (open) throw badRequest('Invalid filter value ' + value + '. The quote is not closed.');
  const out: string[] = [];
  const re = /"([^"\\]*(?:\\.[^"\\]*)*)",?|([^,]+),?|,/g;
  for (const m of value.matchAll(re)) out.push(m[1] ?? m[2] ?? '');
  return out;
}

const CMP: Record<string, '=' | '!=' | '<' | '<=' | '>' | '>='> = {
  eq: '=',
  neq: '!=',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
};

export function parseListQuery(url: string): ListParams {
  const pairs = queryPairs(url);
  const params = new Map<string, string[]>();
  for (const [k, v] of pairs) params.set(k, [...(params.get(k) ?? []), v]);
  const take = (k: string): string[] => {
    const v = params.get(k) ?? [];
    params.delete(k);
    return v;
  };
  const last = (k: string): string | undefined => take(k).at(-1);

  const out: ListParams = { conditions: [], memberStatus: 'accepted', sort: [] };
  const limit = last('limit');
  if (limit !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(limit)) throw badRequest('limit param must be an integer');
    out.limit = Number.parseInt(limit, 10);
    if (out.limit < 0) throw badRequest('limit param must be positive');
  }
  out.marker = last('marker');
  const ms = last('member_status') ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(ms)) throw badRequest(`Invalid status: ${ms}`);
  out.memberStatus = ms;
  for (const t of take('tag')) out.conditions.push({ kind: 'tag', value: t.trim() });
  const visibility = last('visibility');
  if (visibility) {
    if (![...VISIBILITIES, 'all'].includes(visibility))
      throw badRequest(`Invalid visibility value: ${visibility}`);
    out.visibility = visibility;
  }
  if (params.has('changes-since'))
    throw badRequest('The "changes-since" filter is no longer available on v2.');

  // sorting: sort=name:asc,size:desc  or  sort_key=name&sort_dir=asc
  const keys: string[] = [];
  const dirs: string[] = [];
  const validKey = (k: string) => {
    if (!SORT_KEYS.includes(k))
      throw badRequest(`Invalid sort key: ${k}. It must be one of the following: ${SORT_KEYS.join(', ')}.`);
    return k;
  };
  const validDir = (d: string) => {
    if (d !== 'asc' && d !== 'desc') throw badRequest(`Invalid sort direction: ${d}`);
    return d;
  };
  if (params.has('sort')) {
    if (params.has('sort_key') || params.has('sort_dir'))
      throw badRequest('Old and new sorting syntax cannot be combined');
    for (const part of take('sort')[0]!.trim().split(',')) {
      const i = part.indexOf(':');
      const key = i < 0 ? part : part.slice(0, i);
      const dir = i < 0 || part.slice(i + 1) === '' ? 'desc' : part.slice(i + 1);
      keys.push(validKey(key.trim()));
      dirs.push(validDir(dir.trim()));
    }
  } else {
    for (const k of take('sort_key')) keys.push(validKey(k.trim()));
    for (const d of take('sort_dir')) dirs.push(validDir(d.trim()));
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw badRequest('Number of sort dirs does not match the number of sort keys');
  }
  if (keys.length === 0) keys.push('created_at');
  if (dirs.length === 0) dirs.push('desc');
  let dflt = 'desc';
  if (dirs.length === 1) {
    dflt = dirs[0]!;
    while (dirs.length < keys.length) dirs.push(dflt);
  }
  for (const k of ['created_at', 'id'])
    if (!keys.includes(k)) {
      keys.push(k);
      dirs.push(dflt);
    }
  out.sort = keys.map((key, i) => ({ key, dir: (dirs[i] ?? dflt) as SortDir }));

  // os_hidden and protected (controller), then the DB-level filters
  const hidden = (last('os_hidden') ?? 'false').toLowerCase();
  if (hidden !== 'true' && hidden !== 'false')
    throw badRequest(`Invalid value '${hidden}' for 'os_hidden' filter. Valid values are 'true' or 'false'.`);
  out.conditions.push({ kind: 'cmp', column: 'os_hidden', op: '=', value: hidden === 'true' ? 1 : 0 });
  const prot = last('protected');
  if (prot !== undefined) {
    if (prot !== 'true' && prot !== 'false')
      throw badRequest(`Invalid value '${prot}' for 'protected' filter. Valid values are 'true' or 'false'.`);
    out.conditions.push({ kind: 'cmp', column: 'protected', op: '=', value: prot === 'true' ? 1 : 0 });
  }
  // deleted=False in Glance also hides killed images
  out.conditions.push({ kind: 'cmp', column: 'status', op: '!=', value: 'killed' });
  params.delete('deleted');

  for (const [k, values] of params) {
    const v = values.at(-1)!;
    if ((k.endsWith('_min') || k.endsWith('_max')) && INT_COLS.has(k.slice(0, -4))) {
      if (!/^\s*[+-]?\d+\s*$/.test(v))
        throw badRequest('Unable to filter on a range with a non-numeric value.');
      out.conditions.push({
        kind: 'cmp',
        column: k.slice(0, -4),
        op: k.endsWith('_min') ? '>=' : '<=',
        value: Number.parseInt(v, 10),
      });
    } else if (k === 'created_at' || k === 'updated_at') {
      const [op, time] = splitOp(v);
      const t = parseIsoTime(time);
      if (t === undefined)
        throw badRequest(`Bad "${k}" query filter format. Use ISO 8601 DateTime notation.`);
      const cmp = CMP[op];
      if (!cmp) throw badRequest('Unable to filter on a unknown operator.');
      out.conditions.push({ kind: 'cmp', column: k, op: cmp, value: t });
    } else if (['name', 'id', 'status', 'container_format', 'disk_format'].includes(k)) {
      const [op, value] = splitOp(v);
      if (op === 'in') out.conditions.push({ kind: 'in', column: k, values: splitValues(value) });
      else if (op === 'eq') out.conditions.push({ kind: 'cmp', column: k, op: '=', value });
      else throw badRequest(`Unable to filter by unknown operator '${op}'.`);
    } else if (isImageColumn(k)) {
      if (INT_COLS.has(k)) {
        if (!/^\s*[+-]?\d+\s*$/.test(v))
          throw badRequest(`Invalid value '${v}' for filter '${k}': expecting an integer.`);
        out.conditions.push({ kind: 'cmp', column: k, op: '=', value: Number.parseInt(v, 10) });
      } else if (k === 'os_hidden' || k === 'protected') {
        // handled above
      } else out.conditions.push({ kind: 'cmp', column: k, op: '=', value: v });
    } else {
      out.conditions.push({ kind: 'property', name: k, value: v });
    }
  }
  return out;
}
