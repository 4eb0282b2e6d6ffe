import { randomUUID, randomBytes } from 'node:crypto';

/** A UUID in OpenStack's canonical dashed form. */
export const uuid = (): string => randomUUID();
/** A UUID without dashes, as Keystone uses for its resource ids. */
export const hexId = (): string => randomUUID().replace(/-/g, '');
/** A request id in oslo's `req-<uuid>` form. */
export const requestId = (): string => `req-${randomUUID()}`;
export const randomSecret = (bytes = 32): string => randomBytes(bytes).toString('base64url');

/** ISO-8601 UTC with microseconds and a trailing Z, as Keystone prints token times. */
export function isoMicro(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
/** ISO-8601 UTC without fraction, as Nova/Neutron print resource times: 2026-11-25T12:00:00Z */
export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
