import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, startTestCloud, type TestCloud } from './support/cloud.js';

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await startTestCloud();
});
afterAll(async () => {
  await cloud?.close();
});

const pwAuth = (user: Record<string, unknown>, scope?: unknown) => ({
  auth: {
    identity: { methods: ['password'], password: { user } },
    ...(scope !== undefined ? { scope } : {}),
  },
});
const issue = (body: unknown, qs = '') => cloud.req('POST', `/identity/v3/auth/tokens${qs}`, { body });

describe('version discovery', () => {
  it('GET /identity lists v3 with 300 and media types', async () => {
    const r = await cloud.req('GET', '/identity');
    expect(r.statusCode).toBe(300);
    const v = r.json().versions.values[0];
    expect(v.id).toBe('v3.14');
    expect(v.status).toBe('stable');
    expect(v['media-types'][0].type).toBe('application/vnd.openstack.identity-v3+json');
    expect(v.links[0].href).toMatch(/\/identity\/v3\/$/);
  });
  it('GET /identity/v3 describes the version', async () => {
    const r = await cloud.req('GET', '/identity/v3');
    expect(r.statusCode).toBe(200);
    expect(r.json().version.id).toBe('v3.14');
    expect(r.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  });
});

describe('POST /v3/auth/tokens', () => {
  it('issues a project-scoped token by names with catalog and roles', async () => {
    const r = await issue(
      pwAuth(
        { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD },
        { project: { name: 'admin', domain: { name: 'Default' } } },
      ),
    );
    expect(r.statusCode).toBe(201);
    expect(r.headers['x-subject-token']).toMatch(/^gAAAAA/);
    const t = r.json().token;
    expect(t.methods).toEqual(['password']);
    expect(t.project.name).toBe('admin');
    expect(t.project.domain).toEqual({ id: 'default', name: 'Default' });
    expect(t.roles.map((x: { name: string }) => x.name).sort()).toEqual([
      'admin',
      'manager',
      'member',
      'reader',
    ]);
    expect(t.catalog.find((s: { type: string }) => s.type === 'identity').endpoints).toHaveLength(3);
    expect(t.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(t.audit_ids).toHaveLength(1);
    expect(t.is_domain).toBe(false);
  });
  it('nocatalog omits the catalog', async () => {
    const r = await issue(
      pwAuth(
        { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD },
        { project: { name: 'admin', domain: { id: 'default' } } },
      ),
      '?nocatalog',
    );
    expect(r.statusCode).toBe(201);
    expect(r.json().token.catalog).toBeUndefined();
  });
  it('scopes to system and domain', async () => {
    const sys = await issue(
      pwAuth(
        { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD },
        { system: { all: true } },
      ),
    );
    expect(sys.statusCode).toBe(201);
    expect(sys.json().token.system).toEqual({ all: true });
    const dom = await issue(
      pwAuth(
        { name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD },
        { domain: { id: 'default' } },
      ),
    );
    // admin has no role on the domain itself
    expect(dom.statusCode).toBe(401);
  });
  it('an explicit unscoped request gives an unscoped token; no scope uses the default project', async () => {
    const u = await issue(
      pwAuth({ name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD }, 'unscoped'),
    );
    expect(u.statusCode).toBe(201);
    expect(u.json().token.project).toBeUndefined();
    expect(u.json().token.roles).toBeUndefined();
    const d = await issue(pwAuth({ name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD }));
    expect(d.json().token.project.name).toBe('admin');
  });
  it('wrong password, unknown user → 401 in Keystone format with WWW-Authenticate', async () => {
    for (const user of [
      { name: 'admin', domain: { id: 'default' }, password: 'nope' },
      { name: 'ghost', domain: { id: 'default' }, password: 'x' },
      { id: 'does-not-exist', password: 'x' },
    ]) {
      const r = await issue(pwAuth(user));
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Keystone uri=/);
      expect(r.json()).toEqual({ error: { code: 401, message: expect.any(String), title: 'Unauthorized' } });
    }
  });
  it('malformed bodies are 400s, never 500s', async () => {
    const cases: unknown[] = [
      '{not json',
      {},
      { auth: {} },
      { auth: { identity: { methods: 'password' } } },
      { auth: { identity: { methods: ['password'] } } },
      { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', password: 'x' } } } } },
      { auth: { identity: { methods: ['password'], password: { user: { password: 'x' } } } } },
      { auth: { identity: { methods: ['password'], password: { user: { id: 'x', password: 1 } } } } },
      { auth: { identity: { methods: ['token'], token: {} } } },
      pwAuth({ id: 'x', password: 'y' }, { project: {} }),
      pwAuth({ id: 'x', password: 'y' }, { bogus: {} }),
    ];
    for (const body of cases) {
      const r = await cloud.req('POST', '/identity/v3/auth/tokens', {
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect([400, 401], JSON.stringify(body)).toContain(r.statusCode);
      expect(r.json().error.code).toBe(r.statusCode);
    }
  });
  it('rejects unsupported methods with 401', async () => {
    const r = await issue({ auth: { identity: { methods: ['totp'], totp: {} } } });
    expect(r.statusCode).toBe(401);
  });
});

describe('validate, check, revoke', () => {
  it('GET/HEAD/DELETE /v3/auth/tokens', async () => {
    const admin = cloud.adminToken;
    const { token: userToken } = await cloud.projectUser('val-p', 'val-u');
    let r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': userToken },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().token.user.name).toBe('val-u');
    expect(r.headers['x-subject-token']).toBe(userToken);
    r = await cloud.req('HEAD', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': userToken },
    });
    expect(r.statusCode).toBe(200);
    // a user may validate its own token, not someone else's
    r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: userToken,
      headers: { 'x-subject-token': userToken },
    });
    expect(r.statusCode).toBe(200);
    r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: userToken,
      headers: { 'x-subject-token': admin },
    });
    expect(r.statusCode).toBe(403);
    r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': 'garbage' },
    });
    expect(r.statusCode).toBe(404);
    r = await cloud.req('DELETE', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': userToken },
    });
    expect(r.statusCode).toBe(204);
    r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': userToken },
    });
    expect(r.statusCode).toBe(404);
    r = await cloud.req('GET', '/identity/v3/auth/projects', { token: userToken });
    expect(r.statusCode).toBe(401);
  });
  it('a request without a token or with a bad one is 401', async () => {
    expect((await cloud.req('GET', '/identity/v3/projects')).statusCode).toBe(401);
    expect((await cloud.req('GET', '/identity/v3/projects', { token: 'x'.repeat(200) })).statusCode).toBe(
      401,
    );
  });
  it('a token must match byte for byte: appended characters or padding make it invalid', async () => {
    expect((await cloud.req('GET', '/identity/v3/projects', { token: cloud.adminToken })).statusCode).toBe(
      200,
    );
    for (const tail of ['A', '=', '==', 'AA', '\n'])
      expect(
        (await cloud.req('GET', '/identity/v3/projects', { token: cloud.adminToken + tail })).statusCode,
        `token + ${JSON.stringify(tail)}`,
      ).toBe(401);
    const check = await cloud.req('HEAD', '/identity/v3/auth/tokens', {
      token: cloud.adminToken,
      headers: { 'x-subject-token': `${cloud.adminToken}A` },
    });
    expect(check.statusCode).toBe(404);
  });
});

