/** Instance actions (nova/compute/instance_actions.py): the one place that records them. */
import type { Caller } from '../../../core/auth/caller.js';
import { ManagerBase, now, rid } from './base.js';

/** Instance action names and compute-manager event names per operation (nova/compute/instance_actions.py). */
export const ACTIONS: Record<string, [action: string, event: string]> = {
  spawn: ['create', 'compute__do_build_and_run_instance'],
  destroy: ['delete', 'compute_terminate_instance'],
  reboot: ['reboot', 'compute_reboot_instance'],
  power_off: ['stop', 'compute_stop_instance'],
  power_on: ['start', 'compute_start_instance'],
  pause: ['pause', 'compute_pause_instance'],
  unpause: ['unpause', 'compute_unpause_instance'],
  suspend: ['suspend', 'compute_suspend_instance'],
  resume: ['resume', 'compute_resume_instance'],
  rescue: ['rescue', 'compute_rescue_instance'],
  unrescue: ['unrescue', 'compute_unrescue_instance'],
  rebuild: ['rebuild', 'compute_rebuild_instance'],
  resize: ['resize', 'compute_finish_resize'],
  resize_revert: ['revertResize', 'compute_finish_revert_resize'],
  snapshot: ['createImage', 'compute_snapshot_instance'],
  shelve: ['shelve', 'compute_shelve_offload_instance'],
  unshelve: ['unshelve', 'compute_unshelve_instance'],
  attach_interface: ['attach_interface', 'compute_attach_interface'],
  detach_interface: ['detach_interface', 'compute_detach_interface'],
  attach_volume: ['attach_volume', 'compute_attach_volume'],
  detach_volume: ['detach_volume', 'compute_detach_volume'],
  migrate_in: ['migrate', 'compute_finish_resize'],
};

/** The compute-manager event of an operation. */
export const eventOf = (op: keyof typeof ACTIONS): string => ACTIONS[op]![1];

export class InstanceActions extends ManagerBase {
  /** Record an instance action the caller started (and its first event, on `host`, when it has one). */
  async recordAction(
    c: Caller,
    serverId: string,
    action: string,
    o: { event?: string; host?: string | null; at?: string } = {},
  ): Promise<void> {
    await this.store.startAction(
      {
        server_id: serverId,
        action,
        request_id: rid(c),
        user_id: c.userId,
        project_id: c.projectId,
        message: null,
        start_time: o.at ?? now(),
      },
      o.event,
      o.host,
    );
  }
}
