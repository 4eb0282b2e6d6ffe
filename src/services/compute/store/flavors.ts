/** Flavors, their access lists and extra specs; key pairs. */
import type { FlavorQuery, FlavorRow, KeypairRow } from '../rows.js';
import type { Q } from './base.js';
import { HostStore } from './hosts.js';

export class FlavorStore extends HostStore {
  async flavor(id: string): Promise<FlavorRow | undefined> {
    return this.k.selectFrom('compute_flavor').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async flavorNamed(name: string): Promise<{ id: string } | undefined> {
    return this.k.selectFrom('compute_flavor').select('id').where('name', '=', name).executeTakeFirst();
  }
  async countFlavors(): Promise<number> {
    const n = await this.k
      .selectFrom('compute_flavor')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n.n);
  }
  async flavors(o: FlavorQuery): Promise<FlavorRow[]> {
    let q = this.k.selectFrom('compute_flavor').selectAll();
    if (o.isPublic !== undefined) q = q.where('is_public', '=', o.isPublic);
    const project = o.visibleTo;
    if (project !== undefined)
      q = q.where((eb) =>
        eb.or([
          eb('is_public', '=', 1),
          eb.exists(
            eb
              .selectFrom('compute_flavor_access')
              .select('flavor_id')
              .whereRef('compute_flavor_access.flavor_id', '=', 'compute_flavor.id')
              .where('project_id', '=', project),
          ),
        ]),
      );
    if (o.minRam !== undefined) q = q.where('ram', '>=', o.minRam);
    if (o.minDisk !== undefined) q = q.where('disk', '>=', o.minDisk);
    return q.orderBy(o.sort, o.dir).orderBy('id', 'asc').execute();
  }
  /** Insert a flavor; `ignoreExisting` for the seeded defaults. */
  async insertFlavor(row: FlavorRow, ignoreExisting = false): Promise<void> {
    let q = this.k.insertInto('compute_flavor').values(row);
    if (ignoreExisting) q = q.onConflict((oc) => oc.doNothing());
    await q.execute();
  }
  async updateFlavor(id: string, values: Partial<FlavorRow>): Promise<void> {
    await this.k.updateTable('compute_flavor').set(values).where('id', '=', id).execute();
  }
  /** Whether a flavor was deleted. */
  async deleteFlavor(id: string): Promise<boolean> {
    const r = await this.k.deleteFrom('compute_flavor').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- access
  async flavorAccess(flavorId: string): Promise<{ flavor_id: string; project_id: string }[]> {
    return this.k.selectFrom('compute_flavor_access').selectAll().where('flavor_id', '=', flavorId).execute();
  }
  async hasFlavorAccess(flavorId: string, projectId: string): Promise<boolean> {
    const a = await this.k
      .selectFrom('compute_flavor_access')
      .select('project_id')
      .where('flavor_id', '=', flavorId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return !!a;
  }
  async addFlavorAccess(flavorId: string, projectId: string): Promise<void> {
    await this.k
      .insertInto('compute_flavor_access')
      .values({ flavor_id: flavorId, project_id: projectId })
      .execute();
  }
  /** Whether an access entry was removed. */
  async removeFlavorAccess(flavorId: string, projectId: string): Promise<boolean> {
    const r = await this.k
      .deleteFrom('compute_flavor_access')
      .where('flavor_id', '=', flavorId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ---------------------------------------------------------------- key pairs
  async keypair(userId: string, name: string, trx: Q = this.k): Promise<KeypairRow | undefined> {
    return trx
      .selectFrom('compute_keypair')
      .selectAll()
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
  }
  /** A user's key pairs by name, after `after` (a name), at most `limit`. */
  async keypairs(userId: string, o: { after?: string; limit?: number } = {}): Promise<KeypairRow[]> {
    let q = this.k.selectFrom('compute_keypair').selectAll().where('user_id', '=', userId).orderBy('name');
    if (o.after !== undefined) q = q.where('name', '>', o.after);
    if (o.limit !== undefined) q = q.limit(o.limit);
    return q.execute();
  }
  async insertKeypair(row: Omit<KeypairRow, 'id'>, trx: Q = this.k): Promise<number> {
    const r = await trx.insertInto('compute_keypair').values(row).returning('id').executeTakeFirstOrThrow();
    return r.id;
  }
  /** Whether a key pair was deleted. */
  async deleteKeypair(userId: string, name: string): Promise<boolean> {
    const r = await this.k
      .deleteFrom('compute_keypair')
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
