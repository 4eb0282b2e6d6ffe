/** Migrations (resize, cold and live migration records) and server groups. */
import type { GroupRow, MigrationRow } from '../rows.js';
import { ActionStore } from './actions.js';
import type { Q } from './base.js';

export class MoveStore extends ActionStore {
  async insertMigration(row: Omit<MigrationRow, 'id'>, trx: Q = this.k): Promise<void> {
    await trx.insertInto('compute_migration').values(row).execute();
  }
  /** A server's latest migration in one of these states. */
  async lastMigration(serverId: string, statuses: string[]): Promise<MigrationRow | undefined> {
    return this.k
      .selectFrom('compute_migration')
      .selectAll()
      .where('server_id', '=', serverId)
      .where('status', 'in', statuses)
      .orderBy('id', 'desc')
      .executeTakeFirst();
  }
  async setMigrationStatus(id: number, status: string, updatedAt: string): Promise<void> {
    await this.k
      .updateTable('compute_migration')
      .set({ status, updated_at: updatedAt })
      .where('id', '=', id)
      .execute();
  }
  /** Move a server's migrations in one of `from` to `status`. */
  async setServerMigrations(
    serverId: string,
    from: string[],
    status: string,
    updatedAt: string,
    trx: Q = this.k,
  ): Promise<void> {
    await trx
      .updateTable('compute_migration')
      .set({ status, updated_at: updatedAt })
      .where('server_id', '=', serverId)
      .where('status', 'in', from)
      .execute();
  }
  /** os-migrations: newest first, filtered by column values, at most `limit`. */
  async migrations(
    where: Partial<
      Pick<MigrationRow, 'server_id' | 'status' | 'migration_type' | 'source_compute' | 'project_id'>
    >,
    limit?: number,
  ): Promise<MigrationRow[]> {
    let q = this.k
      .selectFrom('compute_migration')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc');
    for (const [col, val] of Object.entries(where) as [keyof typeof where, string][])
      q = q.where(col, '=', val);
    if (limit !== undefined) q = q.limit(limit);
    return q.execute();
  }

  // ---------------------------------------------------------------- server groups
  async group(id: string, trx: Q = this.k): Promise<GroupRow | undefined> {
    return trx.selectFrom('compute_server_group').selectAll().where('id', '=', id).executeTakeFirst();
  }
  /** Server groups, oldest first, of one project or all. */
  async groups(projectId?: string): Promise<GroupRow[]> {
    let q = this.k.selectFrom('compute_server_group').selectAll().orderBy('created_at').orderBy('id');
    if (projectId !== undefined) q = q.where('project_id', '=', projectId);
    return q.execute();
  }
  async insertGroup(row: GroupRow, trx: Q = this.k): Promise<void> {
    await trx.insertInto('compute_server_group').values(row).execute();
  }
  /** Delete a group; its servers leave it. */
  async deleteGroup(id: string): Promise<void> {
    await this.k.deleteFrom('compute_server_group').where('id', '=', id).execute();
    await this.k
      .updateTable('compute_server')
      .set({ server_group_id: null })
      .where('server_group_id', '=', id)
      .execute();
  }
  async groupMembers(id: string): Promise<string[]> {
    const rows = await this.k
      .selectFrom('compute_server')
      .select('id')
      .where('server_group_id', '=', id)
      .where('deleted', '=', 0)
      .execute();
    return rows.map((m) => m.id);
  }
  async countGroupMembers(id: string, trx: Q = this.k): Promise<number> {
    const r = await trx
      .selectFrom('compute_server')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('server_group_id', '=', id)
      .where('deleted', '=', 0)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }
  /** Hosts of a group's placed members other than `except` (the scheduler's affinity input). */
  async groupMemberHosts(id: string, except: string, trx: Q = this.k): Promise<string[]> {
    const rows = await trx
      .selectFrom('compute_server')
      .select('host')
      .where('server_group_id', '=', id)
      .where('deleted', '=', 0)
      .where('host', 'is not', null)
      .where('id', '!=', except)
      .execute();
    return rows.map((m) => m.host!);
  }
}
