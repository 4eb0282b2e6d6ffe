/** lock, unlock (nova/api/openstack/compute/lock_server.py). */
import { mv, noExtra, str } from '../common.js';
import { accepted, type ServerAction } from './types.js';

export const lockActions: Record<string, ServerAction> = {
  lock: {
    rule: 'os_compute_api:os-lock-server:lock',
    async handle(x) {
      const reason = mv(x.req).ge(73) ? str(x.a, 'locked_reason', { max: 255 }) : undefined;
      if (mv(x.req).ge(73)) noExtra(x.a, ['locked_reason'], 'lock');
      await x.mgr.lock(x.c, x.s, reason);
      return accepted(x);
    },
  },
  unlock: {
    rule: 'os_compute_api:os-lock-server:unlock',
    async handle(x) {
      const { c, s } = x;
      if (s.locked && s.locked_by === 'admin' && !c.isAdmin)
        x.req.authorize({ project_id: s.project_id }, 'os_compute_api:os-lock-server:unlock:unlock_override');
      await x.mgr.unlock(c, s);
      return accepted(x);
    },
  },
};
