/** Servers and their tags. */
import { sql } from 'kysely';
import type { ServerEqColumn, ServerQuery, ServerRow } from '../rows.js';
import type { Q } from './base.js';
import { FlavorStore } from './flavors.js';

export class ServerStore extends FlavorStore {
  async server(
    id: string,
    opts: { deleted?: boolean } = {},
    trx: Q = this.k,
  ): Promise<ServerRow | undefined> {
    let q = trx.selectFrom('compute_server').selectAll().where('id', '=', id);
    if (!opts.deleted) q = q.where('deleted', '=', 0);
    return q.executeTakeFirst();
  }

  /** Live servers with exactly this name, in one project (or every project), oldest first; at most `limit`. */
  async serversNamed(name: string, projectId: string | undefined, limit = 20): Promise<ServerRow[]> {
    let q = this.k.selectFrom('compute_server').selectAll().where('name', '=', name).where('deleted', '=', 0);
    if (projectId !== undefined) q = q.where('project_id', '=', projectId);
    return q.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  /** Live servers matching the given column values (reconciliation: builds, a host's servers). */
  async liveServers(
    where: Partial<Pick<ServerRow, 'host' | 'vm_state' | 'task_state'>> & { placed?: boolean },
  ): Promise<ServerRow[]> {
    let q = this.k.selectFrom('compute_server').selectAll().where('deleted', '=', 0);
    if (where.host !== undefined) q = q.where('host', '=', where.host);
    if (where.vm_state !== undefined) q = q.where('vm_state', '=', where.vm_state);
    if (where.task_state !== undefined) q = q.where('task_state', '=', where.task_state);
    if (where.placed === true) q = q.where('host', 'is not', null);
    if (where.placed === false) q = q.where('host', 'is', null);
    return q.execute();
  }

  async serversByIds(ids: string[]): Promise<ServerRow[]> {
    const out: ServerRow[] = [];
    for (let i = 0; i < ids.length; i += 500)
      out.push(
        ...(await this.k
          .selectFrom('compute_server')
          .selectAll()
          .where('id', 'in', ids.slice(i, i + 500))
          .execute()),
      );
    return out;
  }

  private serverQuery(o: ServerQuery) {
    let k = this.k.selectFrom('compute_server').selectAll();
    if (o.projectId !== undefined) k = k.where('project_id', '=', o.projectId);
    if (o.deleted === 'only') k = k.where('deleted', '=', 1);
    else if (o.deleted === 'live') k = k.where('deleted', '=', 0);
    if (o.updatedSince) k = k.where('updated_at', '>=', o.updatedSince);
    if (o.updatedBefore) k = k.where('updated_at', '<=', o.updatedBefore);
    if (o.vmStates) k = k.where('vm_state', 'in', o.vmStates);
    if (o.taskStates) k = k.where('task_state', 'in', o.taskStates.length ? o.taskStates : ['__none__']);
    for (const [col, val] of Object.entries(o.equals) as [ServerEqColumn, string][])
      k = k.where(col, '=', val);
    if (o.powerState !== undefined) k = k.where('power_state', '=', o.powerState);
    if (o.locked !== undefined) k = k.where('locked', '=', o.locked);
    // The server has a tag among `any` (Nova's tags / tags-any / not-tags / not-tags-any).
    const hasTag = (eb: any, any: string[]) =>
      eb.exists(
        eb
          .selectFrom('compute_server_tag')
          .select('tag')
          .whereRef('compute_server_tag.server_id', '=', 'compute_server.id')
          .where('tag', 'in', any),
      );
    for (const t of o.tags) k = k.where((eb) => hasTag(eb, [t]));
    if (o.tagsAny.length) k = k.where((eb) => hasTag(eb, o.tagsAny));
    if (o.notTags.length) k = k.where((eb) => eb.not(eb.and(o.notTags.map((t) => hasTag(eb, [t])))));
    if (o.notTagsAny.length) k = k.where((eb) => eb.not(hasTag(eb, o.notTagsAny)));
    const m = o.after;
    if (m) {
      const mv = (m as unknown as Record<string, unknown>)[o.sort];
      const op = o.dir === 'desc' ? '<' : '>';
      k = k.where((eb) =>
        eb.or([
          eb(sql.ref(o.sort), op, mv as never),
          eb.and([eb(sql.ref(o.sort), '=', mv as never), eb('seq', op, m.seq)]),
        ]),
      );
    }
    return k.orderBy(sql.ref(o.sort), o.dir).orderBy('seq', o.dir);
  }

  /** One page of servers. */
  async listServers(o: ServerQuery, limit: number): Promise<ServerRow[]> {
    return this.serverQuery(o).limit(limit).execute();
  }

  /** The same list, only the columns name/IP filters need, `size` rows from `offset`. */
  async scanServers(o: ServerQuery, offset: number, size: number) {
    return this.serverQuery(o)
      .clearSelect()
      .select(['id', 'name', 'addresses'])
      .limit(size)
      .offset(offset)
      .execute();
  }

  async insertServer(trx: Q, row: ServerRow): Promise<void> {
    await trx.insertInto('compute_server').values(row).execute();
  }

  async updateServer(id: string, values: Partial<ServerRow>, trx: Q = this.k): Promise<void> {
    await trx.updateTable('compute_server').set(values).where('id', '=', id).execute();
  }

  /**
   * Apply a state change only when the server is still in one of the expected task states (Nova's
   * `instance.save(expected_task_state=...)`). Returns whether it applied.
   */
  async saveState(
    id: string,
    values: Partial<ServerRow>,
    expectTaskState?: (string | null)[],
  ): Promise<boolean> {
    let q = this.k.updateTable('compute_server').set(values).where('id', '=', id).where('deleted', '=', 0);
    if (expectTaskState) {
      const nonNull = expectTaskState.filter((x): x is string => x !== null);
      const hasNull = expectTaskState.includes(null);
      q = q.where((eb) => {
        const parts = [];
        if (nonNull.length) parts.push(eb('task_state', 'in', nonNull));
        if (hasNull) parts.push(eb('task_state', 'is', null));
        return parts.length ? eb.or(parts) : (eb.val(false) as never);
      });
    }
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Servers (deleted ones too) created up to `endIso`, optionally of one project (simple tenant usage). */
  async serversCreatedBy(endIso: string, projectId?: string): Promise<ServerRow[]> {
    let q = this.k.selectFrom('compute_server').selectAll().where('created_at', '<=', endIso);
    if (projectId) q = q.where('project_id', '=', projectId);
    return q.execute();
  }

  // ---------------------------------------------------------------- tags
  async tags(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.k
        .selectFrom('compute_server_tag')
        .selectAll()
        .where('server_id', 'in', ids.slice(i, i + 500))
        .orderBy('tag')
        .execute();
      for (const r of rows) out.set(r.server_id, [...(out.get(r.server_id) ?? []), r.tag]);
    }
    return out;
  }
  async addTag(serverId: string, tag: string, trx: Q = this.k): Promise<void> {
    await trx
      .insertInto('compute_server_tag')
      .values({ server_id: serverId, tag })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  /** Replace a server's tags. */
  async setTags(serverId: string, tags: string[]): Promise<void> {
    await this.deleteTags(serverId);
    for (const tag of tags)
      await this.k.insertInto('compute_server_tag').values({ server_id: serverId, tag }).execute();
  }
  async deleteTags(serverId: string): Promise<void> {
    await this.k.deleteFrom('compute_server_tag').where('server_id', '=', serverId).execute();
  }
  /** Whether the tag was there. */
  async deleteTag(serverId: string, tag: string): Promise<boolean> {
    const r = await this.k
      .deleteFrom('compute_server_tag')
      .where('server_id', '=', serverId)
      .where('tag', '=', tag)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
