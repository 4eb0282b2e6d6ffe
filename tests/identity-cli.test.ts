/** The seed's identity steps with the real `openstack` CLI against a real `stackbox up`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

describe.skipIf(!hasOpenstackCli)('openstack CLI against stackbox up (identity)', () => {
  let sb: StackboxProcess;
  beforeAll(async () => {
    sb = await startStackbox();
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('issues a token and lists the catalog right after start', () => {
    const t = sb.osJson(['token', 'issue']);
    expect(t.id).toMatch(/^gAAAAA/);
    expect(t.project_id).toHaveLength(32);
    const cat = sb.osJson<{ Name: string; Type: string }[]>(['catalog', 'list']);
    expect(cat.map((c) => c.Type)).toContain('identity');
    expect(sb.output()).toContain('export OS_CLOUD=stackbox');
  });

  it('walks the seed: password change, project1, user1, member role, login as user1', () => {
    // the admin changes its own password (Horizon "change password" = self-service change)
    let r = sb.os([
      'user',
      'password',
      'set',
      '--original-password',
      sb.adminPassword,
      '--password',
      'new-admin-pw',
    ]);
    expect(r.status, r.stderr).toBe(0);
    const admin = sb.as('admin', 'new-admin-pw', 'admin');
    // the old password no longer works; the new one does
    expect(sb.os(['token', 'issue'], sb.as('admin', sb.adminPassword, 'admin')).status).not.toBe(0);
    expect(sb.os(['token', 'issue'], admin).status).toBe(0);

    const p = sb.osJson(['project', 'create', '--description', 'seed project', 'project1'], admin);
    expect(p.name).toBe('project1');
    expect(sb.os(['project', 'create', 'project1'], admin).status).not.toBe(0); // 409
    const u = sb.osJson(
      [
        'user',
        'create',
        '--password',
        'user1-pw',
        '--project',
        'project1',
        '--email',
        'u1@example.org',
        'user1',
      ],
      admin,
    );
    expect(u.default_project_id).toBe(p.id);
    r = sb.os(['role', 'add', '--project', 'project1', '--user', 'user1', 'member'], admin);
    expect(r.status, r.stderr).toBe(0);
    const ra = sb.osJson<{ Role: string; User: string; Project: string }[]>(
      ['role', 'assignment', 'list', '--user', 'user1', '--names'],
      admin,
    );
    expect(ra).toEqual([
      expect.objectContaining({ Role: 'member', User: 'user1@Default', Project: 'project1@Default' }),
    ]);
    sb.osJson(['project', 'create', 'project2'], admin);

    const user1 = sb.as('user1', 'user1-pw', 'project1');
    const t = sb.osJson(['token', 'issue'], user1);
    expect(t.project_id).toBe(p.id);
    const mine = sb.osJson<{ Name: string }[]>(['project', 'list', '--my-projects'], user1);
    expect(mine.map((x) => x.Name)).toEqual(['project1']);
    // `project list` as a member falls back to the user's own projects (the 403 on /v3/projects is
    // handled by the client): user1 sees project1 only, never project2
    expect(sb.osJson<{ Name: string }[]>(['project', 'list'], user1).map((x) => x.Name)).toEqual([
      'project1',
    ]);
    // a member may not list users nor grant itself admin
    expect(sb.os(['user', 'list'], user1).status).not.toBe(0);
    expect(
      sb.os(['role', 'add', '--project', 'project1', '--user', 'user1', 'admin'], user1).status,
    ).not.toBe(0);
  });

  it('project, user, role and group create/list/show/set/delete', () => {
    const admin = sb.as('admin', 'new-admin-pw', 'admin');
    sb.osJson(['project', 'create', '--tag', 'x', 'crud-p'], admin);
    expect(sb.os(['project', 'set', '--description', 'changed', '--disable', 'crud-p'], admin).status).toBe(
      0,
    );
    expect(sb.osJson(['project', 'show', 'crud-p'], admin)).toMatchObject({
      description: 'changed',
      enabled: false,
      tags: ['x'],
    });
    expect(sb.osJson<{ Name: string }[]>(['project', 'list'], admin).map((x) => x.Name)).toContain('crud-p');
    sb.osJson(['user', 'create', 'crud-u'], admin);
    expect(sb.os(['user', 'set', '--email', 'c@example.org', 'crud-u'], admin).status).toBe(0);
    expect(sb.osJson(['user', 'show', 'crud-u'], admin).email).toBe('c@example.org');
    sb.osJson(['role', 'create', 'crud-r'], admin);
    expect(sb.osJson<{ Name: string }[]>(['role', 'list'], admin).map((x) => x.Name)).toEqual(
      expect.arrayContaining(['admin', 'member', 'reader', 'crud-r']),
    );
    sb.osJson(['group', 'create', 'crud-g'], admin);
    expect(sb.os(['group', 'add', 'user', 'crud-g', 'crud-u'], admin).status).toBe(0);
    expect(sb.os(['group', 'contains', 'user', 'crud-g', 'crud-u'], admin).stdout).toContain(
      'crud-u in group crud-g',
    );
    expect(
      sb.osJson<{ Name: string }[]>(['user', 'list', '--group', 'crud-g'], admin).map((x) => x.Name),
    ).toEqual(['crud-u']);
    expect(sb.os(['role', 'add', '--project', 'crud-p', '--group', 'crud-g', 'crud-r'], admin).status).toBe(
      0,
    );
    expect(
      sb.os(['role', 'remove', '--project', 'crud-p', '--group', 'crud-g', 'crud-r'], admin).status,
    ).toBe(0);
    expect(sb.os(['group', 'remove', 'user', 'crud-g', 'crud-u'], admin).status).toBe(0);
    for (const [kind, name] of [
      ['group', 'crud-g'],
      ['role', 'crud-r'],
      ['user', 'crud-u'],
      ['project', 'crud-p'],
    ]) {
      const r = sb.os([kind!, 'delete', name!], admin);
      expect(r.status, `${kind} delete: ${r.stderr}`).toBe(0);
      expect(sb.os([kind!, 'show', name!], admin).status).not.toBe(0);
    }
  });

  it('application credential create and use', () => {
    const user1 = sb.as('user1', 'user1-pw', 'project1');
    const ac = sb.osJson(['application', 'credential', 'create', '--description', 'ci', 'ci-cred'], user1);
    expect(ac.secret).toBeTruthy();
    const env = {
      ...sb.as('', ''),
      OS_USERNAME: '',
      OS_PASSWORD: '',
      OS_USER_DOMAIN_NAME: '',
      OS_AUTH_TYPE: 'v3applicationcredential',
      OS_APPLICATION_CREDENTIAL_ID: ac.id,
      OS_APPLICATION_CREDENTIAL_SECRET: ac.secret,
    };
    const t = sb.osJson(['token', 'issue'], env);
    expect(t.project_id).toBe(ac.project_id);
    expect(
      sb.osJson<{ Name: string }[]>(['application', 'credential', 'list'], user1).map((x) => x.Name),
    ).toEqual(['ci-cred']);
    expect(sb.os(['application', 'credential', 'delete', 'ci-cred'], user1).status).toBe(0);
    expect(sb.os(['token', 'issue'], env).status).not.toBe(0);
  });
});
