/** What every block-storage manager module shares: dependencies, time format, Cinder's errors, targets. */
import type { Logger } from 'pino';
import type { Caller } from '../../../core/auth/caller.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { ApiError } from '../../../core/errors.js';
import type { VolumeDriver } from '../../../agent/volume/driver.js';
import type { VolumeStore } from '../store.js';

/** Row and query types the api layer renders and builds (it never touches the store itself). */
export type { ListQuery, TypeRow, VolumeRow, SnapshotRow, AttachmentRow, TransferRow } from '../store.js';
import type { Images } from './images.js';
import type { Worker } from './worker.js';

export interface VolumeOptions {
  /** The one availability zone (Cinder's `storage_availability_zone`). */
  availabilityZone: string;
  /** The host@backend#pool string volumes are placed on. */
  host: string;
  /** Largest page of a listing (Cinder's `osapi_max_limit`). */
  maxLimit: number;
}

export const DEFAULT_VOLUME_OPTIONS: VolumeOptions = {
  availabilityZone: 'nova',
  host: 'stackbox@file#file',
  maxLimit: 1000,
};

export interface Deps {
  store: VolumeStore;
  driver: VolumeDriver;
  policy: PolicyEngine;
  log: Logger;
  images: Images;
  worker: Worker;
  opts: VolumeOptions;
}

/** Cinder's time format: ISO-8601 with microseconds and no zone (`2026-11-25T12:00:00.000000`). */
export function cinderTime(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export const badRequest = (msg: string) => new ApiError(400, msg, 'badRequest');
export const notFound = (msg: string) => new ApiError(404, msg, 'itemNotFound');
export const conflict = (msg: string) => new ApiError(409, msg, 'conflictingRequest');
export const invalidVolume = (reason: string) => badRequest(`Invalid volume: ${reason}`);
export const invalidInput = (reason: string) => badRequest(`Invalid input received: ${reason}`);

/** The policy target of a resource owned by a project (Cinder passes the object; project_id is what rules read). */
export function target(row: { project_id: string; user_id?: string }): Record<string, unknown> {
  return { project_id: row.project_id, user_id: row.user_id ?? null };
}

/** Policy check with Cinder's 403 text. */
export function authorize(
  deps: Pick<Deps, 'policy'>,
  c: Caller,
  rule: string,
  t: Record<string, unknown>,
): void {
  if (!deps.policy.check(rule, t, c.creds))
    throw new ApiError(403, `Policy doesn't allow ${rule} to be performed.`, 'forbidden');
}

export function can(
  deps: Pick<Deps, 'policy'>,
  c: Caller,
  rule: string,
  t: Record<string, unknown>,
): boolean {
  return deps.policy.check(rule, t, c.creds);
}

/** A row of another project is invisible to non-admins: the same 404 as a missing one. */
export function visible(c: Caller, row: { project_id: string }): boolean {
  return c.isAdmin || row.project_id === c.projectId;
}

/** Cinder's boolean parameters: true/false, yes/no, on/off, 1/0, t/f, y/n (strutils.bool_from_string strict). */
export function parseBool(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(s)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(s)) return false;
  throw invalidInput(`Invalid value '${String(v).slice(0, 50)}' for ${name}.`);
}
