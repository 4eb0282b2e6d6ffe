/** Images: create, update (JSON patch), delete, (de)activation and listing (glance/api/v2/images.py). */
import { randomUUID } from 'node:crypto';
import type { Caller } from '../../../core/auth/caller.js';
import { bool, int, isUniqueViolation } from '../../../core/db/index.js';
import { validateImage } from '../schemas.js';
import type { Condition, Image, ImageRow, SortDir, Viewer } from '../store.js';
import { BASE_ATTRS, ROW_ATTRS, err, now, projectOf, type Change } from './base.js';
import { QuotaManager } from './quotas.js';

/** A list request, as the API parsed it (glance/api/v2/images.py RequestDeserializer.index). */
export interface ListParams {
  conditions: Condition[];
  visibility?: string;
  memberStatus: string;
  sort: { key: string; dir: SortDir }[];
  marker?: string;
  limit?: number;
}

export class ImagesManager extends QuotaManager {
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
    const owner = 'owner' in b ? (b.owner as string | null) : (projectOf(caller) ?? null);
    const visibility = (b.visibility as string | undefined) ?? 'shared';
    const target = { project_id: owner, owner, visibility };
    if (!this.check('add_image', target, caller)) {
      if (owner !== (projectOf(caller) ?? null))
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
    for (const k of [...ROW_ATTRS, 'updated_at'] as const) (values as Record<string, unknown>)[k] = row[k];
    const ok = await this.store.update(id, values, { fromStatus: img.status, properties, tags });
    if (!ok) throw err(409, `Image ${id} was changed by another request; try again.`);
    return next;
  }

  protected setAttr(img: Image, key: string, value: unknown): void {
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

  // ------------------------------------------------------------------ listing
  async list(caller: Caller, q: ListParams): Promise<{ images: Image[]; nextMarker?: string }> {
    if (!this.check('get_images', { project_id: projectOf(caller) ?? null }, caller))
      throw err(403, 'You are not authorized to complete get_images action.');
    let marker: ImageRow | undefined;
    if (q.marker !== undefined) {
      const m = await this.store.getRow(q.marker);
      if (!m || !(await this.visible(m, caller))) throw err(400, `No image found with ID ${q.marker}`);
      marker = m;
    }
    const limit = Math.min(this.opts.apiLimitMax, q.limit ?? this.opts.limitParamDefault);
    const viewer: Viewer = { isAdmin: caller.isAdmin, project: projectOf(caller) };
    const rows = await this.store.list({ ...q, viewer, marker, limit });
    const images = rows.filter((i) => this.check('get_image', this.target(i, caller), caller));
    return {
      images,
      nextMarker: images.length !== 0 && rows.length === limit ? images.at(-1)!.id : undefined,
    };
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
