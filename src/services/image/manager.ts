/** Glance's domain rules: visibility, policy, status transitions, quotas, data upload/download, import. */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import type { Credentials, PolicyEngine } from '../../core/auth/policy.js';
import { bool, int, isUniqueViolation } from '../../core/db/index.js';
import { ApiError } from '../../core/errors.js';
import { isoSeconds } from '../../core/ids.js';
import type { StagingArea, StoreDriver } from './backend.js';
import { ImageDataError, verifyImage } from './inspect.js';
import { validateImage } from './schemas.js';
import type { Condition, Image, ImageRow, ImageStore, MemberRow, SortDir, Viewer } from './store.js';

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

/** The caller, from the validated token. */
export interface Caller {
  creds: Credentials;
  isAdmin: boolean;
  project?: string;
}

const now = () => isoSeconds(new Date());
const err = (status: number, msg: string, headers?: Record<string, string>) =>
  new ApiError(status, msg, undefined, headers);

/** Base attributes of an image (everything else is a custom property). */
export const BASE_ATTRS = new Set([
  'name',
  'disk_format',
  'container_format',
  'visibility',
  'protected',
  'os_hidden',
  'min_disk',
  'min_ram',
  'owner',
  'tags',
]);

export interface Change {
  op: 'add' | 'remove' | 'replace';
  path: string[];
  value?: unknown;
  draft: 4 | 10;
}

export class ImageManager {
  private imports = new Set<Promise<void>>();

  constructor(
    readonly store: ImageStore,
    readonly driver: StoreDriver,
    readonly staging: StagingArea,
    private readonly policy: PolicyEngine,
    readonly opts: ImageOptions,
    private readonly log: Logger,
  ) {}

