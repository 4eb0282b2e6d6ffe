import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startComputeCloud, type ComputeCloud } from './helpers.js';

describe('compute smoke', () => {
  let c: ComputeCloud;
  beforeAll(async () => {
    c = await startComputeCloud();
  });
  afterAll(async () => c?.close());

  it('boots a server to ACTIVE', async () => {
    const s = await c.boot(c.adminToken);
    expect(s.status).toBe('ACTIVE');
    expect(s['OS-EXT-STS:power_state']).toBe(1);
  });
});
