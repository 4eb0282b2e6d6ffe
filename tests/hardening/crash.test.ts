/**
 * kill -9 under load: a real `stackbox up` (fake drivers) takes a bounded stream of concurrent creates (ports
 * with fixed IPs, servers, security groups) and is killed with SIGKILL in the middle, three times. After each
 * restart on the same data directory: every create that was acknowledged is there, no fixed IP is given twice,
 * quota usage equals what exists, and after the reconcile window no server is stuck in a task.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStackbox, type StackboxProcess } from '../support/process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-crash-'));
let sb: StackboxProcess | undefined;
let port = 0;

afterAll(async () => {
  await sb?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<void> {
  sb = await startStackbox({ dataDir, port: port || undefined, env: { STACKBOX_COMPUTE_DRIVER: 'fake' } });
  port = sb.port;
}

async function api(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`${sb!.url}${path}`, {
    method,
    headers: {
      ...(token ? { 'x-auth-token': token } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      'openstack-api-version': 'compute 2.79',
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  let json: any = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: r.status, json, headers: r.headers };
}

async function login(user: string, password: string, project: string): Promise<string> {
  const r = await api('POST', '/identity/v3/auth/tokens', undefined, {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user, domain: { id: 'default' }, password } },
      },
      scope: { project: { name: project, domain: { id: 'default' } } },
    },
  });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return r.headers.get('x-subject-token')!;
}

interface Acked {
  ports: string[];
  servers: string[];
  groups: string[];
}

describe('kill -9 under create load', () => {
  let admin = '';
  let token = '';
  let projectId = '';
  let netId = '';
  let imageId = '';
  let flavorId = '';
  const acked: Acked = { ports: [], servers: [], groups: [] };

  beforeAll(async () => {
    await start();
    admin = await login('admin', sb!.adminPassword, 'admin');
    projectId = (await api('POST', '/identity/v3/projects', admin, { project: { name: 'crash' } })).json
      .project.id;
    const user = (
      await api('POST', '/identity/v3/users', admin, { user: { name: 'crash-u', password: 'crash-pw' } })
    ).json.user.id;
    const roles = (await api('GET', '/identity/v3/roles?name=member', admin)).json.roles;
    await api('PUT', `/identity/v3/projects/${projectId}/users/${user}/roles/${roles[0].id}`, admin);
    await api('PUT', `/networking/v2.0/quotas/${projectId}`, admin, {
      quota: { port: -1, security_group: -1 },
    });
    await api('PUT', `/compute/v2.1/os-quota-sets/${projectId}`, admin, {
      quota_set: { instances: -1, cores: -1, ram: -1 },
    });
    token = await login('crash-u', 'crash-pw', 'crash');
    netId = (await api('POST', '/networking/v2.0/networks', token, { network: { name: 'n' } })).json.network
      .id;
    await api('POST', '/networking/v2.0/subnets', token, {
      subnet: { network_id: netId, cidr: '10.5.0.0/22', ip_version: 4 },
    });
    const img = await api('POST', '/image/v2/images', admin, {
      name: 'i',
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'public',
    });
    imageId = img.json.id;
    await fetch(`${sb!.url}/image/v2/images/${imageId}/file`, {
      method: 'PUT',
      headers: { 'x-auth-token': admin, 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(4096),
    });
    flavorId = (await api('GET', '/compute/v2.1/flavors', token)).json.flavors[0].id;
  }, 120_000);

  async function load(stopAfterMs: number): Promise<void> {
    let running = true;
    const worker = async (w: number) => {
      for (let i = 0; running; i++) {
        try {
          const kind = (w + i) % 3;
          if (kind === 0) {
            const r = await api('POST', '/networking/v2.0/ports', token, { port: { network_id: netId } });
            if (r.status === 201) acked.ports.push(r.json.port.id);
          } else if (kind === 1) {
            const r = await api('POST', '/compute/v2.1/servers', token, {
              server: { name: `s${w}-${i}`, flavorRef: flavorId, imageRef: imageId, networks: 'none' },
            });
            if (r.status === 202) acked.servers.push(r.json.server.id);
          } else {
            const r = await api('POST', '/networking/v2.0/security-groups', token, {
              security_group: { name: `g${w}-${i}` },
            });
            if (r.status === 201) acked.groups.push(r.json.security_group.id);
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, stopAfterMs));
    expect(await sb!.stop('SIGKILL')).toBe(null);
    running = false;
    await Promise.all(workers);
  }

  async function check(round: number): Promise<void> {
    for (const id of acked.ports)
      expect(
        (await api('GET', `/networking/v2.0/ports/${id}`, token)).status,
        `round ${round}: port ${id}`,
      ).toBe(200);
    for (const id of acked.groups)
      expect(
        (await api('GET', `/networking/v2.0/security-groups/${id}`, token)).status,
        `round ${round}: group ${id}`,
      ).toBe(200);
    for (const id of acked.servers)
      expect(
        (await api('GET', `/compute/v2.1/servers/${id}`, token)).status,
        `round ${round}: server ${id}`,
      ).toBe(200);

    const ports = (await api('GET', `/networking/v2.0/ports?network_id=${netId}`, token)).json.ports as {
      fixed_ips: { ip_address: string }[];
    }[];
    const ips = ports.flatMap((p) => p.fixed_ips.map((f) => f.ip_address));
    expect(new Set(ips).size, `round ${round}: duplicate fixed IPs`).toBe(ips.length);

    const q = (await api('GET', `/networking/v2.0/quotas/${projectId}/details`, admin)).json.quota;
    const allPorts = (await api('GET', `/networking/v2.0/ports?project_id=${projectId}`, admin)).json.ports
      .length;
    const allGroups = (await api('GET', `/networking/v2.0/security-groups?project_id=${projectId}`, admin))
      .json.security_groups.length;
    expect(q.port.used, `round ${round}: port usage`).toBe(allPorts);
    expect(q.security_group.used, `round ${round}: security group usage`).toBe(allGroups);

    // Reconcile window: every server settles (ACTIVE or ERROR, no task), and compute usage equals the count.
    const deadline = Date.now() + 60_000;
    let servers: { id: string; status: string; 'OS-EXT-STS:task_state': string | null }[] = [];
    while (Date.now() < deadline) {
      servers = (await api('GET', '/compute/v2.1/servers/detail', token)).json.servers;
      if (servers.every((s) => ['ACTIVE', 'ERROR'].includes(s.status) && s['OS-EXT-STS:task_state'] === null))
        break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const stuck = servers.filter(
      (s) => !['ACTIVE', 'ERROR'].includes(s.status) || s['OS-EXT-STS:task_state'] !== null,
    );
    expect(stuck, `round ${round}: servers stuck after the reconcile window`).toEqual([]);
    const usage = (await api('GET', `/compute/v2.1/os-quota-sets/${projectId}/detail`, admin)).json.quota_set;
    expect(usage.instances.in_use, `round ${round}: instance usage`).toBe(servers.length);
  }

  it('loses nothing acknowledged, gives no IP twice, keeps usage exact, leaves nothing stuck', async () => {
    for (let round = 1; round <= 3; round++) {
      await load(1500 + round * 400);
      await start();
      await check(round);
    }
    expect(acked.ports.length + acked.servers.length + acked.groups.length).toBeGreaterThan(20);
    console.log(
      `crash: 3 kills survived; acknowledged ${acked.ports.length} ports, ${acked.servers.length} servers, ${acked.groups.length} groups`,
    );
  });
});
