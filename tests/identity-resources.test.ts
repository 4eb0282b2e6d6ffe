import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './support/cloud.js';

let cloud: TestCloud;
let admin: string;
beforeAll(async () => {
  cloud = await startTestCloud();
  admin = cloud.adminToken;
});
afterAll(async () => {
  await cloud?.close();
});

const api = (method: string, path: string, body?: unknown, token = admin) =>
  cloud.req(method, `/identity/v3${path}`, { token, body });
const roleId = async (name: string) => (await api('GET', `/roles?name=${name}`)).json().roles[0].id as string;

describe('domains', () => {
  it('CRUD, duplicate names, delete only when disabled', async () => {
    let r = await api('POST', '/domains', { domain: { name: 'dom1', description: 'd' } });
    expect(r.statusCode).toBe(201);
    const d = r.json().domain;
    expect(d).toMatchObject({ name: 'dom1', enabled: true, description: 'd', tags: [] });
    expect(d.links.self).toMatch(new RegExp(`/identity/v3/domains/${d.id}$`));
    expect((await api('POST', '/domains', { domain: { name: 'dom1' } })).statusCode).toBe(409);
    expect((await api('GET', `/domains?name=dom1`)).json().domains).toHaveLength(1);
    expect((await api('GET', `/domains?name__startswith=dom`)).json().domains.length).toBeGreaterThanOrEqual(
      1,
    );
    expect((await api('DELETE', `/domains/${d.id}`)).statusCode).toBe(403);
    r = await api('PATCH', `/domains/${d.id}`, { domain: { enabled: false } });
    expect(r.json().domain.enabled).toBe(false);
    expect((await api('DELETE', `/domains/${d.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/domains/${d.id}`)).statusCode).toBe(404);
  });
});

