import { EventEmitter } from 'node:events';

/** Events and tasks between the control plane and agents. In-process by default; NATS when scaled out. */
export interface Bus {
  publish(subject: string, payload: unknown): void;
  subscribe(subject: string, handler: (payload: unknown) => void | Promise<void>): () => void;
  close(): Promise<void>;
}

export class InProcessBus implements Bus {
  private ee = new EventEmitter();
  constructor() {
    this.ee.setMaxListeners(0);
  }
  publish(subject: string, payload: unknown): void {
    // Deliver asynchronously, as a broker would: the publisher never runs the handler's code inline.
    queueMicrotask(() => this.ee.emit(subject, payload));
  }
  subscribe(subject: string, handler: (payload: unknown) => void | Promise<void>): () => void {
    const h = (p: unknown) => void Promise.resolve(handler(p)).catch(() => undefined);
    this.ee.on(subject, h);
    return () => this.ee.off(subject, h);
  }
  async close(): Promise<void> {
    this.ee.removeAllListeners();
  }
}
