/**
 * The network agent: receives desired-state documents on the bus and applies them with its driver, then
 * reports statuses back on the bus. It holds no database handle, so the same class can run in another
 * process (`stackbox agent`) once the bus is NATS.
 The messages are in protocol.ts.
 *
 * Documents for one resource are applied in order; a newer document queued behind an older one replaces it
 * (only the latest desired state matters).
 */
import type { Bus } from '../../core/bus/index.js';
import type { NetworkDriver } from './driver.js';
import {
  RESYNC_SUBJECT,
  STATUS_SUBJECT,
  WIRING_SUBJECT,
  type StatusMessage,
  type WiringMessage,
} from './protocol.js';

interface Logger {
  warn(obj: unknown, msg?: string): void;
  info?(obj: unknown, msg?: string): void;
}

export class NetworkAgent {
  private pending = new Map<string, WiringMessage>();
  private running = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private unsubscribe?: () => void;

  constructor(
    readonly driver: NetworkDriver,
    private readonly bus: Bus,
    private readonly log?: Logger,
  ) {}

  private startedAt = performance.now();

  start(): void {
    this.startedAt = performance.now();
    this.driver.onStatus = (kind, id, status) => this.report({ kind, id, status });
    this.unsubscribe = this.bus.subscribe(WIRING_SUBJECT, (m) => this.accept(m as WiringMessage));
    if (this.driver.reconcile) this.bus.publish(RESYNC_SUBJECT, {});
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** Resolves when no document is queued or being applied. */
  whenIdle(): Promise<void> {
    if (this.pending.size === 0 && this.running.size === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  private accept(m: WiringMessage): void {
    const key = `${m.kind}:${m.id}`;
    this.pending.set(key, m);
    if (!this.running.has(key)) void this.drain(key);
  }

  private async drain(key: string): Promise<void> {
    this.running.add(key);
    try {
      for (let m = this.pending.get(key); m; m = this.pending.get(key)) {
        this.pending.delete(key);
        try {
          await this.apply(m);
        } catch (err) {
          this.log?.warn({ err, kind: m.kind, id: m.id }, 'network driver failed');
          if (m.kind === 'port') this.report({ kind: 'port', id: m.id, status: 'ERROR' });
        }
      }
    } finally {
      this.running.delete(key);
      if (this.pending.size === 0 && this.running.size === 0) {
        const w = this.idleWaiters.splice(0);
        for (const f of w) f();
      }
    }
  }

  private async whenOthersIdle(self: string): Promise<void> {
    while ([...this.running].some((k) => k !== self) || this.pending.size > 0)
      await new Promise((r) => setTimeout(r, 20));
  }

  private report(s: StatusMessage): void {
    this.bus.publish(STATUS_SUBJECT, s);
  }

  private async apply(m: WiringMessage): Promise<void> {
    switch (m.kind) {
      case 'network':
        if (m.spec)
          this.report({ kind: 'network', id: m.id, status: await this.driver.ensureNetwork(m.spec) });
        else await this.driver.deleteNetwork(m.id);
        return;
      case 'port':
        if (m.spec) this.report({ kind: 'port', id: m.id, status: await this.driver.plugPort(m.spec) });
        else await this.driver.unplugPort(m.id, m.networkId ?? '');
        return;
      case 'router':
        if (m.spec) {
          const r = await this.driver.ensureRouter(m.spec);
          this.report({ kind: 'router', id: m.id, status: r.status });
          for (const [id, status] of Object.entries(r.floatingIps))
            this.report({ kind: 'floatingip', id, status });
        } else await this.driver.deleteRouter(m.id);
        return;
      case 'addressset':
        if (m.spec) await this.driver.ensureAddressSet(m.id, m.spec.addresses);
        else await this.driver.deleteAddressSet(m.id);
        return;
      case 'sync':
        // Everything sent before this document is applied first (the other queues drain), then the
        // driver removes what is not in the lists.
        await this.whenOthersIdle(`sync:${m.id}`);
        await this.driver.reconcile?.(m.spec);
        this.log?.info?.(
          {
            networks: m.spec.networks.length,
            routers: m.spec.routers.length,
            ports: m.spec.ports.length,
            ms: Math.round(performance.now() - this.startedAt),
          },
          'network agent in sync',
        );
        return;
    }
  }
}
