/** The seed's network steps with the real `openstack` CLI against a real `stackbox up` (each call ~2.5 s). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

describe.skipIf(!hasOpenstackCli)('openstack CLI against stackbox up (network)', () => {
  let sb: StackboxProcess;
  let user1: Record<string, string>;
  let user2: Record<string, string>;
  beforeAll(async () => {
    sb = await startStackbox();
    // user1 the seed's way, with the CLI as admin
    expect(sb.os(['project', 'create', 'project1']).status).toBe(0);
    expect(sb.os(['user', 'create', '--password', 'user1-pw', '--project', 'project1', 'user1']).status).toBe(
      0,
    );
    expect(sb.os(['role', 'add', '--project', 'project1', '--user', 'user1', 'member']).status).toBe(0);
    user1 = sb.as('user1', 'user1-pw', 'project1');
    // the second project through the identity API directly (saves CLI start-ups)
    await identityUser(sb, 'project2', 'user2', 'user2-pw');
    user2 = sb.as('user2', 'user2-pw', 'project2');
  }, 120_000);
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('walks the seed: public network, network1, router1, security rules, floating IP', () => {
    // admin: the flat external network `public`
    const pub = sb.osJson([
      'network',
      'create',
      '--external',
      '--provider-network-type',
      'flat',
      '--provider-physical-network',
      'extnet',
      'public',
    ]);
    expect(pub['router:external']).toBe(true);
    expect(pub['provider:network_type']).toBe('flat');
    const pubSubnet = sb.osJson([
      'subnet',
      'create',
      '--network',
      'public',
      '--subnet-range',
      '192.168.1.0/24',
      '--allocation-pool',
      'start=192.168.1.100,end=192.168.1.200',
      '--gateway',
      '192.168.1.1',
      'public-subnet',
    ]);
    expect(pubSubnet.allocation_pools).toEqual([{ start: '192.168.1.100', end: '192.168.1.200' }]);

    // a member may not create an external network
    const denied = sb.os(['network', 'create', '--external', 'nope'], user1);
    expect(denied.status).not.toBe(0);
    expect(denied.stderr).toMatch(/403|disallowed by policy/);

    // user1: network1 + subnet with DHCP, router1 with gateway public, interface
    const n1 = sb.osJson(['network', 'create', 'network1'], user1);
    expect(n1.status).toBe('ACTIVE');
    const s1 = sb.osJson(
      ['subnet', 'create', '--network', 'network1', '--subnet-range', '10.11.12.0/24', '--dhcp', 'subnet1'],
      user1,
    );
    expect(s1.gateway_ip).toBe('10.11.12.1');
    expect(s1.enable_dhcp).toBe(true);
    const r1 = sb.osJson(['router', 'create', 'router1'], user1);
    expect(sb.os(['router', 'set', '--external-gateway', 'public', 'router1'], user1).status).toBe(0);
    expect(sb.os(['router', 'add', 'subnet', 'router1', 'subnet1'], user1).status).toBe(0);

    // ingress ICMP, SSH, HTTP on the default group
    for (const args of [
      ['--protocol', 'icmp'],
      ['--protocol', 'tcp', '--dst-port', '22'],
      ['--protocol', 'tcp', '--dst-port', '80'],
    ])
      expect(
        sb.os(['security', 'group', 'rule', 'create', '--ingress', ...args, 'default'], user1).status,
      ).toBe(0);
    const dup = sb.os(
      [
        'security',
        'group',
        'rule',
        'create',
        '--ingress',
        '--protocol',
        'tcp',
        '--dst-port',
        '22',
        'default',
      ],
      user1,
    );
    expect(dup.stderr).toMatch(/409|already exists/);
    const rules = sb.osJson<{ 'IP Protocol': string | null; 'Port Range': string }[]>(
      ['security', 'group', 'rule', 'list', 'default'],
      user1,
    );
    expect(rules.map((r) => `${r['IP Protocol']}:${r['Port Range']}`)).toEqual(
      expect.arrayContaining(['icmp:', 'tcp:22:22', 'tcp:80:80']),
    );
    const sg = sb.osJson(['security', 'group', 'create', '--description', 'web', 'web'], user1);
    expect(sg.name).toBe('web');

    // a port on network1 with the web group, a floating IP from public associated with it
    const port = sb.osJson(
      [
        'port',
        'create',
        '--network',
        'network1',
        '--security-group',
        'web',
        '--fixed-ip',
        'ip-address=10.11.12.50',
        'p1',
      ],
      user1,
    );
    expect(port.fixed_ips).toEqual([{ subnet_id: s1.id, ip_address: '10.11.12.50' }]);
    const fip = sb.osJson(['floating', 'ip', 'create', '--port', 'p1', 'public'], user1);
    expect(fip.floating_ip_address).toMatch(/^192\.168\.1\.(1\d\d|200)$/);
    expect(fip.fixed_ip_address).toBe('10.11.12.50');
    expect(fip.router_id).toBe(r1.id);
  }, 150_000);

  it('lists, shows, sets and deletes; a second project sees none of it', () => {
    const nets = sb.osJson<{ Name: string }[]>(['network', 'list'], user1).map((n) => n.Name);
    expect(nets.sort()).toEqual(['network1', 'public']);
    expect(
      sb.os(['network', 'set', '--name', 'net1', '--description', 'renamed', 'network1'], user1).status,
    ).toBe(0);
    expect(sb.osJson(['network', 'show', 'net1'], user1).description).toBe('renamed');
    expect(sb.os(['subnet', 'set', '--dns-nameserver', '192.0.2.53', 'subnet1'], user1).status).toBe(0);
    expect(sb.osJson(['subnet', 'show', 'subnet1'], user1).dns_nameservers).toEqual(['192.0.2.53']);
    expect(sb.os(['port', 'set', '--name', 'port1', 'p1'], user1).status).toBe(0);
    const ports = sb.osJson<{ Name: string }[]>(['port', 'list', '--network', 'net1'], user1);
    expect(ports.map((p) => p.Name)).toContain('port1');
    const fips = sb.osJson<{ ID: string }[]>(['floating', 'ip', 'list'], user1);
    expect(fips).toHaveLength(1);

    // the second project: sees the external network only, none of project1's resources
    expect(sb.osJson<{ Name: string }[]>(['network', 'list'], user2).map((n) => n.Name)).toEqual(['public']);
    expect(sb.osJson(['port', 'list'], user2)).toEqual([]);
    expect(sb.osJson(['router', 'list'], user2)).toEqual([]);
    expect(sb.osJson(['floating', 'ip', 'list'], user2)).toEqual([]);
    expect(sb.osJson<{ Name: string }[]>(['security', 'group', 'list'], user2).map((g) => g.Name)).toEqual([
      'default',
    ]);
    expect(sb.os(['subnet', 'show', 'subnet1'], user2).status).not.toBe(0);

    // teardown in dependency order
    expect(sb.os(['floating', 'ip', 'delete', fips[0]!.ID], user1).status).toBe(0);
    expect(sb.os(['port', 'delete', 'port1'], user1).status).toBe(0);
    expect(sb.os(['router', 'remove', 'subnet', 'router1', 'subnet1'], user1).status).toBe(0);
    expect(sb.os(['router', 'delete', 'router1'], user1).status).toBe(0);
    expect(sb.os(['security', 'group', 'delete', 'web'], user1).status).toBe(0);
    expect(sb.os(['subnet', 'delete', 'subnet1'], user1).status).toBe(0);
    expect(sb.os(['network', 'delete', 'net1'], user1).status).toBe(0);
  }, 150_000);
});

async function identityUser(sb: StackboxProcess, project: string, user: string, password: string) {
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const r = await fetch(`${sb.url}/identity/v3${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return { token: r.headers.get('x-subject-token'), json: (r.status === 204 ? {} : await r.json()) as any };
  };
  const auth = await call('POST', '/auth/tokens', undefined, {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: 'admin', domain: { id: 'default' }, password: sb.adminPassword } },
      },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    },
  });
  const t = auth.token!;
  const p = (await call('POST', '/projects', t, { project: { name: project } })).json.project.id;
  const u = (await call('POST', '/users', t, { user: { name: user, password, default_project_id: p } })).json
    .user.id;
  const role = (await call('GET', '/roles?name=member', t)).json.roles[0].id;
  await call('PUT', `/projects/${p}/users/${u}/roles/${role}`, t);
}
