import { PostgresAdapter, sql, type Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/**
 * Object-store tables. Names sort by their UTF-8 bytes as Swift lists them: SQLite's default BINARY collation
 * does, PostgreSQL needs `COLLATE "C"`. Listings read (account, container, name) ranges of the primary key, so a
 * page costs the same at the millionth object as at the first. Counters (objects, bytes) live on the container
 * and account rows and change only in the transaction that writes the object row. Timestamps are Swift's
 * `1733450000.12345` strings; metadata is JSON text (header name → raw value).
 */
export const objectMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      const pg = db.getExecutor().adapter instanceof PostgresAdapter;
      const name = (n: number) =>
        pg ? sql`varchar(${sql.raw(String(n))}) collate "C"` : sql`varchar(${sql.raw(String(n))})`;
      await db.schema
        .createTable('object_account')
        .addColumn('account', name(256), (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(20)', (c) => c.notNull())
        .addColumn('put_timestamp', 'varchar(20)', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('container_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('object_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_used', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('object_container')
        .addColumn('account', name(256), (c) => c.notNull())
        .addColumn('name', name(256), (c) => c.notNull())
        .addColumn('created_at', 'varchar(20)', (c) => c.notNull())
        .addColumn('put_timestamp', 'varchar(20)', (c) => c.notNull())
        .addColumn('storage_policy', 'varchar(64)', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('object_count', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('bytes_used', 'bigint', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('object_container_pk', ['account', 'name'])
        .execute();
      await db.schema
        .createTable('object_object')
        .addColumn('account', name(256), (c) => c.notNull())
        .addColumn('container', name(256), (c) => c.notNull())
        .addColumn('name', name(1024), (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'varchar(64)', (c) => c.notNull())
        .addColumn('content_type', 'varchar(1024)', (c) => c.notNull())
        .addColumn('timestamp', 'varchar(20)', (c) => c.notNull())
        .addColumn('meta', 'text', (c) => c.notNull())
        .addColumn('delete_at', 'bigint')
        .addColumn('file', 'varchar(64)', (c) => c.notNull())
        .addPrimaryKeyConstraint('object_object_pk', ['account', 'container', 'name'])
        .execute();
      await db.schema
        .createIndex('object_object_delete_at')
        .on('object_object')
        .column('delete_at')
        .execute();
      await db.schema.createIndex('object_object_file').on('object_object').column('file').execute();
    },
  },
};
