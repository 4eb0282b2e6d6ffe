/** Compute hosts (Nova's compute services and hypervisors in one row) and aggregates. */
import type { AggregateRow, HostRow } from '../rows.js';
import type { Q } from './base.js';
import { UsageStore } from './usage.js';

export class HostStore extends UsageStore {
  /** Every host, by id (`ordered` false: in the database's order, as the scheduler reads them). */
  async hosts(trx: Q = this.k, ordered = true): Promise<HostRow[]> {
    const q = trx.selectFrom('compute_host').selectAll();
    return (ordered ? q.orderBy('id') : q).execute();
  }
  async host(name: string, trx: Q = this.k): Promise<HostRow | undefined> {
    return trx.selectFrom('compute_host').selectAll().where('name', '=', name).executeTakeFirst();
  }
  async insertHost(row: HostRow): Promise<void> {
    await this.k.insertInto('compute_host').values(row).execute();
  }
  async updateHost(name: string, values: Partial<HostRow>): Promise<void> {
    await this.k.updateTable('compute_host').set(values).where('name', '=', name).execute();
  }
  async deleteHost(name: string): Promise<void> {
    await this.k.deleteFrom('compute_host').where('name', '=', name).execute();
  }

  /** Live servers placed on a host. */
  async countServersOn(host: string): Promise<number> {
    const n = await this.k
      .selectFrom('compute_server')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('host', '=', host)
      .where('deleted', '=', 0)
      .executeTakeFirstOrThrow();
    return Number(n.n);
  }

  /** Ids and sequence numbers of the live servers on a host (os-hypervisors `servers`). */
  async serverIdsOn(host: string): Promise<{ id: string; seq: number }[]> {
    return this.k
      .selectFrom('compute_server')
      .select(['id', 'seq'])
      .where('host', '=', host)
      .where('deleted', '=', 0)
      .execute();
  }

  // ---------------------------------------------------------------- aggregates
  /** Aggregates that set an availability zone, oldest first. */
  async zonedAggregates(): Promise<AggregateRow[]> {
    return this.k
      .selectFrom('compute_aggregate')
      .selectAll()
      .where('availability_zone', 'is not', null)
      .orderBy('id')
      .execute();
  }
  async aggregates(): Promise<AggregateRow[]> {
    return this.k.selectFrom('compute_aggregate').selectAll().orderBy('id').execute();
  }
  async aggregate(id: number): Promise<AggregateRow | undefined> {
    return this.k.selectFrom('compute_aggregate').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async insertAggregate(row: Omit<AggregateRow, 'id'>): Promise<number> {
    const r = await this.k
      .insertInto('compute_aggregate')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }
  async updateAggregate(id: number, values: Partial<AggregateRow>): Promise<void> {
    await this.k.updateTable('compute_aggregate').set(values).where('id', '=', id).execute();
  }
  async deleteAggregate(id: number): Promise<void> {
    await this.k.deleteFrom('compute_aggregate').where('id', '=', id).execute();
  }
}
