/** /servers/{id}/os-volume_attachments (nova/api/openstack/compute/volumes.py): no block storage yet. */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import { bad, bodyKey, callerOf, str, type P } from './common.js';

export function volumeAttachmentRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:index' } },
    async (req) => {
      await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-volumes-attachments:index',
      );
      return { volumeAttachments: [] };
    },
  );
  app.post(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-volumes-attachments:create');
      mgr.checkLock(c, s);
      const b = bodyKey(req, 'volumeAttachment');
      str(b, 'volumeId', { required: true });
      throw bad('Attaching volumes needs the block-storage service, which this cloud does not have yet.');
    },
  );
}
