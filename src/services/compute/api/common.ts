/** Helpers shared by the compute routes: caller, microversion, Nova faults, body validation. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { callerOf as requestCaller, type Caller } from '../../../core/auth/caller.js';
import { parseLimit } from '../../../core/http/collection.js';
import type { ComputeManager } from '../manager/index.js';
import { MAX_VERSION, minVersion, parseMicroversion, type Mv } from '../microversion.js';
import type { ViewCtx } from '../views.js';

declare module 'fastify' {
  interface FastifyRequest {
    computeMv?: Mv;
  }
}

const FAULT_KEYS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Nova's fault body: `{"itemNotFound": {"code": 404, "message": "..."}}`. */
export const novaFault = (e: ApiError) => ({
  [FAULT_KEYS[e.status] ?? 'computeFault']: { code: e.status, message: e.message },
});

/** Parse the version headers on every request; answer with the version used (also on errors). */
export function microversionHooks(scope: FastifyInstance): void {
  scope.addHook('onRequest', async (req, reply) => {
    // Nova sends its request id under both names; clients read either.
    reply.header('x-compute-request-id', req.id);
    reply.header('vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
    if (req.routeOptions.config?.public) return;
    req.computeMv = parseMicroversion(req.headers);
    reply.header('openstack-api-version', `compute ${req.computeMv}`);
    reply.header('x-openstack-nova-api-version', String(req.computeMv));
  });
}

export const mv = (req: FastifyRequest): Mv => req.computeMv ?? minVersion();

/** The caller of a compute request: project-scoped tokens only (403 otherwise, as Nova). */
export function callerOf(req: FastifyRequest, mgr: ComputeManager): Caller {
  if (!req.auth!.projectId)
    throw new ApiError(403, 'Compute API calls need a project-scoped token.', 'forbidden');
  return requestCaller(req.auth, mgr.policy, req.id);
}

/** Route parameters. */
export type P = Record<string, string>;
export const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** A query flag Nova reads as true ('true', '1', 'yes'). */
export const flag = (req: FastifyRequest, k: string, yes = ['true', '1', 'yes']) =>
  yes.includes((q1(req, k) ?? '').toLowerCase());

export function viewCtx(
  req: FastifyRequest,
  mgr: ComputeManager,
  base: string,
  c: Caller,
  target: Record<string, unknown> = { project_id: c.projectId },
): ViewCtx {
  return {
    mv: mv(req),
    base,
    isAdmin: c.isAdmin,
    extended: mgr.can('os_compute_api:os-extended-server-attributes', target, c),
    flavorExtraSpecs: mgr.can('os_compute_api:servers:show:flavor-extra-specs', target, c),
  };
}

/** Requires a version: 404 when the route does not exist at the request's version (Nova's behaviour). */
export function requireMv(req: FastifyRequest, minor: number, max?: number): void {
  const v = mv(req);
  if (v.lt(minor) || (max !== undefined && v.minor > max))
    throw new ApiError(404, 'The resource could not be found.', 'itemNotFound');
}

// ------------------------------------------------------------------ body validation (jsonschema-like messages)
export const bad = (msg: string) => new ApiError(400, msg, 'badRequest');
export type Obj = Record<string, unknown>;

export function bodyKey(req: FastifyRequest, key: string): Obj {
  const b = req.body as Obj | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b))
    throw bad(`Invalid input for field/attribute ${key}. The request body is missing or not an object.`);
  const v = b[key];
  if (v === undefined) throw bad(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`,
    );
  return v as Obj;
}

export function str(
  o: Obj,
  key: string,
  opts: { required?: boolean; min?: number; max?: number; nullable?: boolean; trim?: boolean } = {},
): string | undefined {
  const v = o[key];
  if (v === undefined || (v === null && opts.nullable)) {
    if (opts.required) throw bad(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
    return v === null ? (null as unknown as undefined) : undefined;
  }
  if (typeof v !== 'string')
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'string'`,
    );
  const min = opts.min ?? 0;
  if (v.length < min) throw bad(`Invalid input for field/attribute ${key}. Value: ${v}. '${v}' is too short`);
  if (opts.max !== undefined && v.length > opts.max)
    throw bad(`Invalid input for field/attribute ${key}. Value: ${v}. '${v}' is too long`);
  if (opts.trim && v.trim() !== v)
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${v}. '${v}' does not match the name pattern (leading or trailing whitespace)`,
    );
  return v;
}

export function intOf(
  o: Obj,
  key: string,
  opts: { min?: number; max?: number; required?: boolean; allowString?: boolean } = {},
): number | undefined {
  let v = o[key];
  if (v === undefined) {
    if (opts.required) throw bad(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
    return undefined;
  }
  if (typeof v === 'string' && opts.allowString && /^-?\d+$/.test(v.trim())) v = Number(v.trim());
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'integer'`,
    );
  if (opts.min !== undefined && v < opts.min)
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${v}. ${v} is less than the minimum of ${opts.min}`,
    );
  if (opts.max !== undefined && v > opts.max)
    throw bad(
      `Invalid input for field/attribute ${key}. Value: ${v}. ${v} is greater than the maximum of ${opts.max}`,
    );
  return v;
}

export function boolOf(o: Obj, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (
    typeof v === 'string' &&
    ['true', 'false', '1', '0', 'yes', 'no', 'on', 'off', 't', 'f', 'y', 'n'].includes(v.toLowerCase())
  )
    return ['true', '1', 'yes', 'on', 't', 'y'].includes(v.toLowerCase());
  throw bad(
    `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'boolean', 'string'`,
  );
}

export function noExtra(o: Obj, allowed: string[], where: string): void {
  const extra = Object.keys(o).filter((k) => !allowed.includes(k));
  if (extra.length)
    throw bad(
      `Invalid input for field/attribute ${where}. Additional properties are not allowed ('${extra.join("', '")}' ${extra.length > 1 ? 'were' : 'was'} unexpected)`,
    );
}

/** Metadata: string keys 1..255, string values 0..255. */
export function metadataOf(v: unknown, where = 'metadata'): Record<string, string> {
  if (v === undefined) return {};
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw bad(
      `Invalid input for field/attribute ${where}. Value: ${JSON.stringify(v)}. ${JSON.stringify(v)} is not of type 'object'`,
    );
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v as Obj)) {
    if (k.length < 1 || k.length > 255)
      throw bad(`Invalid input for field/attribute ${where}. Metadata key length must be between 1 and 255.`);
    if (typeof val !== 'string')
      throw bad(
        `Invalid input for field/attribute ${where}. Value: ${JSON.stringify(val)}. ${JSON.stringify(val)} is not of type 'string'`,
      );
    if (val.length > 255)
      throw bad(`Invalid input for field/attribute ${where}. Value: ${val}. '${val}' is too long`);
    out[k] = val;
  }
  return out;
}

export function query(req: FastifyRequest): Record<string, string | string[]> {
  return (req.query ?? {}) as Record<string, string | string[]>;
}
export function q1(req: FastifyRequest, k: string): string | undefined {
  const v = query(req)[k];
  return Array.isArray(v) ? v[v.length - 1] : v;
}
export function qAll(req: FastifyRequest, k: string): string[] {
  const v = query(req)[k];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
/** `limit` (Nova's max_limit 1000), bounded by the core collection helper. */
export function limitOf(req: FastifyRequest, max = 1000): number | undefined {
  return parseLimit(q1(req, 'limit'), {
    max,
    invalid: (l) =>
      bad(`Invalid input for query parameters limit. Value: ${l}. '${l}' does not match '^[0-9]*$'`),
  });
}

/** Skip past `marker` in rows already in order (400 when it is not among them). */
export function afterMarker<T>(
  rows: T[],
  marker: string | undefined,
  keyOf: (r: T) => string,
  notFound?: string,
): T[] {
  if (!marker) return rows;
  const i = rows.findIndex((r) => keyOf(r) === marker);
  if (i < 0) throw bad(notFound ?? `marker [${marker}] not found`);
  return rows.slice(i + 1);
}

export const VERSION_INFO = (base: string) => ({
  id: 'v2.1',
  status: 'CURRENT',
  version: MAX_VERSION,
  min_version: '2.1',
  updated: '2013-07-23T11:33:21Z',
  links: [
    { rel: 'self', href: `${base}/v2.1/` },
    { rel: 'describedby', type: 'text/html', href: 'http://docs.openstack.org/' },
  ],
  'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
});
