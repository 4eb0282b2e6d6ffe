/**
 * Background work of the volume service (the part Cinder's volume manager does): each job runs after the API
 * answered 202; the database is the truth, so a job only moves a row from the state the API left it in.
 * `settle()` waits for every job (graceful stop, tests).
 */
import type { Logger } from 'pino';

export class Worker {
  private jobs = new Set<Promise<void>>();
  constructor(private readonly log: Logger) {}

  /** Run `fn` in the background; `onError` records a failure on the resource (never throws out). */
  run(what: string, fn: () => Promise<void>, onError: (e: Error) => Promise<void>): void {
    const p = (async () => {
      try {
        await fn();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        this.log.warn({ err, job: what }, 'volume job failed');
        await onError(err).catch((e2: unknown) =>
          this.log.error({ err: e2, job: what }, 'recording a failure failed'),
        );
      }
    })();
    this.jobs.add(p);
    void p.finally(() => this.jobs.delete(p));
  }

  async settle(): Promise<void> {
    while (this.jobs.size) await Promise.allSettled([...this.jobs]);
  }
}
