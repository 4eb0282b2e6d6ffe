/**
 * QMP client: the QEMU Machine Protocol (JSON lines over a unix socket). Negotiates capabilities,
 * runs commands one at a time in order (QMP answers in order), and emits asynchronous events.
 */
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';

export class QmpError extends Error {
  constructor(
    readonly cls: string,
    message: string,
  ) {
    super(message);
  }
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export class QmpClient extends EventEmitter {
  private sock?: Socket;
  private buf = '';
  private pending: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private greeted?: (v: unknown) => void;
  version?: { qemu: { major: number; minor: number; micro: number } };

  /** Connect to a QMP socket (retrying while QEMU creates it) and leave capabilities negotiation done. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const c = new QmpClient();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        await c.open(path);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await c.execute('qmp_capabilities');
    return c;
  }

  private open(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      const fail = (e: Error) => {
        sock.destroy();
        reject(e);
      };
      sock.once('error', fail);
      this.greeted = () => {
        sock.off('error', fail);
        sock.on('error', (e) => this.failAll(e));
        resolve();
      };
      sock.on('data', (d) => this.onData(d.toString('utf8')));
      sock.on('close', () => this.failAll(new Error('QMP connection closed')));
      this.sock = sock;
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: Record<string, any>;
      try {
        msg = JSON.parse(line);
      } catch {
        continue;
      }
      if (msg.QMP) {
        this.version = msg.QMP.version;
        this.greeted?.(msg);
        this.greeted = undefined;
      } else if (msg.event) {
        this.emit('event', msg as QmpEvent);
        this.emit(msg.event, msg.data ?? {});
      } else if ('return' in msg || 'error' in msg) {
        const p = this.pending.shift();
        if (!p) continue;
        if (msg.error) p.reject(new QmpError(msg.error.class, msg.error.desc));
        else p.resolve(msg.return);
      }
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.splice(0)) p.reject(e);
    this.emit('close');
  }

  /** Run one QMP command and resolve with its `return` value; rejects with QmpError on an `error` reply. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>): Promise<T> {
    const sock = this.sock;
    if (!sock || sock.destroyed) return Promise.reject(new Error('QMP not connected'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ resolve: resolve as (v: unknown) => void, reject });
      sock.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    });
  }

  /** Wait for an event (optionally matching a predicate) or time out. */
  waitEvent(name: string, timeoutMs: number, match: (d: Record<string, unknown>) => boolean = () => true) {
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off(name, on);
        reject(new Error(`timed out waiting for QMP event ${name}`));
      }, timeoutMs);
      const on = (d: Record<string, unknown>) => {
        if (!match(d)) return;
        clearTimeout(timer);
        this.off(name, on);
        resolve(d);
      };
      this.on(name, on);
    });
  }

  close(): void {
    this.sock?.end();
    this.sock?.destroy();
  }
}
