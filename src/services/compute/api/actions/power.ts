/** reboot, os-start, os-stop, pause, unpause, suspend, resume, rescue, unrescue (servers.py, pause_server.py, suspend_server.py, rescue.py). */
import { bad, noExtra } from '../common.js';
import { accepted, simpleAction, type ServerAction } from './types.js';

/** Task states a hard reboot may interrupt (nova/compute/api.py reboot). */
const HARD_REBOOT_FROM = [
  null,
  'rebooting',
  'reboot_pending',
  'reboot_started',
  'resuming',
  'pausing',
  'unpausing',
  'suspending',
  'powering-off',
  'powering-on',
  'rebooting_hard',
  'reboot_pending_hard',
  'reboot_started_hard',
];

export const powerActions: Record<string, ServerAction> = {
  reboot: {
    rule: 'os_compute_api:servers:reboot',
    async handle(x) {
      const { arg, a } = x;
      if (!arg || typeof arg !== 'object')
        throw bad("Invalid input for field/attribute reboot. 'type' is a required property");
      const type = String(a.type ?? '').toUpperCase();
      if (a.type === undefined)
        throw bad("Invalid input for field/attribute reboot. 'type' is a required property");
      if (!['SOFT', 'HARD'].includes(type))
        throw bad(
          `Invalid input for field/attribute type. Value: ${a.type}. '${a.type}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
        );
      const soft = type === 'SOFT';
      await x.mgr.cast(x.c, x.s, {
        action: x.action,
        op: 'reboot',
        vmStates: soft ? ['active'] : ['active', 'stopped', 'paused', 'suspended', 'error'],
        ...(soft ? {} : { taskStates: HARD_REBOOT_FROM }),
        taskState: soft ? 'rebooting' : 'rebooting_hard',
        task: () => ({ op: 'reboot', uuid: x.s.id, requestId: x.rid, type: soft ? 'SOFT' : 'HARD' }),
      });
      return accepted(x);
    },
  },
  'os-stop': simpleAction('os_compute_api:servers:stop', 'power_off', ['active', 'error'], 'powering-off'),
  'os-start': simpleAction('os_compute_api:servers:start', 'power_on', ['stopped'], 'powering-on'),
  pause: simpleAction(
    'os_compute_api:os-pause-server:pause',
    'pause',
    ['active'],
    'pausing',
    'supportsPause',
  ),
  unpause: simpleAction('os_compute_api:os-pause-server:unpause', 'unpause', ['paused'], 'unpausing'),
  suspend: simpleAction(
    'os_compute_api:os-suspend-server:suspend',
    'suspend',
    ['active'],
    'suspending',
    'supportsSuspend',
  ),
  resume: simpleAction('os_compute_api:os-suspend-server:resume', 'resume', ['suspended'], 'resuming'),
  unrescue: simpleAction('os_compute_api:os-unrescue', 'unrescue', ['rescued'], 'unrescuing'),
  rescue: {
    rule: 'os_compute_api:os-rescue',
    async handle(x) {
      const { a } = x;
      noExtra(a, ['adminPass', 'rescue_image_ref'], 'rescue');
      await x.mgr.cast(x.c, x.s, {
        action: x.action,
        op: 'rescue',
        vmStates: ['active', 'stopped', 'error'],
        taskState: 'rescuing',
        task: () => ({ op: 'rescue', uuid: x.s.id, requestId: x.rid }),
        capability: 'supportsRescue',
      });
      x.reply.code(200);
      return {
        adminPass: typeof a.adminPass === 'string' ? a.adminPass : Math.random().toString(36).slice(2, 14),
      };
    },
  },
};
