/** GET /servers/{id}/ips (nova/api/openstack/compute/ips.py). */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import { addressesView } from '../views.js';
import { callerOf, type Obj, type P } from './common.js';

export function ipRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get('/v2.1/servers/:id/ips', { config: { policy: 'os_compute_api:ips:index' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:ips:index');
    const a = addressesView(s);
    const plain: Record<string, unknown[]> = {};
    for (const [n, l] of Object.entries(a))
      plain[n] = (l as Obj[]).map((x) => ({ version: x.version, addr: x.addr }));
    return { addresses: plain };
  });
  app.get(
    '/v2.1/servers/:id/ips/:network',
    { config: { policy: 'os_compute_api:ips:show' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:ips:show');
      const a = addressesView(s)[p.network!];
      if (!a) throw new ApiError(404, 'Instance is not a member of specified network', 'itemNotFound');
      return { [p.network!]: (a as Obj[]).map((x) => ({ version: x.version, addr: x.addr })) };
    },
  );
}
