/**
 * The compute driver interface: what a hypervisor must do for the host agent. Modelled on Nova's
 * `nova/virt/driver.py` ComputeDriver, trimmed to what Stackbox uses. Every method documents its contract;
 * the fake driver (./fake) and the QEMU driver (issue 6) implement the same interface, so the API and the
 * agent never change when the driver does.
 *
 * General rules, for every method:
 * - Methods are called by the agent only, one operation at a time per instance (the agent serializes
 *   operations per instance); different instances may be operated on concurrently.
 * - A method that fails throws a `DriverError` (or any Error) with a message a person can act on; the agent
 *   records it as the server's fault (for spawn/rebuild) or as the failed instance-action event.
 * - Drivers never touch the database or the bus: the agent reports every state change.
 * - `InstanceNotFound` is thrown when an operation names an instance the driver does not have (except
 *   `destroy`, which succeeds).
 */

/** Nova's power states (nova/compute/power_state.py): the integer shown as `OS-EXT-STS:power_state`. */
export const PowerState = {
  NOSTATE: 0,
  RUNNING: 1,
  PAUSED: 3,
  SHUTDOWN: 4,
  CRASHED: 6,
  SUSPENDED: 7,
} as const;
export type PowerState = (typeof PowerState)[keyof typeof PowerState];

/** Everything a driver needs to build an instance (Nova's Instance + flavor + image meta + network_info). */
export interface InstanceSpec {
  uuid: string;
  name: string;
  hostname: string;
  projectId: string;
  userId: string;
  flavor: {
    id: string;
    name: string;
    vcpus: number;
    memoryMb: number;
    rootGb: number;
    ephemeralGb: number;
    swapMb: number;
    extraSpecs: Record<string, string>;
  };
  /** The image to boot (undefined for a volume-backed instance). */
  image?: { id: string; name?: string; diskFormat?: string; size?: number; minDisk?: number };
  metadata: Record<string, string>;
  /** base64 user data, as given to the API. */
  userData?: string;
  keyName?: string;
  publicKey?: string;
  configDrive: boolean;
  availabilityZone?: string;
  /** Virtual interfaces to create (ports bound by the network service). */
  networkInfo: VifSpec[];
  /** Block devices beyond the image root disk (volumes; complete with the block-storage service). */
  blockDevices: VolumeSpec[];
}

export interface VifSpec {
  portId: string;
  networkId: string;
  networkName?: string;
  mac: string;
  fixedIps: { address: string; version: 4 | 6; subnetId?: string }[];
  /** Bridge/tap hints from the network driver (opaque to compute). */
  binding?: Record<string, unknown>;
}

export interface VolumeSpec {
  volumeId: string;
  /** Guest device name hint, e.g. /dev/vdb. */
  device?: string;
  /** How the host reaches the volume, from the block-storage driver (file path, iSCSI target ...). */
  connection: Record<string, unknown>;
  serial?: string;
}

/** What the driver knows about one instance it runs (`get_info` + list_instances). */
export interface InstanceInfo {
  uuid: string;
  powerState: PowerState;
  /** Instance name the hypervisor uses (e.g. instance-0000001a). */
  name?: string;
}

/** The host's resources and identity (Nova's get_available_resource + host info). */
export interface HostInfo {
  hostname: string;
  hypervisorType: string;
  hypervisorVersion: number;
  hypervisorHostname: string;
  hostIp: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  cpuInfo: Record<string, unknown>;
}

export type RebootType = 'SOFT' | 'HARD';

export interface ConsoleUrl {
  protocol: 'vnc' | 'spice' | 'serial' | 'rdp' | 'mks';
  type: string;
  url: string;
}

/**
 * The capabilities table (Nova's `ComputeDriver.capabilities`): the layers above refuse what a driver
 * cannot do (409/400 at the API) instead of failing deep inside it.
 */
export interface DriverCapabilities {
  supportsPause: boolean;
  supportsSuspend: boolean;
  supportsSnapshot: boolean;
  supportsRescue: boolean;
  supportsAttachVolume: boolean;
  supportsAttachInterface: boolean;
  supportsResize: boolean;
  supportsConsoleOutput: boolean;
  /** Console protocols `getConsoleUrl` can serve. */
  consoleProtocols: ConsoleUrl['protocol'][];
  /** Disk format of the bytes `snapshot` produces (the image is created with it before the upload). */
  snapshotFormat?: string;
  /** Image disk formats `spawn` accepts. */
  imageFormats: string[];
  /** Whether instances survive a restart of the agent process (the qemu driver: yes; fake: by its state file). */
  survivesAgentRestart: boolean;
}

export class DriverError extends Error {
  constructor(
    message: string,
    /** Short machine code, e.g. `SpawnFailed`, `InstanceNotFound`, `Unsupported`. */
    readonly code = 'DriverError',
  ) {
    super(message);
  }
}
export class InstanceNotFound extends DriverError {
  constructor(uuid: string) {
    super(`Instance ${uuid} could not be found on this host.`, 'InstanceNotFound');
  }
}

