/** /servers: list, create, show, update, delete (nova/api/openstack/compute/servers.py). */
import type { FastifyInstance } from 'fastify';
import type { ComputeManager } from '../manager/index.js';
import type { ServerRow } from '../rows.js';
import { bodyKey, callerOf, mv, noExtra, str, type P } from './common.js';
import { createServer } from './server-create.js';
import { listServers } from './server-list.js';
import { renderServer } from './server-render.js';

export function serverRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  app.get('/v2.1/servers', { config: { policy: 'os_compute_api:servers:index' } }, (req) =>
    listServers(req, mgr, base, false),
  );
  app.get('/v2.1/servers/detail', { config: { policy: 'os_compute_api:servers:detail' } }, (req) =>
    listServers(req, mgr, base, true),
  );
  app.post('/v2.1/servers', { config: { policy: 'os_compute_api:servers:create' } }, (req, reply) =>
    createServer(req, reply, mgr, base),
  );

  app.get('/v2.1/servers/:id', { config: { policy: 'os_compute_api:servers:show' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.refreshAddresses(
      await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:show'),
    );
    return { server: await renderServer(req, mgr, base, s) };
  });

  app.put('/v2.1/servers/:id', { config: { policy: 'os_compute_api:servers:update' } }, async (req) => {
    const c = callerOf(req, mgr);
    const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:update');
    const b = bodyKey(req, 'server');
    const allowed = ['name', 'accessIPv4', 'accessIPv6', 'OS-DCF:diskConfig', 'hostname'];
    if (mv(req).ge(19)) allowed.push('description');
    noExtra(b, allowed, 'server');
    const values: Partial<ServerRow> = {};
    const name = str(b, 'name', { min: 1, max: 255, trim: true });
    if (name !== undefined) values.name = name;
    if (b.description !== undefined)
      values.description = str(b, 'description', { max: 255, nullable: true }) ?? null;
    if (b.accessIPv4 !== undefined) values.access_ip_v4 = str(b, 'accessIPv4') ?? null;
    if (b.accessIPv6 !== undefined) values.access_ip_v6 = str(b, 'accessIPv6') ?? null;
    if (b.hostname !== undefined) values.hostname = str(b, 'hostname', { min: 1, max: 63 }) ?? null;
    return { server: await renderServer(req, mgr, base, await mgr.updateServer(s, values)) };
  });

  app.delete(
    '/v2.1/servers/:id',
    { config: { policy: 'os_compute_api:servers:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:servers:delete');
      await mgr.deleteServer(c, s);
      reply.code(204).send();
    },
  );
}
