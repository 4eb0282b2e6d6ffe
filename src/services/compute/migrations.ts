import { PostgresAdapter, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/**
 * Compute tables (prefix `compute_`). Booleans are integers, JSON is text, times are ISO strings.
 * Resource usage is never stored as counters: quotas and host claims are counted from the server rows
 * inside a serialized transaction, so a crash can never leak a claim or a quota unit.
 */
/** An auto-numbered integer primary key: `serial` on PostgreSQL, `integer … autoincrement` on SQLite. */
function autoId<T extends string>(
  db: Kysely<any>,
  t: CreateTableBuilder<T, never>,
): CreateTableBuilder<T, 'id'> {
  if (db.getExecutor().adapter instanceof PostgresAdapter)
    return t.addColumn('id', 'serial', (c: ColumnDefinitionBuilder) => c.primaryKey());
  return t.addColumn('id', 'integer', (c: ColumnDefinitionBuilder) => c.primaryKey().autoIncrement());
}

export const computeMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('compute_flavor')
        .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('ram', 'integer', (c) => c.notNull())
        .addColumn('disk', 'integer', (c) => c.notNull())
        .addColumn('ephemeral', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('swap', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('rxtx_factor', 'real', (c) => c.notNull().defaultTo(1))
        .addColumn('is_public', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('description', 'text')
        .addColumn('extra_specs', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('compute_flavor_access')
        .addColumn('flavor_id', 'varchar(255)', (c) =>
          c.notNull().references('compute_flavor.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('compute_flavor_access_pk', ['flavor_id', 'project_id'])
        .execute();
      await autoId(db, db.schema.createTable('compute_keypair'))
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('fingerprint', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addUniqueConstraint('compute_keypair_user_name', ['user_id', 'name'])
        .execute();
      await db.schema
        .createTable('compute_host')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('id', 'integer', (c) => c.notNull().unique())
        .addColumn('service_uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('hypervisor_uuid', 'varchar(36)', (c) => c.notNull())
        .addColumn('hypervisor_hostname', 'varchar(255)', (c) => c.notNull())
        .addColumn('hypervisor_type', 'varchar(64)', (c) => c.notNull())
        .addColumn('hypervisor_version', 'integer', (c) => c.notNull())
        .addColumn('host_ip', 'varchar(64)', (c) => c.notNull())
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mb', 'integer', (c) => c.notNull())
        .addColumn('local_gb', 'integer', (c) => c.notNull())
        .addColumn('cpu_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('ram_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('disk_allocation_ratio', 'real', (c) => c.notNull())
        .addColumn('cpu_info', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('driver', 'varchar(64)', (c) => c.notNull())
        .addColumn('capabilities', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('disabled_reason', 'text')
        .addColumn('forced_down', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('heartbeat_at', 'varchar(32)')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('compute_server')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('host', 'varchar(255)')
        .addColumn('node', 'varchar(255)')
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('requested_az', 'varchar(255)')
        .addColumn('flavor_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('flavor', 'text', (c) => c.notNull())
        .addColumn('old_flavor', 'text')
        .addColumn('vcpus', 'integer', (c) => c.notNull())
        .addColumn('memory_mb', 'integer', (c) => c.notNull())
        .addColumn('disk_gb', 'integer', (c) => c.notNull())
        .addColumn('image_ref', 'varchar(255)')
        .addColumn('image_name', 'varchar(255)')
        .addColumn('key_name', 'varchar(255)')
        .addColumn('key_data', 'text')
        .addColumn('user_data', 'text')
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('security_groups', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('requested_networks', 'text')
        .addColumn('addresses', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('vm_state', 'varchar(32)', (c) => c.notNull())
        .addColumn('task_state', 'varchar(64)')
        .addColumn('power_state', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('description', 'text')
        .addColumn('hostname', 'varchar(255)')
        .addColumn('config_drive', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('reservation_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('launch_index', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_by', 'varchar(16)')
        .addColumn('locked_reason', 'text')
        .addColumn('access_ip_v4', 'varchar(64)')
        .addColumn('access_ip_v6', 'varchar(64)')
        .addColumn('server_group_id', 'varchar(36)')
        .addColumn('fault', 'text')
        .addColumn('progress', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('launched_at', 'varchar(32)')
        .addColumn('terminated_at', 'varchar(32)')
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('deleted_at', 'varchar(32)')
        .execute();
      await db.schema
        .createIndex('compute_server_project')
        .on('compute_server')
        .columns(['project_id', 'deleted', 'created_at'])
        .execute();
      await db.schema
        .createIndex('compute_server_host')
        .on('compute_server')
        .columns(['host', 'deleted'])
        .execute();
      await db.schema
        .createIndex('compute_server_list')
        .on('compute_server')
        .columns(['deleted', 'created_at', 'seq'])
        .execute();
      await db.schema
        .createTable('compute_server_tag')
        .addColumn('server_id', 'varchar(36)', (c) =>
          c.notNull().references('compute_server.id').onDelete('cascade'),
        )
        .addColumn('tag', 'varchar(60)', (c) => c.notNull())
        .addPrimaryKeyConstraint('compute_server_tag_pk', ['server_id', 'tag'])
        .execute();
      await db.schema.createIndex('compute_server_tag_tag').on('compute_server_tag').column('tag').execute();
      await autoId(db, db.schema.createTable('compute_action'))
        .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)')
        .addColumn('project_id', 'varchar(255)')
        .addColumn('message', 'text')
        .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)')
        .execute();
      await db.schema
        .createIndex('compute_action_server')
        .on('compute_action')
        .columns(['server_id', 'request_id'])
        .execute();
      await autoId(db, db.schema.createTable('compute_action_event'))
        .addColumn('action_id', 'integer', (c) =>
          c.notNull().references('compute_action.id').onDelete('cascade'),
        )
        .addColumn('event', 'varchar(64)', (c) => c.notNull())
        .addColumn('host', 'varchar(255)')
        .addColumn('result', 'varchar(32)')
        .addColumn('traceback', 'text')
        .addColumn('details', 'text')
        .addColumn('start_time', 'varchar(32)', (c) => c.notNull())
        .addColumn('finish_time', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('compute_quota')
        .addColumn('scope', 'varchar(8)', (c) => c.notNull()) // 'project' | 'class' | 'user'
        .addColumn('owner', 'varchar(255)', (c) => c.notNull()) // project id, class name, project:user
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('hard_limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('compute_quota_pk', ['scope', 'owner', 'resource'])
        .execute();
      // One row per project (and one global row), locked FOR UPDATE on PostgreSQL to serialize quota
      // checks and host claims; SQLite serializes write transactions by itself.
      await db.schema
        .createTable('compute_lock')
        .addColumn('name', 'varchar(255)', (c) => c.primaryKey())
        .execute();
      await db.schema
        .createTable('compute_server_group')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('policy', 'varchar(64)', (c) => c.notNull())
        .addColumn('rules', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .execute();
      await autoId(db, db.schema.createTable('compute_aggregate'))
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('availability_zone', 'varchar(255)')
        .addColumn('metadata', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('hosts', 'text', (c) => c.notNull().defaultTo('[]'))
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)')
        .execute();
      await autoId(db, db.schema.createTable('compute_migration'))
        .addColumn('uuid', 'varchar(36)', (c) => c.notNull().unique())
        .addColumn('server_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('source_compute', 'varchar(255)')
        .addColumn('dest_compute', 'varchar(255)')
        .addColumn('source_node', 'varchar(255)')
        .addColumn('dest_node', 'varchar(255)')
        .addColumn('dest_host', 'varchar(255)')
        .addColumn('old_flavor_id', 'varchar(255)')
        .addColumn('new_flavor_id', 'varchar(255)')
        .addColumn('migration_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('status', 'varchar(32)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(32)')
        .execute();
      await db.schema
        .createTable('compute_seq')
        .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  '0002_shelved_image': {
    async up(db: Kysely<any>) {
      // The snapshot a shelve took (Nova keeps it in system_metadata); unshelve boots from it, then deletes it.
      await db.schema.alterTable('compute_server').addColumn('shelved_image_id', 'varchar(36)').execute();
    },
  },
};
