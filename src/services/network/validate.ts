/** Attribute validators and converters with neutron_lib's messages (neutron_lib/api/validators, converters). */
import { echo } from '../../core/http/json.js';
import { ApiError } from '../../core/errors.js';
import { invalidAttr, badRequest, invalidInput } from './errors.js';
import { formatCidr, normalizeIp, normalizeMac, parseCidr, parseIp } from './ipam.js';

const UUID_RE = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

/** A client's value as an error repeats it: bounded (core/http/json.ts `echo`). */
export const repr = (v: unknown): string => echo(v);

export function isUuid(v: unknown): v is string {
  return typeof v === 'string' && UUID_RE.test(v);
}

/** A required attribute of a create body (400 when missing). */
export function required(b: Record<string, unknown>, attr: string): void {
  if (b[attr] === undefined)
    throw badRequest(`Failed to parse request. Required attribute '${attr}' not specified`);
}

/** Body `{"<key>": {...}}`, rejecting attributes not allowed for the operation. */
export function resourceBody(
  body: unknown,
  key: string,
  allowed: readonly string[],
  readOnly: readonly string[] = [],
): Record<string, unknown> {
  if (body === undefined || body === null) throw badRequest('Resource body required');
  if (typeof body !== 'object' || Array.isArray(body)) throw badRequest('Body contains invalid data');
  const b = (body as Record<string, unknown>)[key];
  if (b === undefined) throw badRequest(`Unable to find '${key}' in request body`);
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw badRequest(`Body contains invalid data`);
  const obj = b as Record<string, unknown>;
  const ro = Object.keys(obj).filter((k) => readOnly.includes(k));
  if (ro.length) throw badRequest(`Cannot update read-only attribute ${ro[0]}`);
  const unknown = Object.keys(obj).filter((k) => !allowed.includes(k));
  if (unknown.length) throw badRequest(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  return obj;
}

export function str(attr: string, v: unknown, max = 255): string {
  if (typeof v !== 'string') throw invalidAttr(attr, `'${repr(v)}' is not a valid string`);
  if (v.length > max) throw invalidAttr(attr, `'${repr(v)}' exceeds maximum length of ${max}`);
  return v;
}

export function optStr(attr: string, v: unknown, max = 255): string | undefined {
  return v === undefined ? undefined : str(attr, v, max);
}

/** neutron_lib converters.convert_to_boolean */
export function bool(attr: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  if (typeof v === 'string') {
    const l = v.toLowerCase();
    if (l === 'true' || l === '1') return true;
    if (l === 'false' || l === '0') return false;
  }
  throw invalidAttr(attr, `'${repr(v)}' cannot be converted to boolean`);
}

export function int(attr: string, v: unknown, min?: number, max?: number): number {
  let n: number;
  if (typeof v === 'number' && Number.isInteger(v)) n = v;
  else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) n = Number.parseInt(v, 10);
  else throw invalidAttr(attr, `'${repr(v)}' is not an integer`);
  if (min !== undefined && n < min)
    throw invalidAttr(attr, `'${n}' is too small - must be at least '${min}'`);
  if (max !== undefined && n > max)
    throw invalidAttr(attr, `'${n}' is too large - must be no larger than '${max}'`);
  return n;
}

export function uuid(attr: string, v: unknown): string {
  if (!isUuid(v)) throw invalidAttr(attr, `'${repr(v)}' is not a valid UUID`);
  return v;
}

export function oneOf<T extends string>(attr: string, v: unknown, values: readonly T[]): T {
  if (typeof v !== 'string' || !values.includes(v as T)) {
    throw invalidAttr(attr, `${repr(v)} is not in [${values.map((x) => `'${x}'`).join(', ')}]`);
  }
  return v as T;
}

export function list(attr: string, v: unknown): unknown[] {
  if (!Array.isArray(v)) throw invalidAttr(attr, `'${repr(v)}' is not a list`);
  return v;
}

export function dict(attr: string, v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw invalidAttr(attr, `'${repr(v)}' is not a dictionary`);
  return v as Record<string, unknown>;
}

