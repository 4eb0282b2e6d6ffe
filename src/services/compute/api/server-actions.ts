/**
 * POST /servers/{id}/action: one key names the action; each concern's file (actions/*.ts) declares its
 * actions with their policy rule and handler, as Nova's server action controllers do.
 */
import type { FastifyInstance } from 'fastify';
import type { ComputeManager } from '../manager/index.js';
import { adminActions } from './actions/admin.js';
import { consoleActions } from './actions/consoles.js';
import { lockActions } from './actions/lock.js';
import { powerActions } from './actions/power.js';
import { rebuildActions } from './actions/rebuild.js';
import { resizeActions } from './actions/resize.js';
import { snapshotActions } from './actions/snapshots.js';
import type { ServerAction } from './actions/types.js';
import { bad, callerOf, type Obj, type P } from './common.js';
import { securityGroupActions } from './security-groups.js';

const ACTIONS: Record<string, ServerAction> = {
  ...powerActions,
  ...lockActions,
  ...resizeActions,
  ...rebuildActions,
  ...snapshotActions,
  ...consoleActions,
  ...adminActions,
  ...securityGroupActions,
};

export function serverActionRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  app.post(
    '/v2.1/servers/:id/action',
    { config: { policy: 'os_compute_api:servers:show' } },
    async (req, reply) => {
      const body = req.body as Obj | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('Malformed request body');
      const keys = Object.keys(body);
      if (keys.length !== 1)
        throw bad('There is either no action or more than one action in the request body.');
      const action = keys[0]!;
      const handler = Object.hasOwn(ACTIONS, action) ? ACTIONS[action] : undefined;
      if (!handler) throw bad(`There is no such action: ${action}`);
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, handler.rule);
      const arg = body[action];
      const a = (arg && typeof arg === 'object' && !Array.isArray(arg) ? arg : {}) as Obj;
      return handler.handle({ req, reply, mgr, base, c, s, action, arg, a, rid: c.requestId ?? '' });
    },
  );
}
