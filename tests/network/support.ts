/** Helpers for the network API tests: Neutron calls with status assertions and fault checks. */
import { expect } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import type { TestCloud } from '../support/cloud.js';

export type Json = Record<string, any>;

export function neutron(cloud: TestCloud) {
  const call = (
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => cloud.req(method, `/networking/v2.0${path}`, { token, body, headers });
  /** Call and expect a status; returns the JSON body ({} for 204). */
  const ok = async (
    status: number,
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Json> => {
    const r = await call(method, path, token, body, headers);
    expect(r.statusCode, `${method} ${path}: ${r.body}`).toBe(status);
    return r.body ? (r.json() as Json) : {};
  };
  /** Call and expect a Neutron fault of this status and type. */
  const fails = async (
    status: number,
    type: string | RegExp,
    method: string,
    path: string,
    token: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Json> => {
    const r = await call(method, path, token, body, headers);
    expectFault(r, status, type, `${method} ${path}`);
    return r.json() as Json;
  };
  return { call, ok, fails };
}

export function expectFault(r: LightMyRequestResponse, status: number, type: string | RegExp, what = '') {
  expect(r.statusCode, `${what}: ${r.body}`).toBe(status);
  const f = (r.json() as Json).NeutronError;
  expect(f, r.body).toBeDefined();
  if (typeof type === 'string') expect(f.type, r.body).toBe(type);
  else expect(f.type, r.body).toMatch(type);
  expect(typeof f.message).toBe('string');
  expect(f.detail).toBe('');
}
