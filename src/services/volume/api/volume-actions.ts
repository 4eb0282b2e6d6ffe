/** POST /volumes/{id}/action: one key per action, each with its own Cinder rule (checked by the manager). */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { parseBool } from '../manager/common.js';
import { caller, mv, params, type Api } from './common.js';

export function volumeActionRoutes(app: FastifyInstance, api: Api): void {
  const { mgr } = api;
  app.post('/volumes/:volume_id/action', { config: { policy: 'volume:update' } }, async (req, reply) => {
    const body = req.body as Record<string, any> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1)
      throw new ApiError(
        400,
        'There is no such action: the body must hold exactly one action.',
        'badRequest',
      );
    const [action, raw] = Object.entries(body)[0]!;
    const b = (raw && typeof raw === 'object' ? raw : {}) as Record<string, any>;
    const c = caller(req, api.policy);
    const id = params(req).volume_id!;
    const accepted = () => reply.code(202).send();
    switch (action) {
      case 'os-extend':
        await mgr.volumes.extend(
          c,
          id,
          typeof b.new_size === 'string' && /^\d+$/.test(b.new_size) ? Number(b.new_size) : b.new_size,
          mv(req).ge(42),
        );
        return accepted();
      case 'os-set_bootable':
        if (!('bootable' in b)) throw new ApiError(400, 'Must specify bootable in request.', 'badRequest');
        await mgr.volumes.setBootable(c, id, parseBool(b.bootable, 'bootable'));
        return reply.code(200).send();
      case 'os-update_readonly_flag':
        if (!('readonly' in b)) throw new ApiError(400, 'Must specify readonly in request.', 'badRequest');
        await mgr.volumes.setReadonly(c, id, parseBool(b.readonly, 'readonly'));
        return accepted();
      case 'os-reset_status':
        await mgr.volumes.resetStatus(c, id, b);
        return accepted();
      case 'os-force_delete':
        await mgr.volumes.delete(c, id, { force: true });
        return accepted();
      case 'os-retype':
        await mgr.volumes.retype(c, id, b.new_type);
        return accepted();
      case 'revert':
        if (mv(req).lt(40)) throw new ApiError(404, 'There is no such action: revert', 'itemNotFound');
        await mgr.volumes.revert(c, id, b.snapshot_id);
        return accepted();
      case 'os-volume_upload_image':
        reply.code(202);
        return { 'os-volume_upload_image': await mgr.volumes.uploadToImage(c, id, b) };
      case 'os-set_image_metadata':
        return { metadata: await mgr.volumes.setImageMetadata(c, id, b.metadata) };
      case 'os-unset_image_metadata':
        await mgr.volumes.unsetImageMetadata(c, id, b.key);
        return reply.code(200).send();
      case 'os-show_image_metadata':
        return { metadata: await mgr.volumes.imageMetadata(c, id) };
      case 'os-reserve':
        await mgr.attachments.reserve(c, id);
        return accepted();
      case 'os-unreserve':
        await mgr.attachments.unreserve(c, id);
        return accepted();
      case 'os-begin_detaching':
        await mgr.attachments.beginDetaching(c, id);
        return accepted();
      case 'os-roll_detaching':
        await mgr.attachments.rollDetaching(c, id);
        return accepted();
      case 'os-initialize_connection':
        return { connection_info: await mgr.attachments.initializeConnection(c, id, b.connector) };
      case 'os-terminate_connection':
        await mgr.attachments.terminateConnection(c, id, b.connector);
        return accepted();
      case 'os-attach':
        await mgr.attachments.attach(c, id, b);
        return accepted();
      case 'os-detach':
        await mgr.attachments.detach(c, id, b.attachment_id);
        return accepted();
      case 'os-force_detach':
        await mgr.attachments.detach(c, id, b.attachment_id, true);
        return accepted();
      default:
        throw new ApiError(400, `There is no such action: ${action.slice(0, 50)}`, 'badRequest');
    }
  });
}
