/**
 * GET /networking/v2.0/stackbox/explain and `stackbox explain`: the seed scenario (external flat network
 * `public`, network1, router1 with a gateway and an interface, vm1 with the default group and a floating IP)
 * walked hop by hop, each way a flow gets dropped, visibility (another project's server is a 404), bad input,
 * and the CLI against a real `stackbox up`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from '../compute/helpers.js';
import { startStackbox, type StackboxProcess } from '../support/stackbox.js';
import { expectFault, neutron, poster, publicNetwork, type Json } from './support.js';

let c: ComputeCloud;
let api: ReturnType<typeof neutron>;
let admin: string;
let a: { token: string; projectId: string };
let b: { token: string; projectId: string };
let pub: Json;
let net1: Json;
let subnet1: Json;
let router: Json;
let vm1: Json;
let vm1Port: Json;
let fip: Json;
let defaultSg: string;

const explain = async (token: string, q: Record<string, string>) => {
  const r = await c.req('GET', `/networking/v2.0/stackbox/explain?${new URLSearchParams(q)}`, { token });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().explanation as Json;
};
const hop = (e: Json, step: string) => e.hops.find((h: Json) => h.step === step) as Json;

beforeAll(async () => {
  c = await startComputeCloud();
  api = neutron(c);
  admin = c.adminToken;
  a = await c.projectUser('explain-a', 'explain-ua');
  b = await c.projectUser('explain-b', 'explain-ub');
  pub = (
    await publicNetwork(poster(api, admin), {
      name: 'public-subnet',
      cidr: '172.24.4.0/24',
      enable_dhcp: false,
      gateway_ip: '172.24.4.1',
    })
  ).network;
  net1 = (await api.ok(201, 'POST', '/networks', a.token, { network: { name: 'network1' } })).network;
  subnet1 = (
    await api.ok(201, 'POST', '/subnets', a.token, {
      subnet: { name: 'subnet1', network_id: net1.id, cidr: '10.0.0.0/24', ip_version: 4 },
    })
  ).subnet;
  router = (
    await api.ok(201, 'POST', '/routers', a.token, {
      router: { name: 'router1', external_gateway_info: { network_id: pub.id } },
    })
  ).router;
  await api.ok(200, 'PUT', `/routers/${router.id}/add_router_interface`, a.token, { subnet_id: subnet1.id });
  vm1 = await c.boot(a.token, { name: 'vm1', networks: [{ uuid: net1.id }] });
  expect(vm1.status).toBe('ACTIVE');
  await c.compute.settle();
  vm1Port = (await api.ok(200, 'GET', `/ports?device_id=${vm1.id}`, a.token)).ports[0];
  fip = (
    await api.ok(201, 'POST', '/floatingips', a.token, {
      floatingip: { floating_network_id: pub.id, port_id: vm1Port.id },
    })
  ).floatingip;
  defaultSg = vm1Port.security_groups[0];
  // the agent reports the port ACTIVE
  for (let i = 0; i < 50; i++) {
    await c.compute.settle();
    const p = (await api.ok(200, 'GET', `/ports/${vm1Port.id}`, a.token)).port;
    if (p.status === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 20));
  }
}, 120_000);
afterAll(async () => c?.close());

describe('external → server', () => {
  it('tcp/22 with only the default group: dropped at security_group, naming the groups', async () => {
    const e = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'tcp', port: '22' });
    expect(e.verdict).toBe('dropped');
    expect(e.blocked_at).toBe('security_group');
    expect(e.reason).toBe(
      'no ingress rule of security groups [default (' +
        defaultSg +
        ')] allows tcp/22 from any external address (default deny)',
    );
    expect(e.protocol).toBe('tcp');
    expect(e.port).toBe(22);
    expect(e.from).toMatchObject({ type: 'external', address: null });
    expect(e.to).toMatchObject({
      type: 'server',
      server: { id: vm1.id, name: 'vm1', status: 'ACTIVE' },
      port_id: vm1Port.id,
      network: { id: net1.id, name: 'network1' },
      address: vm1Port.fixed_ips[0].ip_address,
    });
    expect(e.hops.map((h: Json) => [h.step, h.ok])).toEqual([
      ['source', true],
      ['server', true],
      ['port', true],
      ['network', true],
      ['subnet', true],
      ['floating_ip', true],
      ['router', true],
      ['port_security', true],
      ['security_group', false],
    ]);
    expect(hop(e, 'floating_ip')).toMatchObject({
      detail: expect.stringContaining(
        `${fip.floating_ip_address} → ${vm1Port.fixed_ips[0].ip_address} (floating IP ${fip.id}`,
      ),
      resource: { type: 'floatingip', id: fip.id },
    });
    expect(hop(e, 'router').resource).toEqual({ type: 'router', id: router.id });
    expect(hop(e, 'security_group').resource).toEqual({ type: 'security_group', id: defaultSg });
    // the server's id works as well as its name, and a named source address is in the reason
    const byId = await explain(a.token, {
      from: 'external:203.0.113.5',
      to: `server:${vm1.id}`,
      protocol: 'tcp',
      port: '22',
    });
    expect(byId.reason).toContain('allows tcp/22 from 203.0.113.5 (default deny)');
  });

  it('an ingress tcp/22 rule lets it through, naming the rule; a narrower prefix depends on the source', async () => {
    const rule = (
      await api.ok(201, 'POST', '/security-group-rules', a.token, {
        security_group_rule: {
          security_group_id: defaultSg,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '0.0.0.0/0',
        },
      })
    ).security_group_rule;
    const e = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'tcp', port: '22' });
    expect(e.verdict).toBe('allowed');
    expect(e.blocked_at).toBeNull();
    expect(e.reason).toBeNull();
    expect(hop(e, 'security_group')).toMatchObject({
      ok: true,
      resource: { type: 'security_group_rule', id: rule.id },
      detail: expect.stringContaining(
        `rule ${rule.id} of group default (${defaultSg}) (ingress IPv4 tcp 22 from 0.0.0.0/0) allows tcp/22 from any external address`,
      ),
    });
    // another port is still dropped
    const other = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'tcp', port: '80' });
    expect(other.verdict).toBe('dropped');
    // a rule for one prefix only: the answer depends on the source address
    await api.ok(204, 'DELETE', `/security-group-rules/${rule.id}`, a.token);
    const narrow = (
      await api.ok(201, 'POST', '/security-group-rules', a.token, {
        security_group_rule: {
          security_group_id: defaultSg,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '198.51.100.0/24',
        },
      })
    ).security_group_rule;
    const q = { to: 'server:vm1', protocol: 'tcp', port: '22' };
    expect((await explain(a.token, { ...q, from: 'external:198.51.100.7' })).verdict).toBe('allowed');
    expect((await explain(a.token, { ...q, from: 'external:203.0.113.5' })).verdict).toBe('dropped');
    const unsure = await explain(a.token, { ...q, from: 'external' });
    expect(unsure.verdict).toBe('unknown');
    expect(unsure.blocked_at).toBe('security_group');
    expect(unsure.reason).toContain(narrow.id);
    await api.ok(204, 'DELETE', `/security-group-rules/${narrow.id}`, a.token);
  });

  it('ICMP: dropped by default, allowed by an ingress icmp rule', async () => {
    const q = { from: 'external:203.0.113.5', to: 'server:vm1', protocol: 'icmp' };
    let e = await explain(a.token, q);
    expect(e.verdict).toBe('dropped');
    expect(e.blocked_at).toBe('security_group');
    expect(e.reason).toContain('allows icmp echo request from 203.0.113.5');
    const rule = (
      await api.ok(201, 'POST', '/security-group-rules', a.token, {
        security_group_rule: { security_group_id: defaultSg, direction: 'ingress', protocol: 'icmp' },
      })
    ).security_group_rule;
    e = await explain(a.token, q);
    expect(e.verdict).toBe('allowed');
    expect(hop(e, 'security_group').resource).toEqual({ type: 'security_group_rule', id: rule.id });
    // tcp is still not allowed by an icmp rule
    expect((await explain(a.token, { ...q, protocol: 'tcp', port: '22' })).verdict).toBe('dropped');
  });

  it('floating IP disassociated: dropped at floating_ip; SNAT still takes the server out', async () => {
    await api.ok(200, 'PUT', `/floatingips/${fip.id}`, a.token, { floatingip: { port_id: null } });
    try {
      const e = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'icmp' });
      expect(e.verdict).toBe('dropped');
      expect(e.blocked_at).toBe('floating_ip');
      expect(e.reason).toContain('no floating IP is associated with');
      const out = await explain(a.token, {
        from: 'server:vm1',
        to: 'external:8.8.8.8',
        protocol: 'udp',
        port: '53',
      });
      expect(out.verdict).toBe('allowed');
      expect(out.hops.map((h: Json) => h.step)).toEqual([
        'source_server',
        'source_port',
        'source_network',
        'source_subnet',
        'source_port_security',
        'egress_security_group',
        'router',
        'snat',
        'destination',
      ]);
      expect(hop(out, 'snat').detail).toMatch(/→ 172\.24\.4\.\d+ \(SNAT on router router1/);
    } finally {
      await api.ok(200, 'PUT', `/floatingips/${fip.id}`, a.token, { floatingip: { port_id: vm1Port.id } });
    }
  });

  it('router interface removed: the server cannot get out (dropped at router)', async () => {
    // The interface carries the floating IP, so Neutron refuses to remove it while the IP is associated.
    await api.ok(200, 'PUT', `/floatingips/${fip.id}`, a.token, { floatingip: { port_id: null } });
    await api.ok(200, 'PUT', `/routers/${router.id}/remove_router_interface`, a.token, {
      subnet_id: subnet1.id,
    });
    try {
      const e = await explain(a.token, { from: 'server:vm1', to: 'external', protocol: 'tcp', port: '443' });
      expect(e.verdict).toBe('dropped');
      expect(e.blocked_at).toBe('router');
      expect(e.reason).toContain(`no router has an interface on subnet subnet1 10.0.0.0/24 (${subnet1.id})`);
    } finally {
      await api.ok(200, 'PUT', `/routers/${router.id}/add_router_interface`, a.token, {
        subnet_id: subnet1.id,
      });
      await api.ok(200, 'PUT', `/floatingips/${fip.id}`, a.token, { floatingip: { port_id: vm1Port.id } });
    }
  });

  it('router administratively down: dropped at router', async () => {
    await api.ok(200, 'PUT', `/routers/${router.id}`, a.token, { router: { admin_state_up: false } });
    try {
      const e = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'icmp' });
      expect(e.verdict).toBe('dropped');
      expect(e.blocked_at).toBe('router');
      expect(e.reason).toContain('is administratively down');
    } finally {
      await api.ok(200, 'PUT', `/routers/${router.id}`, a.token, { router: { admin_state_up: true } });
    }
  });

  it('port security disabled: allowed (no filtering)', async () => {
    await api.ok(200, 'PUT', `/ports/${vm1Port.id}`, a.token, {
      port: { port_security_enabled: false, security_groups: [] },
    });
    try {
      const e = await explain(a.token, { from: 'external', to: 'server:vm1', protocol: 'tcp', port: '8080' });
      expect(e.verdict).toBe('allowed');
      expect(hop(e, 'port_security').detail).toContain('port security is disabled');
      expect(hop(e, 'security_group')).toBeUndefined();
    } finally {
      await api.ok(200, 'PUT', `/ports/${vm1Port.id}`, a.token, {
        port: { port_security_enabled: true, security_groups: [defaultSg] },
      });
    }
    const again = await explain(a.token, {
      from: 'external',
      to: 'server:vm1',
      protocol: 'tcp',
      port: '8080',
    });
    expect(again.verdict).toBe('dropped');
  });
});

describe('server → server', () => {
  let vm2: Json;
  it('same network, default group: allowed by the remote-group rule', async () => {
    vm2 = await c.boot(a.token, { name: 'vm2', networks: [{ uuid: net1.id }] });
    expect(vm2.status).toBe('ACTIVE');
    await c.compute.settle();
    const e = await explain(a.token, { from: 'server:vm1', to: 'server:vm2', protocol: 'tcp', port: '22' });
    expect(e.verdict, JSON.stringify(e.hops)).toBe('allowed');
    expect(hop(e, 'l2').detail).toContain('same subnet subnet1');
    expect(hop(e, 'egress_security_group').ok).toBe(true);
    expect(hop(e, 'security_group').detail).toContain('from members of group default');
    // by port and by address too
    const p2 = (await api.ok(200, 'GET', `/ports?device_id=${vm2.id}`, a.token)).ports[0];
    const byPort = await explain(a.token, {
      from: `ip:${vm1Port.fixed_ips[0].ip_address}`,
      to: `port:${p2.id}`,
      protocol: 'icmp',
    });
    expect(byPort.verdict).toBe('allowed');
    expect(byPort.to).toMatchObject({ type: 'port', port_id: p2.id });
  });

  it('another network: dropped at router until the router joins both subnets', async () => {
    const net2 = (await api.ok(201, 'POST', '/networks', a.token, { network: { name: 'network2' } })).network;
    const subnet2 = (
      await api.ok(201, 'POST', '/subnets', a.token, {
        subnet: { name: 'subnet2', network_id: net2.id, cidr: '10.0.1.0/24', ip_version: 4 },
      })
    ).subnet;
    const vm3 = await c.boot(a.token, { name: 'vm3', networks: [{ uuid: net2.id }] });
    expect(vm3.status).toBe('ACTIVE');
    await c.compute.settle();
    const q = { from: 'server:vm3', to: 'server:vm1', protocol: 'tcp', port: '22' };
    let e = await explain(a.token, q);
    expect(e.verdict).toBe('dropped');
    expect(e.blocked_at).toBe('router');
    expect(e.reason).toContain('no router has interfaces on both subnet subnet2');
    expect(e.reason).toContain(`explain to ip:${fip.floating_ip_address}`);
    await api.ok(200, 'PUT', `/routers/${router.id}/add_router_interface`, a.token, {
      subnet_id: subnet2.id,
    });
    e = await explain(a.token, q);
    expect(e.verdict, JSON.stringify(e.hops)).toBe('allowed');
    expect(hop(e, 'router').detail).toContain('joins 10.0.1.0/24');
    // a server that is not ACTIVE is where it stops
    const stop = await c.nova('POST', `/servers/${vm3.id}/action`, {
      token: a.token,
      body: { 'os-stop': null },
    });
    expect(stop.statusCode, stop.body).toBe(202);
    await c.waitFor(vm3.id, 'SHUTOFF', a.token);
    e = await explain(a.token, q);
    expect(e.verdict).toBe('dropped');
    expect(e.blocked_at).toBe('source_server');
    expect(e.reason).toContain('SHUTOFF');
  });
});

describe('visibility, policy and bad input', () => {
  it("another project cannot explain A's server or port (404)", async () => {
    const q = { from: 'external', protocol: 'tcp', port: '22' };
    for (const to of ['server:vm1', `server:${vm1.id}`]) {
      const r = await c.req('GET', `/networking/v2.0/stackbox/explain?${new URLSearchParams({ ...q, to })}`, {
        token: b.token,
      });
      expectFault(r, 404, 'HTTPNotFound', to);
    }
    const r = await c.req(
      'GET',
      `/networking/v2.0/stackbox/explain?${new URLSearchParams({ ...q, to: `port:${vm1Port.id}` })}`,
      { token: b.token },
    );
    expectFault(r, 404, 'PortNotFound');
    // A's addresses are nothing to B: an external address on both ends is refused
    const ip = await c.req(
      'GET',
      `/networking/v2.0/stackbox/explain?${new URLSearchParams({ ...q, to: `ip:${fip.floating_ip_address}` })}`,
      { token: b.token },
    );
    expectFault(ip, 400, 'HTTPBadRequest');
    // the admin sees everything
    expect((await explain(admin, { ...q, to: 'server:vm1' })).to.server.id).toBe(vm1.id);
  });

  it('bad input is a 400 NeutronError, never a 500', async () => {
    const bad: Record<string, string>[] = [
      { from: 'external', to: 'server:vm1', protocol: 'sctp' },
      { from: 'external', to: 'server:vm1', protocol: 'tcp', port: '70000' },
      { from: 'external', to: 'server:vm1', protocol: 'any', port: '22' },
      { from: 'external', to: 'server:vm1', protocol: 'tcp', port: 'ssh' },
      { to: 'server:vm1' },
      { from: 'external' },
      { from: 'internet', to: 'server:vm1' },
      { from: 'external:999.1.1.1', to: 'server:vm1' },
      { from: 'external', to: 'external' },
      { from: 'external', to: 'server:' },
      { from: 'external', to: 'server:vm1', proto: 'tcp' },
      { from: 'external', to: 'server:vm1', to_network: 'nope' },
      { from: 'external', to: 'server:vm1', from_network: 'network1' },
    ];
    for (const q of bad) {
      const r = await c.req('GET', `/networking/v2.0/stackbox/explain?${new URLSearchParams(q)}`, {
        token: a.token,
      });
      expectFault(r, 400, 'HTTPBadRequest', JSON.stringify(q));
    }
    const twice = await c.req(
      'GET',
      '/networking/v2.0/stackbox/explain?from=external&from=external&to=server:vm1',
      {
        token: a.token,
      },
    );
    expectFault(twice, 400, 'HTTPBadRequest');
    expect(
      (await c.req('GET', '/networking/v2.0/stackbox/explain?from=external&to=server:vm1')).statusCode,
    ).toBe(401);
  });

  it('junk ends are 4xx NeutronErrors too', async () => {
    const ends = [
      'ip:',
      'ip:::',
      'external:1.2.3.4/24',
      'port:zzz',
      `port:${'x'.repeat(300)}`,
      'server:%',
      `server:${'é'.repeat(300)}`,
      'ip:10.0.0.0',
      'SERVER:vm1',
      ':',
      'external:',
    ];
    for (const from of ends)
      for (const to of ['server:vm1', ...ends]) {
        const r = await c.req(
          'GET',
          `/networking/v2.0/stackbox/explain?${new URLSearchParams({ from, to, protocol: 'udp', port: '53' })}`,
          { token: a.token },
        );
        expect(r.statusCode, `${from} → ${to}: ${r.body}`).toBeLessThan(500);
        if (r.statusCode >= 400) expect(r.json().NeutronError, r.body).toBeDefined();
      }
  });

  it('is not advertised as a Neutron extension', async () => {
    const ext = await api.ok(200, 'GET', '/extensions', a.token);
    expect(JSON.stringify(ext)).not.toMatch(/explain|stackbox/i);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The CLI against a real `stackbox up`

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * `stackbox explain` runs the compiled CLI (`npm test` builds first): build here when dist is missing or older
 * than any source file (tsc rewrites every output). A type error elsewhere in the tree still emits, so only a
 * build that leaves dist stale fails.
 */
