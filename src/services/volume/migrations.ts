import type { Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/**
 * Block-storage tables. Booleans are integers, JSON is text, times are ISO strings (Cinder prints
 * `2026-11-25T12:00:00.000000`). Rows are deleted for real: a deleted volume is a 404, as Cinder shows it.
 * Quota usage is never stored: it is counted from these rows inside a serialized transaction.
 */
export const volumeMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      const times = (t: any) =>
        t
          .addColumn('created_at', 'varchar(32)', (c: any) => c.notNull())
          .addColumn('updated_at', 'varchar(32)');
      await db.schema
        .createTable('volume_type')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('description', 'varchar(255)')
        .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('extra_specs', 'text', (c) => c.notNull().defaultTo('{}'))
        .$call(times)
        .execute();
      await db.schema
        .createTable('volume_type_access')
        .addColumn('volume_type_id', 'varchar(36)', (c) =>
          c.notNull().references('volume_type.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_type_access_pk', ['volume_type_id', 'project_id'])
        .execute();
      await db.schema
        .createTable('volume')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'varchar(255)')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('attach_status', 'varchar(32)', (c) => c.notNull().defaultTo('detached'))
        .addColumn('migration_status', 'varchar(32)')
        .addColumn('availability_zone', 'varchar(255)', (c) => c.notNull())
        .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('snapshot_id', 'varchar(36)')
        .addColumn('source_volid', 'varchar(36)')
        .addColumn('image_id', 'varchar(36)')
        .addColumn('bootable', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('readonly', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('multiattach', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('host', 'varchar(255)')
        .addColumn('image_metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('error', 'text')
        .$call(times)
        .execute();
      await db.schema
        .createIndex('volume_project')
        .on('volume')
        .columns(['project_id', 'created_at'])
        .execute();
      await db.schema.createIndex('volume_created').on('volume').columns(['created_at', 'id']).execute();
      await db.schema
        .createTable('volume_metadata')
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('key', 'varchar(255)', (c) => c.notNull())
        .addColumn('value', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_metadata_pk', ['volume_id', 'key'])
        .execute();
      await db.schema
        .createTable('volume_attachment')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('instance_uuid', 'varchar(36)')
        .addColumn('attached_host', 'varchar(255)')
        .addColumn('mountpoint', 'varchar(255)')
        .addColumn('attach_mode', 'varchar(4)', (c) => c.notNull().defaultTo('rw'))
        .addColumn('attach_status', 'varchar(32)', (c) => c.notNull())
        .addColumn('connector', 'text')
        .addColumn('connection_info', 'text')
        .addColumn('attach_time', 'varchar(32)')
        .addColumn('detach_time', 'varchar(32)')
        .$call(times)
        .execute();
      await db.schema
        .createIndex('volume_attachment_volume')
        .on('volume_attachment')
        .column('volume_id')
        .execute();
      await db.schema
        .createIndex('volume_attachment_instance')
        .on('volume_attachment')
        .column('instance_uuid')
        .execute();
      await db.schema
        .createTable('volume_snapshot')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'varchar(255)')
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('progress', 'varchar(8)', (c) => c.notNull().defaultTo('0%'))
        .addColumn('volume_type_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('error', 'text')
        .$call(times)
        .execute();
      await db.schema
        .createIndex('volume_snapshot_volume')
        .on('volume_snapshot')
        .column('volume_id')
        .execute();
      await db.schema
        .createIndex('volume_snapshot_project')
        .on('volume_snapshot')
        .columns(['project_id', 'created_at'])
        .execute();
      await db.schema
        .createTable('volume_transfer')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('volume_id', 'varchar(36)', (c) => c.notNull().references('volume.id').onDelete('cascade'))
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('salt', 'varchar(64)', (c) => c.notNull())
        .addColumn('crypt_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('no_snapshots', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('accepted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('source_project_id', 'varchar(255)')
        .addColumn('destination_project_id', 'varchar(255)')
        .$call(times)
        .execute();
      await db.schema
        .createTable('volume_quota')
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(300)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_quota_pk', ['project_id', 'resource'])
        .execute();
      await db.schema
        .createTable('volume_quota_class')
        .addColumn('class_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(300)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('volume_quota_class_pk', ['class_name', 'resource'])
        .execute();
      await db.schema
        .createTable('volume_lock')
        .addColumn('name', 'varchar(300)', (c) => c.primaryKey())
        .execute();
    },
  },
};
