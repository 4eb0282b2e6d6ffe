/**
 * Glance's domain rules: visibility, policy, status transitions, quotas, data upload/download, import.
 *
 * Split by concern, each file extending the one before: manager/base.ts (options, policy target,
 * visibility) → quotas.ts → images.ts → tags.ts → members.ts → data.ts (upload, download, reconcile) →
 * import.ts (staging, glance-direct).
 */
import { ImportManager } from './manager/import.js';

export { BASE_ATTRS, DEFAULT_OPTIONS, type Change, type ImageOptions } from './manager/base.js';
export { validateCreateBody } from './manager/images.js';
export { QuotaError } from './manager/quotas.js';

export class ImageManager extends ImportManager {}
