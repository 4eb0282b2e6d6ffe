/**
 * os-resetState, injectNetworkInfo (admin_actions.py), migrate, os-migrateLive (migrate_server.py),
 * forceDelete, restore (deferred_delete.py).
 */
import { ApiError } from '../../../../core/errors.js';
import { bad, mv, noExtra, str } from '../common.js';
import { accepted, type ActionCtx, type ServerAction } from './types.js';

async function migrate(x: ActionCtx) {
  const { arg, a, mgr, c, s, action, req } = x;
  const live = action === 'os-migrateLive';
  if (live) {
    if (!arg || typeof arg !== 'object')
      throw bad("Invalid input for field/attribute os-migrateLive. 'host' is a required property");
    noExtra(
      a,
      mv(req).lt(25)
        ? ['host', 'block_migration', 'disk_over_commit']
        : mv(req).lt(30)
          ? ['host', 'block_migration']
          : ['host', 'block_migration', 'force'],
      'os-migrateLive',
    );
    if (a.block_migration === undefined)
      throw bad("Invalid input for field/attribute os-migrateLive. 'block_migration' is a required property");
  } else if (arg !== null && arg !== undefined) {
    if (mv(req).lt(56)) throw bad('Invalid input for field/attribute migrate. Value: not null');
    noExtra(a, ['host'], 'migrate');
  }
  const host = a.host === null || a.host === undefined ? undefined : str(a, 'host', { min: 1, max: 255 });
  mgr.checkLock(c, s);
  mgr.checkState(s, action, live ? ['active', 'paused'] : ['active', 'stopped']);
  if (host && !(await mgr.host(host)))
    throw new ApiError(400, `Compute host ${host} could not be found.`, 'badRequest');
  if (host && host === s.host) throw bad(`The target host can't be the same one.`);
  await mgr.moveServer(c, s, { live, host });
  return accepted(x);
}

export const adminActions: Record<string, ServerAction> = {
  'os-resetState': {
    rule: 'os_compute_api:os-admin-actions:reset_state',
    async handle(x) {
      const state = str(x.a, 'state', { required: true })!;
      if (!['active', 'error'].includes(state))
        throw bad(
          `Invalid input for field/attribute state. Value: ${state}. '${state}' is not one of ['active', 'error']`,
        );
      await x.mgr.resetState(x.c, x.s, state);
      return accepted(x);
    },
  },
  injectNetworkInfo: {
    rule: 'os_compute_api:os-admin-actions:inject_network_info',
    handle: async (x) => accepted(x),
  },
  migrate: { rule: 'os_compute_api:os-migrate-server:migrate', handle: migrate },
  'os-migrateLive': { rule: 'os_compute_api:os-migrate-server:migrate_live', handle: migrate },
  forceDelete: {
    rule: 'os_compute_api:os-deferred-delete:force',
    async handle(x) {
      await x.mgr.deleteServer(x.c, x.s, true);
      return accepted(x);
    },
  },
  restore: {
    rule: 'os_compute_api:os-deferred-delete:restore',
    async handle({ s }) {
      throw new ApiError(
        409,
        `Cannot 'restore' instance ${s.id} while it is in vm_state ${s.vm_state}`,
        'conflictingRequest',
      );
    },
  },
};
