/** The base of the compute store: the Kysely handle, locked transactions, sequences. */
import type { Kysely, Transaction } from 'kysely';
import { isUniqueViolation, lockedTransaction, sql, type Database } from '../../../core/db/index.js';
import type { Db, Tables } from '../rows.js';

/** A handle queries run on: the store's own, or the transaction of `locked`. */
export type Q = Kysely<Tables>;
export type Trx = Transaction<Tables>;

export class StoreBase {
  readonly k: Db;
  constructor(readonly db: Database) {
    this.k = db.kysely as Db;
  }

  /**
   * Run `fn` in a transaction serialized on `locks` (rows of compute_lock): PostgreSQL takes the rows
   * FOR UPDATE; SQLite's single connection already serializes transactions.
   */
  async locked<T>(locks: string[], fn: (trx: Trx) => Promise<T>): Promise<T> {
    return lockedTransaction(this.db, 'compute_lock', locks, fn as (trx: Transaction<any>) => Promise<T>);
  }

  async nextSeq(name: string, n = 1, trx: Q = this.k): Promise<number> {
    await trx
      .insertInto('compute_seq')
      .values({ name, value: 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await trx
      .updateTable('compute_seq')
      .set({ value: sql`value + ${n}` })
      .where('name', '=', name)
      .execute();
    const r = await trx
      .selectFrom('compute_seq')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return Number(r.value) - n + 1;
  }

  /** The error is a unique-constraint violation (a name or id already taken). */
  uniqueViolation(e: unknown): boolean {
    return isUniqueViolation(e);
  }
}
