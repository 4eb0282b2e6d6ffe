/**
 * Volumes on servers (os-volume_attachments), the way Nova talks to Cinder's attachments API: reserve an
 * attachment with the user's rights (another project's volume is a 404, one in use a 400), export it to the
 * server's host (the connection info), hot-plug it through the agent with the serial Nova/libvirt give (the
 * volume id's first 20 characters, so the guest finds /dev/disk/by-id/virtio-<serial>), then complete it. A
 * volume attached to a stopped server is in its instance spec at the next start.
 */
import type { Caller } from '../../../core/auth/caller.js';
import type { VolumeFacade } from '../../../core/facades/volume.js';
import type { VolumeSpec } from '../../../agent/compute/driver.js';
import { ApiError } from '../../../core/errors.js';
import type { ServerRow } from '../rows.js';
import { err, rid } from './base.js';
import { eventOf } from './instance-actions.js';
import { Networking } from './networking.js';

export interface ServerVolume {
  id: string;
  volumeId: string;
  serverId: string;
  device: string | null;
}

/** Guest device names Nova hands out after the root disk. */
const DEVICES = Array.from({ length: 24 }, (_, i) => `/dev/vd${String.fromCharCode(98 + i)}`);

export class Volumes extends Networking {
  /** The block-storage facade, when that service is mounted. */
  volumeApi(): VolumeFacade | undefined {
    return this.services['block-storage'];
  }

  private needVolumes(): VolumeFacade {
    const v = this.volumeApi();
    if (!v) throw err(400, 'The block-storage service is not available in this cloud.', 'badRequest');
    return v;
  }

  async serverVolumes(serverId: string): Promise<ServerVolume[]> {
    const v = this.volumeApi();
    if (!v) return [];
    return (await v.attachmentsOfServer(serverId))
      .filter((a) => a.status !== 'detached')
      .map((a) => ({ id: a.volumeId, volumeId: a.volumeId, serverId, device: a.device }));
  }

  /** What the driver attaches at spawn/start: every volume exported to this server. */
  override async blockDevicesOf(serverId: string): Promise<VolumeSpec[]> {
    const v = this.volumeApi();
    if (!v) return [];
    return (await v.attachmentsOfServer(serverId))
      .filter((a) => a.connectionInfo && a.status !== 'detached')
      .map((a) => ({
        volumeId: a.volumeId,
        device: a.device ?? undefined,
        serial: a.volumeId.slice(0, 20),
        connection: a.connectionInfo!.data,
      }));
  }

  async attachVolume(c: Caller, s: ServerRow, volumeId: string, device?: string): Promise<ServerVolume> {
    const vol = this.needVolumes();
    this.checkLock(c, s);
    this.checkState(s, 'attach_volume', ['active', 'paused', 'stopped', 'suspended']);
    const host = await this.hostOf(s, 'attach_volume');
    const used = new Set((await this.serverVolumes(s.id)).map((x) => x.device));
    const dev = device ?? DEVICES.find((d) => !used.has(d));
    if (!dev) throw err(400, 'No free device name for another volume on this server.', 'badRequest');
    if (used.has(dev))
      throw err(400, `The device name ${dev} is already in use on this server.`, 'badRequest');
    let attachmentId: string;
    try {
      ({ attachmentId } = await vol.attachmentCreate(c, volumeId, s.id));
    } catch (e) {
      if (e instanceof ApiError)
        throw err(
          e.status === 404 ? 404 : 400,
          e.status === 404 ? `Volume ${volumeId} could not be found.` : e.message,
          e.status === 404 ? 'itemNotFound' : 'badRequest',
        );
      throw e;
    }
    try {
      const conn = await vol.attachmentUpdate(c, attachmentId, { host: host.name, mountpoint: dev });
      await this.recordAction(c, s.id, 'attach_volume', { event: eventOf('attach_volume'), host: host.name });
      if (s.vm_state !== 'stopped')
        this.send(host.name, {
          op: 'attach_volume',
          uuid: s.id,
          requestId: rid(c),
          volume: { volumeId, device: dev, serial: volumeId.slice(0, 20), connection: conn.data },
        });
      await vol.attachmentComplete(c, attachmentId);
    } catch (e) {
      await vol.attachmentDelete(c, attachmentId).catch(() => undefined);
      throw e;
    }
    return { id: volumeId, volumeId, serverId: s.id, device: dev };
  }

  async detachVolume(c: Caller, s: ServerRow, volumeId: string): Promise<void> {
    const vol = this.needVolumes();
    this.checkLock(c, s);
    this.checkState(s, 'detach_volume', ['active', 'paused', 'stopped', 'suspended']);
    const a = (await vol.attachmentsOfServer(s.id)).find((x) => x.volumeId === volumeId);
    if (!a) throw err(404, `Volume ${volumeId} is not attached to server ${s.id}.`, 'itemNotFound');
    const host = await this.hostOf(s, 'detach_volume');
    await this.recordAction(c, s.id, 'detach_volume', { event: eventOf('detach_volume'), host: host.name });
    if (s.vm_state !== 'stopped')
      this.send(host.name, { op: 'detach_volume', uuid: s.id, requestId: rid(c), volumeId });
    await vol.attachmentDelete(c, a.attachmentId);
  }

  /** A deleted server's volumes go back to `available` (delete_on_termination is not honoured yet). */
  async releaseVolumes(c: Caller, serverId: string): Promise<void> {
    const vol = this.volumeApi();
    if (!vol) return;
    for (const a of await vol.attachmentsOfServer(serverId))
      await vol.attachmentDelete(c, a.attachmentId).catch(() => undefined);
  }
}
