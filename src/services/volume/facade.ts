/** The block-storage facade for other services (contract in src/core/facades/volume.ts). */
import { ApiError } from '../../core/errors.js';
import { bool, json } from '../../core/db/index.js';
import type { VolumeConnectionInfo, VolumeFacade, VolumeInfo } from '../../core/facades/volume.js';
import type { VolumeManager } from './manager/index.js';
import type { AttachmentRow, VolumeRow } from './store.js';

const TRANSIENT = ['creating', 'downloading', 'extending', 'deleting', 'reverting', 'retyping'];

export function createFacade(mgr: VolumeManager): VolumeFacade {
  const store = mgr.deps.store;
  const info = (v: VolumeRow, atts: AttachmentRow[]): VolumeInfo => ({
    id: v.id,
    projectId: v.project_id,
    name: v.name,
    size: v.size,
    status: v.status,
    attachStatus: v.attach_status,
    bootable: bool(v.bootable),
    multiattach: bool(v.multiattach),
    availabilityZone: v.availability_zone,
    error: v.error,
    imageMetadata: json<Record<string, string>>(v.image_metadata, {}),
    attachments: atts.map((a) => ({
      attachmentId: a.id,
      serverId: a.instance_uuid,
      device: a.mountpoint,
      status: a.attach_status,
    })),
  });
  const load = async (id: string) => {
    const v = await store.volume(id);
    return v ? info(v, await store.attachments([v.id])) : undefined;
  };
  return {
    async get(c, id) {
      try {
        const v = await mgr.volumes.find(c, id);
        return info(v, await store.attachments([v.id]));
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return undefined;
        throw e;
      }
    },
    async create(c, r) {
      const v = await mgr.volumes.create(c, {
        size: r.size,
        name: r.name,
        description: r.description,
        imageRef: r.imageId,
        snapshot_id: r.snapshotId,
        source_volid: r.sourceVolumeId,
        volume_type: r.volumeType,
        availability_zone: r.availabilityZone,
      });
      return info(v, []);
    },
    async waitForVolume(id, o = {}) {
      for (;;) {
        const v = await load(id);
        if (!v || !TRANSIENT.includes(v.status)) return v;
        if (o.signal?.aborted) throw new Error(`stopped waiting for volume ${id} (${v.status})`);
        await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
      }
    },
    async delete(c, id) {
      await mgr.volumes.delete(c, id);
    },
    async attachmentCreate(c, volumeId, serverId, mode) {
      const a = await mgr.attachments.create(c, { volume_uuid: volumeId, instance_uuid: serverId, mode });
      return { attachmentId: a.id };
    },
    async attachmentUpdate(c, attachmentId, connector) {
      const a = await mgr.attachments.update(c, attachmentId, connector);
      return json<VolumeConnectionInfo>(a.connection_info, { driver_volume_type: 'file', data: {} });
    },
    async attachmentComplete(c, attachmentId) {
      await mgr.attachments.complete(c, attachmentId);
    },
    async attachmentDelete(c, attachmentId) {
      await mgr.attachments.delete(c, attachmentId);
    },
    async attachmentsOfServer(serverId) {
      const rows = await store.listAttachments({ instanceId: serverId });
      return rows.map((a) => ({
        attachmentId: a.id,
        volumeId: a.volume_id,
        device: a.mountpoint,
        status: a.attach_status,
        connectionInfo: json<VolumeConnectionInfo | null>(a.connection_info, null),
      }));
    },
    setAttachedExtendHook(hook) {
      mgr.volumes.extendHook = hook;
    },
  };
}
