/** GET /servers/{id}/topology, 2.78 (nova/api/openstack/compute/server_topology.py). */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import { callerOf, requireMv, type P } from './common.js';

export function serverTopologyRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get(
    '/v2.1/servers/:id/topology',
    { config: { policy: 'os_compute_api:os-server-topology:index' } },
    async (req) => {
      requireMv(req, 78);
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-server-topology:index');
      return {
        nodes: [],
        pagesize_kb: null,
        ...(mgr.can('os_compute_api:os-server-topology:host:index', { project_id: s.project_id }, c)
          ? {}
          : {}),
      };
    },
  );
}
