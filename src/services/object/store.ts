/**
 * The only SQL of the object store (Kysely; the same queries on SQLite and PostgreSQL). Counters on the
 * container and account rows change only in the transaction that writes or removes the object row, under a
 * lock on the container row (PostgreSQL `FOR UPDATE`; SQLite runs one transaction at a time), so they stay
 * exact under any concurrency.
 */
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../core/db/index.js';

import type { AccountRow, ContainerRow, ObjectRow, Range } from './rows.js';

export type { AccountRow, ContainerRow, ObjectRow, Range } from './rows.js';

interface Tables {
  object_account: AccountRow;
  object_container: ContainerRow;
  object_object: ObjectRow;
}
type Q = Kysely<Tables> | Transaction<Tables>;

const n = (v: unknown) => Number(v ?? 0);
const account = (r: AccountRow | undefined) =>
  r && {
    ...r,
    container_count: n(r.container_count),
    object_count: n(r.object_count),
    bytes_used: n(r.bytes_used),
  };
const container = (r: ContainerRow | undefined) =>
  r && { ...r, object_count: n(r.object_count), bytes_used: n(r.bytes_used) };
const object = (r: ObjectRow | undefined) =>
  r && { ...r, size: n(r.size), delete_at: r.delete_at === null ? null : n(r.delete_at) };

export class ObjectStore {
  private readonly k: Kysely<Tables>;
  private readonly pg: boolean;
  constructor(db: Database) {
    this.k = db.kysely as Kysely<Tables>;
    this.pg = db.dialect === 'postgres';
  }

  // ------------------------------------------------------------------ accounts
  async getAccount(acct: string): Promise<AccountRow | undefined> {
    return account(
      await this.k.selectFrom('object_account').selectAll().where('account', '=', acct).executeTakeFirst(),
    );
  }

  async ensureAccount(q: Q, acct: string, projectId: string, ts: string): Promise<void> {
    await q
      .insertInto('object_account')
      .values({
        account: acct,
        project_id: projectId,
        created_at: ts,
        put_timestamp: ts,
        meta: '{}',
        container_count: 0,
        object_count: 0,
        bytes_used: 0,
      })
      .onConflict((oc) => oc.column('account').doNothing())
      .execute();
  }

  /** Replace the account's metadata with what `update` makes of it (inside one transaction). */
  async updateAccountMeta(
    acct: string,
    projectId: string,
    ts: string,
    update: (meta: string) => string,
  ): Promise<void> {
    await this.k.transaction().execute(async (t) => {
      await this.ensureAccount(t, acct, projectId, ts);
      let q = t.selectFrom('object_account').select('meta').where('account', '=', acct);
      if (this.pg) q = q.forUpdate();
      const row = await q.executeTakeFirstOrThrow();
      await t
        .updateTable('object_account')
        .set({ meta: update(row.meta) })
        .where('account', '=', acct)
        .execute();
    });
  }

  // ------------------------------------------------------------------ containers
  async getContainer(acct: string, name: string): Promise<ContainerRow | undefined> {
    return container(
      await this.k
        .selectFrom('object_container')
        .selectAll()
        .where('account', '=', acct)
        .where('name', '=', name)
        .executeTakeFirst(),
    );
  }

  async listContainers(acct: string, r: Range): Promise<ContainerRow[]> {
    let q = this.k.selectFrom('object_container').selectAll().where('account', '=', acct);
    if (r.after !== undefined) q = q.where('name', '>', r.after);
    if (r.from !== undefined) q = q.where('name', '>=', r.from);
    if (r.before !== undefined) q = q.where('name', '<', r.before);
    const rows = await q
      .orderBy('name', r.reverse ? 'desc' : 'asc')
      .limit(r.limit)
      .execute();
    return rows.map((x) => container(x)!);
  }

