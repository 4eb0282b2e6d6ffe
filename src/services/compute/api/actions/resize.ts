/** resize, confirmResize, revertResize (nova/api/openstack/compute/servers.py). */
import { json } from '../../../../core/db/index.js';
import type { FlavorRow } from '../../rows.js';
import { bad, noExtra } from '../common.js';
import { accepted, type ServerAction } from './types.js';

export const resizeActions: Record<string, ServerAction> = {
  resize: {
    rule: 'os_compute_api:servers:resize',
    async handle(x) {
      const { arg, a, mgr, c, s, action } = x;
      if (!arg || typeof arg !== 'object')
        throw bad("Invalid input for field/attribute resize. 'flavorRef' is a required property");
      noExtra(a, ['flavorRef', 'OS-DCF:diskConfig'], 'resize');
      if (a.flavorRef === undefined)
        throw bad("Invalid input for field/attribute resize. 'flavorRef' is a required property");
      const fid = String(a.flavorRef).split('/').pop()!;
      mgr.checkLock(c, s);
      mgr.checkState(s, action, ['active', 'stopped']);
      const nf = await mgr.usableFlavor(c, fid);
      if (!nf) throw bad(`Unable to find flavor with ID ${fid}`);
      const cur = json<FlavorRow>(s.flavor, {} as FlavorRow);
      if (nf.id === cur.id) throw bad('When resizing, instances must change flavor!');
      if (nf.disk < cur.disk)
        throw bad(
          `Resizing to a flavor with a smaller disk is not supported (flavor disk ${nf.disk} GB < ${cur.disk} GB).`,
        );
      await mgr.resize(c, s, nf, action);
      return accepted(x);
    },
  },
  confirmResize: {
    rule: 'os_compute_api:servers:confirm_resize',
    async handle(x) {
      await x.mgr.confirmResize(x.c, x.s);
      return x.reply.code(204).send();
    },
  },
  revertResize: {
    rule: 'os_compute_api:servers:revert_resize',
    async handle(x) {
      await x.mgr.revertResize(x.c, x.s, x.action);
      return accepted(x);
    },
  },
};
