import type { Transaction } from 'kysely';
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type Migration,
  type MigrationProvider,
} from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** A database handle shared by every service; each service only touches its own tables. */
export interface Database {
  // The schema type is per service: each store narrows it with `db.kysely as Kysely<MyTables>`.
  kysely: Kysely<any>;
  dialect: Dialect;
  close(): Promise<void>;
}

export function openDatabase(url: string): Database {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    // Integers that are too big for JS numbers stay strings; counts (bigint) are small enough here.
    pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
  }
  const path = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const conn = new SQLite(path);
  conn.pragma('journal_mode = WAL');
  // Password hashes and credentials live here: readable by the owner only, wherever the file is put.
  if (path !== ':memory:')
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
  conn.pragma('synchronous = NORMAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
  const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: conn }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
}

/** Each service contributes its migrations under its own name prefix (`identity/0001_init`). */
export type ServiceMigrations = Record<string, Migration>;

export async function migrate(db: Database, sets: Record<string, ServiceMigrations>): Promise<void> {
  const all: Record<string, Migration> = {};
  for (const [service, migrations] of Object.entries(sets))
    for (const [name, m] of Object.entries(migrations)) all[`${service}/${name}`] = m;
  const provider: MigrationProvider = { getMigrations: async () => all };
  // Migrations of different services are independent; allow them to be added in any order over time.
  const migrator = new Migrator({ db: db.kysely, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? [])
    if (r.status === 'Error') throw new Error(`migration ${r.migrationName} failed`);
  if (error) throw error;
}

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return (
    e?.code === '23505' ||
    e?.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** Booleans are stored as integers in both dialects so one query code serves both. */
export const bool = (v: unknown): boolean => v === true || v === 1 || v === '1';
export const int = (b: boolean | undefined): number => (b ? 1 : 0);

export function json<T>(v: unknown, dflt: T): T {
  if (v === null || v === undefined || v === '') return dflt;
  try {
    return JSON.parse(String(v)) as T;
  } catch {
    return dflt;
  }
}

export { sql };

/**
 * Run `fn` in a transaction serialized on named locks kept as rows of `table` (a service's lock table with a
 * `name` primary key): PostgreSQL inserts the missing rows and takes them FOR UPDATE in sorted order (no
 * deadlock between two lock sets); SQLite's single connection already serializes transactions.
 */
export async function lockedTransaction<T>(
  db: Database,
  table: string,
  locks: string[],
  fn: (trx: Transaction<any>) => Promise<T>,
): Promise<T> {
  return db.kysely.transaction().execute(async (trx) => {
    if (db.dialect === 'postgres') {
      const names = [...new Set(locks)].sort();
      for (const name of names)
        await trx
          .insertInto(table)
          .values({ name })
          .onConflict((oc) => oc.doNothing())
          .execute();
      await trx
        .selectFrom(table)
        .select('name')
        .where('name', 'in', names)
        .orderBy('name')
        .forUpdate()
        .execute();
    }
    return fn(trx);
  });
}