/** A sink for the bytes of a snapshot; the agent connects it to the image service. */
export type SnapshotSink = (
  data: AsyncIterable<Buffer> | Buffer,
  meta: { diskFormat: string },
) => Promise<void>;

export interface ComputeDriver {
  readonly type: string;
  readonly capabilities: DriverCapabilities;

  /**
   * Prepare the host (Nova's `init_host`): open state, probe the hypervisor, adopt the instances that are
   * already running. Called once before any other method. Must not fail because of one bad instance.
   */
  init(): Promise<void>;

  /** Host identity and total resources, for registration and heartbeats. Cheap; may be called often. */
  getHostInfo(): Promise<HostInfo>;

  /**
   * Every instance this driver has on the host, whatever its power state (Nova's `list_instances` +
   * `get_info`). Used by the agent to reconcile desired state with actual state.
   */
  listInstances(): Promise<InstanceInfo[]>;

  /** Power state and name of one instance; throws InstanceNotFound. */
  getInfo(uuid: string): Promise<InstanceInfo>;

  /**
   * Create and start a new instance (Nova's `spawn`): disks from the image, config drive when asked,
   * interfaces from `networkInfo`, volumes from `blockDevices`. Returns when the instance runs.
   * If this fails, any partial instance must be completely cleaned up (no process, file or tap is left),
   * so that a later `spawn` of the same uuid starts from nothing.
   * Spawning a uuid that already runs is an error (`DriverError('...', 'InstanceExists')`).
   */
  spawn(spec: InstanceSpec): Promise<void>;

  /**
   * Destroy the instance and everything the driver made for it (process, disks, console log, taps).
   * Idempotent: if the instance is not found (never spawned, already destroyed, half-spawned) this must
   * still succeed. Never touches volumes' data (only detaches them).
   */
  destroy(uuid: string): Promise<void>;

  /**
   * Reboot. SOFT: ask the guest to restart (ACPI) and fall back to HARD after a timeout. HARD: reset or
   * recreate the VM from its definition; must also work from SHUTDOWN/PAUSED/SUSPENDED/CRASHED and leave
   * the instance RUNNING (Nova's hard reboot is the "make it run again" hammer).
   */
  reboot(uuid: string, type: RebootType): Promise<void>;

  /** Stop the instance (clean shutdown with a timeout, then forced). Idempotent when already off. */
  powerOff(uuid: string, opts?: { timeoutSeconds?: number }): Promise<void>;
  /** Start a stopped instance. Idempotent when already running. */
  powerOn(uuid: string): Promise<void>;

  /** Freeze the vCPUs (memory stays resident). Only from RUNNING. */
  pause(uuid: string): Promise<void>;
  unpause(uuid: string): Promise<void>;

  /** Save the guest's memory to disk and stop it; resume restores it. Only from RUNNING. */
  suspend(uuid: string): Promise<void>;
  resume(uuid: string): Promise<void>;

  /**
   * Snapshot the root disk into `sink` (Nova's `snapshot`): the instance keeps its power state; the
   * bytes are a complete image in `diskFormat` (qcow2 for the qemu driver).
   */
  snapshot(uuid: string, sink: SnapshotSink): Promise<void>;

  /** Give the instance a new flavor (resize in place on this host); root disk only grows. */
  resize(uuid: string, flavor: InstanceSpec['flavor']): Promise<void>;

  /** Rebuild the instance from a (new) image: destroy the root disk, recreate it, boot. Keeps uuid, NICs. */
  rebuild(spec: InstanceSpec): Promise<void>;

  /** Boot from a rescue image with the original root disk attached as a second disk; unrescue undoes it. */
  rescue(uuid: string, rescueImage?: InstanceSpec['image']): Promise<void>;
  unrescue(uuid: string): Promise<void>;

  /** Hot-plug a volume (qemu: blockdev-add + device_add with the volume id as serial). */
  attachVolume(uuid: string, volume: VolumeSpec): Promise<void>;
  /** Hot-unplug; idempotent when the volume is not attached. */
  detachVolume(uuid: string, volumeId: string): Promise<void>;

  /** Hot-plug a NIC for a bound port. */
  attachInterface(uuid: string, vif: VifSpec): Promise<void>;
  /** Hot-unplug a NIC; idempotent when not attached. */
  detachInterface(uuid: string, portId: string): Promise<void>;

  /** The tail of the serial console log (at most `lines` lines when given). Throws InstanceNotFound. */
  getConsoleOutput(uuid: string, lines?: number): Promise<string>;

  /** A URL for an interactive console of this protocol; throws DriverError('Unsupported') otherwise. */
  getConsoleUrl(uuid: string, protocol: ConsoleUrl['protocol'], type: string): Promise<ConsoleUrl>;

  /** Release what the driver holds (sockets, timers); running VMs keep running. */
  close(): Promise<void>;
}
