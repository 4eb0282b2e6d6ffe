/**
 * Microversions in the `OpenStack-API-Version: <service> <major>.<minor>` header (the API-WG guideline that
 * Cinder, Placement and Nova ≥ 2.27 follow): absent means the minimum, `latest` the maximum, a malformed
 * value is a 400 and one out of range a 406, as oslo's `APIVersionRequest` handling does in each of them.
 * Each service keeps its own range; the response echoes the version served (`respondWith`).
 */
import { ApiError } from '../errors.js';

export class ApiVersion {
  constructor(
    readonly major: number,
    readonly minor: number,
  ) {}
  /** The request's version is at least `<major>.<minor>`. */
  ge(minor: number): boolean {
    return this.minor >= minor;
  }
  lt(minor: number): boolean {
    return this.minor < minor;
  }
  toString(): string {
    return `${this.major}.${this.minor}`;
  }
}

export interface VersionRange {
  /** The service name in the header (`volume`, `compute`, `placement`). */
  service: string;
  major: number;
  minMinor: number;
  maxMinor: number;
  /** A service's older header read when the standard one names no version (Nova's `X-OpenStack-Nova-API-Version`). */
  legacyHeader?: string;
}

/** The version a request asks for, by the service's header; 400 when malformed, 406 when out of range. */
export function parseApiVersion(
  headers: Record<string, string | string[] | undefined>,
  range: VersionRange,
): ApiVersion {
  const h = headers['openstack-api-version'];
  const header = Array.isArray(h) ? h.join(',') : h;
  let value: string | undefined;
  for (const part of (header ?? '').split(',')) {
    const [svc, ver] = part.trim().split(/\s+/);
    if (svc?.toLowerCase() === range.service && ver) value = ver;
  }
  if (value === undefined && range.legacyHeader) {
    const legacy = headers[range.legacyHeader];
    value = Array.isArray(legacy) ? legacy[0] : legacy;
  }
  const min = `${range.major}.${range.minMinor}`;
  const max = `${range.major}.${range.maxMinor}`;
  if (value === undefined || value.trim() === '') return new ApiVersion(range.major, range.minMinor);
  value = value.trim();
  if (value.toLowerCase() === 'latest') return new ApiVersion(range.major, range.maxMinor);
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(value);
  if (!m)
    throw new ApiError(
      400,
      `API Version String ${value.slice(0, 40)} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== range.major || minor < range.minMinor || minor > range.maxMinor)
    throw new ApiError(
      406,
      `Version ${value} is not supported by the API. Minimum is ${min} and maximum is ${max}.`,
    );
  return new ApiVersion(major, minor);
}

/** The response headers that say which version answered. */
export function versionHeaders(service: string, v: ApiVersion): Record<string, string> {
  return { 'openstack-api-version': `${service} ${v.toString()}`, vary: 'OpenStack-API-Version' };
}
