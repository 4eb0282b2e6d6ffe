/** GET /info: the capabilities document (swift/proxy/server.py register_swift_info + each middleware's). */
import { CONSTRAINTS } from '../constraints.js';
import { DIGESTS, TEMPURL_METHODS } from './tempurl.js';
import { BULK_MAX } from './bulk.js';
import { MAX_FAILED_EXTRACTIONS } from './extract.js';
import { MAX_MANIFEST_SEGMENTS, MAX_MANIFEST_SIZE } from './large.js';

export const SWIFT_VERSION = '2.30.0';

export function infoDoc() {
  return {
    swift: {
      version: SWIFT_VERSION,
      ...CONSTRAINTS,
      strict_cors_mode: true,
      allow_account_management: false,
      account_autocreate: true,
      policies: [{ name: 'Policy-0', aliases: 'Policy-0', default: true }],
    },
    keystoneauth: {},
    tempurl: {
      methods: TEMPURL_METHODS,
      incoming_remove_headers: ['x-timestamp'],
      incoming_allow_headers: [],
      outgoing_remove_headers: ['x-object-meta-*'],
      outgoing_allow_headers: ['x-object-meta-public-*'],
      allowed_digests: DIGESTS,
    },
    slo: {
      max_manifest_segments: MAX_MANIFEST_SEGMENTS,
      max_manifest_size: MAX_MANIFEST_SIZE,
      min_segment_size: 1,
      yield_frequency: 10,
      allow_async_delete: false,
    },
    dlo: { max_segments: 10_000 },
    versioned_writes: { allowed_flags: ['x-versions-location', 'x-history-location'] },
    formpost: {},
    container_quotas: {},
    account_quotas: {},
    bulk_delete: { max_deletes_per_request: BULK_MAX, max_failed_deletes: 1000 },
    bulk_upload: { max_containers_per_extraction: 10_000, max_failed_extractions: MAX_FAILED_EXTRACTIONS },
  };
}
