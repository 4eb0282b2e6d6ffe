import { describe, expect, it } from 'vitest';
import { FairQueue, QueueFull } from '../../src/core/fair-queue.js';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('FairQueue', () => {
  it('runs at most `slots` jobs and serves keys round-robin', async () => {
    const q = new FairQueue(1, 100, 100);
    const order: string[] = [];
    let active = 0;
    let most = 0;
    const job = (name: string) => async () => {
      active++;
      most = Math.max(most, active);
      await tick();
      order.push(name);
      active--;
    };
    const all = [
      ...Array.from({ length: 5 }, (_, i) => q.run('flood', 's1', job(`f${i}`))),
      q.run('quiet', 's2', job('q')),
    ];
    await Promise.all(all);
    expect(most).toBe(1);
    // The quiet key waits for the running job and at most one more of the flood, not for all of it.
    expect(order.indexOf('q')).toBeLessThanOrEqual(2);
  });

  it('refuses more than the per-key and per-source limits, and frees them after', async () => {
    const q = new FairQueue(1, 2, 3);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a = q.run('u', 'ip', () => gate);
    const b = q.run('u', 'ip', () => gate);
    await expect(q.run('u', 'ip2', () => gate)).rejects.toBeInstanceOf(QueueFull);
    const c = q.run('v', 'ip', () => gate);
    await expect(q.run('w', 'ip', () => gate)).rejects.toMatchObject({ what: 'source' });
    expect(q.size).toBe(3);
    release();
    await Promise.all([a, b, c]);
    expect(q.size).toBe(0);
    await q.run('u', 'ip', async () => undefined);
  });

  it('a failing job frees its slot', async () => {
    const q = new FairQueue(1, 5, 5);
    await expect(q.run('k', 's', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await q.run('k', 's', async () => 7)).toBe(7);
  });
});

describe('FairQueue reserve', () => {
  it('one key never takes every slot: another key starts at once', async () => {
    const q = new FairQueue(2, 100, 100);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const started: string[] = [];
    const flood = Array.from({ length: 5 }, (_, i) =>
      q.run('flood', 's', async () => {
        started.push(`f${i}`);
        await gate;
      }),
    );
    await tick();
    expect(started).toEqual(['f0']);
    let quietRan = false;
    await q.run('quiet', 's', async () => {
      quietRan = true;
    });
    expect(quietRan).toBe(true);
    release();
    await Promise.all(flood);
    expect(started.length).toBe(5);
  });
});
