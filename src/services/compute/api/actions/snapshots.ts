/** createImage, shelve, shelveOffload, unshelve (servers.py _action_create_image, shelve.py). */
import { json } from '../../../../core/db/index.js';
import { bad, metadataOf, mv, noExtra, str } from '../common.js';
import { accepted, type ActionCtx, type ServerAction } from './types.js';

/** Ask the image service for the snapshot's image record, in the host driver's snapshot format. */
async function snapshotImage(x: ActionCtx, name: string, props: Record<string, string | undefined> = {}) {
  const { mgr, c, s } = x;
  const host = await mgr.hostOf(s, x.action);
  const caps = json<{ snapshotFormat?: string }>(host.capabilities, {});
  const img = await mgr.images.createSnapshot(c, {
    name,
    disk_format: caps.snapshotFormat ?? 'raw',
    container_format: 'bare',
    ...(s.image_ref ? { base_image_ref: s.image_ref } : {}),
    image_type: 'snapshot',
    instance_uuid: s.id,
    ...props,
  });
  mgr.rememberSnapshot(img.id, c);
  return img;
}

export const snapshotActions: Record<string, ServerAction> = {
  createImage: {
    rule: 'os_compute_api:servers:create_image',
    async handle(x) {
      const { arg, a, mgr, c, s, action, req, reply } = x;
      if (!arg || typeof arg !== 'object')
        throw bad("Invalid input for field/attribute createImage. 'name' is a required property");
      noExtra(a, ['name', 'metadata'], 'createImage');
      const name = str(a, 'name', { required: true, min: 1, max: 255 })!;
      const props = metadataOf(a.metadata);
      mgr.checkState(s, action, ['active', 'stopped', 'paused', 'suspended']);
      const img = await snapshotImage(x, name, { owner_user_name: undefined, ...props });
      await mgr.cast(c, s, {
        action,
        op: 'snapshot',
        vmStates: ['active', 'stopped', 'paused', 'suspended'],
        taskState: 'image_snapshot',
        task: () => ({ op: 'snapshot', uuid: s.id, requestId: x.rid, imageId: img.id, from: s.vm_state }),
        capability: 'supportsSnapshot',
      });
      reply.code(202);
      if (mv(req).ge(45)) return { image_id: img.id };
      reply.header('location', `${x.base}/images/${img.id}`);
      return reply.send();
    },
  },
  shelve: {
    rule: 'os_compute_api:os-shelve:shelve',
    async handle(x) {
      const { mgr, c, s, action } = x;
      mgr.checkLock(c, s);
      mgr.checkState(s, action, ['active', 'stopped', 'paused', 'suspended']);
      // Nova snapshots a shelved server into "<name>-shelved" and boots from it at unshelve.
      const imageId = mgr.images.available ? (await snapshotImage(x, `${s.name}-shelved`)).id : undefined;
      await mgr.cast(c, s, {
        action,
        op: 'shelve',
        vmStates: ['active', 'stopped', 'paused', 'suspended'],
        taskState: 'shelving',
        values: { shelved_image_id: imageId ?? null },
        task: () => ({ op: 'shelve', uuid: s.id, requestId: x.rid, imageId }),
      });
      return accepted(x);
    },
  },
  shelveOffload: {
    rule: 'os_compute_api:os-shelve:shelve_offload',
    async handle(x) {
      x.mgr.checkState(x.s, x.action, ['shelved']);
      return accepted(x);
    },
  },
  unshelve: {
    rule: 'os_compute_api:os-shelve:unshelve',
    async handle(x) {
      const { arg, a, mgr, c, s, action, req } = x;
      if (arg !== null && arg !== undefined && mv(req).ge(77)) noExtra(a, ['availability_zone'], 'unshelve');
      mgr.checkLock(c, s);
      mgr.checkState(s, action, ['shelved', 'shelved_offloaded']);
      // 2.77: unshelve into another availability zone.
      const az =
        mv(req).ge(77) && arg && typeof arg === 'object'
          ? str(a, 'availability_zone', { min: 1, max: 255 })
          : undefined;
      if (az && ![...(await mgr.hostZones()).values()].includes(az))
        throw bad('The requested availability zone is not available');
      await mgr.unshelve(c, s, az);
      return accepted(x);
    },
  },
};