describe('token method, /v3/auth/*', () => {
  it('rescopes an unscoped token and keeps the audit chain and expiry', async () => {
    const un = await issue(
      pwAuth({ name: 'admin', domain: { id: 'default' }, password: ADMIN_PASSWORD }, 'unscoped'),
    );
    const unTok = String(un.headers['x-subject-token']);
    const r = await issue({
      auth: {
        identity: { methods: ['token'], token: { id: unTok } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    expect(r.statusCode).toBe(201);
    const t = r.json().token;
    expect(t.methods).toEqual(['password', 'token']);
    expect(t.audit_ids[1]).toBe(un.json().token.audit_ids[0]);
    expect(t.expires_at).toBe(un.json().token.expires_at);
  });
  it('lists the caller projects, domains, system and catalog', async () => {
    const { token, projectId } = await cloud.projectUser('auth-p', 'auth-u');
    const p = await cloud.req('GET', '/identity/v3/auth/projects', { token });
    expect(p.json().projects.map((x: { id: string }) => x.id)).toEqual([projectId]);
    const d = await cloud.req('GET', '/identity/v3/auth/domains', { token });
    expect(d.json().domains).toEqual([]);
    const s = await cloud.req('GET', '/identity/v3/auth/system', { token });
    expect(s.json().system).toEqual([]);
    const a = await cloud.req('GET', '/identity/v3/auth/system', { token: cloud.adminToken });
    expect(a.json().system).toEqual([{ all: true }]);
    const c = await cloud.req('GET', '/identity/v3/auth/catalog', { token });
    expect(c.json().catalog.some((x: { type: string }) => x.type === 'identity')).toBe(true);
  });
});

describe('revocation events', () => {
  const validate = async (t: string) =>
    (
      await cloud.req('GET', '/identity/v3/auth/tokens', {
        token: cloud.adminToken,
        headers: { 'x-subject-token': t },
      })
    ).statusCode;
  const admin = () => cloud.adminToken;

  it('on user disable, password change, role removal, project disable and delete', async () => {
    const a = await cloud.projectUser('rev-a', 'rev-a-user');
    expect(await validate(a.token)).toBe(200);
    await cloud.req('PATCH', `/identity/v3/users/${a.userId}`, {
      token: admin(),
      body: { user: { enabled: false } },
    });
    expect(await validate(a.token)).toBe(404);

    const b = await cloud.projectUser('rev-b', 'rev-b-user');
    await cloud.req('PATCH', `/identity/v3/users/${b.userId}`, {
      token: admin(),
      body: { user: { password: 'new-password' } },
    });
    expect(await validate(b.token)).toBe(404);
    // the new password works at once, the old one does not
    await expect(cloud.token('rev-b-user', 'new-password', 'rev-b')).resolves.toMatch(/^gAAAAA/);
    await expect(cloud.token('rev-b-user', b.password, 'rev-b')).rejects.toThrow(/401/);

    const c = await cloud.projectUser('rev-c', 'rev-c-user');
    const roles = (await cloud.req('GET', '/identity/v3/roles?name=member', { token: admin() })).json().roles;
    const del = await cloud.req(
      'DELETE',
      `/identity/v3/projects/${c.projectId}/users/${c.userId}/roles/${roles[0].id}`,
      { token: admin() },
    );
    expect(del.statusCode).toBe(204);
    expect(await validate(c.token)).toBe(404);

    const d = await cloud.projectUser('rev-d', 'rev-d-user');
    await cloud.req('PATCH', `/identity/v3/projects/${d.projectId}`, {
      token: admin(),
      body: { project: { enabled: false } },
    });
    expect(await validate(d.token)).toBe(404);
    await cloud.req('PATCH', `/identity/v3/projects/${d.projectId}`, {
      token: admin(),
      body: { project: { enabled: true } },
    });
    // a token revoked stays revoked even when the project comes back
    expect(await validate(d.token)).toBe(404);

    const e = await cloud.projectUser('rev-e', 'rev-e-user');
    await cloud.req('DELETE', `/identity/v3/projects/${e.projectId}`, { token: admin() });
    expect(await validate(e.token)).toBe(404);

    const f = await cloud.projectUser('rev-f', 'rev-f-user');
    await cloud.req('DELETE', `/identity/v3/users/${f.userId}`, { token: admin() });
    expect(await validate(f.token)).toBe(404);
  });

  it('self-service password change revokes and needs the original password', async () => {
    const u = await cloud.projectUser('self-p', 'self-u');
    let r = await cloud.req('POST', `/identity/v3/users/${u.userId}/password`, {
      token: u.token,
      body: { user: { original_password: 'wrong', password: 'brand-new' } },
    });
    expect(r.statusCode).toBe(401);
    r = await cloud.req('POST', `/identity/v3/users/${u.userId}/password`, {
      token: u.token,
      body: { user: { original_password: u.password, password: 'brand-new' } },
    });
    expect(r.statusCode).toBe(204);
    expect(await validate(u.token)).toBe(404);
    await expect(cloud.token('self-u', 'brand-new', 'self-p')).resolves.toBeTruthy();
  });
});

describe('application credentials', () => {
  it('create, use, restricted, delete', async () => {
    const u = await cloud.projectUser('ac-p', 'ac-u');
    let r = await cloud.req('POST', `/identity/v3/users/${u.userId}/application_credentials`, {
      token: u.token,
      body: { application_credential: { name: 'ci', description: 'for CI' } },
    });
    expect(r.statusCode).toBe(201);
    const ac = r.json().application_credential;
    expect(ac.secret).toBeTruthy();
    expect(ac.project_id).toBe(u.projectId);
    expect(ac.roles.map((x: { name: string }) => x.name).sort()).toEqual(['member', 'reader']);
    // the secret is shown once
    r = await cloud.req('GET', `/identity/v3/users/${u.userId}/application_credentials/${ac.id}`, {
      token: u.token,
    });
    expect(r.json().application_credential.secret).toBeUndefined();
    // authenticate with it, by id and by name
    r = await issue({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: ac.id, secret: ac.secret },
        },
      },
    });
    expect(r.statusCode).toBe(201);
    expect(r.json().token.project.id).toBe(u.projectId);
    expect(r.json().token.application_credential).toEqual({ id: ac.id, name: 'ci', restricted: true });
    const acTok = String(r.headers['x-subject-token']);
    r = await issue({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { name: 'ci', secret: ac.secret, user: { id: u.userId } },
        },
      },
    });
    expect(r.statusCode).toBe(201);
    // wrong secret
    r = await issue({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: ac.id, secret: 'nope' },
        },
      },
    });
    expect(r.statusCode).toBe(401);
    // a restricted credential cannot make more
    r = await cloud.req('POST', `/identity/v3/users/${u.userId}/application_credentials`, {
      token: acTok,
      body: { application_credential: { name: 'more' } },
    });
    expect(r.statusCode).toBe(403);
    // duplicates by name
    r = await cloud.req('POST', `/identity/v3/users/${u.userId}/application_credentials`, {
      token: u.token,
      body: { application_credential: { name: 'ci' } },
    });
    expect(r.statusCode).toBe(409);
    // cannot ask for a role it does not have
    r = await cloud.req('POST', `/identity/v3/users/${u.userId}/application_credentials`, {
      token: u.token,
      body: { application_credential: { name: 'x', roles: [{ name: 'admin' }] } },
    });
    expect(r.statusCode).toBe(404);
    r = await cloud.req('DELETE', `/identity/v3/users/${u.userId}/application_credentials/${ac.id}`, {
      token: u.token,
    });
    expect(r.statusCode).toBe(204);
    r = await issue({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { id: ac.id, secret: ac.secret },
        },
      },
    });
    expect(r.statusCode).toBe(401);
    r = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: cloud.adminToken,
      headers: { 'x-subject-token': acTok },
    });
    expect(r.statusCode).toBe(404);
  });
});