  /**
   * Create a container, or apply `update` to the existing one (its meta and policy); both in one transaction.
   * Returns whether it was created.
   */
  async putContainer(
    row: Omit<ContainerRow, 'object_count' | 'bytes_used'>,
    projectId: string,
    update: (existing: ContainerRow) => Partial<ContainerRow>,
  ): Promise<boolean> {
    return this.k.transaction().execute(async (t) => {
      await this.ensureAccount(t, row.account, projectId, row.created_at);
      const existing = await this.lockContainer(t, row.account, row.name);
      if (existing) {
        const patch = update(existing);
        if (Object.keys(patch).length)
          await t
            .updateTable('object_container')
            .set(patch)
            .where('account', '=', row.account)
            .where('name', '=', row.name)
            .execute();
        return false;
      }
      await t
        .insertInto('object_container')
        .values({ ...row, object_count: 0, bytes_used: 0 })
        .execute();
      await t
        .updateTable('object_account')
        .set((eb) => ({ container_count: eb('container_count', '+', 1) }))
        .where('account', '=', row.account)
        .execute();
      return true;
    });
  }

  /** Apply `update` to a container's row (undefined when there is no such container). */
  async updateContainer(
    acct: string,
    name: string,
    update: (existing: ContainerRow) => Partial<ContainerRow>,
  ): Promise<ContainerRow | undefined> {
    return this.k.transaction().execute(async (t) => {
      const existing = await this.lockContainer(t, acct, name);
      if (!existing) return undefined;
      const patch = update(existing);
      if (Object.keys(patch).length)
        await t
          .updateTable('object_container')
          .set(patch)
          .where('account', '=', acct)
          .where('name', '=', name)
          .execute();
      return { ...existing, ...patch };
    });
  }

  async deleteContainer(acct: string, name: string): Promise<'deleted' | 'missing' | 'not-empty'> {
    return this.k.transaction().execute(async (t) => {
      const existing = await this.lockContainer(t, acct, name);
      if (!existing) return 'missing';
      const any = await t
        .selectFrom('object_object')
        .select('name')
        .where('account', '=', acct)
        .where('container', '=', name)
        .limit(1)
        .executeTakeFirst();
      if (any) return 'not-empty';
      await t.deleteFrom('object_container').where('account', '=', acct).where('name', '=', name).execute();
      await t
        .updateTable('object_account')
        .set((eb) => ({ container_count: eb('container_count', '-', 1) }))
        .where('account', '=', acct)
        .execute();
      return 'deleted';
    });
  }

  private async lockContainer(t: Q, acct: string, name: string): Promise<ContainerRow | undefined> {
    let q = t.selectFrom('object_container').selectAll().where('account', '=', acct).where('name', '=', name);
    if (this.pg) q = q.forUpdate();
    return container(await q.executeTakeFirst());
  }

  // ------------------------------------------------------------------ objects
  async getObject(acct: string, cont: string, name: string): Promise<ObjectRow | undefined> {
    return object(
      await this.k
        .selectFrom('object_object')
        .selectAll()
        .where('account', '=', acct)
        .where('container', '=', cont)
        .where('name', '=', name)
        .executeTakeFirst(),
    );
  }

  /** A page of a container's objects; `now` hides expired objects (the expirer removes them soon). */
  async listObjects(acct: string, cont: string, r: Range, now: number): Promise<ObjectRow[]> {
    let q = this.k
      .selectFrom('object_object')
      .selectAll()
      .where('account', '=', acct)
      .where('container', '=', cont)
      .where((eb) => eb.or([eb('delete_at', 'is', null), eb('delete_at', '>', Math.floor(now))]));
    if (r.after !== undefined) q = q.where('name', '>', r.after);
    if (r.from !== undefined) q = q.where('name', '>=', r.from);
    if (r.before !== undefined) q = q.where('name', '<', r.before);
    const rows = await q
      .orderBy('name', r.reverse ? 'desc' : 'asc')
      .limit(r.limit)
      .execute();
    return rows.map((x) => object(x)!);
  }

