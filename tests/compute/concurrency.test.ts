/** Quotas and host claims are exact under concurrent requests. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('concurrency', () => {
  let c: ComputeCloud;
  let image: string;
  beforeAll(async () => {
    // A small host: 4 vCPUs at allocation ratio 1.0, 8 GB RAM.
    c = await startComputeCloud({ fake: { vcpus: 4, memoryMb: 8192 }, compute: { cpuAllocationRatio: 1.0 } });
    image = await c.image();
  });
  afterAll(async () => c?.close());

  const create = (token: string, name: string) =>
    c.nova('POST', '/servers', {
      token,
      body: { server: { name, imageRef: image, flavorRef: '1', networks: 'none' } },
    });

  it('instance quota: 12 concurrent boots against a quota of 3 → exactly 3 accepted', async () => {
    const p = await c.projectUser('quota-p', 'quota-u');
    await c.nova('PUT', `/os-quota-sets/${p.projectId}`, { body: { quota_set: { instances: 3 } } });
    const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => create(p.token, `q${i}`)));
    const codes = rs.map((r) => r.statusCode).sort();
    expect(codes.filter((x) => x === 202)).toHaveLength(3);
    expect(codes.filter((x) => x === 403)).toHaveLength(9);
    for (const r of rs.filter((x) => x.statusCode === 403))
      expect(r.json().forbidden.message).toContain('Quota exceeded for instances');
    await c.compute.settle();
    const d = await c.nova('GET', `/os-quota-sets/${p.projectId}/detail`, { token: p.token });
    expect(d.json().quota_set.instances).toEqual({ limit: 3, in_use: 3, reserved: 0 });
    for (const r of rs.filter((x) => x.statusCode === 202))
      await c.nova('DELETE', `/servers/${r.json().server.id}`, { token: p.token });
    for (const r of rs.filter((x) => x.statusCode === 202))
      await c.waitFor(r.json().server.id, 'DELETED', p.token);
    // Deleting frees the quota at once: three more fit.
    const again = await Promise.all(Array.from({ length: 4 }, (_, i) => create(p.token, `r${i}`)));
    expect(again.filter((x) => x.statusCode === 202)).toHaveLength(3);
    for (const r of again.filter((x) => x.statusCode === 202))
      await c.nova('DELETE', `/servers/${r.json().server.id}`, { token: p.token });
    await c.compute.settle();
  });

  it('cores quota counts vCPUs across concurrent boots', async () => {
    const p = await c.projectUser('cores-p', 'cores-u');
    await c.nova('PUT', `/os-quota-sets/${p.projectId}`, { body: { quota_set: { cores: 2 } } });
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => create(p.token, `c${i}`)));
    expect(rs.filter((x) => x.statusCode === 202)).toHaveLength(2);
    expect(rs.find((x) => x.statusCode === 403)!.json().forbidden.message).toContain(
      'Quota exceeded for cores',
    );
    for (const r of rs.filter((x) => x.statusCode === 202))
      await c.nova('DELETE', `/servers/${r.json().server.id}`, { token: p.token });
    await c.compute.settle();
  });

  it('host claims: 10 concurrent boots on a 4-vCPU host → 4 ACTIVE, 6 "No valid host", never overcommitted', async () => {
    const p = await c.projectUser('claims-p', 'claims-u');
    const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => create(p.token, `h${i}`)));
    expect(rs.every((r) => r.statusCode === 202)).toBe(true);
    const ids = rs.map((r) => r.json().server.id as string);
    const final = await Promise.all(ids.map((id) => c.waitFor(id, ['ACTIVE', 'ERROR'], p.token)));
    const active = final.filter((s) => s.status === 'ACTIVE');
    const errored = final.filter((s) => s.status === 'ERROR');
    expect(active).toHaveLength(4);
    expect(errored).toHaveLength(6);
    for (const s of errored)
      expect(s.fault.message).toBe('No valid host was found. There are not enough hosts available.');
    let h = (await c.nova('GET', '/os-hypervisors/detail')).json().hypervisors[0];
    expect(h.vcpus_used).toBe(4);
    expect(h.running_vms).toBe(4);
    // Deleting releases the claims (ERROR servers never held one).
    await Promise.all(ids.map((id) => c.nova('DELETE', `/servers/${id}`, { token: p.token })));
    for (const id of ids) await c.waitFor(id, 'DELETED', p.token);
    h = (await c.nova('GET', '/os-hypervisors/detail')).json().hypervisors[0];
    expect(h).toMatchObject({ vcpus_used: 0, memory_mb_used: 0, running_vms: 0 });
  });

  it('key pair quota is exact under concurrent imports', async () => {
    const p = await c.projectUser('kp-p', 'kp-u');
    await c.nova('PUT', `/os-quota-sets/${p.projectId}`, { body: { quota_set: { key_pairs: 2 } } });
    const pub = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBm5jJXw8Yc1p2l1PqLSmGj7b3lO2m8C8V0aZ1w7o6kR x';
    const rs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        c.nova('POST', '/os-keypairs', {
          token: p.token,
          body: { keypair: { name: `k${i}`, public_key: pub } },
        }),
      ),
    );
    expect(rs.filter((r) => r.statusCode === 201)).toHaveLength(2);
    expect(rs.filter((r) => r.statusCode === 403)).toHaveLength(6);
  });

  it('two concurrent actions on one server: one wins, the other is a 409', async () => {
    const p = await c.projectUser('act-p', 'act-u');
    const s = await c.boot(p.token, { name: 'race' });
    const rs = await Promise.all(
      Array.from({ length: 5 }, () =>
        c.nova('POST', `/servers/${s.id}/action`, { token: p.token, body: { 'os-stop': null } }),
      ),
    );
    expect(rs.filter((r) => r.statusCode === 202)).toHaveLength(1);
    expect(rs.filter((r) => r.statusCode === 409)).toHaveLength(4);
    await c.waitFor(s.id, 'SHUTOFF', p.token);
    await c.nova('DELETE', `/servers/${s.id}`, { token: p.token });
    await c.compute.settle();
  });
});
