/**
 * The fake compute driver: in-memory VMs with Nova-realistic power-state transitions, a console log that
 * reads like a small guest booting, console URLs, configurable delays and failures. Every API test runs on
 * it, and users can point their automation at it to rehearse failures:
 *
 * - server metadata `fake_fail` = comma-separated operations that fail on this server
 *   (spawn, destroy, reboot, power_off, power_on, pause, unpause, suspend, resume, snapshot, resize, rebuild,
 *   rescue, unrescue, attach_volume, detach_volume, attach_interface, detach_interface), e.g. `fake_fail: spawn`;
 * - server metadata `fake_delay_ms` = extra milliseconds for every operation on this server, or
 *   `fake_delay_<op>_ms` for one operation (e.g. `fake_delay_spawn_ms: 3000`);
 * - driver options `delays` / `fail` do the same for every server.
 *
 * With `stateFile` the VMs survive a restart of the agent process (as qemu processes survive a restart of
 * the control plane), so reconciliation can be exercised exactly as with the real driver.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DriverError,
  InstanceNotFound,
  PowerState,
  type ComputeDriver,
  type ConsoleUrl,
  type DriverCapabilities,
  type HostInfo,
  type InstanceInfo,
  type InstanceSpec,
  type RebootType,
  type SnapshotSink,
  type VifSpec,
  type VolumeSpec,
} from '../driver.js';

export type FakeOp =
  | 'spawn'
  | 'destroy'
  | 'reboot'
  | 'power_off'
  | 'power_on'
  | 'pause'
  | 'unpause'
  | 'suspend'
  | 'resume'
  | 'snapshot'
  | 'resize'
  | 'rebuild'
  | 'rescue'
  | 'unrescue'
  | 'attach_volume'
  | 'detach_volume'
  | 'attach_interface'
  | 'detach_interface';

export interface FakeDriverOptions {
  hostname: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
  /** Milliseconds per operation (default: spawn 150, reboot 100, others 20). */
  delays: Partial<Record<FakeOp, number>>;
  /** Operations that fail for every instance. */
  fail: FakeOp[];
  /** JSON file holding the VMs, so they survive a restart of the agent process. */
  stateFile?: string;
  /** Base URL of the (fake) noVNC proxy for console URLs. */
  consoleBaseUrl: string;
}

export const DEFAULT_FAKE_OPTIONS: FakeDriverOptions = {
  hostname: 'fake-host',
  vcpus: 16,
  memoryMb: 65536,
  localGb: 1000,
  delays: { spawn: 150, reboot: 100, rebuild: 150, snapshot: 50 },
  fail: [],
  consoleBaseUrl: 'http://127.0.0.1:6080',
};

