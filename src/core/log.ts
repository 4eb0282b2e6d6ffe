import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

/** `json`: one JSON object a line (machines); `pretty`: one readable line (people); `auto`: pretty on a TTY. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Logs on stderr, so stdout stays for what a person reads. A person at a terminal gets pretty lines (time,
 * level, `[reqId]` and the message, other fields inline); anything else (a pipe, a file, journald) gets
 * pino's JSON lines, as does `format: 'json'`. Both carry the same fields (reqId, err, …).
 */
export function createLogger(level = 'info', format: LogFormat = 'auto'): Logger {
  const options = { level, base: { name: 'stackbox' } };
  const isPretty = format === 'pretty' || (format === 'auto' && process.stderr.isTTY === true);
  if (!isPretty) return pino(options, pino.destination({ fd: 2, sync: false }));
  return pino(
    options,
    pretty({
      destination: 2,
      colorize: process.stderr.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name,reqId',
      messageFormat: '{if reqId}[{reqId}] {end}{msg}',
      singleLine: true,
      sync: true,
    }),
  );
}
