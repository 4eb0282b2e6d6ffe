/** Image tags (glance/api/v2/image_tags.py). */
import type { Caller } from '../../../core/auth/caller.js';
import { err, now } from './base.js';
import { ImagesManager } from './images.js';

export class TagsManager extends ImagesManager {
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
}
