/** GET /info: the capabilities document (swift/proxy/server.py register_swift_info + each middleware's). */
import { CONSTRAINTS } from '../constraints.js';

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
  };
}