describe('projects', () => {
  it('create, hierarchy, tags, filters, update, delete', async () => {
    let r = await api('POST', '/projects', { project: { name: 'parent', tags: ['a', 'b'], color: 'blue' } });
    expect(r.statusCode).toBe(201);
    const parent = r.json().project;
    expect(parent).toMatchObject({
      domain_id: 'default',
      parent_id: 'default',
      is_domain: false,
      tags: ['a', 'b'],
      color: 'blue',
    });
    r = await api('POST', '/projects', { project: { name: 'child', parent_id: parent.id } });
    const child = r.json().project;
    expect(child.parent_id).toBe(parent.id);
    expect((await api('POST', '/projects', { project: { name: 'parent' } })).statusCode).toBe(409);
    r = await api('GET', `/projects/${child.id}?parents_as_ids`);
    expect(r.json().project.parents).toEqual({ [parent.id]: null });
    r = await api('GET', `/projects/${parent.id}?subtree_as_list`);
    expect(r.json().project.subtree.map((x: { project: { id: string } }) => x.project.id)).toEqual([
      child.id,
    ]);
    expect(
      (await api('GET', `/projects?parent_id=${parent.id}`)).json().projects.map((p: { id: string }) => p.id),
    ).toEqual([child.id]);
    expect((await api('GET', `/projects?tags=a,b`)).json().projects.map((p: { id: string }) => p.id)).toEqual(
      [parent.id],
    );
    expect(
      (await api('GET', `/projects?tags-any=b`)).json().projects.map((p: { id: string }) => p.id),
    ).toEqual([parent.id]);
    // tags API
    expect((await api('PUT', `/projects/${parent.id}/tags/c`)).statusCode).toBe(201);
    expect((await api('GET', `/projects/${parent.id}/tags/c`)).statusCode).toBe(204);
    expect((await api('GET', `/projects/${parent.id}/tags`)).json().tags.sort()).toEqual(['a', 'b', 'c']);
    expect((await api('DELETE', `/projects/${parent.id}/tags/zz`)).statusCode).toBe(404);
    expect((await api('PUT', `/projects/${parent.id}/tags`, { tags: ['x'] })).json().tags).toEqual(['x']);
    // cannot disable or delete a parent with enabled children
    expect((await api('PATCH', `/projects/${parent.id}`, { project: { enabled: false } })).statusCode).toBe(
      403,
    );
    expect((await api('DELETE', `/projects/${parent.id}`)).statusCode).toBe(403);
    expect(
      (await api('PATCH', `/projects/${child.id}`, { project: { domain_id: 'other' } })).statusCode,
    ).toBe(400);
    r = await api('PATCH', `/projects/${child.id}`, { project: { name: 'child2', description: 'x' } });
    expect(r.json().project).toMatchObject({ name: 'child2', description: 'x' });
    expect((await api('DELETE', `/projects/${child.id}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/projects/${parent.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/projects/${parent.id}`)).statusCode).toBe(404);
  });
  it('schema violations are 400 with a message', async () => {
    for (const body of [
      {},
      { project: {} },
      { project: { name: '' } },
      { project: { name: 'x', enabled: 'yes' } },
      { project: { name: 'x'.repeat(65) } },
      { project: { name: 'x', tags: ['a/b'] } },
    ]) {
      const r = await api('POST', '/projects', body);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      expect(r.json().error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    expect((await api('POST', '/projects', { project: { name: 'x', domain_id: 'nope' } })).statusCode).toBe(
      404,
    );
    expect((await api('POST', '/projects', { project: { name: 'x', parent_id: 'nope' } })).statusCode).toBe(
      404,
    );
  });
});

describe('users and groups', () => {
  it('users: CRUD, duplicate, extra attributes, projects of a user', async () => {
    let r = await api('POST', '/users', {
      user: { name: 'alice', password: 'pw-alice-1', email: 'a@example.org', nickname: 'al' },
    });
    expect(r.statusCode).toBe(201);
    const u = r.json().user;
    expect(u).toMatchObject({
      name: 'alice',
      domain_id: 'default',
      enabled: true,
      email: 'a@example.org',
      nickname: 'al',
      password_expires_at: null,
    });
    expect(u.password).toBeUndefined();
    expect((await api('POST', '/users', { user: { name: 'alice' } })).statusCode).toBe(409);
    expect((await api('GET', '/users?name=alice')).json().users).toHaveLength(1);
    r = await api('PATCH', `/users/${u.id}`, { user: { description: 'hi', enabled: false } });
    expect(r.json().user).toMatchObject({ description: 'hi', enabled: false });
    expect(
      (await api('GET', '/users?enabled=false')).json().users.map((x: { id: string }) => x.id),
    ).toContain(u.id);
    expect((await api('GET', `/users/${u.id}/projects`)).json().projects).toEqual([]);
    expect((await api('DELETE', `/users/${u.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/users/${u.id}`)).statusCode).toBe(404);
  });
  it('groups: CRUD and membership; group roles reach members', async () => {
    let r = await api('POST', '/groups', { group: { name: 'ops', description: 'operators' } });
    expect(r.statusCode).toBe(201);
    const g = r.json().group;
    const m = await cloud.projectUser('grp-home', 'grp-member');
    expect((await api('PUT', `/groups/${g.id}/users/${m.userId}`)).statusCode).toBe(204);
    expect((await api('HEAD', `/groups/${g.id}/users/${m.userId}`)).statusCode).toBe(204);
    expect((await api('GET', `/groups/${g.id}/users`)).json().users.map((x: { id: string }) => x.id)).toEqual(
      [m.userId],
    );
    expect(
      (await api('GET', `/users/${m.userId}/groups`)).json().groups.map((x: { id: string }) => x.id),
    ).toEqual([g.id]);
    // a role for the group on another project lets the member scope there
    r = await api('POST', '/projects', { project: { name: 'grp-target' } });
    const target = r.json().project;
    expect(
      (await api('PUT', `/projects/${target.id}/groups/${g.id}/roles/${await roleId('reader')}`)).statusCode,
    ).toBe(204);
    const tok = await cloud.token('grp-member', m.password, 'grp-target');
    const v = await cloud.req('GET', '/identity/v3/auth/tokens', {
      token: admin,
      headers: { 'x-subject-token': tok },
    });
    expect(v.json().token.roles.map((x: { name: string }) => x.name)).toEqual(['reader']);
    // effective assignments expand the group
    r = await api('GET', `/role_assignments?effective&user.id=${m.userId}&include_names`);
    const scopes = r
      .json()
      .role_assignments.map((a: { scope: { project: { name: string } } }) => a.scope.project?.name);
    expect(scopes).toContain('grp-target');
    const viaGroup = r
      .json()
      .role_assignments.find(
        (a: { scope: { project: { id: string } } }) => a.scope.project?.id === target.id,
      );
    expect(viaGroup.links.membership).toMatch(/\/groups\//);
    expect((await api('DELETE', `/groups/${g.id}/users/${m.userId}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/groups/${g.id}/users/${m.userId}`)).statusCode).toBe(404);
    // removing the membership removes the access
    await expect(cloud.token('grp-member', m.password, 'grp-target')).rejects.toThrow(/401/);
    expect((await api('DELETE', `/groups/${g.id}`)).statusCode).toBe(204);
  });
});

describe('roles, implied roles, grants, assignments', () => {
  it('role CRUD and implied roles with cycle protection', async () => {
    let r = await api('POST', '/roles', { role: { name: 'auditor' } });
    expect(r.statusCode).toBe(201);
    const auditor = r.json().role;
    expect(auditor.domain_id).toBeNull();
    expect((await api('POST', '/roles', { role: { name: 'auditor' } })).statusCode).toBe(409);
    const reader = await roleId('reader');
    r = await api('PUT', `/roles/${auditor.id}/implies/${reader}`);
    expect(r.statusCode).toBe(201);
    expect(r.json().role_inference.prior_role.id).toBe(auditor.id);
    expect((await api('HEAD', `/roles/${auditor.id}/implies/${reader}`)).statusCode).toBe(204);
    expect((await api('PUT', `/roles/${reader}/implies/${auditor.id}`)).statusCode).toBe(403);
    expect((await api('GET', '/role_inferences')).json().role_inferences.length).toBeGreaterThanOrEqual(3);
    // domain-specific role
    r = await api('POST', '/roles', { role: { name: 'auditor', domain_id: 'default' } });
    expect(r.statusCode).toBe(201);
    expect(r.json().role.domain_id).toBe('default');
    expect((await api('GET', '/roles?domain_id=default')).json().roles).toHaveLength(1);
    expect((await api('DELETE', `/roles/${auditor.id}/implies/${reader}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/roles/${auditor.id}`)).statusCode).toBe(204);
  });
  it('grants on projects, domains and system; role_assignments filters', async () => {
    const u = await cloud.projectUser('ga-p', 'ga-u');
    const member = await roleId('member');
    expect((await api('GET', `/projects/${u.projectId}/users/${u.userId}/roles/${member}`)).statusCode).toBe(
      204,
    );
    expect(
      (await api('GET', `/projects/${u.projectId}/users/${u.userId}/roles`))
        .json()
        .roles.map((x: { name: string }) => x.name),
    ).toEqual(['member']);
    const reader = await roleId('reader');
    expect((await api('PUT', `/domains/default/users/${u.userId}/roles/${reader}`)).statusCode).toBe(204);
    expect((await api('HEAD', `/domains/default/users/${u.userId}/roles/${reader}`)).statusCode).toBe(204);
    expect((await api('PUT', `/system/users/${u.userId}/roles/${reader}`)).statusCode).toBe(204);
    let r = await api('GET', `/role_assignments?user.id=${u.userId}`);
    expect(r.json().role_assignments).toHaveLength(3);
    r = await api('GET', `/role_assignments?user.id=${u.userId}&scope.system=all`);
    expect(r.json().role_assignments).toHaveLength(1);
    r = await api('GET', `/role_assignments?user.id=${u.userId}&scope.project.id=${u.projectId}&effective`);
    expect(
      r
        .json()
        .role_assignments.map((a: { role: { id: string } }) => a.role.id)
        .sort(),
    ).toEqual([member, reader].sort());
    expect((await api('DELETE', `/system/users/${u.userId}/roles/${reader}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/system/users/${u.userId}/roles/${reader}`)).statusCode).toBe(404);
    expect((await api('PUT', `/projects/${u.projectId}/users/nope/roles/${member}`)).statusCode).toBe(404);
    expect((await api('PUT', `/projects/${u.projectId}/users/${u.userId}/roles/nope`)).statusCode).toBe(404);
    // inherited domain role reaches every project in the domain
    const g = await cloud.projectUser('inh-home', 'inh-u');
    expect(
      (
        await api(
          'PUT',
          `/OS-INHERIT/domains/default/users/${g.userId}/roles/${reader}/inherited_to_projects`,
        )
      ).statusCode,
    ).toBe(204);
    await expect(cloud.token('inh-u', g.password, 'ga-p')).resolves.toBeTruthy();
    expect(
      (
        await api(
          'DELETE',
          `/OS-INHERIT/domains/default/users/${g.userId}/roles/${reader}/inherited_to_projects`,
        )
      ).statusCode,
    ).toBe(204);
    await expect(cloud.token('inh-u', g.password, 'ga-p')).rejects.toThrow(/401/);
  });
});

describe('multi-tenant policy', () => {
  it('a project member cannot list users, see other projects or grant itself admin', async () => {
    const a = await cloud.projectUser('tenant-a', 'tenant-a-user');
    const b = await cloud.projectUser('tenant-b', 'tenant-b-user');
    const t = a.token;
    expect((await api('GET', '/users', undefined, t)).statusCode).toBe(403);
    expect((await api('GET', '/projects', undefined, t)).statusCode).toBe(403);
    expect((await api('GET', `/projects/${b.projectId}`, undefined, t)).statusCode).toBe(403);
    expect((await api('GET', `/users/${b.userId}`, undefined, t)).statusCode).toBe(403);
    expect(
      (
        await api(
          'PUT',
          `/projects/${a.projectId}/users/${a.userId}/roles/${await roleId('admin')}`,
          undefined,
          t,
        )
      ).statusCode,
    ).toBe(403);
    expect((await api('POST', '/projects', { project: { name: 'sneaky' } }, t)).statusCode).toBe(403);
    expect((await api('POST', '/users', { user: { name: 'sneaky' } }, t)).statusCode).toBe(403);
    expect((await api('GET', '/role_assignments', undefined, t)).statusCode).toBe(403);
    // but it can see itself and its own projects
    expect((await api('GET', `/users/${a.userId}`, undefined, t)).statusCode).toBe(200);
    const mine = (await api('GET', `/users/${a.userId}/projects`, undefined, t)).json().projects;
    expect(mine.map((p: { name: string }) => p.name)).toEqual(['tenant-a']);
    expect((await api('GET', `/users/${b.userId}/projects`, undefined, t)).statusCode).toBe(403);
    const err = (await api('GET', '/users', undefined, t)).json();
    expect(err).toEqual({
      error: { code: 403, message: expect.stringContaining('identity:list_users'), title: 'Forbidden' },
    });
  });
  it('policy overrides from a file take effect', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const file = join(cloud.dataDir, 'policy.yaml');
    writeFileSync(file, '"identity:list_projects": "role:member"\n');
    const c = await startTestCloud({ env: { STACKBOX_POLICY_FILE: file } });
    try {
      const u = await c.projectUser('pf', 'pf-u');
      expect((await c.req('GET', '/identity/v3/projects', { token: u.token })).statusCode).toBe(200);
      expect((await c.req('GET', '/identity/v3/users', { token: u.token })).statusCode).toBe(403);
    } finally {
      await c.close();
    }
  });
});

describe('catalog: regions, services, endpoints', () => {
  it('CRUD and catalog reflects it', async () => {
    let r = await api('POST', '/regions', { region: { id: 'RegionTwo', description: 'second' } });
    expect(r.statusCode).toBe(201);
    expect((await api('POST', '/regions', { region: { id: 'RegionTwo' } })).statusCode).toBe(409);
    r = await api('POST', '/services', { service: { type: 'dns', name: 'designate' } });
    expect(r.statusCode).toBe(201);
    const svc = r.json().service;
    r = await api('POST', '/endpoints', {
      endpoint: {
        service_id: svc.id,
        interface: 'public',
        url: 'http://dns.example/v2',
        region_id: 'RegionTwo',
      },
    });
    expect(r.statusCode).toBe(201);
    const ep = r.json().endpoint;
    expect(ep.region).toBe('RegionTwo');
    expect(
      (
        await api('POST', '/endpoints', {
          endpoint: { service_id: svc.id, interface: 'bogus', url: 'http://x' },
        })
      ).statusCode,
    ).toBe(400);
    r = await api('GET', '/auth/catalog');
    expect(r.json().catalog.find((s: { type: string }) => s.type === 'dns').endpoints[0].url).toBe(
      'http://dns.example/v2',
    );
    expect((await api('DELETE', '/regions/RegionTwo')).statusCode).toBe(403);
    expect((await api('DELETE', `/endpoints/${ep.id}`)).statusCode).toBe(204);
    expect((await api('DELETE', `/services/${svc.id}`)).statusCode).toBe(204);
    expect((await api('DELETE', '/regions/RegionTwo')).statusCode).toBe(204);
  });
});

describe('credentials', () => {
  it('ec2 credentials for oneself; others cannot see them', async () => {
    const a = await cloud.projectUser('cred-a', 'cred-a-user');
    const b = await cloud.projectUser('cred-b', 'cred-b-user');
    const r = await api(
      'POST',
      '/credentials',
      {
        credential: {
          type: 'ec2',
          project_id: a.projectId,
          blob: JSON.stringify({ access: 'AK1', secret: 'S1' }),
        },
      },
      a.token,
    );
    expect(r.statusCode).toBe(201);
    const c = r.json().credential;
    expect(c.user_id).toBe(a.userId);
    expect(c.id).toHaveLength(64);
    expect((await api('GET', `/credentials/${c.id}`, undefined, a.token)).statusCode).toBe(200);
    expect((await api('GET', `/credentials/${c.id}`, undefined, b.token)).statusCode).toBe(403);
    expect((await api('GET', '/credentials', undefined, b.token)).json().credentials).toEqual([]);
    expect(
      (await api('POST', '/credentials', { credential: { type: 'ec2', blob: '{}' } }, a.token)).statusCode,
    ).toBe(400);
    expect((await api('DELETE', `/credentials/${c.id}`, undefined, a.token)).statusCode).toBe(204);
  });
});

describe('domain scope', () => {
  it('a domain reader sees its domain only; a domain member cannot create users', async () => {
    let r = await api('POST', '/domains', { domain: { name: 'scoped-dom' } });
    const dom = r.json().domain;
    r = await api('POST', '/users', {
      user: { name: 'dom-reader', domain_id: dom.id, password: 'dom-reader-pw' },
    });
    const reader = r.json().user;
    await api('POST', '/users', { user: { name: 'dom-other', domain_id: dom.id } });
    expect(
      (await api('PUT', `/domains/${dom.id}/users/${reader.id}/roles/${await roleId('reader')}`)).statusCode,
    ).toBe(204);
    const t = await cloud.req('POST', '/identity/v3/auth/tokens', {
      body: {
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { id: reader.id, password: 'dom-reader-pw' } },
          },
          scope: { domain: { id: dom.id } },
        },
      },
    });
    expect(t.statusCode).toBe(201);
    expect(t.json().token.domain).toEqual({ id: dom.id, name: 'scoped-dom' });
    const tok = String(t.headers['x-subject-token']);
    const users = (await api('GET', '/users', undefined, tok))
      .json()
      .users.map((u: { name: string }) => u.name)
      .sort();
    expect(users).toEqual(['dom-other', 'dom-reader']);
    expect((await api('GET', `/domains/${dom.id}`, undefined, tok)).statusCode).toBe(200);
    expect((await api('GET', '/domains/default', undefined, tok)).statusCode).toBe(403);
    const admin = (await api('GET', '/users?name=admin')).json().users[0];
    expect((await api('GET', `/users/${admin.id}`, undefined, tok)).statusCode).toBe(403);
    expect((await api('POST', '/users', { user: { name: 'x', domain_id: dom.id } }, tok)).statusCode).toBe(
      403,
    );
  });
});
