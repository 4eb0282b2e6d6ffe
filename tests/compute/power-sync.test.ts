/** The agent's power-state sync: a guest that stops or crashes by itself is shown as SHUTOFF. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PowerState } from '../../src/agent/compute/driver.js';
import type { FakeDriver } from '../../src/agent/compute/fake/index.js';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('power-state sync', () => {
  let c: ComputeCloud;
  beforeAll(async () => {
    c = await startComputeCloud();
  });
  afterAll(async () => c?.close());

  it('follows a guest that powered off or crashed, then starts it again', async () => {
    const s = await c.boot(c.adminToken, { name: 'flaky' });
    const fake = c.compute.agent!.driver as FakeDriver;
    fake.simulatePowerChange(s.id, PowerState.SHUTDOWN);
    await c.compute.agent!.heartbeat();
    let x = await c.waitFor(s.id, 'SHUTOFF');
    expect(x['OS-EXT-STS:power_state']).toBe(4);
    expect((await c.nova('POST', `/servers/${s.id}/action`, { body: { 'os-start': null } })).statusCode).toBe(
      202,
    );
    await c.waitFor(s.id, 'ACTIVE');
    fake.simulatePowerChange(s.id, PowerState.CRASHED);
    await c.compute.agent!.heartbeat();
    x = await c.waitFor(s.id, 'SHUTOFF');
    expect(x['OS-EXT-STS:power_state']).toBe(6);
    const log = await c.nova('POST', `/servers/${s.id}/action`, {
      body: { 'os-getConsoleOutput': { length: 5 } },
    });
    expect(log.json().output).toContain('Kernel panic');
    // A heartbeat without changes reports nothing new.
    await c.compute.agent!.heartbeat();
    expect((await c.waitFor(s.id, 'SHUTOFF'))['OS-EXT-STS:power_state']).toBe(6);
    await c.nova('DELETE', `/servers/${s.id}`);
  });

  it('reconciliation: a build that cannot be redone ends in ERROR with the reason; a lost VM is recreated', async () => {
    const agent = c.compute.agent!;
    const fake = agent.driver as FakeDriver;
    const mgr = c.compute.manager;
    const a = await c.boot(c.adminToken, { name: 'interrupted' });
    const b = await c.boot(c.adminToken, { name: 'lost' });
    // As if the process died mid-build: the row says BUILD/spawning, the hypervisor has nothing, and the
    // retry will fail. And b's VM vanished from the hypervisor (e.g. host reboot without the qemu state).
    await mgr.store.k
      .updateTable('compute_server')
      .set({
        vm_state: 'building',
        task_state: 'spawning',
        power_state: 0,
        metadata: JSON.stringify({ fake_fail: 'spawn' }),
      })
      .where('id', '=', a.id)
      .execute();
    await fake.destroy(a.id);
    await fake.destroy(b.id);
    await mgr.onReport({
      kind: 'hello',
      host: agent.host,
      info: await fake.getHostInfo(),
      driver: 'fake',
      capabilities: fake.capabilities,
      instances: await fake.listInstances(),
    });
    const ea = await c.waitFor(a.id, 'ERROR');
    expect(ea.fault.message).toContain('Build interrupted by a restart of the host agent; retry failed');
    const eb = await c.waitFor(b.id, 'ACTIVE');
    expect(eb['OS-EXT-STS:power_state']).toBe(1);
    expect((await fake.listInstances()).map((i) => i.uuid)).toEqual([b.id]);
    for (const id of [a.id, b.id]) await c.nova('DELETE', `/servers/${id}`);
  });
});