function ensureBuilt() {
  const out = join(ROOT, 'dist', 'main.js');
  const newest = () =>
    Math.max(
      ...readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => statSync(join(ROOT, 'src', f)).mtimeMs),
    );
  const stale = () => !existsSync(out) || statSync(out).mtimeMs < newest();
  if (!stale()) return;
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  if (stale()) throw new Error(`build failed: ${r.stdout}${r.stderr}`);
}

describe('stackbox explain (CLI)', () => {
  let sb: StackboxProcess;
  let env: Record<string, string>;
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const r = await fetch(`${sb.url}${path}`, {
      method,
      headers: { 'x-auth-token': token, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (r.status >= 400) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : {};
  };
  const cli = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'stackbox.js'), 'explain', ...args], {
      env: { ...env, ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  beforeAll(async () => {
    ensureBuilt();
    sb = await startStackbox();
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      OS_CLIENT_CONFIG_FILE: sb.cloudsYaml,
      OS_CLOUD: 'stackbox',
    };
    const auth = await fetch(`${sb.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: sb.adminPassword } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const token = auth.headers.get('x-subject-token')!;
    const n = '/networking/v2.0';
    const pubNet = (
      await publicNetwork((path, body) => call('POST', `${n}${path}`, token, body), {
        cidr: '172.24.4.0/24',
        enable_dhcp: false,
      })
    ).network;
    const net = (await call('POST', `${n}/networks`, token, { network: { name: 'network1' } })).network;
    const sub = (
      await call('POST', `${n}/subnets`, token, {
        subnet: { network_id: net.id, cidr: '10.0.0.0/24', ip_version: 4 },
      })
    ).subnet;
    const r = (
      await call('POST', `${n}/routers`, token, {
        router: { name: 'router1', external_gateway_info: { network_id: pubNet.id } },
      })
    ).router;
    await call('PUT', `${n}/routers/${r.id}/add_router_interface`, token, { subnet_id: sub.id });
    const img = await call('POST', '/image/v2/images', token, {
      name: 'img',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    });
    const up = await fetch(`${sb.url}/image/v2/images/${img.id}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': token, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1024, 1),
    });
    expect(up.status).toBe(204);
    const s = (
      await call('POST', '/compute/v2.1/servers', token, {
        server: { name: 'vm1', imageRef: img.id, flavorRef: '1', networks: [{ uuid: net.id }] },
      })
    ).server;
    for (let i = 0; i < 300; i++) {
      const cur = (await call('GET', `/compute/v2.1/servers/${s.id}`, token)).server;
      const ports = (await call('GET', `${n}/ports?device_id=${s.id}`, token)).ports;
      if (cur.status === 'ACTIVE' && ports[0]?.status === 'ACTIVE') {
        await call('POST', `${n}/floatingips`, token, {
          floatingip: { floating_network_id: pubNet.id, port_id: ports[0].id },
        });
        return;
      }
      if (cur.status === 'ERROR') throw new Error(JSON.stringify(cur.fault));
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error('vm1 did not become ACTIVE');
  }, 300_000);
  afterAll(async () => sb?.cleanup());

  it('prints the walk and the verdict; exit 1 when dropped, 0 when allowed; --json is the document', async () => {
    let r = cli(['--from', 'external', '--to', 'server:vm1', '--protocol', 'tcp', '--port', '22']);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/✓ floating_ip/);
    expect(r.stdout).toMatch(/✗ security_group +no ingress rule of security groups \[default/);
    expect(r.stdout).toMatch(
      /^dropped at security_group: no ingress rule .*allows tcp\/22 from any external address \(default deny\)$/m,
    );

    r = cli(['--from', 'external', '--to', 'server:vm1', '--protocol', 'tcp', '--port', '22', '--json']);
    expect(r.status).toBe(1);
    const doc = JSON.parse(r.stdout);
    expect(doc.explanation).toMatchObject({ verdict: 'dropped', blocked_at: 'security_group', port: 22 });

    // the same as a member through OS_* variables (clouds.yaml ignored), after opening port 22
    const admin = await fetch(`${sb.url}/identity/v3/auth/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        auth: {
          identity: {
            methods: ['password'],
            password: { user: { name: 'admin', domain: { id: 'default' }, password: sb.adminPassword } },
          },
          scope: { project: { name: 'admin', domain: { id: 'default' } } },
        },
      }),
    });
    const token = admin.headers.get('x-subject-token')!;
    const sg = doc.explanation.hops.find((h: Json) => h.step === 'security_group').resource.id;
    const rule = (
      await call('POST', '/networking/v2.0/security-group-rules', token, {
        security_group_rule: {
          security_group_id: sg,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
        },
      })
    ).security_group_rule;
    r = cli(
      ['--from', 'external', '--to', 'server:vm1', '--protocol', 'tcp', '--port', '22'],
      sb.as('admin', sb.adminPassword, 'admin'),
    );
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /✓ security_group +rule \S+ of group default .* allows tcp\/22 from any external address/,
    );
    expect(r.stdout).toContain(rule.id);
    expect(r.stdout).toMatch(/^allowed$/m);

    // errors: exit 2 with the API's message
    r = cli(['--from', 'external', '--to', 'server:nope']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('Server nope could not be found');
    r = cli(['--from', 'external', '--to', 'server:vm1'], { OS_CLOUD: 'missing' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('missing');
  });
});
