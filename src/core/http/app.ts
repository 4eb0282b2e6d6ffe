import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from 'pino';
import { ApiError, unauthorized, forbidden } from '../errors.js';
import { requestId } from '../ids.js';
import type { AuthContext, TokenValidator } from '../auth/context.js';
import type { PolicyEngine } from '../auth/policy.js';
import { PassThrough } from 'node:stream';
import { parseJsonBody } from './json.js';
import { LIMITS, type Limits } from './limits.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
    /** Enforce this route's policy rule (config.policy) — or the rule given — against a target. */
    authorize(target?: Record<string, unknown>, rule?: string): void;
  }
  interface FastifyInstance {
    /** Every route registered, with its config (policy rule or public), for audits and tests. */
    routeTable: { method: string | string[]; url: string; policy?: string; public?: boolean }[];
    /** Each service's fault format by path prefix, for errors raised before routing (bad URLs). */
    faultScopes: {
      prefix: string;
      faults: FaultFormatter;
      /** A service that answers framework errors itself (Swift: 412 and text bodies for bad UTF-8 paths). */
      frameworkError?: (err: FastifyError, req: FastifyRequest, reply: FastifyReply) => void;
    }[];
  }
  interface FastifyContextConfig {
    /** The policy rule guarding this route (e.g. `identity:get_project`). */
    policy?: string;
    /** Route needs no token (version discovery, token issue). */
    public?: boolean;
  }
}

/** A service's error renderer: turns an ApiError into its own JSON fault body. */
export type FaultFormatter = (err: ApiError) => unknown;

const REQ_ID_RE = /^req-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The app every service mounts on; `limits` overrides the request limits (tests use short ones). */
export function createApp(log: Logger, limits: Partial<Limits> = {}): FastifyInstance {
  const L: Limits = { ...LIMITS, ...limits };
  const faultScopes: FastifyInstance['faultScopes'] = [];
  const app = Fastify({
    loggerInstance: log as unknown as FastifyBaseLogger,
    genReqId: () => requestId(),
    bodyLimit: L.jsonBody,
    keepAliveTimeout: L.keepAliveMs,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    // Errors Fastify raises before a route is found (a path that is not valid UTF-8, a bad header) are
    // rendered in the fault format of the service whose prefix the path has, like every other error.
    frameworkErrors: (err, req, reply) => {
      const url = req.raw.url ?? '/';
      const scope = faultScopes
        .filter((s) => url === s.prefix || url.startsWith(`${s.prefix}/`))
        .sort((a, b) => b.prefix.length - a.prefix.length)[0];
      if (scope?.frameworkError)
        return scope.frameworkError(err, req as FastifyRequest, reply as FastifyReply);
      const status = typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 400;
      const e = new ApiError(
        status,
        err.code === 'FST_ERR_BAD_URL' ? 'Invalid URL: not valid UTF-8.' : err.message,
      );
      reply.header('x-openstack-request-id', req.id);
      const r = reply as unknown as FastifyReply;
      void r
        .code(e.status)
        .type('application/json')
        .send(scope ? scope.faults(e) : { error: { code: e.status, message: e.message } });
    },
  });
  app.decorate('faultScopes', faultScopes);
  app.server.headersTimeout = L.headersMs;
  app.server.requestTimeout = 0; // long uploads are legitimate; slow bodies are cut by the rate guard below
  app.server.maxConnections = L.maxConnections;
  app.addHook('preParsing', async (req, _reply, payload) => guardBody(req, payload, L));

  // oslo.middleware returns the request id; a global id from the caller is logged alongside it.
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', req.id);
    const global = req.headers['x-openstack-request-id'];
    if (typeof global === 'string' && REQ_ID_RE.test(global))
      req.log = req.log.child({ global_request_id: global });
  });

  // JSON bodies: an empty body is "no body"; invalid JSON is a 400 rendered by the service's fault format.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: L.jsonBody },
    (_req, body, done) => {
      try {
        done(null, parseJsonBody(String(body)));
      } catch (e) {
        done(e as Error);
      }
    },
  );
  const routeTable: FastifyInstance['routeTable'] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (r) => {
    const cfg = (r.config ?? {}) as { policy?: string; public?: boolean };
    if (r.method !== 'HEAD' || !routeTable.some((x) => x.url === r.url && x.method === 'GET'))
      routeTable.push({ method: r.method, url: r.url, policy: cfg.policy, public: cfg.public });
  });
  app.decorateRequest('auth', undefined);
  app.decorateRequest('authorize', function () {
    throw new Error('authorize() called outside a service scope');
  });
  return app;
}