describe('security compliance', () => {
  it('locks out after N failures and enforces password history and regex', async () => {
    const c = await startTestCloud({
      env: {
        STACKBOX_LOCKOUT_FAILURE_ATTEMPTS: '2',
        STACKBOX_LOCKOUT_DURATION: '600',
        STACKBOX_UNIQUE_LAST_PASSWORD_COUNT: '2',
        STACKBOX_PASSWORD_REGEX: '^.{8,}$',
        STACKBOX_PASSWORD_REGEX_DESCRIPTION: 'at least 8 characters',
      },
    });
    try {
      const u = await c.projectUser('sc-p', 'sc-u');
      const bad = () =>
        c.req('POST', '/identity/v3/auth/tokens', { body: pwAuth({ id: u.userId, password: 'wrong' }) });
      expect((await bad()).statusCode).toBe(401);
      expect((await bad()).statusCode).toBe(401);
      const locked = await c.req('POST', '/identity/v3/auth/tokens', {
        body: pwAuth({ id: u.userId, password: u.password }),
      });
      expect(locked.statusCode).toBe(401);
      expect(locked.json().error.message).toMatch(/locked/);
      // an admin re-enabling the user clears the lockout
      await c.req('PATCH', `/identity/v3/users/${u.userId}`, {
        token: c.adminToken,
        body: { user: { enabled: true } },
      });
      expect(
        (
          await c.req('POST', '/identity/v3/auth/tokens', {
            body: pwAuth({ id: u.userId, password: u.password }),
          })
        ).statusCode,
      ).toBe(201);
      let r = await c.req('PATCH', `/identity/v3/users/${u.userId}`, {
        token: c.adminToken,
        body: { user: { password: 'short' } },
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toMatch(/at least 8 characters/);
      r = await c.req('PATCH', `/identity/v3/users/${u.userId}`, {
        token: c.adminToken,
        body: { user: { password: u.password } },
      });
      expect(r.statusCode).toBe(400);
      r = await c.req('PATCH', `/identity/v3/users/${u.userId}`, {
        token: c.adminToken,
        body: { user: { password: 'long-enough-1' } },
      });
      expect(r.statusCode).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('expired passwords cannot authenticate', async () => {
    const c = await startTestCloud({ env: { STACKBOX_CHANGE_PASSWORD_UPON_FIRST_USE: 'true' } });
    try {
      const r = await c.req('POST', '/identity/v3/users', {
        token: c.adminToken,
        body: { user: { name: 'first', password: 'initial-pw' } },
      });
      const id = r.json().user.id;
      expect(r.json().user.password_expires_at).not.toBeNull();
      const t = await c.req('POST', '/identity/v3/auth/tokens', {
        body: pwAuth({ id, password: 'initial-pw' }),
      });
      expect(t.statusCode).toBe(401);
      expect(t.json().error.message).toMatch(/expired/);
      // the user changes it without a token
      const ch = await c.req('POST', `/identity/v3/users/${id}/password`, {
        body: { user: { original_password: 'initial-pw', password: 'second-pw' } },
      });
      expect(ch.statusCode).toBe(204);
      expect(
        (await c.req('POST', '/identity/v3/auth/tokens', { body: pwAuth({ id, password: 'second-pw' }) }))
          .statusCode,
      ).toBe(201);
    } finally {
      await c.close();
    }
  });
});
