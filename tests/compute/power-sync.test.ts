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
});
