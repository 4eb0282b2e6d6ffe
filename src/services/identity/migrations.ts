import type { Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/** Identity tables. Booleans are integers, JSON is text, times are ISO strings (see core/db). */
export const identityMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      // Domains are projects with is_domain = 1 (as in Keystone); their domain_id is ROOT_DOMAIN.
      await db.schema
        .createTable('project')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('parent_id', 'varchar(64)')
        .addColumn('is_domain', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('description', 'text')
        .addColumn('extra', 'text')
        .addColumn('options', 'text')
        .addUniqueConstraint('project_domain_name', ['domain_id', 'name'])
        .execute();
      await db.schema.createIndex('project_parent').on('project').column('parent_id').execute();
      await db.schema
        .createTable('project_tag')
        .addColumn('project_id', 'varchar(64)', (c) =>
          c.notNull().references('project.id').onDelete('cascade'),
        )
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_tag_pk', ['project_id', 'name'])
        .execute();
      await db.schema
        .createTable('user')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('default_project_id', 'varchar(64)')
        .addColumn('description', 'text')
        .addColumn('email', 'text')
        .addColumn('extra', 'text')
        .addColumn('options', 'text')
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('last_active_at', 'varchar(32)')
        .addColumn('failed_auth_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed_auth_at', 'varchar(32)')
        .addUniqueConstraint('user_domain_name', ['domain_id', 'name'])
        .execute();
      await db.schema
        .createTable('password')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)')
        .addColumn('self_service', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('password_user').on('password').column('user_id').execute();
      await db.schema
        .createTable('group')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(64)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('extra', 'text')
        .addUniqueConstraint('group_domain_name', ['domain_id', 'name'])
        .execute();
      await db.schema
        .createTable('user_group_membership')
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('group_id', 'varchar(64)', (c) => c.notNull().references('group.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('ugm_pk', ['user_id', 'group_id'])
        .execute();
      await db.schema.createIndex('ugm_group').on('user_group_membership').column('group_id').execute();
      // domain_id '<<null>>' marks a global role so the unique constraint works in both dialects.
      await db.schema
        .createTable('role')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('options', 'text')
        .addColumn('extra', 'text')
        .addUniqueConstraint('role_name_domain', ['name', 'domain_id'])
        .execute();
      await db.schema
        .createTable('implied_role')
        .addColumn('prior_role_id', 'varchar(64)', (c) =>
          c.notNull().references('role.id').onDelete('cascade'),
        )
        .addColumn('implied_role_id', 'varchar(64)', (c) =>
          c.notNull().references('role.id').onDelete('cascade'),
        )
        .addPrimaryKeyConstraint('implied_role_pk', ['prior_role_id', 'implied_role_id'])
        .execute();
      // type: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem, GroupSystem
      await db.schema
        .createTable('assignment')
        .addColumn('type', 'varchar(16)', (c) => c.notNull())
        .addColumn('actor_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('role_id', 'varchar(64)', (c) => c.notNull().references('role.id').onDelete('cascade'))
        .addColumn('inherited', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('assignment_pk', ['type', 'actor_id', 'target_id', 'role_id', 'inherited'])
        .execute();
      await db.schema
        .createIndex('assignment_actor')
        .on('assignment')
        .columns(['actor_id', 'target_id'])
        .execute();
      await db.schema.createIndex('assignment_target').on('assignment').column('target_id').execute();
      await db.schema
        .createTable('region')
        .addColumn('id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('description', 'text')
        .addColumn('parent_region_id', 'varchar(255)')
        .addColumn('extra', 'text')
        .execute();
      await db.schema
        .createTable('service')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('name', 'varchar(255)')
        .addColumn('description', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('extra', 'text')
        .execute();
      await db.schema
        .createTable('endpoint')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('service_id', 'varchar(64)', (c) => c.notNull().references('service.id'))
        .addColumn('interface', 'varchar(8)', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('region_id', 'varchar(255)')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('extra', 'text')
        .execute();
      await db.schema
        .createTable('application_credential')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull().references('user.id').onDelete('cascade'))
        .addColumn('project_id', 'varchar(64)')
        .addColumn('system', 'varchar(16)')
        .addColumn('secret_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('expires_at', 'varchar(32)')
        .addColumn('unrestricted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(32)', (c) => c.notNull())
        .addUniqueConstraint('app_cred_user_name', ['user_id', 'name'])
        .execute();
      await db.schema
        .createTable('credential')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('project_id', 'varchar(64)')
        .addColumn('type', 'varchar(255)', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('extra', 'text')
        .execute();
      await db.schema
        .createTable('revocation_event')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('domain_id', 'varchar(64)')
        .addColumn('project_id', 'varchar(64)')
        .addColumn('user_id', 'varchar(64)')
        .addColumn('role_id', 'varchar(64)')
        .addColumn('audit_id', 'varchar(32)')
        .addColumn('audit_chain_id', 'varchar(32)')
        .addColumn('issued_before', 'varchar(32)', (c) => c.notNull())
        .addColumn('revoked_at', 'varchar(32)', (c) => c.notNull())
        .addColumn('expires_at', 'varchar(32)')
        .execute();
      await db.schema.createIndex('revocation_seq').on('revocation_event').column('seq').execute();
      await db.schema
        .createTable('identity_meta')
        .addColumn('key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
};
