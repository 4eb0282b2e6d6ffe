/** Servers on networks: ports from the network service facade, addresses in Nova's shape, released on delete. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('servers with networks', () => {
  let c: ComputeCloud;
  let p: { projectId: string; token: string };
  let net: string;
  beforeAll(async () => {
    c = await startComputeCloud();
    p = await c.projectUser('netp', 'netu');
    let r = await c.req('POST', '/networking/v2.0/networks', {
      token: p.token,
      body: { network: { name: 'private' } },
    });
    expect(r.statusCode, r.body).toBe(201);
    net = r.json().network.id;
    r = await c.req('POST', '/networking/v2.0/subnets', {
      token: p.token,
      body: { subnet: { network_id: net, cidr: '10.1.0.0/24', ip_version: 4 } },
    });
    expect(r.statusCode, r.body).toBe(201);
  });
  afterAll(async () => c?.close());

  it('boots on a network, shows fixed addresses with MACs, releases the port on delete', async () => {
    const s = await c.boot(p.token, { name: 'netvm', networks: [{ uuid: net }] });
    expect(s.status, JSON.stringify(s.fault)).toBe('ACTIVE');
    const addrs = s.addresses.private;
    expect(addrs).toEqual([
      {
        version: 4,
        addr: expect.stringMatching(/^10\.1\.0\./),
        'OS-EXT-IPS:type': 'fixed',
        'OS-EXT-IPS-MAC:mac_addr': expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/),
      },
    ]);
    let r = await c.req('GET', `/networking/v2.0/ports?device_id=${s.id}`, { token: p.token });
    expect(r.json().ports).toHaveLength(1);
    expect(r.json().ports[0].device_owner).toBe('compute:nova');
    r = await c.nova('GET', `/servers/${s.id}/os-interface`, { token: p.token });
    expect(r.json().interfaceAttachments[0].port_id).toBe(r.json().interfaceAttachments[0].port_id);
    r = await c.nova('GET', `/servers/${s.id}/ips`, { token: p.token });
    expect(r.json().addresses.private[0].addr).toBe(addrs[0].addr);
    const out = await c.nova('POST', `/servers/${s.id}/action`, {
      token: p.token,
      body: { 'os-getConsoleOutput': {} },
    });
    expect(out.json().output).toContain(addrs[0].addr);
    await c.nova('DELETE', `/servers/${s.id}`, { token: p.token });
    await c.waitFor(s.id, 'DELETED', p.token);
    r = await c.req('GET', `/networking/v2.0/ports?device_id=${s.id}`, { token: p.token });
    expect(r.json().ports).toEqual([]);
  });

  it('a user port is bound, then unbound (not deleted) on delete; a bad network is a 400 at the API', async () => {
    let r = await c.req('POST', '/networking/v2.0/ports', {
      token: p.token,
      body: { port: { network_id: net, name: 'mine' } },
    });
    const port = r.json().port.id;
    const s = await c.boot(p.token, { name: 'portvm', networks: [{ port }] });
    expect(s.status, JSON.stringify(s.fault)).toBe('ACTIVE');
    await c.nova('DELETE', `/servers/${s.id}`, { token: p.token });
    await c.waitFor(s.id, 'DELETED', p.token);
    r = await c.req('GET', `/networking/v2.0/ports/${port}`, { token: p.token });
    expect(r.statusCode).toBe(200);
    expect(r.json().port.device_id).toBe('');
    // A network that does not exist (or that the project cannot see) is refused before anything is recorded.
    const before = (await c.nova('GET', '/servers', { token: p.token })).json().servers.length;
    const bad = await c.nova('POST', '/servers', {
      token: p.token,
      body: {
        server: {
          name: 'badnet',
          imageRef: await c.image(),
          flavorRef: '1',
          networks: [{ uuid: '00000000-0000-0000-0000-000000000000' }],
        },
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().badRequest.message).toContain(
      'Network 00000000-0000-0000-0000-000000000000 could not be found',
    );
    expect((await c.nova('GET', '/servers', { token: p.token })).json().servers.length).toBe(before);
  });

  it('attaches and detaches interfaces (os-interface)', async () => {
    const s = await c.boot(p.token, { name: 'ifvm', networks: 'none' });
    let r = await c.nova('GET', `/servers/${s.id}/os-interface`, { token: p.token });
    expect(r.json().interfaceAttachments).toEqual([]);
    r = await c.nova('POST', `/servers/${s.id}/os-interface`, {
      token: p.token,
      body: { interfaceAttachment: { net_id: net } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const att = r.json().interfaceAttachment;
    expect(att).toMatchObject({
      net_id: net,
      mac_addr: expect.any(String),
      fixed_ips: [{ ip_address: expect.stringMatching(/^10\.1\.0\./), subnet_id: expect.any(String) }],
    });
    await c.compute.settle();
    r = await c.nova('GET', `/servers/${s.id}`, { token: p.token });
    expect(r.json().server.addresses.private[0].addr).toBe(att.fixed_ips[0].ip_address);
    r = await c.nova('GET', `/servers/${s.id}/os-interface/${att.port_id}`, { token: p.token });
    expect(r.json().interfaceAttachment.port_id).toBe(att.port_id);
    const events = await c.nova('GET', `/servers/${s.id}/os-instance-actions`, { token: p.token });
    expect(events.json().instanceActions.map((a: { action: string }) => a.action)).toContain(
      'attach_interface',
    );
    r = await c.nova('POST', `/servers/${s.id}/os-interface`, {
      token: p.token,
      body: { interfaceAttachment: { net_id: net, port_id: att.port_id } },
    });
    expect(r.statusCode).toBe(400);
    r = await c.nova('DELETE', `/servers/${s.id}/os-interface/${att.port_id}`, { token: p.token });
    expect(r.statusCode).toBe(202);
    r = await c.nova('DELETE', `/servers/${s.id}/os-interface/${att.port_id}`, { token: p.token });
    expect(r.statusCode).toBe(404);
    r = await c.req('GET', `/networking/v2.0/ports/${att.port_id}`, { token: p.token });
    expect(r.statusCode).toBe(404);
    r = await c.nova('GET', `/servers/${s.id}`, { token: p.token });
    expect(r.json().server.addresses).toEqual({});
    await c.nova('DELETE', `/servers/${s.id}`, { token: p.token });
  });

  it('recovery of a build interrupted during networking: partial ports are replaced, then the host sync spawns it', async () => {
    const s = await c.boot(p.token, { name: 'netcrash', networks: [{ uuid: net }] });
    expect(s.status).toBe('ACTIVE');
    const mgr = c.compute.manager;
    const agent = c.compute.agent!;
    const fake = agent.driver as import('../../src/agent/compute/fake/index.js').FakeDriver;
    const before = (await c.req('GET', `/networking/v2.0/ports?device_id=${s.id}`, { token: p.token })).json()
      .ports;
    expect(before).toHaveLength(1);
    // As if the process died after making the port but before casting the spawn.
    await mgr.store.k
      .updateTable('compute_server')
      .set({ vm_state: 'building', task_state: 'networking', addresses: '[]', power_state: 0 })
      .where('id', '=', s.id)
      .execute();
    await fake.destroy(s.id);
    await mgr.recoverNetworking();
    await mgr.onReport({
      kind: 'hello',
      host: agent.host,
      info: await fake.getHostInfo(),
      driver: 'fake',
      capabilities: fake.capabilities,
      instances: await fake.listInstances(),
    });
    const x = await c.waitFor(s.id, 'ACTIVE', p.token);
    const after = (await c.req('GET', `/networking/v2.0/ports?device_id=${s.id}`, { token: p.token })).json()
      .ports;
    expect(after).toHaveLength(1);
    expect(after[0].id).not.toBe(before[0].id);
    expect(x.addresses.private[0].addr).toBe(after[0].fixed_ips[0].ip_address);
    await c.nova('DELETE', `/servers/${s.id}`, { token: p.token });
    await c.waitFor(s.id, 'DELETED', p.token);
  });
});
