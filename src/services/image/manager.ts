/**
 * Glance's domain rules: visibility, policy, status transitions, quotas, data upload/download, import.
 *
 * Split by concern, each file extending the one before: manager/base.ts (options, policy target,
 * visibility) → quotas.ts → images.ts → tags.ts → members.ts → data.ts (upload, download, reconcile) →
 * import.ts (staging, glance-direct).
 */
import { ImportManager } from './manager/import.js';

export { BASE_ATTRS, DEFAULT_OPTIONS, type Change, type ImageOptions } from './manager/base.js';
export { validateCreateBody, type ListParams } from './manager/images.js';
export { QuotaError } from './manager/quotas.js';
/** What routes need of the store's vocabulary (routes do not import the store). */
export { isImageColumn, type Condition, type SortDir } from './store.js';

export class ImageManager extends ImportManager {}
