/**
 * Logins under attack: concurrent wrong passwords all count towards the lockout (no lost updates), a flood
 * against one account does not starve another account's login (fair, bounded password checks), an unknown
 * user costs the same password check as a known one, and a flood past the per-user limit is refused with 429
 * before any hashing.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import bcrypt from 'bcrypt';
import { startTestCloud, type TestCloud } from './support/cloud.js';

let cloud: TestCloud;
const body = (name: string, password: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { id: 'default' }, password } } },
  },
});

beforeAll(async () => {
  cloud = await startTestCloud({
    env: {
      STACKBOX_LOCKOUT_FAILURE_ATTEMPTS: '5',
      STACKBOX_LOCKOUT_DURATION: '600',
      // Costly enough that checks overlap (order, not time, is asserted).
      STACKBOX_BCRYPT_ROUNDS: '9',
    },
  });
  await cloud.projectUser('p-flood', 'victim');
  await cloud.projectUser('p-quiet', 'bystander');
});
afterAll(async () => cloud?.close());

describe('login flood', () => {
  it('counts every concurrent failure, locks the account, and keeps other logins moving', async () => {
    const done: string[] = [];
    const flood = Array.from({ length: 200 }, (_, i) =>
      cloud.req('POST', '/identity/v3/auth/tokens', { body: body('victim', `wrong-${i}`) }).then((r) => {
        if (r.statusCode !== 429) done.push('flood');
        return r;
      }),
    );
    const quiet = cloud.req('POST', '/identity/v3/auth/tokens', {
      body: body('bystander', 'password-bystander'),
    });
    const q = await quiet.then((r) => {
      done.push('quiet');
      return r;
    });
    const results = await Promise.all(flood);
    expect(q.statusCode).toBe(201);
    const codes = results.map((r) => r.statusCode);
    // Only the per-user limit is checked; the rest are refused up front, in Keystone's format.
    const refused = results.filter((r) => r.statusCode === 429);
    expect(refused.length).toBeGreaterThan(150);
    expect(refused[0]!.json()).toMatchObject({ error: { code: 429 } });
    expect(codes.every((c) => c === 401 || c === 429)).toBe(true);
    // The bystander was served during the flood (fair order inside the queue is FairQueue's unit test).
    expect(done).toContain('quiet');

    // Every checked failure counted: the account is locked, even for the right password.
    const right = await cloud.req('POST', '/identity/v3/auth/tokens', {
      body: body('victim', 'password-victim'),
    });
    expect(right.statusCode).toBe(401);
    expect(right.json().error.message).toMatch(/locked/);
  });

  it('an unknown user costs a password check too', async () => {
    const spy = vi.spyOn(bcrypt, 'compare');
    const r = await cloud.req('POST', '/identity/v3/auth/tokens', { body: body('nobody-here', 'x') });
    expect(r.statusCode).toBe(401);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockClear();
    const r2 = await cloud.req('POST', '/identity/v3/auth/tokens', { body: body('bystander', 'wrong') });
    expect(r2.statusCode).toBe(401);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
  });
});