  // ------------------------------------------------------------------ policy and visibility
  target(img: ImageRow | Image, caller: Caller): Record<string, unknown> {
    const props = 'properties' in img ? img.properties : {};
    // ImageTarget: project_id is the owner; member_id is the caller's project when it sees a shared
    // image it does not own (glance/db/__init__.py _format_image_from_db).
    const member =
      img.visibility === 'shared' && caller.project !== img.owner ? (caller.project ?? null) : null;
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

  private async visible(img: ImageRow, caller: Caller): Promise<boolean> {
    if (caller.isAdmin) return true;
    if (img.owner === null) return true;
    if (img.visibility === 'public' || img.visibility === 'community') return true;
    if (caller.project === undefined) return false;
    if (caller.project === img.owner) return true;
    if (img.visibility === 'shared') return (await this.store.members(img.id, caller.project)).length > 0;
    return false;
  }

  /** ImageRepo.get: missing or invisible images are the same 404. */
  async lookup(id: string, caller: Caller, notFound = `No image found with ID ${id}`): Promise<Image> {
    const img = await this.store.get(id);
    if (!img || !(await this.visible(img, caller))) throw err(404, notFound);
    return img;
  }

  private enforceVisibility(visibility: unknown, target: Record<string, unknown>, caller: Caller) {
    const rule =
      visibility === 'public' ? 'publicize_image' : visibility === 'community' ? 'communitize_image' : '';
    if (rule && !this.check(rule, target, caller))
      throw err(403, `You are not authorized to complete ${rule} action.`);
  }

  // ------------------------------------------------------------------ quotas
  private async enforceCount(owner: string): Promise<void> {
    const usage = await this.store.countByOwner(owner);
    if (usage + 1 > this.opts.imageCountTotal)
      throw err(
        413,
        `Project ${owner} is over a limit for [Resource image_count_total is over limit of ${this.opts.imageCountTotal} due to current usage ${usage} and delta 1]`,
      );
  }

  /** Bytes this owner may still store (for an upload to image `id`). */
  private async remainingBytes(owner: string | null, id: string): Promise<number> {
    const used = owner ? await this.store.bytesByOwner(owner, id) : 0;
    return Math.max(0, Math.min(this.opts.imageSizeTotal - used, this.opts.imageSizeCap));
  }

  // ------------------------------------------------------------------ images
  async create(caller: Caller, body: Record<string, unknown>): Promise<Image> {
    const b = { ...body };
    const tags = (b.tags as string[] | undefined) ?? [];
    delete b.tags;
    for (const k of [
      'created_at',
      'updated_at',
      'status',
      'checksum',
      'os_hash_algo',
      'os_hash_value',
      'size',
      'virtual_size',
    ])
      if (k in b) throw err(403, `Attribute '${k}' is read-only.`);
    const props: Record<string, string> = {};
    for (const [k, v] of Object.entries(b)) {
      if (BASE_ATTRS.has(k) || k === 'id') continue;
      if (k.length > 255) throw err(400, 'Custom property should not be greater than 255 characters.');
      if (['location', 'deleted', 'deleted_at'].includes(k) || k.startsWith('os_glance'))
        throw err(403, `Attribute '${k}' is reserved.`);
      if (k === 'locations') throw err(403, `Attribute '${k}' is reserved.`);
      props[k] = v as string;
    }
    const owner = 'owner' in b ? (b.owner as string | null) : (caller.project ?? null);
    const visibility = (b.visibility as string | undefined) ?? 'shared';
    const target = { project_id: owner, owner, visibility };
    if (!this.check('add_image', target, caller)) {
      if (owner !== (caller.project ?? null))
        throw err(403, `You are not permitted to create images owned by '${owner}'`);
      throw err(403, 'You are not authorized to complete add_image action.');
    }
    this.enforceVisibility(visibility, target, caller);
    for (const k of ['min_disk', 'min_ram'] as const) {
      const v = b[k] as number | undefined;
      if (v !== undefined && v < 0)
        throw err(400, `Invalid value '${v}' for parameter '${k}': Cannot be a negative value`);
    }
    if (Object.keys(props).length > this.opts.imagePropertyQuota)
      throw err(
        413,
        `The limit has been exceeded on the number of allowed image properties. Attempted: ${Object.keys(props).length}, Maximum: ${this.opts.imagePropertyQuota}`,
      );
    const uniqTags = [...new Set(tags)];
    if (uniqTags.length > this.opts.imageTagQuota)
      throw err(
        413,
        `The limit has been exceeded on the number of allowed image tags. Attempted: ${uniqTags.length}, Maximum: ${this.opts.imageTagQuota}`,
      );
    if (owner) await this.enforceCount(owner);
    const t = now();
    const img: Image = {
      id: (b.id as string | undefined) ?? randomUUID(),
      name: (b.name as string | null | undefined) ?? null,
      disk_format: (b.disk_format as string | null | undefined) ?? null,
      container_format: (b.container_format as string | null | undefined) ?? null,
      size: null,
      virtual_size: null,
      status: 'queued',
      visibility,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      min_disk: (b.min_disk as number | undefined) ?? 0,
      min_ram: (b.min_ram as number | undefined) ?? 0,
      owner,
      protected: int(b.protected as boolean | undefined),
      os_hidden: int(b.os_hidden as boolean | undefined),
      location: null,
      created_at: t,
      updated_at: t,
      properties: props,
      tags: uniqTags.sort(),
    };
    try {
      await this.store.insert(img);
    } catch (e) {
      if (isUniqueViolation(e)) throw err(409, `Image ID ${img.id} already exists!`);
      throw e;
    }
    return img;
  }

  async update(caller: Caller, id: string, changes: Change[]): Promise<Image> {
    const img = await this.lookup(id, caller);
    const next: Image = { ...img, properties: { ...img.properties }, tags: [...img.tags] };
    for (const c of changes) {
      const root = c.path[0]!;
      if (root === 'locations')
        throw err(403, "It's not allowed to update locations if locations are invisible.");
      if (c.op === 'replace' && root === 'owner' && !caller.isAdmin)
        throw err(403, "Owner can't be updated by non admin.");
      // api_pol.update_property: visibility changes need publicize/communitize, then modify_image.
      if (root === 'visibility') this.enforceVisibility(c.value, this.target(img, caller), caller);
      this.enforce('modify_image', img, caller);
      const isBase = BASE_ATTRS.has(root);
      if (c.op === 'remove') {
        if (isBase) throw err(403, `Property ${root} may not be removed.`);
        if (!(root in next.properties)) throw err(409, `Property ${root} does not exist.`);
        delete next.properties[root];
        continue;
      }
      if (c.op === 'replace' && !isBase && !(root in next.properties))
        throw err(409, `Property ${root} does not exist.`);
      if (c.op === 'add' && c.draft === 4 && (isBase || root in next.properties))
        throw err(409, `Property ${root} already present.`);
      if (isBase) this.setAttr(next, root, c.value);
      else next.properties[root] = c.value as string;
    }
    if (Object.keys(next.properties).length > this.opts.imagePropertyQuota)
      throw err(
        413,
        `The limit has been exceeded on the number of allowed image properties. Attempted: ${Object.keys(next.properties).length}, Maximum: ${this.opts.imagePropertyQuota}`,
      );
    if (next.tags.length > this.opts.imageTagQuota)
      throw err(
        413,
        `The limit has been exceeded on the number of allowed image tags. Attempted: ${next.tags.length}, Maximum: ${this.opts.imageTagQuota}`,
      );
    if (changes.length === 0) return img;
    next.updated_at = now();
    const { properties, tags, ...row } = next;
    const values: Partial<ImageRow> = {};
    for (const k of [
      'name',
      'disk_format',
      'container_format',
      'visibility',
      'protected',
      'os_hidden',
      'min_disk',
      'min_ram',
      'owner',
      'updated_at',
    ] as const)
      (values as Record<string, unknown>)[k] = row[k];
    const ok = await this.store.update(id, values, { fromStatus: img.status, properties, tags });
    if (!ok) throw err(409, `Image ${id} was changed by another request; try again.`);
    return next;
  }

  private setAttr(img: Image, key: string, value: unknown): void {
    switch (key) {
      case 'disk_format':
      case 'container_format':
        if (!['queued', 'importing'].includes(img.status))
          throw err(403, `Attribute ${key} can be only replaced for a queued image.`);
        img[key] = value as string | null;
        return;
      case 'min_disk':
      case 'min_ram':
        if (typeof value === 'number' && value < 0)
          throw err(400, `Invalid value '${value}' for parameter '${key}': Cannot be a negative value`);
        img[key] = value as number;
        return;
      case 'protected':
      case 'os_hidden':
        img[key] = int(value as boolean);
        return;
      case 'tags':
        img.tags = [...new Set(value as string[])].sort();
        return;
      case 'name':
      case 'visibility':
      case 'owner':
        (img as unknown as Record<string, unknown>)[key] = value;
        return;
    }
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const img = await this.lookup(id, caller, `Failed to find image ${id} to delete`);
    this.enforce('delete_image', img, caller);
    if (bool(img.protected)) throw err(403, `Image ${id} is protected and cannot be deleted.`);
    await this.store.delete(id);
    if (img.location) await this.driver.delete(img.location).catch(() => undefined);
    await this.staging.remove(id).catch(() => undefined);
  }

  async setActive(caller: Caller, id: string, action: 'deactivate' | 'reactivate'): Promise<void> {
    const img = await this.lookup(id, caller);
    this.enforce(action, img, caller);
    const [from, to] = action === 'deactivate' ? ['active', 'deactivated'] : ['deactivated', 'active'];
    if (img.status === to) return;
    if (img.status !== from) throw err(403, `Not allowed to ${action} image in status '${img.status}'`);
    await this.store.update(id, { status: to, updated_at: now() }, { fromStatus: from });
  }

  async addTag(caller: Caller, id: string, tag: string): Promise<void> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    this.enforce('modify_image', img, caller, `Not allowed to update tags for image ${id}.`);
    if ([...tag].length > 255) throw err(400, `Could not update image: ${JSON.stringify(tag)} is too long`);
    if (img.tags.includes(tag)) return;
    const tags = [...img.tags, tag].sort();
    if (tags.length > this.opts.imageTagQuota)
      throw err(
        413,
        `Image tag limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image tags. Attempted: ${tags.length}, Maximum: ${this.opts.imageTagQuota}:`,
      );
    await this.store.update(id, { updated_at: now() }, { tags });
  }

