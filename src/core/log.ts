import { pino, type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs (pino) on stderr, so stdout stays for what a person reads. */
export function createLogger(level = 'info'): Logger {
  return pino({ level, base: { name: 'stackbox' } }, pino.destination({ fd: 2, sync: false }));
}
