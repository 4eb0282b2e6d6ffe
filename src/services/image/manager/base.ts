/**
 * Glance's domain rules, split by concern as a chain of classes (base → quotas → images → tags → members →
 * data → import), `ImageManager` (../manager.ts) being the last. This file: options, the policy target
 * (Glance's ImageTarget), visibility and lookups.
 */
import type { Logger } from 'pino';
import type { Caller } from '../../../core/auth/caller.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { bool } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { isoSeconds } from '../../../core/ids.js';
import type { StagingArea, StoreDriver } from '../backend.js';
import type { Image, ImageRow, ImageStore } from '../store.js';

export interface ImageOptions {
  /** Images a project may own (Glance's unified-limits `image_count_total`). */
  imageCountTotal: number;
  /** Bytes of image data a project may store (`image_size_total`, kept in bytes here). */
  imageSizeTotal: number;
  /** Largest image accepted (`image_size_cap`). */
  imageSizeCap: number;
  imageMemberQuota: number;
  imagePropertyQuota: number;
  imageTagQuota: number;
  limitParamDefault: number;
  apiLimitMax: number;
}

export const DEFAULT_OPTIONS: ImageOptions = {
  imageCountTotal: 1000,
  imageSizeTotal: 1024 ** 4,
  imageSizeCap: 1024 ** 4,
  imageMemberQuota: 128,
  imagePropertyQuota: 128,
  imageTagQuota: 128,
  limitParamDefault: 25,
  apiLimitMax: 1000,
};

/** The caller's project, or undefined when the token is not project-scoped (Glance's context.project_id). */
export const projectOf = (caller: Caller): string | undefined => caller.projectId || undefined;

export const now = () => isoSeconds(new Date());
export const err = (status: number, msg: string, headers?: Record<string, string>) =>
  new ApiError(status, msg, undefined, headers);

/** The base attributes an image row stores as columns (a PATCH writes these back). */
export const ROW_ATTRS = [
  'name',
  'disk_format',
  'container_format',
  'visibility',
  'protected',
  'os_hidden',
  'min_disk',
  'min_ram',
  'owner',
] as const;

/** Base attributes of an image (everything else is a custom property). */
export const BASE_ATTRS = new Set<string>([...ROW_ATTRS, 'tags']);

export interface Change {
  op: 'add' | 'remove' | 'replace';
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

export class ImageManagerBase {
  protected imports = new Set<Promise<void>>();

  constructor(
    readonly store: ImageStore,
    readonly driver: StoreDriver,
    readonly staging: StagingArea,
    protected readonly policy: PolicyEngine,
    readonly opts: ImageOptions,
    protected readonly log: Logger,
  ) {}

  // ------------------------------------------------------------------ policy and visibility
  target(img: ImageRow | Image, caller: Caller): Record<string, unknown> {
    const props = 'properties' in img ? img.properties : {};
    // ImageTarget: project_id is the owner; member_id is the caller's project when it sees a shared
    // image it does not own (glance/db/__init__.py _format_image_from_db).
    const member =
      img.visibility === 'shared' && projectOf(caller) !== img.owner ? (projectOf(caller) ?? null) : null;
    return {
      ...props,
      id: img.id,
      name: img.name,
      status: img.status,
      visibility: img.visibility,
      protected: bool(img.protected),
      project_id: img.owner,
      owner: img.owner,
      member_id: member,
      member,
    };
  }

  check(rule: string, target: Record<string, unknown>, caller: Caller): boolean {
    return this.policy.check(rule, target, caller.creds);
  }

  /** ImageAPIPolicy._enforce: a denied rule is a 404 when the caller may not even get the image. */
  enforce(rule: string, img: ImageRow | Image, caller: Caller, forbidden?: string): void {
    const t = this.target(img, caller);
    if (this.check(rule, t, caller)) return;
    if (rule === 'get_image' || !this.check('get_image', t, caller))
      throw err(404, 'The resource could not be found.');
    throw err(403, forbidden ?? `You are not authorized to complete ${rule} action.`);
  }

  protected async visible(img: ImageRow, caller: Caller): Promise<boolean> {
    if (caller.isAdmin) return true;
    if (img.owner === null) return true;
    if (img.visibility === 'public' || img.visibility === 'community') return true;
    if (projectOf(caller) === undefined) return false;
    if (projectOf(caller) === img.owner) return true;
    if (img.visibility === 'shared') return (await this.store.members(img.id, projectOf(caller))).length > 0;
    return false;
  }

  /** ImageRepo.get: missing or invisible images are the same 404. */
  async lookup(id: string, caller: Caller, notFound = `No image found with ID ${id}`): Promise<Image> {
    const img = await this.store.get(id);
    if (!img || !(await this.visible(img, caller))) throw err(404, notFound);
    return img;
  }

  protected enforceVisibility(visibility: unknown, target: Record<string, unknown>, caller: Caller) {
    const rule =
      visibility === 'public' ? 'publicize_image' : visibility === 'community' ? 'communitize_image' : '';
    if (rule && !this.check(rule, target, caller))
      throw err(403, `You are not authorized to complete ${rule} action.`);
  }
}
