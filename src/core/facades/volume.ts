/**
 * What other services (compute) use of block storage, through `ctx.services['block-storage']`. It follows
 * what Nova's `nova/volume/cinder.py` calls on Cinder: the attachments API (create → update with the host's
 * connector → complete; delete to detach), volume create/get/delete for block device mappings, and a wait
 * that follows a volume's real progress (boot from volume never needs a retry count).
 *
 * Every call takes the end user's `Caller` (its project's rights apply: another project's volume is a 404),
 * or `serviceCaller()` for work the cloud does on its own behalf.
 */
import type { Caller } from '../auth/caller.js';

/** A volume as compute sees it. */
export interface VolumeInfo {
  id: string;
  projectId: string;
  name: string | null;
  size: number;
  status: string;
  attachStatus: string;
  bootable: boolean;
  multiattach: boolean;
  availabilityZone: string;
  /** The reason the last operation failed (status `error…`), for the server's fault. */
  error: string | null;
  /** image metadata copied from the source image (volume_image_metadata). */
  imageMetadata: Record<string, string>;
  attachments: { attachmentId: string; serverId: string | null; device: string | null; status: string }[];
}

/** os-brick connection info: for the file backend `{driver_volume_type: 'file', data: {path, format, …}}`. */
export interface VolumeConnectionInfo {
  driver_volume_type: string;
  /** Give this to the compute driver as `VolumeSpec.connection` (it reads `path` and `format`). */
  data: Record<string, unknown>;
}

export interface VolumeFacade {
  /** A volume the caller can see, else undefined. */
  get(caller: Caller, volumeId: string): Promise<VolumeInfo | undefined>;
  /**
   * Create a volume (boot from volume: `imageId`; BDM `source_type` snapshot/volume/blank). Answers at once
   * with status `creating`; follow it with `waitForVolume`. Quota errors are Cinder's 413 ApiError.
   */
  create(
    caller: Caller,
    req: {
      size?: number;
      name?: string;
      description?: string;
      imageId?: string;
      snapshotId?: string;
      sourceVolumeId?: string;
      volumeType?: string;
      availabilityZone?: string;
    },
  ): Promise<VolumeInfo>;
  /**
   * Wait until the volume leaves its transient state (creating, downloading, extending …) however long that
   * takes, and return it; `signal` stops the wait. A volume that ends in `error` is returned as it is (the
   * caller reports `error`'s reason in the server's fault).
   */
  waitForVolume(
    volumeId: string,
    opts?: { signal?: AbortSignal; pollMs?: number },
  ): Promise<VolumeInfo | undefined>;
  delete(caller: Caller, volumeId: string): Promise<void>;

  /** Reserve the volume for a server: an attachment in `reserved` (Cinder attachment_create without connector). */
  attachmentCreate(
    caller: Caller,
    volumeId: string,
    serverId: string,
    mode?: 'rw' | 'ro',
  ): Promise<{ attachmentId: string }>;
  /** Export the volume to the host (`connector.host`) and get how to reach it (attachment_update). */
  attachmentUpdate(
    caller: Caller,
    attachmentId: string,
    connector: { host: string; [k: string]: unknown; mountpoint?: string },
  ): Promise<VolumeConnectionInfo>;
  /** The hypervisor attached it: the volume is `in-use` (attachment_complete, os-complete). */
  attachmentComplete(caller: Caller, attachmentId: string): Promise<void>;
  /** Detached (or the attach failed): remove the attachment; the volume becomes `available` again. */
  attachmentDelete(caller: Caller, attachmentId: string): Promise<void>;
  /** Attachments of a server (servers' `volumes_attached`, reconciliation). */
  attachmentsOfServer(serverId: string): Promise<
    {
      attachmentId: string;
      volumeId: string;
      device: string | null;
      status: string;
      connectionInfo: VolumeConnectionInfo | null;
    }[]
  >;
  /**
   * Compute registers how to extend an attached volume (QMP block_resize on each server using it); without
   * it, extending an in-use volume is refused with a clear 400.
   */
  setAttachedExtendHook(
    hook: (volumeId: string, newSizeGb: number, serverIds: string[]) => Promise<void>,
  ): void;
}
