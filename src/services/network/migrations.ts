import type { Kysely } from 'kysely';
import type { ServiceMigrations } from '../../core/db/index.js';

/**
 * Network tables (prefix `net_`). Booleans are integers, JSON is text, times are ISO strings (see core/db).
 * Standard attributes (revision_number, created_at, updated_at, description) are columns of each table;
 * tags live in one table for every resource type.
 */
export const networkMigrations: ServiceMigrations = {
  '0001_init': {
    async up(db: Kysely<any>) {
      const std = <T extends { addColumn: (...a: any[]) => T }>(t: T): T =>
        t
          .addColumn('description', 'varchar(255)', (c: any) => c.notNull().defaultTo(''))
          .addColumn('revision_number', 'integer', (c: any) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'varchar(32)', (c: any) => c.notNull())
          .addColumn('updated_at', 'varchar(32)', (c: any) => c.notNull());

      await std(
        db.schema
          .createTable('net_networks')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('external', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('mtu', 'integer', (c) => c.notNull())
          .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('network_type', 'varchar(32)')
          .addColumn('physical_network', 'varchar(64)')
          .addColumn('segmentation_id', 'integer')
          .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]')),
      ).execute();
      await db.schema.createIndex('net_networks_project').on('net_networks').column('project_id').execute();

      // Segment allocations: the unique index makes VLAN ids / VNIs / flat physical networks exclusive.
      await db.schema
        .createTable('net_segments')
        .addColumn('network_id', 'varchar(36)', (c) =>
          c.primaryKey().references('net_networks.id').onDelete('cascade'),
        )
        .addColumn('network_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('physical_network', 'varchar(64)', (c) => c.notNull().defaultTo(''))
        .addColumn('segmentation_id', 'integer')
        .execute();
      await db.schema
        .createIndex('net_segments_unique')
        .on('net_segments')
        .columns(['network_type', 'physical_network', 'segmentation_id'])
        .unique()
        .execute();

      await std(
        db.schema
          .createTable('net_subnets')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('net_networks.id'))
          .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('ip_version', 'integer', (c) => c.notNull())
          .addColumn('cidr', 'varchar(64)', (c) => c.notNull())
          .addColumn('gateway_ip', 'varchar(64)')
          .addColumn('enable_dhcp', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('ipv6_ra_mode', 'varchar(32)')
          .addColumn('ipv6_address_mode', 'varchar(32)')
          .addColumn('allocation_pools', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('dns_nameservers', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('host_routes', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('subnetpool_id', 'varchar(36)')
          .addColumn('segment_id', 'varchar(36)'),
      ).execute();
      await db.schema.createIndex('net_subnets_network').on('net_subnets').column('network_id').execute();

      await std(
        db.schema
          .createTable('net_ports')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('network_id', 'varchar(36)', (c) => c.notNull().references('net_networks.id'))
          .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('mac_address', 'varchar(32)', (c) => c.notNull())
          .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('device_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('device_owner', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('port_security_enabled', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('binding_host_id', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('binding_profile', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('binding_vif_type', 'varchar(64)', (c) => c.notNull().defaultTo('unbound'))
          .addColumn('binding_vif_details', 'text', (c) => c.notNull().defaultTo('{}'))
          .addColumn('binding_vnic_type', 'varchar(64)', (c) => c.notNull().defaultTo('normal'))
          .addColumn('allowed_address_pairs', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addUniqueConstraint('net_ports_network_mac', ['network_id', 'mac_address']),
      ).execute();
      await db.schema.createIndex('net_ports_project').on('net_ports').column('project_id').execute();
      await db.schema.createIndex('net_ports_device').on('net_ports').column('device_id').execute();

      // One row per allocated address; the primary key makes allocation exact under concurrency.
      await db.schema
        .createTable('net_ipallocations')
        .addColumn('subnet_id', 'varchar(36)', (c) =>
          c.notNull().references('net_subnets.id').onDelete('cascade'),
        )
        .addColumn('ip_address', 'varchar(64)', (c) => c.notNull())
        .addColumn('network_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('port_id', 'varchar(36)', (c) =>
          c.notNull().references('net_ports.id').onDelete('cascade'),
        )
        .addColumn('seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('net_ipallocations_pk', ['subnet_id', 'ip_address'])
        .execute();
      await db.schema
        .createIndex('net_ipallocations_port')
        .on('net_ipallocations')
        .column('port_id')
        .execute();

      await std(
        db.schema
          .createTable('net_security_groups')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('stateful', 'integer', (c) => c.notNull().defaultTo(1)),
      ).execute();
      await db.schema.createIndex('net_sg_project').on('net_security_groups').column('project_id').execute();
      await db.schema
        .createTable('net_default_security_groups')
        .addColumn('project_id', 'varchar(255)', (c) => c.primaryKey())
        .addColumn('security_group_id', 'varchar(36)', (c) =>
          c.notNull().references('net_security_groups.id').onDelete('cascade'),
        )
        .execute();
      await std(
        db.schema
          .createTable('net_security_group_rules')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('security_group_id', 'varchar(36)', (c) =>
            c.notNull().references('net_security_groups.id').onDelete('cascade'),
          )
          .addColumn('direction', 'varchar(16)', (c) => c.notNull())
          .addColumn('ethertype', 'varchar(16)', (c) => c.notNull())
          .addColumn('protocol', 'varchar(40)')
          .addColumn('port_range_min', 'integer')
          .addColumn('port_range_max', 'integer')
          .addColumn('remote_ip_prefix', 'varchar(64)')
          .addColumn('remote_group_id', 'varchar(36)')
          .addColumn('remote_address_group_id', 'varchar(36)'),
      ).execute();
      await db.schema
        .createIndex('net_sgr_group')
        .on('net_security_group_rules')
        .column('security_group_id')
        .execute();
      await db.schema
        .createTable('net_port_security_groups')
        .addColumn('port_id', 'varchar(36)', (c) =>
          c.notNull().references('net_ports.id').onDelete('cascade'),
        )
        .addColumn('security_group_id', 'varchar(36)', (c) =>
          c.notNull().references('net_security_groups.id'),
        )
        .addPrimaryKeyConstraint('net_port_sg_pk', ['port_id', 'security_group_id'])
        .execute();
      await db.schema
        .createIndex('net_port_sg_group')
        .on('net_port_security_groups')
        .column('security_group_id')
        .execute();

      await std(
        db.schema
          .createTable('net_routers')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addColumn('admin_state_up', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('gw_port_id', 'varchar(36)')
          .addColumn('gw_network_id', 'varchar(36)')
          .addColumn('enable_snat', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('routes', 'text', (c) => c.notNull().defaultTo('[]'))
          .addColumn('availability_zone_hints', 'text', (c) => c.notNull().defaultTo('[]')),
      ).execute();

      await std(
        db.schema
          .createTable('net_floatingips')
          .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
          .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
          .addColumn('floating_network_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('floating_ip_address', 'varchar(64)', (c) => c.notNull())
          .addColumn('floating_port_id', 'varchar(36)', (c) => c.notNull())
          .addColumn('fixed_port_id', 'varchar(36)')
          .addColumn('fixed_ip_address', 'varchar(64)')
          .addColumn('router_id', 'varchar(36)')
          .addColumn('status', 'varchar(16)', (c) => c.notNull())
          .addColumn('dns_name', 'varchar(255)', (c) => c.notNull().defaultTo(''))
          .addUniqueConstraint('net_fip_fixed', ['floating_network_id', 'fixed_port_id', 'fixed_ip_address']),
      ).execute();

      await db.schema
        .createTable('net_rbac_policies')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('object_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('object_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('target_project', 'varchar(255)', (c) => c.notNull())
        .addColumn('action', 'varchar(32)', (c) => c.notNull())
        .addUniqueConstraint('net_rbac_unique', ['object_type', 'object_id', 'target_project', 'action'])
        .execute();
      await db.schema.createIndex('net_rbac_object').on('net_rbac_policies').column('object_id').execute();

      await db.schema
        .createTable('net_quotas')
        .addColumn('project_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('resource', 'varchar(64)', (c) => c.notNull())
        .addColumn('limit', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('net_quotas_pk', ['project_id', 'resource'])
        .execute();

      await db.schema
        .createTable('net_tags')
        .addColumn('resource_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('resource_id', 'varchar(36)', (c) => c.notNull())
        .addColumn('tag', 'varchar(255)', (c) => c.notNull())
        .addPrimaryKeyConstraint('net_tags_pk', ['resource_type', 'resource_id', 'tag'])
        .execute();
      await db.schema.createIndex('net_tags_tag').on('net_tags').columns(['resource_type', 'tag']).execute();
    },
  },
  // Lookups made for every port change and list: a network's DHCP port, floating IPs of a port or router,
  // routers on an external network, rules naming a remote group.
  '0002_lookup_indexes': {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('net_ports_network_owner')
        .on('net_ports')
        .columns(['network_id', 'device_owner'])
        .execute();
      await db.schema.createIndex('net_fip_port').on('net_floatingips').column('fixed_port_id').execute();
      await db.schema.createIndex('net_fip_router').on('net_floatingips').column('router_id').execute();
      await db.schema.createIndex('net_routers_gw').on('net_routers').column('gw_network_id').execute();
      await db.schema
        .createIndex('net_sgr_remote')
        .on('net_security_group_rules')
        .column('remote_group_id')
        .execute();
      await db.schema.createIndex('net_pool_ip').on('net_ipallocations').column('ip_address').execute();
    },
  },
};
