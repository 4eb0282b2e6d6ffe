/**
 * The shared HTTP guards (src/core/http/app.ts): JSON bodies bounded in size, depth and keys; prototype
 * keys refused; slow bodies cut with a 408 while steady uploads pass; errors before routing rendered in the
 * service's fault format. A bare app with one fake service and short limits, on a real socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { createApp, setupServiceScope } from '../../src/core/http/app.js';
import { PolicyEngine } from '../../src/core/auth/policy.js';
import type { ApiError } from '../../src/core/errors.js';
import { checkJson, echo } from '../../src/core/http/json.js';

let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = createApp(pino({ level: 'silent' }), { jsonBodyMs: 1500, streamWindowMs: 1000, streamMinBytes: 100 });
  await app.register(
    async (scope) => {
      setupServiceScope(scope, {
        faults: (e: ApiError) => ({ svcFault: { code: e.status, message: e.message } }),
        validator: { validate: async () => Promise.reject(new Error('no tokens here')) },
        policy: new PolicyEngine(),
      });
      scope.post('/echo', { config: { public: true } }, async (req) => ({ got: req.body ?? null }));
      scope.put('/things/:id', { config: { public: true } }, async (req) => ({
        id: (req.params as { id: string }).id,
      }));
      scope.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
      scope.put('/data', { config: { public: true } }, async (req) => {
        let n = 0;
        for await (const c of req.body as AsyncIterable<Buffer>) n += c.length;
        return { bytes: n };
      });
    },
    { prefix: '/svc' },
  );
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
afterAll(async () => app?.close());

/** Send raw bytes over a socket, with optional pauses; resolve with the first response's status and body. */
function raw(parts: (string | number)[]): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    s.on('data', (c) => (data += c.toString()));
    s.on('error', reject);
    s.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4), closed: true });
    });
    void (async () => {
      for (const p of parts) {
        if (s.destroyed) return;
        if (typeof p === 'number') await new Promise((r) => setTimeout(r, p));
        else s.write(p);
      }
    })();
  });
}

describe('JSON bodies', () => {
  it('parses normal bodies and refuses deep, huge and poisoned ones with the service fault', async () => {
    const ok = await app.inject({ method: 'POST', url: '/svc/echo', payload: { a: [1, { b: 2 }] } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ got: { a: [1, { b: 2 }] } });

    const deep = '['.repeat(5000) + ']'.repeat(5000);
    const r1 = await app.inject({
      method: 'POST',
      url: '/svc/echo',
      headers: { 'content-type': 'application/json' },
      payload: deep,
    });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().svcFault.message).toMatch(/nested deeper/);

    for (const body of ['{"__proto__":{"x":1}}', '{"a":{"constructor":{"prototype":{"x":1}}}}']) {
      const r = await app.inject({
        method: 'POST',
        url: '/svc/echo',
        headers: { 'content-type': 'application/json' },
        payload: body,
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().svcFault.code).toBe(400);
    }
    // "constructor" as an ordinary key is fine.
    const c = await app.inject({ method: 'POST', url: '/svc/echo', payload: { constructor: 'x' } });
    expect(c.statusCode).toBe(200);

    const big = JSON.stringify({ v: 'x'.repeat(200_000) });
    const r2 = await app.inject({
      method: 'POST',
      url: '/svc/echo',
      headers: { 'content-type': 'application/json' },
      payload: big,
    });
    expect(r2.statusCode).toBe(413);
    expect(r2.json().svcFault.code).toBe(413);
    expect(r2.body.length).toBeLessThan(1000);

    const bad = await app.inject({
      method: 'POST',
      url: '/svc/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"a":',
    });
    expect(bad.statusCode).toBe(400);
  });

  it('checkJson counts items and echo bounds what errors repeat', () => {
    expect(() => checkJson(Array.from({ length: 30_000 }, () => 1))).toThrow(/JSON items/);
    expect(() => checkJson({ a: { b: [1, 2, { c: null }] } })).not.toThrow();
    expect(echo('y'.repeat(10_000)).length).toBeLessThanOrEqual(201);
  });
});

describe('errors before routing', () => {
  it('a path that is not valid UTF-8 gets the service fault', async () => {
    const r = await app.inject({ method: 'PUT', url: '/svc/things/%ff%fe' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toHaveProperty('svcFault');
    expect(r.headers['x-openstack-request-id']).toMatch(/^req-/);
  });
});

describe('slow bodies', () => {
  it('a JSON body dripping a byte at a time is cut with 408', async () => {
    const head = `POST /svc/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n`;
    const parts: (string | number)[] = [head];
    for (let i = 0; i < 20; i++) parts.push('{', 400);
    const r = await raw(parts);
    expect(r.status).toBe(408);
    expect(r.body).toContain('svcFault');
  });

  it('a streamed body below the minimum rate is cut, a steady one passes', async () => {
    const head = (n: number) =>
      `PUT /svc/data HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${n}\r\nConnection: close\r\n\r\n`;
    const slow: (string | number)[] = [head(1000)];
    for (let i = 0; i < 10; i++) slow.push('x', 300);
    expect((await raw(slow)).status).toBe(408);

    const steady: (string | number)[] = [head(3000)];
    for (let i = 0; i < 10; i++) steady.push('y'.repeat(300), 250);
    const ok = await raw(steady);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('"bytes":3000');
  });
});

describe('error messages', () => {
  it('never repeat unbounded input', async () => {
    const { ApiError, MAX_MESSAGE } = await import('../../src/core/errors.js');
    const e = new ApiError(400, `Invalid input: ${'z'.repeat(100_000)}`);
    expect(e.message.length).toBeLessThanOrEqual(MAX_MESSAGE + 1);
  });
});
