/** /servers/{id}/os-volume_attachments (nova/api/openstack/compute/volumes.py), through block storage. */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import type { ServerVolume } from '../manager/volumes.js';
import { ApiError } from '../../../core/errors.js';
import { bad, bodyKey, callerOf, str, type P } from './common.js';

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Nova's volumeAttachment (2.70+ adds tag, 2.79 delete_on_termination; 2.89 attachment_id). */
const view = (a: ServerVolume) => ({
  id: a.volumeId,
  serverId: a.serverId,
  volumeId: a.volumeId,
  device: a.device,
  tag: null,
  delete_on_termination: false,
});

export function volumeAttachmentRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:index' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-volumes-attachments:index',
      );
      return { volumeAttachments: (await mgr.serverVolumes(s.id)).map(view) };
    },
  );
  app.get(
    '/v2.1/servers/:id/os-volume_attachments/:volume_id',
    { config: { policy: 'os_compute_api:os-volumes-attachments:show' } },
    async (req) => {
      const p = req.params as P;
      const s = await mgr.getServer(callerOf(req, mgr), p.id!, 'os_compute_api:os-volumes-attachments:show');
      const a = (await mgr.serverVolumes(s.id)).find((x) => x.volumeId === p.volume_id);
      if (!a)
        throw new ApiError(404, `Volume ${p.volume_id} is not attached to server ${s.id}`, 'itemNotFound');
      return { volumeAttachment: view(a) };
    },
  );
  app.post(
    '/v2.1/servers/:id/os-volume_attachments',
    { config: { policy: 'os_compute_api:os-volumes-attachments:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-volumes-attachments:create');
      const b = bodyKey(req, 'volumeAttachment');
      const volumeId = str(b, 'volumeId', { required: true })!;
      if (!UUID_RE.test(volumeId))
        throw bad(
          `Invalid input for field/attribute volumeId. Value: ${volumeId}. '${volumeId}' is not a 'uuid'`,
        );
      const device = str(b, 'device', { nullable: true }) ?? undefined;
      if (device !== undefined && !/^\/dev\/[a-z]+[0-9]*$/.test(device))
        throw bad(`Invalid input for field/attribute device. Value: ${device}.`);
      return { volumeAttachment: view(await mgr.attachVolume(c, s, volumeId, device)) };
    },
  );
  app.delete(
    '/v2.1/servers/:id/os-volume_attachments/:volume_id',
    { config: { policy: 'os_compute_api:os-volumes-attachments:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:os-volumes-attachments:delete');
      await mgr.detachVolume(c, s, p.volume_id!);
      return reply.code(202).send();
    },
  );
}
