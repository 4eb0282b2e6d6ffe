/**
 * The Swift scope: raw bodies (never parsed, whatever their Content-Type), Swift's fault bodies, the optional
 * token (anonymous requests reach the handlers: public containers, temp URLs), and one dispatcher that splits
 * `/v1/<account>[/<container>[/<object>]]` as Swift's split_path does (the whole path decoded first, object
 * names keep their slashes, trailing ones included).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { toApiError } from '../../../core/http/app.js';
import type { TokenValidator } from '../../../core/auth/context.js';
import { renderFault, swiftError, swiftText } from '../faults.js';
import { account } from './account.js';
import { container } from './container.js';
import { object } from './object.js';
import { infoDoc } from './info.js';
import type { Services, SwiftRequest } from './common.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's own Content-Type (the scope hides it from Fastify so that every body streams raw). */
    swiftContentType?: string;
  }
}

const METHODS = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'COPY'];

export function renderError(err: unknown, req: FastifyRequest, reply: FastifyReply) {
  let e: ApiError;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!(err instanceof ApiError) && (code === 'ECONNRESET' || (err as Error)?.message === 'aborted'))
    e = swiftError(499);
  else e = toApiError(err, req);
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  const { body, type } = renderFault(e);
  reply.code(e.status).header('content-type', type);
  if (req.method === 'HEAD') return reply.header('content-length', String(Buffer.byteLength(body))).send();
  return reply.send(body);
}

export function swiftRoutes(scope: FastifyInstance, s: Services, tokens: TokenValidator): void {
  const prefix = scope.prefix;
  scope.faultScopes.push({
    prefix,
    faults: (e) => renderFault(e).body,
    frameworkError: (err, req, reply) =>
      void renderError(
        err.code === 'FST_ERR_BAD_URL' ? swiftText(412, 'Invalid UTF8 or contains NULL') : swiftError(400),
        req,
        reply,
      ),
  });
  scope.setErrorHandler((err, req, reply) => renderError(err, req, reply));
  scope.setNotFoundHandler((req, reply) => renderError(swiftError(404), req, reply));

  // Every body is the object's bytes (or ignored): hand the stream over untouched, JSON included.
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
  scope.addHook('onRequest', async (req) => {
    const ct = req.headers['content-type'];
    if (ct !== undefined) {
      req.swiftContentType = ct;
      // Fastify would refuse odd media types (415) and core times JSON bodies as small documents.
      req.headers['content-type'] = 'application/octet-stream';
    }
    const token = req.headers['x-auth-token'] ?? req.headers['x-storage-token'];
    if (typeof token === 'string' && token) {
      try {
        req.auth = await tokens.validate(token);
      } catch {
        // keystonemiddleware's delay_auth_decision: an invalid token is an anonymous request.
        req.auth = undefined;
      }
    }
    req.authorize = () => {
      throw new Error('object-store routes authorize through domain/access.ts');
    };
  });
  // An early refusal of an upload must not make the client send (or us read) the rest of it.
  scope.addHook('onSend', async (req, reply, payload) => {
    if (reply.statusCode >= 400 && !req.raw.readableEnded && req.method !== 'GET' && req.method !== 'HEAD')
      reply.header('connection', 'close');
    reply.header('x-trans-id', req.id);
    return payload;
  });

  scope.get('/info', { config: { public: true } }, async (_req, reply) => {
    reply.header('content-type', 'application/json; charset=utf-8');
    return JSON.stringify(infoDoc());
  });

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const parsed = splitPath(req.raw.url ?? '', prefix);
    const query = new URLSearchParams((req.raw.url ?? '').split('?').slice(1).join('?'));
    const referer = req.headers.referer;
    const r: SwiftRequest = {
      req,
      reply,
      method: req.method,
      ...parsed,
      query,
      who: { auth: req.auth, referer: typeof referer === 'string' ? referer : undefined },
    };
    if (r.object !== undefined) return object(r, s);
    if (r.container !== undefined) return container(r, s);
    return account(r, s);
  };
  for (const url of ['/v1/*', '/v1.0/*'])
    scope.route({ method: METHODS, url, config: { public: true }, handler });
}

/** split_path for /v1/<account>[/<container>[/<object>]]: 412 for bad UTF-8 or NUL, 404 when malformed. */
export function splitPath(
  rawUrl: string,
  prefix: string,
): { account: string; container?: string; object?: string } {
  const rawPath = rawUrl.split('?')[0]!.slice(prefix.length);
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    throw swiftText(412, 'Invalid UTF8 or contains NULL');
  }
  if (path.includes('\0')) throw swiftText(412, 'Invalid UTF8 or contains NULL');
  const m = /^\/v1(?:\.0)?\/([^/]+)(?:\/([^/]*)(?:\/(.*))?)?$/s.exec(path);
  if (!m) throw swiftError(404);
  const [, acct, cont, obj] = m;
  if (obj !== undefined && obj !== '') {
    if (!cont) throw swiftError(404);
    return { account: acct!, container: cont, object: obj };
  }
  if (cont) return { account: acct!, container: cont };
  return { account: acct! };
}
