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

/** POST a Neutron body to a path under /v2.0 as some caller; returns the JSON answer (201 expected). */
export type NeutronPost = (path: string, body: Json) => Promise<Json>;

/** `ok(201, 'POST', …)` of a neutron() client, as a NeutronPost for one token. */
export const poster =
  (api: ReturnType<typeof neutron>, token: string): NeutronPost =>
  (path, body) =>
    api.ok(201, 'POST', path, token, body);

/**
 * The external network `public` (flat, physical network `extnet`, as DevStack's) and its IPv4 subnet with the
 * attributes given (cidr, pools, gateway, DHCP …), created by whoever `post` calls as (an admin).
 */
export async function publicNetwork(
  post: NeutronPost,
  subnet: Json,
): Promise<{ network: Json; subnet: Json }> {
  const network = (
    await post('/networks', {
      network: {
        name: 'public',
        'router:external': true,
        'provider:network_type': 'flat',
        'provider:physical_network': 'extnet',
      },
    })
  ).network as Json;
  const created = (await post('/subnets', { subnet: { network_id: network.id, ip_version: 4, ...subnet } }))
    .subnet as Json;
  return { network, subnet: created };
}
