/**
 * Compute API microversions (nova/api/openstack/api_version_request.py), parsed by the shared
 * core/http/microversion.ts with Nova's range and its legacy `X-OpenStack-Nova-API-Version` header.
 *
 * The maximum is 2.79, chosen deliberately: it covers what openstackclient 6 and openstacksdk (0.101,
 * whose resources go up to 2.73 for servers and 2.88 for hypervisors) use, keeps key pair generation
 * (removed in 2.92) and the hypervisor statistics API (removed in 2.88), and stops before the block
 * storage–specific changes (2.85, 2.89). Every response shape change from 2.2 to 2.79 is honoured where
 * the resource exists.
 */
import { ApiVersion, parseApiVersion, type VersionRange } from '../../core/http/microversion.js';

export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.79';

const RANGE: VersionRange = {
  service: 'compute',
  major: 2,
  minMinor: 1,
  maxMinor: 79,
  legacyHeader: 'x-openstack-nova-api-version',
};

/** A compute request's version (2.x). */
export type Mv = ApiVersion;

/** The minimum version, for requests that carry none. */
export const minVersion = (): Mv => new ApiVersion(2, 1);

/** Parse the request's version headers; 400 for a malformed value, 406 for an unsupported one. */
export const parseMicroversion = (headers: Record<string, string | string[] | undefined>): Mv =>
  parseApiVersion(headers, RANGE);
