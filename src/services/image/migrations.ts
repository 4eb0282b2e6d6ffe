import type { Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/**
 * Image tables. Booleans are integers, times are ISO strings with second precision (Glance prints
 * `2026-11-25T12:00:00Z`), sizes are bigints. Rows are deleted for real (no soft delete): a deleted image
 * is a 404 for everyone, as Glance shows it, and its properties, tags and members go with it.
 */
export const imageMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('image')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)')
        .addColumn('disk_format', 'varchar(20)')
        .addColumn('container_format', 'varchar(20)')
        .addColumn('size', 'bigint')
        .addColumn('virtual_size', 'bigint')
        .addColumn('status', 'varchar(30)', (c) => c.notNull())
        .addColumn('visibility', 'varchar(20)', (c) => c.notNull())
        .addColumn('checksum', 'varchar(32)')
        .addColumn('os_hash_algo', 'varchar(64)')
        .addColumn('os_hash_value', 'varchar(128)')
        .addColumn('min_disk', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('min_ram', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('owner', 'varchar(255)')
        .addColumn('protected', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('os_hidden', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('location', 'text')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('image_owner').on('image').column('owner').execute();
      await db.schema.createIndex('image_visibility').on('image').column('visibility').execute();
      await db.schema.createIndex('image_created').on('image').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('image_property')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'text')
        .addPrimaryKeyConstraint('image_property_pk', ['image_id', 'name'])
        .execute();
      await db.schema.createIndex('image_property_nv').on('image_property').columns(['name']).execute();
      await db.schema
        .createTable('image_tag')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('image_tag_pk', ['image_id', 'value'])
        .execute();
      await db.schema.createIndex('image_tag_value').on('image_tag').column('value').execute();
      await db.schema
        .createTable('image_member')
        .addColumn('image_id', 'varchar(36)', (c) => c.notNull().references('image.id').onDelete('cascade'))
        .addColumn('member', 'varchar(255)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addPrimaryKeyConstraint('image_member_pk', ['image_id', 'member'])
        .execute();
      await db.schema.createIndex('image_member_member').on('image_member').column('member').execute();
    },
  },
};