export function ip(attr: string, v: unknown): string {
  const n = normalizeIp(v);
  if (!n) throw invalidAttr(attr, `'${repr(v)}' is not a valid IP address`);
  return n;
}

export function cidrOrIp(attr: string, v: unknown): string {
  if (typeof v === 'string' && v.includes('/')) {
    const c = parseCidr(v);
    if (!c) throw invalidAttr(attr, `'${repr(v)}' is not a valid IP subnet`);
    return v;
  }
  if (normalizeIp(v)) return v as string;
  throw invalidAttr(attr, `'${repr(v)}' is not a valid IP subnet`);
}

export function mac(attr: string, v: unknown): string {
  const m = normalizeMac(v);
  if (!m) throw invalidAttr(attr, `'${repr(v)}' is not a valid MAC address`);
  return m;
}

/** Neutron tag: a string of at most 255 characters, without commas. */
export function tag(v: unknown): string {
  if (typeof v !== 'string' || v.length > 255 || v === '')
    throw invalidAttr('tags', `'${repr(v)}' is not a valid tag`);
  if (v.includes(',')) throw invalidAttr('tags', `'${repr(v)}' contains ','`);
  return v;
}

export function tags(v: unknown): string[] {
  const l = list('tags', v);
  return [...new Set(l.map(tag))];
}

/** availability_zone_hints: only `nova` exists. */
export function azList(val: unknown): string[] {
  const l = list('availability_zone_hints', val).map((x) => str('availability_zone_hints', x));
  for (const az of l)
    if (az !== 'nova')
      throw new ApiError(404, `AvailabilityZone ${az} could not be found.`, 'AvailabilityZoneNotFound');
  return l;
}

/** dns_nameservers: distinct addresses, at most 5. */
export function nameservers(val: unknown): string[] {
  const l = list('dns_nameservers', val).map((x) => ip('dns_nameservers', x));
  if (new Set(l).size !== l.length)
    throw invalidAttr('dns_nameservers', `Duplicate nameserver '${l.find((x, i) => l.indexOf(x) !== i)}'`);
  if (l.length > 5)
    throw new ApiError(
      400,
      `Number of DNS nameservers exceeds the limit 5 for subnet`,
      'DNSNameServersExhausted',
    );
  return l;
}

/** host_routes (subnets) and routes (routers): {destination, nexthop}, distinct, at most 20. */
export function hostRoutes(
  val: unknown,
  ipVersion: number | undefined,
  attr = 'host_routes',
): { destination: string; nexthop: string }[] {
  const l = list(attr, val).map((x) => {
    const d = dict(attr, x);
    const bad = Object.keys(d).filter((k) => k !== 'destination' && k !== 'nexthop');
    if (bad.length || d.destination === undefined || d.nexthop === undefined)
      throw invalidAttr(
        attr,
        `Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: {${Object.keys(
          d,
        )
          .map((k) => `'${k}'`)
          .join(', ')}}`,
      );
    const dest = parseCidr(d.destination);
    if (!dest || !String(d.destination).includes('/'))
      throw invalidAttr(attr, `'${repr(d.destination)}' is not a valid IP subnet`);
    const nexthop = ip(attr, d.nexthop);
    if (ipVersion !== undefined && (dest.version !== ipVersion || parseIp(nexthop)!.version !== ipVersion))
      throw invalidInput(
        `Host route ${formatCidr(dest)} via ${nexthop} does not match ip_version ${ipVersion}`,
      );
    return { destination: formatCidr(dest), nexthop };
  });
  const keys = l.map((r) => `${r.destination}|${r.nexthop}`);
  if (new Set(keys).size !== keys.length)
    throw invalidAttr(attr, `Duplicate hostroute '${keys.find((k, i) => keys.indexOf(k) !== i)}'`);
  if (l.length > 20)
    throw new ApiError(400, 'Number of host routes exceeds the limit 20 for subnet', 'HostRoutesExhausted');
  return l;
}