  /**
   * Write an object row in place of any previous one, with the container's and account's counters, in one
   * transaction. `check` runs inside it with the locked container, the account and the previous row (quotas,
   * If-None-Match) and may throw. Returns the previous row (its file is now unreferenced), or 'no-container'.
   */
  async putObject(
    row: ObjectRow,
    check?: (c: ContainerRow, a: AccountRow | undefined, old: ObjectRow | undefined) => void,
  ): Promise<{ old?: ObjectRow } | 'no-container'> {
    return this.k.transaction().execute(async (t) => {
      const c = await this.lockContainer(t, row.account, row.container);
      if (!c) return 'no-container';
      const old = object(
        await t
          .selectFrom('object_object')
          .selectAll()
          .where('account', '=', row.account)
          .where('container', '=', row.container)
          .where('name', '=', row.name)
          .executeTakeFirst(),
      );
      if (check) {
        const a = account(
          await t
            .selectFrom('object_account')
            .selectAll()
            .where('account', '=', row.account)
            .executeTakeFirst(),
        );
        check(c, a, old);
      }
      if (old)
        await t
          .updateTable('object_object')
          .set(row)
          .where('account', '=', row.account)
          .where('container', '=', row.container)
          .where('name', '=', row.name)
          .execute();
      else await t.insertInto('object_object').values(row).execute();
      await this.count(t, row.account, row.container, old ? 0 : 1, row.size - (old?.size ?? 0));
      return { old };
    });
  }

  /** Change an object's metadata (POST) if it is still the version `timestamp` names. */
  async updateObject(
    acct: string,
    cont: string,
    name: string,
    timestamp: string,
    patch: Partial<Pick<ObjectRow, 'meta' | 'content_type' | 'delete_at' | 'timestamp'>>,
  ): Promise<boolean> {
    const r = await this.k
      .updateTable('object_object')
      .set(patch)
      .where('account', '=', acct)
      .where('container', '=', cont)
      .where('name', '=', name)
      .where('timestamp', '=', timestamp)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * Remove an object row (only the version with this file, when given) and count it out. Returns the removed
   * row, or undefined when there was none.
   */
  async deleteObject(
    acct: string,
    cont: string,
    name: string,
    file?: string,
  ): Promise<ObjectRow | undefined> {
    return this.k.transaction().execute(async (t) => {
      const c = await this.lockContainer(t, acct, cont);
      if (!c) return undefined;
      const old = object(
        await t
          .selectFrom('object_object')
          .selectAll()
          .where('account', '=', acct)
          .where('container', '=', cont)
          .where('name', '=', name)
          .executeTakeFirst(),
      );
      if (!old || (file !== undefined && old.file !== file)) return undefined;
      await t
        .deleteFrom('object_object')
        .where('account', '=', acct)
        .where('container', '=', cont)
        .where('name', '=', name)
        .execute();
      await this.count(t, acct, cont, -1, -old.size);
      return old;
    });
  }

  private async count(t: Q, acct: string, cont: string, objects: number, bytes: number): Promise<void> {
    if (objects === 0 && bytes === 0) return;
    await t
      .updateTable('object_container')
      .set((eb) => ({
        object_count: eb('object_count', '+', objects),
        bytes_used: eb('bytes_used', '+', bytes),
      }))
      .where('account', '=', acct)
      .where('name', '=', cont)
      .execute();
    await t
      .updateTable('object_account')
      .set((eb) => ({
        object_count: eb('object_count', '+', objects),
        bytes_used: eb('bytes_used', '+', bytes),
      }))
      .where('account', '=', acct)
      .execute();
  }

  /** Objects whose X-Delete-At has passed (for the expirer). */
  async expired(now: number, limit: number): Promise<ObjectRow[]> {
    const rows = await this.k
      .selectFrom('object_object')
      .selectAll()
      .where('delete_at', '<=', Math.floor(now))
      .orderBy('delete_at')
      .limit(limit)
      .execute();
    return rows.map((x) => object(x)!);
  }

  /** Which of these files some object row references (the orphan sweep keeps those). */
  async referenced(files: string[]): Promise<Set<string>> {
    if (!files.length) return new Set();
    const rows = await this.k.selectFrom('object_object').select('file').where('file', 'in', files).execute();
    return new Set(rows.map((r) => r.file));
  }
}
