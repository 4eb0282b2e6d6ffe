import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenData } from '../auth.js';
import { badRequest } from '../../../core/errors.js';
import { lastParam, type Query } from '../../../core/http/collection.js';

export type { Query };

export function q(req: FastifyRequest): Query {
  return (req.query ?? {}) as Query;
}

/** One query value (the last when repeated). */
export const one = lastParam;

/** Keystone's boolean query parsing: "0", "false", "no", "off" (any case) are false; other values true. */
export function boolQuery(query: Query, key: string): boolean | undefined {
  const v = one(query, key);
  if (v === undefined) return undefined;
  if (v === '') return true;
  return !['0', 'false', 'no', 'off', 'f', 'n'].includes(v.toLowerCase());
}

/** Keystone's inexact filters on string attributes: name__contains, name__istartswith, ... */
export function inexactFilter<T>(rows: T[], query: Query, attrs: string[]): T[] {
  let out = rows;
  for (const [key, raw] of Object.entries(query)) {
    const m = /^(\w+)__(i?)(contains|startswith|endswith|equals)$/.exec(key);
    if (!m || !attrs.includes(m[1]!) || raw === undefined) continue;
    const ci = m[2] === 'i';
    const needle = (Array.isArray(raw) ? raw[raw.length - 1]! : raw)[ci ? 'toLowerCase' : 'toString']();
    out = out.filter((r) => {
      const v = (r as Record<string, unknown>)[m[1]!];
      if (typeof v !== 'string') return false;
      const hay = ci ? v.toLowerCase() : v;
      switch (m[3]) {
        case 'contains':
          return hay.includes(needle);
        case 'startswith':
          return hay.startsWith(needle);
        case 'endswith':
          return hay.endsWith(needle);
        default:
          return hay === needle;
      }
    });
  }
  return out;
}

/** Body `{"<key>": {...}}`, or a 400 naming what is missing. */
export function bodyOf<T = Record<string, unknown>>(req: FastifyRequest, key: string): T {
  const b = req.body as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object' || Array.isArray(b)) {
    throw badRequest(`Expecting to find ${key} in request body.`);
  }
  const v = b[key];
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw badRequest(`Invalid input for field '${key}': expecting an object.`);
  }
  return v as T;
}

/** Split a body into known attributes and Keystone's "extra" (unknown attributes are stored and echoed). */
export function splitExtra(body: Record<string, unknown>, known: string[]): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!known.includes(k) && k !== 'links') extra[k] = v;
  return extra;
}

/** The route's path parameters. */
export const params = (req: FastifyRequest) => req.params as Record<string, string>;

/** 204 No Content. */
export const noContent = (reply: FastifyReply) => reply.code(204).send();

/** The validated token of the request. */
export const tokenOf = (req: FastifyRequest) => req.auth as TokenData;

/** The domain a request acts in when it names none: the token's domain scope or its project's domain. */
export const callerDomain = (req: FastifyRequest) =>
  tokenOf(req).domainId ?? tokenOf(req).projectDomainId ?? 'default';

/** Domain readers list only their domain. */
export function forcedDomain(req: FastifyRequest): string | undefined {
  const a = tokenOf(req);
  if (a.domainId && !a.creds.roles.includes('admin')) return a.domainId;
  return undefined;
}

/** The attributes of a project (and a domain) that are not "extra". */
export const PROJECT_KEYS = [
  'id',
  'name',
  'domain_id',
  'parent_id',
  'is_domain',
  'enabled',
  'description',
  'tags',
  'options',
];

/** The attributes of a user that are not "extra". */
export const USER_KEYS = [
  'id',
  'name',
  'domain_id',
  'enabled',
  'password',
  'default_project_id',
  'description',
  'email',
  'options',
];
