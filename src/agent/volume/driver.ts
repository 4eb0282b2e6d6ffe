/**
 * The block-storage data-plane contract (Cinder's `VolumeDriver`, narrowed to what Stackbox uses). One driver
 * per backend, chosen by config like the compute and network drivers; the volume service calls it and never
 * touches disks itself. Every method documents its contract:
 *
 * - Creation methods (`createVolume`, `createFromImage`, `createFromSnapshot`, `cloneVolume`) are all-or-
 *   nothing: on failure nothing is left behind, and calling again with the same id after a crash starts over.
 * - Deletions are idempotent: a volume or snapshot that is not there is already deleted.
 * - Snapshots and clones are independent copies: deleting their source never breaks them.
 * - `initializeConnection` says how a host reaches the volume, in os-brick's `connection_info` shape
 *   (`{driver_volume_type, data}`); the compute driver takes `data` as its `VolumeSpec.connection`.
 *
 * Agent code: imports nothing from src/services (see docs/volume.md for LVM/iSCSI and Ceph RBD backends).
 */
import type { Readable } from 'node:stream';

export const GiB = 1024 ** 3;

/** What a host gives to be connected (os-brick's connector properties; only `host` matters to `file`). */
export interface Connector {
  host?: string;
  ip?: string;
  initiator?: string;
  multipath?: boolean;
  [key: string]: unknown;
}

/** os-brick `connection_info`: the file backend answers `{driver_volume_type: 'file', data: {path, format}}`. */
export interface ConnectionInfo {
  driver_volume_type: string;
  data: Record<string, unknown>;
}

export interface VolumeCapabilities {
  /** Extend while attached (needs the hypervisor to resize the guest's view: QMP block_resize). */
  onlineExtend: boolean;
  /** Snapshots of attached volumes (crash-consistent copies). */
  snapshotInUse: boolean;
  /** Several hosts may attach the volume at once. */
  multiattach: boolean;
}

export interface BackendStats {
  /** Backend name as Cinder reports it (`volume_backend_name`). */
  backendName: string;
  totalCapacityGb: number;
  freeCapacityGb: number;
  /** Provisioned (virtual) size of every volume and snapshot, GiB. */
  provisionedCapacityGb: number;
  thinProvisioning: boolean;
  storageProtocol: string;
}

/** An image to write into a new volume: its bytes as a stream and its disk format (`qcow2`, `raw`, …). */
export interface ImageSource {
  stream: Readable;
  diskFormat: string;
  /** Bytes, when known (progress and space checks). */
  size?: number;
}

/** A volume's contents read out for an image upload (`os-volume_upload_image`). */
export interface VolumeExport {
  stream: Readable;
  size: number;
  /** Remove whatever the export needed (a temporary converted file). Idempotent. */
  cleanup(): Promise<void>;
}

export interface VolumeDriver {
  /** `file`, `fake`, later `lvm`, `rbd`. */
  readonly type: string;
  readonly capabilities: VolumeCapabilities;
  /** Prepare the backend (directories, pools); remove temporary leftovers of a crash. */
  init(): Promise<void>;
  stats(): Promise<BackendStats>;

  /** A blank volume of `sizeGb` GiB. */
  createVolume(id: string, sizeGb: number): Promise<void>;
  /** A volume holding `image`, grown to `sizeGb` (which is at least the image's virtual size). */
  createFromImage(id: string, sizeGb: number, image: ImageSource): Promise<void>;
  /** A volume with a snapshot's contents, grown to `sizeGb`. */
  createFromSnapshot(id: string, sizeGb: number, snapshotId: string): Promise<void>;
  /** A volume with another volume's contents (`source` may be attached: a crash-consistent copy). */
  cloneVolume(id: string, sizeGb: number, sourceId: string): Promise<void>;
  /** Grow a volume; never shrinks. */
  extendVolume(id: string, newSizeGb: number): Promise<void>;
  /** Idempotent. */
  deleteVolume(id: string): Promise<void>;
  /** An independent point-in-time copy of a volume. */
  createSnapshot(snapshotId: string, volumeId: string): Promise<void>;
  /** Idempotent. */
  deleteSnapshot(snapshotId: string): Promise<void>;
  /** Replace a volume's contents with a snapshot's (Cinder's revert to snapshot); the size stays. */
  revertToSnapshot(volumeId: string, snapshotId: string, sizeGb: number): Promise<void>;
  /** Whether a volume exists on the backend (reconciliation after a crash). */
  volumeExists(id: string): Promise<boolean>;
  /** Ids of every volume and snapshot the backend holds (orphan sweep). */
  list(): Promise<{ volumes: string[]; snapshots: string[] }>;

  /** How `connector`'s host reaches the volume. Idempotent. */
  initializeConnection(id: string, connector: Connector): Promise<ConnectionInfo>;
  /** The host no longer needs the volume. Idempotent. */
  terminateConnection(id: string, connector: Connector): Promise<void>;

  /** The volume's contents in `diskFormat` (for an image upload). */
  exportVolume(id: string, diskFormat: string): Promise<VolumeExport>;
}

/** A driver failure with a reason a person can act on (becomes the volume's error message). */
export class VolumeDriverError extends Error {
  constructor(
    message: string,
    readonly code = 'VolumeBackendError',
  ) {
    super(message);
  }
}
