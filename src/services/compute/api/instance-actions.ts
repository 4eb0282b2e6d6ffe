/** /servers/{id}/os-instance-actions (nova/api/openstack/compute/instance_actions.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Caller } from '../../../core/auth/caller.js';
import { ApiError } from '../../../core/errors.js';
import { notFoundServer, type ComputeManager } from '../manager/index.js';
import type { ServerRow } from '../rows.js';
import { actionView, hostId, naiveMicro } from '../views.js';
import { bad, callerOf, limitOf, mv, q1, type P } from './common.js';

export function instanceActionRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;

  /** The server (deleted ones too from 2.21) if the caller may see its actions. */
  async function serverFor(req: FastifyRequest, c: Caller, id: string): Promise<ServerRow> {
    const s = await store.server(id, { deleted: mv(req).ge(21) });
    if (!s) throw notFoundServer(id);
    req.authorize({ project_id: s.project_id });
    if (s.project_id !== c.projectId && !c.isAdmin) throw notFoundServer(id);
    return s;
  }

  app.get(
    '/v2.1/servers/:id/os-instance-actions',
    { config: { policy: 'os_compute_api:os-instance-actions:list' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await serverFor(req, c, (req.params as P).id!);
      const limit = mv(req).ge(58) ? limitOf(req) : undefined;
      const marker = mv(req).ge(58) ? q1(req, 'marker') : undefined;
      let before: number | undefined;
      if (marker) {
        const m = await store.action(s.id, marker, false);
        if (!m) throw bad(`Marker ${marker} could not be found.`);
        before = m.id;
      }
      const rows = await store.actions(s.id, { before, limit });
      return { instanceActions: rows.map((a) => actionView(a, mv(req))) };
    },
  );
  app.get(
    '/v2.1/servers/:id/os-instance-actions/:req',
    { config: { policy: 'os_compute_api:os-instance-actions:show' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await serverFor(req, c, p.id!);
      const a = await store.action(s.id, p.req!, false);
      if (!a)
        throw new ApiError(
          404,
          `Action for request_id ${p.req} on instance ${s.id} not found`,
          'itemNotFound',
        );
      const out: Record<string, unknown> = actionView(a, mv(req));
      const target = { project_id: s.project_id };
      const admin = mgr.can('os_compute_api:os-instance-actions:events', target, c);
      if (mv(req).ge(51) || admin) {
        const details =
          mv(req).ge(84) && mgr.can('os_compute_api:os-instance-actions:events:details', target, c);
        out.events = (await store.events(a.id)).map((e) => ({
          event: e.event,
          start_time: naiveMicro(new Date(e.start_time).toISOString()),
          finish_time: e.finish_time ? naiveMicro(new Date(e.finish_time).toISOString()) : null,
          result: e.result,
          ...(admin ? { traceback: e.traceback } : {}),
          ...(mv(req).ge(62)
            ? { hostId: hostId(s.project_id, e.host), ...(admin ? { host: e.host } : {}) }
            : {}),
          ...(details ? { details: e.details } : {}),
        }));
      }
      return { instanceAction: out };
    },
  );
}
