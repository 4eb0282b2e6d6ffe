/** Tags (standard-attr-tag): /v2.0/{resources}/{id}/tags[/{tag}]. */
import { ApiError } from '../../../core/errors.js';
import { badRequest } from '../errors.js';
import type { Row } from '../store.js';
import * as v from '../validate.js';
import { type Caller } from './base.js';
import type { NetworkManager } from '../manager.js';

/** A resource's tags; reading needs get_<resource>, changing needs update_<resource>. */
export class Tags {
  constructor(private readonly m: NetworkManager) {}

  async tagTarget(c: Caller, resource: string, id: string, action: 'get' | 'update') {
    const kind = taggable(this.m)[resource];
    if (!kind) throw new ApiError(404, 'The resource could not be found.', 'HTTPNotFound');
    const row = await this.m.visibleRow(c, kind, id);
    const def = this.m.resource(kind).def;
    const member = def.member;
    if (action === 'update') this.m.enforce(c, `update_${member}`, await this.m.target(c, kind, row));
    return { kind, row, table: def.table, tagType: def.tagType! };
  }

  async getTags(c: Caller, resource: string, id: string): Promise<string[]> {
    const t = await this.tagTarget(c, resource, id, 'get');
    return (await this.m.store.tagsFor(t.tagType, [id])).get(id) ?? [];
  }

  async replaceTags(c: Caller, resource: string, id: string, body: unknown): Promise<string[]> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Row) : undefined;
    if (!b || b.tags === undefined) throw badRequest(`Invalid input for tags. Reason: 'None' is not a list.`);
    const tags = v.tags(b.tags);
    await this.m.store.tx(async (trx) => {
      await this.m.store.setTags(t.tagType, id, tags, trx);
      await this.m.bump(t.table, id, {}, trx);
    });
    return [...tags].sort();
  }

  async addTag(c: Caller, resource: string, id: string, tag: string): Promise<void> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const value = v.tag(tag);
    await this.m.store.tx(async (trx) => {
      await this.m.store.addTag(t.tagType, id, value, trx);
      await this.m.bump(t.table, id, {}, trx);
    });
  }

  async removeTag(c: Caller, resource: string, id: string, tag: string | undefined): Promise<void> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const n = await this.m.store.removeTag(t.tagType, id, tag);
    if (tag !== undefined && n === 0)
      throw new ApiError(404, `Tag ${tag} could not be found.`, 'TagNotFound');
    await this.m.bump(t.table, id, {}, this.m.store.db);
  }

  async hasTag(c: Caller, resource: string, id: string, tag: string): Promise<void> {
    const tags = await this.getTags(c, resource, id);
    if (!tags.includes(tag)) throw new ApiError(404, `Tag ${tag} could not be found.`, 'TagNotFound');
  }
}

/** Tag URL segment (`networks`, `security-groups`, …) → resource kind, for the resources with tags. */
export function taggable(m: NetworkManager): Record<string, string> {
  return Object.fromEntries(
    m
      .resources()
      .filter((r) => r.def.tagType)
      .map((r) => [r.def.path, r.def.kind]),
  );
}
