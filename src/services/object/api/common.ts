/** What every Swift handler shares: the parsed request, header helpers, metadata updates. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Access, Requester } from '../domain/access.js';
import type { ObjectManager } from '../manager.js';
import { checkStoredMetadata } from '../constraints.js';

export interface Services {
  mgr: ObjectManager;
  access: Access;
  log: Logger;
  /** Where the scope is mounted (`/object-store`). */
  prefix: string;
}

/** One Swift request: `/v1/<account>[/<container>[/<object>]]`, names decoded. */
export interface SwiftRequest {
  req: FastifyRequest;
  reply: FastifyReply;
  method: string;
  account: string;
  container?: string;
  object?: string;
  query: URLSearchParams;
  who: Requester;
}

/** One header as a string (repeated headers joined as HTTP does). */
export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Python's str.title() on a header name: `x-object-meta-foo_bar` → `X-Object-Meta-Foo_Bar`. */
export const titleCase = (name: string) =>
  name.replace(/[A-Za-z]+/g, (w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase());

/** Set stored headers (lower-case names → raw values) on the reply, title-cased as Swift sends them. */
export function sendHeaders(
  reply: FastifyReply,
  stored: Record<string, string>,
  keep: (name: string) => boolean = () => true,
) {
  for (const [k, v] of Object.entries(stored)) if (keep(k)) reply.header(titleCase(k), v);
}

/**
 * Apply a request's `X-<T>-Meta-*` (an empty value removes) and `X-Remove-<T>-Meta-*` headers, and any of
 * `extra` headers, to stored metadata; checks the result as the account/container servers do.
 */
export function updateMeta(
  req: FastifyRequest,
  stored: Record<string, string>,
  target: 'account' | 'container',
  extra: Record<string, (v: string) => string> = {},
): Record<string, string> {
  const out = { ...stored };
  const prefix = `x-${target}-meta-`;
  const remove = `x-remove-${target}-meta-`;
  for (const [k, raw] of Object.entries(req.headers)) {
    const v = Array.isArray(raw) ? raw.join(', ') : (raw ?? '');
    if (k.startsWith(prefix)) {
      if (v === '') delete out[k];
      else out[k] = v;
    } else if (k.startsWith(remove)) delete out[prefix + k.slice(remove.length)];
    else if (k in extra) {
      if (v === '') delete out[k];
      else out[k] = extra[k]!(v);
    } else if (k.startsWith('x-remove-') && `x-${k.slice('x-remove-'.length)}` in extra)
      delete out[`x-${k.slice('x-remove-'.length)}`];
  }
  checkStoredMetadata(Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith(prefix))));
  return out;
}

export const parseMeta = (s: string): Record<string, string> => {
  try {
    return JSON.parse(s) as Record<string, string>;
  } catch {
    return {};
  }
};

/** Swift's `Content-Length: 0` replies with swob's page type. */
export function empty(reply: FastifyReply, status: number, type = 'text/html; charset=UTF-8') {
  reply.code(status).header('content-type', type).header('content-length', '0');
  return reply.send();
}

/** A lazy read of an account's X-Account-Access-Control (only needed when the policy alone refuses). */
export const accountAcl = (s: Services, account: string) => async () =>
  parseMeta((await s.mgr.account(account))?.meta ?? '{}')['x-account-access-control'];
