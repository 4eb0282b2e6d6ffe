/** os-migrations (nova/api/openstack/compute/migrations.py). */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import { naiveMicro } from '../views.js';
import { limitOf, mv, q1 } from './common.js';

export function migrationRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;
  app.get(
    '/v2.1/os-migrations',
    { config: { policy: 'os_compute_api:os-migrations:index' } },
    async (req) => {
      req.authorize({});
      const v = mv(req);
      const where: Parameters<typeof store.migrations>[0] = {};
      for (const [k, col] of [
        ['instance_uuid', 'server_id'],
        ['status', 'status'],
        ['migration_type', 'migration_type'],
        ['source_compute', 'source_compute'],
      ] as const) {
        const val = q1(req, k);
        if (val) where[col] = val;
      }
      if (v.ge(80)) {
        const p = q1(req, 'project_id');
        if (p) where.project_id = p;
      }
      const rows = await store.migrations(where, v.ge(59) ? limitOf(req) : undefined);
      return {
        migrations: rows.map((m) => ({
          id: m.id,
          instance_uuid: m.server_id,
          source_compute: m.source_compute,
          dest_compute: m.dest_compute,
          source_node: m.source_node,
          dest_node: m.dest_node,
          dest_host: m.dest_host,
          old_instance_type_id: m.old_flavor_id,
          new_instance_type_id: m.new_flavor_id,
          status: m.status,
          created_at: naiveMicro(new Date(m.created_at).toISOString()),
          updated_at: m.updated_at ? naiveMicro(new Date(m.updated_at).toISOString()) : null,
          ...(v.ge(23)
            ? {
                migration_type: m.migration_type,
                links: m.migration_type === 'live-migration' ? [] : undefined,
              }
            : {}),
          ...(v.ge(59) ? { uuid: m.uuid } : {}),
          ...(v.ge(80) ? { project_id: m.project_id, user_id: m.user_id } : {}),
        })),
      };
    },
  );
}