interface FakeVm {
  uuid: string;
  name: string;
  hostname: string;
  power: PowerState;
  rescued: boolean;
  spec: InstanceSpec;
  console: string[];
  volumes: VolumeSpec[];
  vifs: VifSpec[];
  bootCount: number;
  createdAt: number;
  prevFlavor?: InstanceSpec['flavor'];
  clock?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FakeDriver implements ComputeDriver {
  readonly type = 'fake';
  readonly capabilities: DriverCapabilities = {
    supportsPause: true,
    supportsSuspend: true,
    supportsSnapshot: true,
    supportsRescue: true,
    supportsAttachVolume: true,
    supportsAttachInterface: true,
    supportsResize: true,
    supportsConsoleOutput: true,
    consoleProtocols: ['vnc', 'spice', 'serial'],
    snapshotFormat: 'raw',
    imageFormats: ['qcow2', 'raw', 'vmdk', 'vdi', 'vhd', 'vhdx', 'iso', 'ami', 'ari', 'aki', 'ploop'],
    survivesAgentRestart: true,
  };
  private vms = new Map<string, FakeVm>();
  private seq = 0;
  readonly opts: FakeDriverOptions;

  constructor(opts: Partial<FakeDriverOptions> = {}) {
    this.opts = {
      ...DEFAULT_FAKE_OPTIONS,
      ...opts,
      delays: { ...DEFAULT_FAKE_OPTIONS.delays, ...opts.delays },
    };
    this.capabilities.survivesAgentRestart = !!this.opts.stateFile;
  }

  async init(): Promise<void> {
    if (!this.opts.stateFile) return;
    try {
      const saved = JSON.parse(readFileSync(this.opts.stateFile, 'utf8')) as { seq: number; vms: FakeVm[] };
      this.seq = saved.seq ?? 0;
      for (const vm of saved.vms ?? []) this.vms.set(vm.uuid, vm);
    } catch {
      // no state yet (first start) or an unreadable file: start empty; reconciliation rebuilds what is missing
    }
  }

  private save(): void {
    if (!this.opts.stateFile) return;
    mkdirSync(dirname(this.opts.stateFile), { recursive: true });
    const tmp = `${this.opts.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify({ seq: this.seq, vms: [...this.vms.values()] }));
    renameSync(tmp, this.opts.stateFile);
  }

  /** Wait the configured delay, then fail if this operation is configured to fail. */
  private async step(op: FakeOp, metadata: Record<string, string> | undefined): Promise<void> {
    const md = metadata ?? {};
    let ms = this.opts.delays[op] ?? 20;
    const all = Number.parseInt(md.fake_delay_ms ?? '', 10);
    if (Number.isFinite(all)) ms += all;
    const one = Number.parseInt(md[`fake_delay_${op}_ms`] ?? '', 10);
    if (Number.isFinite(one)) ms += one;
    if (ms > 0) await sleep(ms);
    const failing = new Set([
      ...this.opts.fail,
      ...String(md.fake_fail ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ]);
    if (failing.has(op) || failing.has('all'))
      throw new DriverError(`Fake driver: ${op} failed as configured (fake_fail).`, `${op}Failed`);
  }

  private vm(uuid: string): FakeVm {
    const vm = this.vms.get(uuid);
    if (!vm) throw new InstanceNotFound(uuid);
    return vm;
  }

  private log(vm: FakeVm, ...lines: string[]): void {
    // A guest clock that advances line by line, as a kernel log's does (seconds since the last boot).
    for (const l of lines) {
      vm.clock = (vm.clock ?? 0) + 0.013 + (l.length % 7) * 0.021;
      vm.console.push(`[${vm.clock.toFixed(6).padStart(12, ' ')}] ${l}`);
    }
    if (vm.console.length > 2000) vm.console.splice(0, vm.console.length - 2000);
  }

  private bootLog(vm: FakeVm): void {
    vm.bootCount++;
    vm.clock = 0;
    const s = vm.spec;
    this.log(
      vm,
      'Linux version 6.1.0-fake (stackbox@fake) #1 SMP PREEMPT_DYNAMIC',
      `Command line: console=ttyS0 root=/dev/vda1 (boot ${vm.bootCount})`,
      `Memory: ${s.flavor.memoryMb * 1024}K available, ${s.flavor.vcpus} vCPU(s)`,
      `virtio_blk virtio1: [vda] ${Math.max(1, s.flavor.rootGb) * 2097152} 512-byte logical blocks`,
    );
    for (const [i, v] of vm.vifs.entries())
      this.log(
        vm,
        `virtio_net virtio${i + 2} eth${i}: link up, mac ${v.mac}`,
        ...v.fixedIps.map((ip) => `udhcpc: lease of ${ip.address} obtained on eth${i}`),
      );
    if (s.configDrive) this.log(vm, 'config-2: found config drive (openstack/latest/meta_data.json)');
    if (s.keyName) this.log(vm, `cloud-init: installing key "${s.keyName}" for root`);
    if (s.userData) this.log(vm, 'cloud-init: running user-data');
    const ips = vm.vifs.flatMap((v) => v.fixedIps.map((f) => f.address));
    this.log(
      vm,
      `STACKBOX-READY hostname=${vm.hostname} ip=${ips.join(',') || 'none'}`,
      '',
      `${vm.hostname} login:`,
    );
  }

  async getHostInfo(): Promise<HostInfo> {
    return {
      hostname: this.opts.hostname,
      hypervisorType: 'fake',
      hypervisorVersion: 1000,
      hypervisorHostname: this.opts.hostname,
      hostIp: '127.0.0.1',
      vcpus: this.opts.vcpus,
      memoryMb: this.opts.memoryMb,
      localGb: this.opts.localGb,
      cpuInfo: {
        arch: 'x86_64',
        model: 'fake',
        vendor: 'stackbox',
        topology: { cells: 1, sockets: 1, cores: this.opts.vcpus, threads: 1 },
        features: [],
      },
    };
  }

  async listInstances(): Promise<InstanceInfo[]> {
    return [...this.vms.values()].map((v) => ({ uuid: v.uuid, powerState: v.power, name: v.name }));
  }

  async getInfo(uuid: string): Promise<InstanceInfo> {
    const v = this.vm(uuid);
    return { uuid, powerState: v.power, name: v.name };
  }

  async spawn(spec: InstanceSpec): Promise<void> {
    if (this.vms.has(spec.uuid))
      throw new DriverError(`Instance ${spec.uuid} already exists.`, 'InstanceExists');
    const fmt = spec.image?.diskFormat;
    if (fmt && !this.capabilities.imageFormats.includes(fmt))
      throw new DriverError(`Image disk format ${fmt} is not supported by the fake driver.`, 'Unsupported');
    const vm: FakeVm = {
      uuid: spec.uuid,
      name: `instance-${(++this.seq).toString(16).padStart(8, '0')}`,
      hostname: spec.hostname,
      power: PowerState.NOSTATE,
      rescued: false,
      spec,
      console: [],
      volumes: [...spec.blockDevices],
      vifs: [...spec.networkInfo],
      bootCount: 0,
      createdAt: Date.now(),
    };
    // A partial instance exists while spawning (as a half-built domain would); on failure it is removed.
    this.vms.set(spec.uuid, vm);
    try {
      await this.step('spawn', spec.metadata);
    } catch (e) {
      this.vms.delete(spec.uuid);
      this.save();
      throw e;
    }
    if (this.vms.get(spec.uuid) !== vm)
      throw new DriverError(`Instance ${spec.uuid} was destroyed while spawning.`);
    vm.power = PowerState.RUNNING;
    this.bootLog(vm);
    this.save();
  }

  async destroy(uuid: string): Promise<void> {
    const vm = this.vms.get(uuid);
    await this.step('destroy', vm?.spec.metadata);
    if (!vm) return;
    this.vms.delete(uuid);
    this.save();
  }

  async reboot(uuid: string, type: RebootType): Promise<void> {
    const vm = this.vm(uuid);
    if (type === 'SOFT' && vm.power !== PowerState.RUNNING)
      throw new DriverError(`Cannot soft-reboot instance ${uuid}: it is not running.`, 'InvalidState');
    await this.step('reboot', vm.spec.metadata);
    this.log(vm, type === 'SOFT' ? 'reboot: Restarting system (ACPI)' : 'reset: machine reset requested');
    vm.power = PowerState.RUNNING;
    this.bootLog(vm);
    this.save();
  }

  async powerOff(uuid: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('power_off', vm.spec.metadata);
    if (vm.power !== PowerState.SHUTDOWN) this.log(vm, 'reboot: Power down');
    vm.power = PowerState.SHUTDOWN;
    this.save();
  }

  async powerOn(uuid: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('power_on', vm.spec.metadata);
    if (vm.power === PowerState.RUNNING) return;
    vm.power = PowerState.RUNNING;
    this.bootLog(vm);
    this.save();
  }

  private async transition(uuid: string, op: FakeOp, from: PowerState, to: PowerState, line: string) {
    const vm = this.vm(uuid);
    if (vm.power !== from)
      throw new DriverError(
        `Cannot ${op.replace('_', ' ')} instance ${uuid} in power state ${vm.power}.`,
        'InvalidState',
      );
    await this.step(op, vm.spec.metadata);
    vm.power = to;
    this.log(vm, line);
    this.save();
  }

  pause(uuid: string) {
    return this.transition(
      uuid,
      'pause',
      PowerState.RUNNING,
      PowerState.PAUSED,
      'qemu: vCPUs stopped (paused)',
    );
  }
  unpause(uuid: string) {
    return this.transition(uuid, 'unpause', PowerState.PAUSED, PowerState.RUNNING, 'qemu: vCPUs resumed');
  }
  suspend(uuid: string) {
    return this.transition(
      uuid,
      'suspend',
      PowerState.RUNNING,
      PowerState.SUSPENDED,
      'qemu: state saved to disk',
    );
  }
  resume(uuid: string) {
    return this.transition(uuid, 'resume', PowerState.SUSPENDED, PowerState.RUNNING, 'qemu: state restored');
  }

  async snapshot(uuid: string, sink: SnapshotSink): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('snapshot', vm.spec.metadata);
    // A tiny, valid-looking raw disk: a header naming the source, padded to one sector.
    const data = Buffer.alloc(512);
    data.write(`stackbox fake snapshot of ${uuid} at ${new Date().toISOString()}\n`);
    await sink(data, { diskFormat: 'raw' });
  }

  async resize(uuid: string, flavor: InstanceSpec['flavor']): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('resize', vm.spec.metadata);
    // A root disk only grows, except back to the flavor it had (revert keeps the old disk, as Nova does).
    if (flavor.rootGb < vm.spec.flavor.rootGb && flavor.id !== vm.prevFlavor?.id)
      throw new DriverError('Resizing a root disk down is not supported.', 'Unsupported');
    const wasRunning = vm.power === PowerState.RUNNING;
    vm.prevFlavor = vm.spec.flavor;
    vm.spec = { ...vm.spec, flavor };
    this.log(vm, `resize: flavor ${flavor.name} (${flavor.vcpus} vCPU, ${flavor.memoryMb} MB)`);
    if (wasRunning) this.bootLog(vm);
    this.save();
  }

  async rebuild(spec: InstanceSpec): Promise<void> {
    const vm = this.vm(spec.uuid);
    await this.step('rebuild', spec.metadata);
    vm.spec = { ...spec, networkInfo: vm.vifs, blockDevices: vm.volumes };
    vm.hostname = spec.hostname;
    vm.console = [];
    vm.createdAt = Date.now();
    vm.power = PowerState.RUNNING;
    this.bootLog(vm);
    this.save();
  }

  async rescue(uuid: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('rescue', vm.spec.metadata);
    vm.rescued = true;
    vm.power = PowerState.RUNNING;
    this.log(vm, 'rescue: booted from rescue image; original root disk is /dev/vdb');
    this.save();
  }

  async unrescue(uuid: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('unrescue', vm.spec.metadata);
    vm.rescued = false;
    vm.power = PowerState.RUNNING;
    this.bootLog(vm);
    this.save();
  }

  async attachVolume(uuid: string, volume: VolumeSpec): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('attach_volume', vm.spec.metadata);
    if (!vm.volumes.some((v) => v.volumeId === volume.volumeId)) vm.volumes.push(volume);
    this.log(vm, `virtio_blk: new disk, serial ${volume.serial ?? volume.volumeId.slice(0, 20)}`);
    this.save();
  }

  async detachVolume(uuid: string, volumeId: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('detach_volume', vm.spec.metadata);
    vm.volumes = vm.volumes.filter((v) => v.volumeId !== volumeId);
    this.save();
  }

  async attachInterface(uuid: string, vif: VifSpec): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('attach_interface', vm.spec.metadata);
    if (!vm.vifs.some((v) => v.portId === vif.portId)) vm.vifs.push(vif);
    this.log(vm, `virtio_net: new interface, mac ${vif.mac}`);
    this.save();
  }

  async detachInterface(uuid: string, portId: string): Promise<void> {
    const vm = this.vm(uuid);
    await this.step('detach_interface', vm.spec.metadata);
    vm.vifs = vm.vifs.filter((v) => v.portId !== portId);
    this.save();
  }

  async getConsoleOutput(uuid: string, lines?: number): Promise<string> {
    const vm = this.vm(uuid);
    const all = vm.console;
    return (lines !== undefined ? all.slice(Math.max(0, all.length - lines)) : all).join('\n') + '\n';
  }

  async getConsoleUrl(uuid: string, protocol: ConsoleUrl['protocol'], type: string): Promise<ConsoleUrl> {
    this.vm(uuid);
    if (!this.capabilities.consoleProtocols.includes(protocol))
      throw new DriverError(
        `Console protocol ${protocol} is not supported by the fake driver.`,
        'Unsupported',
      );
    const token = randomBytes(16).toString('hex');
    const base = this.opts.consoleBaseUrl;
    const url =
      protocol === 'serial'
        ? `ws://127.0.0.1:6083/?token=${token}`
        : protocol === 'spice'
          ? `${base}/spice_auto.html?token=${token}`
          : `${base}/vnc_auto.html?path=%3Ftoken%3D${token}`;
    return { protocol, type, url };
  }

  /**
   * Test and demo hook (not part of the driver interface): the guest changes power state by itself, as
   * a VM that is shut down from inside, crashes or is killed from outside would.
   */
  simulatePowerChange(uuid: string, power: PowerState): void {
    const vm = this.vm(uuid);
    vm.power = power;
    if (power === PowerState.SHUTDOWN || power === PowerState.CRASHED)
      this.log(
        vm,
        power === PowerState.CRASHED ? 'Kernel panic - not syncing: fake crash' : 'reboot: Power down',
      );
    this.save();
  }

  async close(): Promise<void> {
    this.save();
  }
}