  async deleteTag(caller: Caller, id: string, tag: string): Promise<void> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    this.enforce('modify_image', img, caller, `Not allowed to delete tags for image ${id}.`);
    if (!img.tags.includes(tag)) throw err(404, 'The resource could not be found.');
    await this.store.update(id, { updated_at: now() }, { tags: img.tags.filter((t) => t !== tag) });
  }

  // ------------------------------------------------------------------ listing
  async list(
    caller: Caller,
    q: {
      conditions: Condition[];
      visibility?: string;
      memberStatus: string;
      sort: { key: string; dir: SortDir }[];
      marker?: string;
      limit?: number;
    },
  ): Promise<{ images: Image[]; nextMarker?: string }> {
    if (!this.check('get_images', { project_id: caller.project ?? null }, caller))
      throw err(403, 'You are not authorized to complete get_images action.');
    let marker: ImageRow | undefined;
    if (q.marker !== undefined) {
      const m = await this.store.getRow(q.marker);
      if (!m || !(await this.visible(m, caller))) throw err(400, `No image found with ID ${q.marker}`);
      marker = m;
    }
    const limit = Math.min(this.opts.apiLimitMax, q.limit ?? this.opts.limitParamDefault);
    const viewer: Viewer = { isAdmin: caller.isAdmin, project: caller.project };
    const rows = await this.store.list({ ...q, viewer, marker, limit });
    const images = rows.filter((i) => this.check('get_image', this.target(i, caller), caller));
    return {
      images,
      nextMarker: images.length !== 0 && rows.length === limit ? images.at(-1)!.id : undefined,
    };
  }

  // ------------------------------------------------------------------ members
  private sharedOnly(img: Image, prefix: string) {
    if (img.visibility !== 'shared') throw err(403, `${prefix}Only shared images have members.`);
  }

  /** Members the caller may see: all for the owner and admins, its own membership otherwise. */
  private async visibleMembers(img: Image, caller: Caller, member?: string): Promise<MemberRow[]> {
    const rows = await this.store.members(img.id, member);
    if (caller.isAdmin || (caller.project !== undefined && caller.project === img.owner)) return rows;
    return rows.filter((m) => m.member === caller.project);
  }

  async listMembers(caller: Caller, id: string): Promise<MemberRow[]> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    this.sharedOnly(img, `Not allowed to list members for image ${id}: `);
    this.enforce('get_members', img, caller, `Not allowed to list members for image ${id}`);
    const t = this.target(img, caller);
    if (!this.check('get_member', t, caller)) return [];
    return this.visibleMembers(img, caller);
  }

  async getMember(caller: Caller, id: string, member: string): Promise<MemberRow> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    if (img.visibility !== 'shared') throw err(404, 'Only shared images have members.');
    const notFound = `${member} not found in the member list of the image ${id}.`;
    if (!this.check('get_member', this.target(img, caller), caller)) throw err(404, notFound);
    const m = (await this.visibleMembers(img, caller, member))[0];
    if (!m) throw err(404, notFound);
    return m;
  }

  async addMember(caller: Caller, id: string, member: string): Promise<MemberRow> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    const denied = `Not allowed to create members for image ${id}.`;
    if (img.visibility !== 'shared') throw err(403, denied);
    this.enforce('add_member', img, caller, denied);
    if ((await this.store.members(id, member)).length)
      throw err(409, `Member ${member} is duplicated for image ${id}`);
    const count = await this.store.memberCount(id);
    if (count + 1 > this.opts.imageMemberQuota)
      throw err(
        413,
        `Image member limit exceeded for image ${id}: The limit has been exceeded on the number of allowed image members for this image. Attempted: ${count + 1}, Maximum: ${this.opts.imageMemberQuota}:`,
      );
    const t = now();
    const row: MemberRow = { image_id: id, member, status: 'pending', created_at: t, updated_at: t };
    try {
      await this.store.addMember(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw err(409, `Member ${member} is duplicated for image ${id}`);
      throw e;
    }
    return row;
  }

  async updateMember(caller: Caller, id: string, member: string, status: unknown): Promise<MemberRow> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    const denied = `Not allowed to update members for image ${id}.`;
    if (img.visibility !== 'shared') throw err(403, denied);
    const notFound = `${member} not found in the member list of the image ${id}.`;
    if (!this.check('get_member', this.target(img, caller), caller))
      throw err(403, `You are not authorized to lookup the members of the image ${id}.`);
    const m = (await this.visibleMembers(img, caller, member))[0];
    if (!m) throw err(404, notFound);
    this.enforce('modify_member', img, caller, denied);
    if (typeof status !== 'string' || !['pending', 'accepted', 'rejected'].includes(status))
      throw err(400, 'Incorrect request: Status must be "pending", "accepted" or "rejected".');
    const t = now();
    await this.store.updateMember(id, member, status, t);
    return { ...m, status, updated_at: t };
  }

  async deleteMember(caller: Caller, id: string, member: string): Promise<void> {
    const img = await this.lookup(id, caller, `Image ${id} not found.`);
    const denied = `Not allowed to delete members for image ${id}.`;
    if (img.visibility !== 'shared') throw err(403, denied);
    if (!this.check('get_member', this.target(img, caller), caller))
      throw err(403, `You are not authorized to lookup the members of the image ${id}.`);
    const m = (await this.visibleMembers(img, caller, member))[0];
    if (!m) throw err(404, `${member} not found in the member list of the image ${id}.`);
    this.enforce('delete_member', img, caller, denied);
    await this.store.deleteMember(id, member);
  }

  // ------------------------------------------------------------------ data
  /**
   * Stream bytes into the store: md5 + sha512 on the fly, quota enforced while streaming, verified
   * with the format inspector before the object is published. Returns what to record on the image.
   */
  private async ingest(
    img: Image,
    source: Readable,
    remaining: number,
  ): Promise<{ location: string; size: number; checksum: string; hash: string; virtualSize?: number }> {
    const pending = await this.driver.begin(img.id);
    const md5 = createHash('md5');
    const sha = createHash('sha512');
    let size = 0;
    const meter = new Transform({
      highWaterMark: 1 << 20,
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > remaining) return cb(new QuotaError(size, remaining));
        md5.update(chunk);
        sha.update(chunk);
        cb(null, chunk);
      },
    });
    try {
      await streamInto(source, meter, pending.stream);
      let virtualSize: number | undefined;
      if (img.container_format === 'bare' && img.disk_format) {
        virtualSize = (await verifyImage(pending.localPath, size, img.disk_format)).virtualSize;
      }
      const location = await pending.commit();
      return { location, size, checksum: md5.digest('hex'), hash: sha.digest('hex'), virtualSize };
    } catch (e) {
      await pending.abort();
      throw e;
    }
  }

  private dataError(e: unknown, limitHit: (q: QuotaError) => ApiError): ApiError {
    if (e instanceof ApiError) return e;
    if (e instanceof QuotaError) return limitHit(e);
    if (e instanceof ImageDataError) return err(415, e.message);
    const code = (e as { code?: string }).code;
    if (code === 'ENOSPC') return err(413, 'Image storage media is full: No space left on device');
    if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || (e as Error).message === 'aborted')
      return err(400, 'The client closed the connection before the image data was complete.');
    return e as ApiError;
  }

  private quotaMessage(q: QuotaError): ApiError {
    if (q.remaining >= this.opts.imageSizeCap)
      return err(413, 'The incoming image is too large: The provided image is too large.');
    return err(
      413,
      `Image exceeds the storage quota: The size of the data ${q.size} will exceed the limit. ${q.remaining} bytes remaining.`,
    );
  }

  async upload(caller: Caller, id: string, source: Readable, declaredSize?: number): Promise<void> {
    const img = await this.lookup(id, caller);
    this.enforce('upload_image', img, caller, `Not allowed to upload image data for image ${id}`);
    if (img.status !== 'queued')
      throw err(409, `Image status transition from ${img.status} to saving is not allowed`);
    const missing = (['disk_format', 'container_format'] as const).filter((k) => !img[k]);
    if (missing.length)
      throw err(
        400,
        missing.length === 1
          ? `Property ${missing[0]} must be set prior to saving data.`
          : `Properties ${missing.join(', ')} must be set prior to saving data.`,
      );
    const remaining = await this.remainingBytes(img.owner, id);
    if (declaredSize !== undefined && declaredSize > remaining)
      throw this.quotaMessage(new QuotaError(declaredSize, remaining));
    if (!(await this.store.update(id, { status: 'saving', updated_at: now() }, { fromStatus: 'queued' })))
      throw err(409, `Image status transition from ${img.status} to saving is not allowed`);
    let result;
    try {
      result = await this.ingest(img, source, remaining);
    } catch (e) {
      await this.restore(id, 'saving');
      throw this.dataError(e, (q) => this.quotaMessage(q));
    }
    const ok = await this.store.update(
      id,
      {
        status: 'active',
        size: result.size,
        virtual_size: result.virtualSize ?? null,
        checksum: result.checksum,
        os_hash_algo: 'sha512',
        os_hash_value: result.hash,
        location: result.location,
        updated_at: now(),
      },
      { fromStatus: 'saving' },
    );
    if (!ok) {
      await this.driver.delete(result.location).catch(() => undefined);
      throw err(
        410,
        `Image ${id} could not be found after upload. The image may have been deleted during the upload, cleaning up the chunks uploaded.`,
      );
    }
  }

  /** Back to queued after a failed upload (Glance's _restore), unless the image is gone. */
  private async restore(id: string, from: string | string[]): Promise<void> {
    await this.store
      .update(
        id,
        { status: 'queued', size: null, virtual_size: null, updated_at: now() },
        { fromStatus: from },
      )
      .catch((e) => this.log.error({ err: e, image: id }, 'could not restore image to queued'));
  }

  async download(
    caller: Caller,
    id: string,
    rangeHeader: string | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; stream?: Readable }> {
    const img = await this.lookup(id, caller);
    if (img.status === 'deactivated' && !caller.isAdmin)
      throw err(403, 'The requested image has been deactivated. Image data download is forbidden.');
    this.enforce('download_image', img, caller);
    if (!img.location || img.size === null) return { status: 204, headers: {} };
    const size = img.size;
    let offset = 0;
    let length = size;
    let status = 200;
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (rangeHeader !== undefined) {
      if (rangeHeader.includes(','))
        throw err(
          400,
          'Requests with multiple ranges are not supported in Glance. You may make multiple single-range requests instead.',
        );
      const m = /^bytes *= *(\d*) *- *(\d*)/i.exec(rangeHeader);
      let start: number | undefined;
      let end: number | undefined; // exclusive, as webob
      if (m && (m[1] || m[2])) {
        if (!m[1]) start = -Number(m[2]);
        else {
          start = Number(m[1]);
          if (m[2]) {
            end = Number(m[2]) + 1;
            if (start >= end) start = undefined;
          }
        }
      }
      if (start === undefined) throw err(416, 'Invalid Range header.');
      if (start >= size)
        throw err(
          416,
          `Invalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
        );
      if (start >= 0) offset = start;
      else if (Math.abs(start) < size) offset = size + start;
      let last = size - 1;
      if (end !== undefined && end < size) {
        length = end - offset;
        last = end - 1;
      } else length = size - offset;
      status = 206;
      headers['content-range'] = `bytes ${offset}-${last}/${size}`;
    }
    if (img.checksum) headers['content-md5'] = img.checksum;
    headers['content-length'] = String(length);
    if (length <= 0) return { status, headers, stream: undefined };
    const stream = this.driver.open(img.location, { start: offset, end: offset + length - 1 });
    return { status, headers, stream };
  }

  // ------------------------------------------------------------------ interoperable import
  async stage(caller: Caller, id: string, source: Readable, declaredSize?: number): Promise<void> {
    const img = await this.lookup(id, caller);
    this.enforce('modify_image', img, caller);
    if (img.status !== 'queued')
      throw err(409, `Image status transition from ${img.status} to uploading is not allowed`);
    if (await this.staging.exists(id)) throw err(409, `The image ${id} has data on staging`);
    const remaining = await this.remainingBytes(img.owner, id);
    if (declaredSize !== undefined && declaredSize > remaining)
      throw this.quotaMessage(new QuotaError(declaredSize, remaining));
    if (!(await this.store.update(id, { status: 'uploading', updated_at: now() }, { fromStatus: 'queued' })))
      throw err(409, `Image status transition from ${img.status} to uploading is not allowed`);
    const final = this.staging.pathOf(id);
    const tmp = `${final}.part`;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > remaining) return cb(new QuotaError(size, remaining));
        cb(null, chunk);
      },
    });
    try {
      await streamInto(source, meter, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      await this.restore(id, 'uploading');
      throw this.dataError(e, (q) => this.quotaMessage(q));
    }
    if (!(await this.store.update(id, { size, updated_at: now() }, { fromStatus: 'uploading' }))) {
      await this.staging.remove(id);
      throw err(410, `Image ${id} could not be found after upload.`);
    }
  }

  async importImage(caller: Caller, id: string, body: Record<string, any>): Promise<void> {
    const method = body.method.name as string;
    const img = await this.lookup(id, caller);
    if (img.status === 'active') throw err(409, 'Image with status active cannot be target for import');
    if (img.status !== 'uploading')
      throw err(409, "Image needs to be staged before 'glance-direct' method can be used");
    if (!img.container_format) throw err(409, "'container_format' needs to be set before import");
    if (!img.disk_format) throw err(409, "'disk_format' needs to be set before import");
    this.enforce('modify_image', img, caller);
    const stores = body.stores as unknown;
    if (stores !== undefined) {
      if (!Array.isArray(stores)) throw err(400, "'stores' must be a list of store identifiers.");
      for (const s of stores)
        if (s !== this.driver.id) throw err(409, `Unknown scheme '${String(s)}' found in URI`);
    }
    if (method !== 'glance-direct') throw err(400, `Unknown import method name '${method}'.`);
    const task = randomUUID();
    const locked = await this.store.update(
      id,
      { status: 'importing', updated_at: now() },
      {
        fromStatus: 'uploading',
        properties: {
          ...img.properties,
          os_glance_import_task: task,
          os_glance_importing_to_stores: this.driver.id,
          os_glance_failed_import: '',
        },
      },
    );
    if (!locked)
      throw err(
        409,
        `New operation on image '${id}' is not permitted as prior operation is still in progress`,
      );
    const p = this.runImport(img).finally(() => this.imports.delete(p));
    this.imports.add(p);
  }

  private async runImport(img: Image): Promise<void> {
    const id = img.id;
    const staged = this.staging.pathOf(id);
    const current = async () => (await this.store.get(id))?.properties ?? {};
    try {
      const remaining = await this.remainingBytes(img.owner, id);
      const source = createReadStream(staged, { highWaterMark: 1 << 20 });
      const r = await this.ingest(img, source, remaining).finally(() => source.destroy());
      const props = await current();
      delete props.os_glance_import_task;
      props.os_glance_importing_to_stores = '';
      const ok = await this.store.update(
        id,
        {
          status: 'active',
          size: r.size,
          virtual_size: r.virtualSize ?? null,
          checksum: r.checksum,
          os_hash_algo: 'sha512',
          os_hash_value: r.hash,
          location: r.location,
          updated_at: now(),
        },
        { fromStatus: 'importing', properties: props },
      );
      if (!ok) await this.driver.delete(r.location).catch(() => undefined);
    } catch (e) {
      this.log.warn({ err: e, image: id }, 'image import failed');
      const props = await current().catch(() => ({}) as Record<string, string>);
      delete props.os_glance_import_task;
      props.os_glance_importing_to_stores = '';
      props.os_glance_failed_import = this.driver.id;
      await this.store
        .update(
          id,
          { status: 'queued', size: null, virtual_size: null, updated_at: now() },
          {
            fromStatus: 'importing',
            properties: props,
          },
        )
        .catch(() => undefined);
    } finally {
      await this.staging.remove(id).catch(() => undefined);
    }
  }

  /** Wait for running imports (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.imports.size) await Promise.allSettled([...this.imports]);
  }

  // ------------------------------------------------------------------ start-up consistency
  /**
   * Make rows and bytes agree after a crash or restart: temporary objects are removed; an upload that was
   * running (`saving`, `importing`) goes back to `queued` (or `uploading` if its staged data survived);
   * rows whose data is missing go back to `queued` with their data fields cleared; stored objects and
   * staged files no row points at are deleted.
   */
  async reconcile(): Promise<{ requeued: string[]; orphans: number }> {
    await this.driver.sweepTemporary();
    const rows = await this.store.all();
    const requeued: string[] = [];
    const keep = new Set<string>();
    const staged = new Set(await this.staging.list());
    const clear = {
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      location: null,
    };
    for (const r of rows) {
      const t = now();
      if (r.status === 'saving') {
        await this.store.update(
          r.id,
          { ...clear, status: 'queued', updated_at: t },
          { fromStatus: 'saving' },
        );
        requeued.push(r.id);
      } else if (r.status === 'importing' || r.status === 'uploading') {
        const has = staged.has(r.id);
        if (r.status === 'importing' || !has) {
          await this.store.update(
            r.id,
            { ...clear, status: has ? 'uploading' : 'queued', updated_at: t },
            { fromStatus: r.status },
          );
          if (!has) requeued.push(r.id);
        }
        if (has) staged.delete(r.id);
      } else if (r.location) {
        const size = await this.driver.size(r.location);
        if (size === undefined || (r.size !== null && Number(r.size) !== size)) {
          await this.store.update(
            r.id,
            { ...clear, status: 'queued', updated_at: t },
            { fromStatus: r.status },
          );
          requeued.push(r.id);
          if (size !== undefined) await this.driver.delete(r.location);
        } else keep.add(r.location);
      }
    }
    let orphans = 0;
    for (const loc of await this.driver.list())
      if (!keep.has(loc)) {
        await this.driver.delete(loc);
        orphans++;
      }
    for (const name of staged) {
      await rm(join(this.staging.dir, name), { force: true });
      orphans++;
    }
    if (requeued.length || orphans) this.log.warn({ requeued, orphans }, 'image store reconciled');
    return { requeued, orphans };
  }
}

/**
 * Pipe a request body through a meter into a sink. Unlike pipeline(source, ...), a failure downstream
 * (quota, bad data) does not destroy the source: the request socket must stay up to carry the error
 * response (sent with `Connection: close`). A source that errors or closes early (client gone) fails it.
 */
async function streamInto(source: Readable, meter: Transform, sink: Writable): Promise<void> {
  const onError = (e: Error) => meter.destroy(e);
  const onClose = () => {
    if (!source.readableEnded) meter.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };
  source.on('error', onError);
  source.on('close', onClose);
  source.pipe(meter);
  try {
    await pipeline(meter, sink);
  } finally {
    source.off('error', onError);
    source.off('close', onClose);
    source.unpipe(meter);
    source.pause();
  }
}

export class QuotaError extends Error {
  constructor(
    readonly size: number,
    readonly remaining: number,
  ) {
    super('image size limit reached');
  }
}

/** Validate a create body against the image schema (Glance's RequestDeserializer.create). */
export function validateCreateBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw err(400, 'Body expected in request.');
  if (body && typeof body === 'object' && !Array.isArray(body))
    for (const k of ['direct_url', 'self', 'file', 'schema', 'stores'])
      if (k in (body as object)) throw err(403, `Attribute '${k}' is read-only.`);
  const e = validateImage(body);
  if (e) throw err(400, `Provided object does not match schema 'image': ${e}`);
  return body as Record<string, unknown>;
}
