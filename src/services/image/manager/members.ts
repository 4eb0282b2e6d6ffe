/** Image members: sharing (glance/api/v2/image_members.py). */
import type { Caller } from '../../../core/auth/caller.js';
import { isUniqueViolation } from '../../../core/db/index.js';
import type { Image, MemberRow } from '../store.js';
import { err, now, projectOf } from './base.js';
import { TagsManager } from './tags.js';

export class MembersManager extends TagsManager {
  // ------------------------------------------------------------------ members
  protected sharedOnly(img: Image, prefix: string) {
    if (img.visibility !== 'shared') throw err(403, `${prefix}Only shared images have members.`);
  }

  /** Members the caller may see: all for the owner and admins, its own membership otherwise. */
  protected async visibleMembers(img: Image, caller: Caller, member?: string): Promise<MemberRow[]> {
    const rows = await this.store.members(img.id, member);
    if (caller.isAdmin || (projectOf(caller) !== undefined && projectOf(caller) === img.owner)) return rows;
    return rows.filter((m) => m.member === projectOf(caller));
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
}
