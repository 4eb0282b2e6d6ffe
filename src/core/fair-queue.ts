/**
 * A bounded, fair queue for expensive work (password hashing): at most `slots` jobs run at once, waiting jobs
 * are taken round-robin by key (so one key's flood delays another key by at most one job per active key),
 * and each key — and each source — may have only so many jobs waiting or running; more are refused at once
 * (`QueueFull`), before any work is spent on them.
 */
export class QueueFull extends Error {
  constructor(public readonly what: 'key' | 'source') {
    super(`too many concurrent requests for this ${what}`);
  }
}

export class FairQueue {
  private running = 0;
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly order: string[] = [];
  private readonly perKey = new Map<string, number>();
  private readonly perSource = new Map<string, number>();

  constructor(
    private readonly slots: number,
    private readonly maxPerKey: number,
    private readonly maxPerSource: number,
  ) {}

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
        this.release();
      }
    } finally {
      bump(this.perKey, key, -1);
      bump(this.perSource, source, -1);
    }
  }

  private acquire(key: string): Promise<void> {
    if (this.running < this.slots && this.order.length === 0) {
      this.running++;
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

  private release(): void {
    this.running--;
    const key = this.order.shift();
    if (key === undefined) return;
    const q = this.waiting.get(key)!;
    const next = q.shift()!;
    if (q.length > 0) this.order.push(key);
    else this.waiting.delete(key);
    this.running++;
    next();
  }
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n <= 0) m.delete(k);
  else m.set(k, n);
}
