/**
 * Compute API microversions (nova/api/openstack/api_version_request.py).
 *
 * The maximum is 2.79, chosen deliberately: it covers what openstackclient 6 and openstacksdk (0.101,
 * whose resources go up to 2.73 for servers and 2.88 for hypervisors) use, keeps key pair generation
 * (removed in 2.92) and the hypervisor statistics API (removed in 2.88), and stops before the block
 * storage–specific changes (2.85, 2.89) that need the volume service. Every response shape change
 * from 2.2 to 2.79 is honoured where the resource exists.
 */
import { ApiError } from '../../core/errors.js';

export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.79';
const MAX_MINOR = 79;

export class Mv {
  constructor(readonly minor: number) {}
  /** Request version is at least 2.<minor>. */
  ge(minor: number): boolean {
    return this.minor >= minor;
  }
  lt(minor: number): boolean {
    return this.minor < minor;
  }
  toString(): string {
    return `2.${this.minor}`;
  }
}

/** Parse the request's version headers; 400 for a malformed value, 406 for an unsupported one. */
export function parseMicroversion(headers: Record<string, string | string[] | undefined>): Mv {
  let value: string | undefined;
  const h = headers['openstack-api-version'];
  const header = Array.isArray(h) ? h.join(',') : h;
  if (header) {
    for (const part of header.split(',')) {
      const [svc, ver] = part.trim().split(/\s+/);
      if (svc?.toLowerCase() === 'compute' && ver) value = ver;
    }
  }
  if (value === undefined) {
    const legacy = headers['x-openstack-nova-api-version'];
    value = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  if (value === undefined || value.trim() === '') return new Mv(1);
  value = value.trim();
  if (value.toLowerCase() === 'latest') return new Mv(MAX_MINOR);
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(value);
  if (!m)
    throw new ApiError(
      400,
      `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`,
      'badRequest',
    );
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2 || minor < 1 || minor > MAX_MINOR)
    throw new ApiError(
      406,
      `Version ${value} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`,
      'notAcceptable',
    );
  return new Mv(minor);
}
