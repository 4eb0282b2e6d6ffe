/**
 * A bounded, fair queue for expensive work (password hashing): at most `slots` jobs run at once, and one key
 * at most `slots - 1` of them (when there are two or more), so a flood on one key always leaves a slot for
 * everyone else; waiting jobs are taken round-robin by key, and each key — and each source — may have only so
 * many jobs waiting or running; more are refused at once (`QueueFull`), before any work is spent on them.
 */
export class QueueFull extends Error {
  constructor(public readonly what: 'key' | 'source') {
    super(`too many concurrent requests for this ${what}`);
  }
}

export class FairQueue {
  private running = 0;
  private readonly runningPerKey = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly order: string[] = [];
  private readonly perKey = new Map<string, number>();
  private readonly perSource = new Map<string, number>();

  private readonly maxRunningPerKey: number;

  constructor(
    private readonly slots: number,
    private readonly maxPerKey: number,
    private readonly maxPerSource: number,
  ) {
    this.maxRunningPerKey = Math.max(1, slots - 1);
  }

  /** Jobs waiting or running. */
  get size(): number {
    let n = 0;
    for (const v of this.perKey.values()) n += v;
    return n;
  }

  async run<T>(key: string, source: string, job: () => Promise<T>): Promise<T> {
    if ((this.perKey.get(key) ?? 0) >= this.maxPerKey) throw new QueueFull('key');
    if ((this.perSource.get(source) ?? 0) >= this.maxPerSource) throw new QueueFull('source');
    bump(this.perKey, key, 1);
    bump(this.perSource, source, 1);
    try {
      await this.acquire(key);
      try {
        return await job();
      } finally {
        this.release(key);
      }
    } finally {
      bump(this.perKey, key, -1);
      bump(this.perSource, source, -1);
    }
  }

  private acquire(key: string): Promise<void> {
    // Waiting keys could not take a free slot (they are at their own limit), so a key under its limit may.
    if (this.running < this.slots && (this.runningPerKey.get(key) ?? 0) < this.maxRunningPerKey) {
      this.start(key);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const q = this.waiting.get(key);
      if (q) q.push(resolve);
      else {
        this.waiting.set(key, [resolve]);
        this.order.push(key);
      }
    });
  }

  private start(key: string): void {
    this.running++;
    bump(this.runningPerKey, key, 1);
  }

  private release(key: string): void {
    this.running--;
    bump(this.runningPerKey, key, -1);
    // Round-robin: the first waiting key (in turn order) that is under its running limit gets the slot.
    while (this.running < this.slots) {
      const i = this.order.findIndex((k) => (this.runningPerKey.get(k) ?? 0) < this.maxRunningPerKey);
      if (i < 0) return;
      const k = this.order.splice(i, 1)[0]!;
      const q = this.waiting.get(k)!;
      const next = q.shift()!;
      if (q.length > 0) this.order.push(k);
      else this.waiting.delete(k);
      this.start(k);
      next();
    }
  }
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}