/**
 * Slow bodies: a JSON body (small, see LIMITS.jsonBody) must be complete within LIMITS.jsonBodyMs of the
 * request's start; any other body (a streamed upload) must bring LIMITS.streamMinBytes in every window of
 * LIMITS.streamWindowMs. Otherwise the body stream fails with a 408 and the connection is closed, so a client
 * sending a byte every few seconds cannot hold a connection for ever, while a long upload at any usable
 * speed is never cut.
 */
function guardBody(req: FastifyRequest, payload: NodeJS.ReadableStream, L: Limits): NodeJS.ReadableStream {
  const len = req.headers['content-length'];
  if ((len === undefined || len === '0') && !req.headers['transfer-encoding']) return payload;
  const isJson = /^application\/([a-z0-9.+-]*\+)?json\b/i.test(req.headers['content-type'] ?? '');
  const out = new PassThrough();
  let got = 0;
  let done = false;
  const fail = (msg: string) => {
    if (done) return;
    done = true;
    clearInterval(timer);
    req.log.info({ received: got }, msg);
    out.destroy(new ApiError(408, msg, 'RequestTimeout', { connection: 'close' }));
  };
  const timer = isJson
    ? setTimeout(() => fail('Request body not received in time.'), L.jsonBodyMs)
    : setInterval(() => {
        if (got < L.streamMinBytes) fail('Request body arriving too slowly.');
        got = 0;
      }, L.streamWindowMs);
  timer.unref();
  const stop = () => {
    done = true;
    clearInterval(timer);
  };
  payload.on('data', (c: Buffer) => {
    got += c.length;
  });
  payload.on('end', stop);
  payload.on('error', (e: Error) => {
    stop();
    out.destroy(e);
  });
  out.on('close', stop);
  // The reader (a parser or a handler) gets the error through its own listener; this one only keeps a
  // stream nobody reads any more (its reader gave up first) from crashing the process.
  out.on('error', () => undefined);
  (payload as NodeJS.ReadableStream).pipe(out);
  return out;
}

/** Convert anything thrown inside a service into an ApiError. Unknown errors are 500 and logged. */
export function toApiError(err: unknown, req: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError & { validation?: unknown[]; validationContext?: string };
  if (fe.validation) {
    const where = fe.validationContext ?? 'body';
    return new ApiError(400, `Invalid input for field/attribute ${where}: ${fe.message}`, 'ValidationError');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(fe.statusCode, fe.message);
  }
  req.log.error({ err }, 'unexpected error');
  return new ApiError(500, 'An unexpected error prevented the server from fulfilling your request.');
}

export interface ServiceScopeOptions {
  faults: FaultFormatter;
  validator: TokenValidator;
  policy: PolicyEngine;
  /** Text for the 404 of an unknown path in this service. */
  notFoundMessage?: (req: FastifyRequest) => string;
}

/**
 * Make a Fastify scope (a service plugin) speak one OpenStack service: its fault format, token
 * validation for every non-public route, and `req.authorize()` for the route's policy rule.
 */
export function setupServiceScope(scope: FastifyInstance, opts: ServiceScopeOptions): void {
  if (scope.prefix) scope.faultScopes.push({ prefix: scope.prefix, faults: opts.faults });
  scope.setErrorHandler((err, req, reply) => {
    const e = toApiError(err, req);
    if (e.status === 401 && !e.headers['www-authenticate']) {
      reply.header('www-authenticate', `Keystone uri="${req.protocol}://${req.host}/identity"`);
    }
    for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
    reply.code(e.status).type('application/json').send(opts.faults(e));
  });
  scope.setNotFoundHandler((req, reply) => {
    const msg = opts.notFoundMessage?.(req) ?? 'The resource could not be found.';
    reply
      .code(404)
      .type('application/json')
      .send(opts.faults(new ApiError(404, msg, 'NotFound')));
  });
  scope.addHook('onRequest', async (req) => {
    const cfg = req.routeOptions.config;
    req.authorize = (target: Record<string, unknown> = {}, rule?: string) => {
      const name = rule ?? cfg.policy;
      if (!name) throw new Error(`route ${req.routeOptions.url} has no policy rule`);
      if (!req.auth) throw unauthorized();
      if (!opts.policy.check(name, target, req.auth.creds)) {
        req.log.info({ rule: name }, 'policy denied');
        throw forbidden(`You are not authorized to perform the requested action: ${name}.`);
      }
    };
    if (cfg.public || !req.routeOptions.url) return;
    const token = req.headers['x-auth-token'];
    if (typeof token !== 'string' || token === '') throw unauthorized();
    try {
      req.auth = await opts.validator.validate(token);
    } catch (e) {
      // An invalid, expired or revoked token on the request itself is a 401, whatever the reason.
      if (e instanceof ApiError && e.status === 404) throw unauthorized();
      throw e;
    }
  });
}
