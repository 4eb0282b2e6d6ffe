/** openstacksdk (Debian python3-openstacksdk) against a real `stackbox up`: identity calls. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackbox, type StackboxProcess } from './support/stackbox.js';

/** Debian's python3 (openstacksdk is a Debian package; a pyenv python3 earlier on PATH would not have it). */
const PY = '/usr/bin/python3';
const hasSdk = spawnSync(PY, ['-c', 'import openstack'], { encoding: 'utf8' }).status === 0;

const SCRIPT = `
import json, openstack
conn = openstack.connect(cloud='stackbox')
out = {}
out['token_project'] = conn.current_project_id
p = conn.identity.create_project(name='sdk-project', description='from sdk')
u = conn.identity.create_user(name='sdk-user', password='sdk-pw', default_project_id=p.id)
member = conn.identity.find_role('member')
conn.identity.assign_project_role_to_user(p, u, member)
out['has_role'] = conn.identity.validate_user_has_project_role(p, u, member)
out['projects'] = sorted(x.name for x in conn.identity.projects())
out['domains'] = [d.name for d in conn.identity.domains()]
out['services'] = sorted(s.type for s in conn.identity.services())
out['endpoints'] = len(list(conn.identity.endpoints()))
user_conn = openstack.connect(load_yaml_config=False, load_envvars=False, auth_type='password',
                              auth=dict(auth_url=conn.auth['auth_url'], username='sdk-user', password='sdk-pw',
                                        project_name='sdk-project', user_domain_name='Default',
                                        project_domain_name='Default'))
out['user_token_project'] = [user_conn.current_project_id, p.id]
try:
    list(user_conn.identity.users())
    out['user_can_list_users'] = True
except openstack.exceptions.HttpException as e:
    assert e.status_code == 403, e
    out['user_can_list_users'] = False
conn.identity.unassign_project_role_from_user(p, u, member)
conn.identity.delete_user(u)
conn.identity.delete_project(p)
out['after_delete'] = conn.identity.find_project('sdk-project') is None
print(json.dumps(out))
`;

describe.skipIf(!hasSdk)('openstacksdk against stackbox up (identity)', () => {
  let sb: StackboxProcess;
  beforeAll(async () => {
    sb = await startStackbox();
  });
  afterAll(async () => {
    await sb?.cleanup();
  });
  it('creates, assigns, lists, authenticates and deletes', () => {
    const r = spawnSync(PY, ['-c', SCRIPT], {
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: sb.cloudsYaml },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.token_project).toHaveLength(32);
    expect(out.has_role).toBe(true);
    expect(out.projects).toEqual(['admin', 'sdk-project']);
    expect(out.domains).toEqual(['Default']);
    expect(out.services).toContain('identity');
    expect(out.endpoints).toBeGreaterThanOrEqual(3);
    expect(out.user_token_project[0]).toBe(out.user_token_project[1]);
    expect(out.user_can_list_users).toBe(false);
    expect(out.after_delete).toBe(true);
  });
});
