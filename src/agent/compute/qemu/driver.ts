/**
 * The QEMU/KVM compute driver: one `qemu-system-x86_64` process per instance, managed over QMP.
 *
 * Per instance, under <stateDir>/<uuid>/: `disk` (qcow2 overlay on a cached base image), optional
 * `disk.eph0` / `disk.swap`, `disk.config` (config drive), `console.log` (serial console, also on
 * `serial.sock`), `qmp.sock`, `pid`, `state` (suspend image) and `instance.json` (everything needed
 * to start it again). QEMU runs daemonized, so a restart of the agent never stops a VM; `init()`
 * re-adopts every instance by pidfile and QMP socket.
 */
import {
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
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
import { probeAccel, type AccelChoice } from './accel.js';
import { qemuArgs, tapName, type Saved } from './cmdline.js';
import { createOverlay, ImageCache, makeDisks, type ImageFetcher } from './disks.js';
import { currentBootId, pidAlive, portFree, run, Semaphore } from './exec.js';
import { plugNic, plugVolume, unplugNic, unplugVolume } from './hotplug.js';
import { QmpClient } from './qmp.js';

export type { ImageFetcher } from './disks.js';

export interface QemuDriverOptions {
  stateDir: string;
  fetchImage: ImageFetcher;
  qemuBinary?: string;
  qemuImg?: string;
  /** Force an accelerator; default: probed (KVM only where it really works). */
  accel?: 'kvm' | 'tcg';
  /** Boots at once (QEMU start → guest settled); others wait. Default: half the cores, at least 1. */
  maxConcurrentBoots?: number;
  /** How long a boot holds its slot after QEMU runs (TCG boots take a core for seconds). */
  bootSettleMs?: number;
  /** Always attach a config drive (until a metadata service exists on the instance's network). */
  forceConfigDrive?: boolean;
  /** Seconds a graceful shutdown (ACPI) may take before it is forced. */
  shutdownTimeoutSeconds?: number;
  vncListen?: string;
  /**
   * Wire a NIC after QEMU created its tap (in the host namespace): the network driver moves it into the
   * network. Called after every QEMU start and NIC hot-plug; without it the taps stay unwired.
   */
  plugVif?: (v: { portId: string; networkId: string; tap: string }) => Promise<void>;
  log?: { info: (o: unknown, m?: string) => void; warn: (o: unknown, m?: string) => void };
}

export class QemuDriver implements ComputeDriver {
  readonly type = 'qemu';
  readonly capabilities: DriverCapabilities = {
    supportsPause: true,
    supportsSuspend: true,
    supportsSnapshot: true,
    supportsRescue: true,
    supportsAttachVolume: true,
    supportsAttachInterface: true,
    supportsResize: true,
    supportsConsoleOutput: true,
    consoleProtocols: ['vnc'],
    imageFormats: ['qcow2', 'raw'],
    survivesAgentRestart: true,
  };
  accelChoice?: AccelChoice;
  private readonly o: Required<Omit<QemuDriverOptions, 'accel' | 'log' | 'plugVif'>> &
    Pick<QemuDriverOptions, 'accel' | 'log' | 'plugVif'>;
  private qmps = new Map<string, QmpClient>();
  private boots: Semaphore;
  private images: ImageCache;

  constructor(opts: QemuDriverOptions) {
    this.o = {
      qemuBinary: 'qemu-system-x86_64',
      qemuImg: 'qemu-img',
      maxConcurrentBoots: Math.max(1, Math.floor(cpus().length / 2)),
      bootSettleMs: 5000,
      forceConfigDrive: true,
      shutdownTimeoutSeconds: 30,
      vncListen: '127.0.0.1',
      ...opts,
    };
    this.boots = new Semaphore(this.o.maxConcurrentBoots);
    this.images = new ImageCache(join(this.o.stateDir, '_base'), this.o.fetchImage);
  }

  private dir(uuid: string) {
    return join(this.o.stateDir, uuid);
  }
  private saved(uuid: string): Saved {
    const f = join(this.dir(uuid), 'instance.json');
    if (!existsSync(f)) throw new InstanceNotFound(uuid);
    return JSON.parse(readFileSync(f, 'utf8')) as Saved;
  }
  private save(uuid: string, s: Saved) {
    const f = join(this.dir(uuid), 'instance.json');
    writeFileSync(`${f}.tmp`, JSON.stringify(s));
    renameSync(`${f}.tmp`, f);
  }
  private pid(uuid: string): number | undefined {
    try {
      const pid = Number(readFileSync(join(this.dir(uuid), 'pid'), 'utf8').trim());
      return pid > 0 && pidAlive(pid) ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async init(): Promise<void> {
    mkdirSync(join(this.o.stateDir, '_base'), { recursive: true });
    this.accelChoice = this.o.accel
      ? { accel: this.o.accel, hypervisorType: this.o.accel === 'kvm' ? 'KVM' : 'QEMU', reason: 'configured' }
      : await probeAccel();
    if (this.accelChoice.accel === 'tcg') this.o.bootSettleMs ||= 5000;
    this.o.log?.info({ accel: this.accelChoice }, 'qemu driver accelerator');
    // Re-adopt running VMs by their QMP sockets. After a host reboot, start again the VMs that were
    // running (a VM that died while the host stayed up is left off: Nova's power-state sync reports it).
    const boot = currentBootId();
    for (const uuid of this.uuids()) {
      if (this.pid(uuid)) {
        await this.qmp(uuid).catch(() => undefined);
        const s = this.saved(uuid);
        for (const v of [...s.spec.networkInfo, ...s.extraVifs])
          await this.wire(v).catch((err: unknown) => this.o.log?.warn({ err, uuid }, 'NIC not wired'));
        continue;
      }
      const s = this.saved(uuid);
      if (s.bootId && s.bootId !== boot && !s.powerOff && !s.suspended) {
        this.o.log?.info({ uuid }, 'host rebooted: starting the instance again');
        await this.launch(uuid, s).catch((err: unknown) =>
          this.o.log?.warn({ err, uuid }, 'restart after host reboot failed'),
        );
      }
    }
  }

  private uuids(): string[] {
    if (!existsSync(this.o.stateDir)) return [];
    return readdirSync(this.o.stateDir).filter(
      (d) => d !== '_base' && existsSync(join(this.o.stateDir, d, 'instance.json')),
    );
  }

  private async qmp(uuid: string): Promise<QmpClient> {
    const cur = this.qmps.get(uuid);
    if (cur) return cur;
    const c = await QmpClient.connect(join(this.dir(uuid), 'qmp.sock'), 5000);
    c.on('close', () => this.qmps.delete(uuid));
    this.qmps.set(uuid, c);
    return c;
  }

  async getHostInfo(): Promise<HostInfo> {
    const fs = statfsSync(this.o.stateDir);
    return {
      hostname: hostname(),
      hypervisorType: this.accelChoice?.hypervisorType ?? 'QEMU',
      hypervisorVersion: 7002000,
      hypervisorHostname: hostname(),
      hostIp: '127.0.0.1',
      vcpus: cpus().length,
      memoryMb: Math.floor(totalmem() / 1048576),
      localGb: Math.floor((fs.blocks * fs.bsize) / 1024 ** 3),
      cpuInfo: { model: cpus()[0]?.model, accel: this.accelChoice?.accel },
    };
  }

  async listInstances(): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    for (const uuid of this.uuids()) out.push(await this.getInfo(uuid));
    return out;
  }

  async getInfo(uuid: string): Promise<InstanceInfo> {
    const s = this.saved(uuid);
    const name = `instance-${uuid.slice(0, 8)}`;
    if (!this.pid(uuid))
      return { uuid, name, powerState: s.suspended ? PowerState.SUSPENDED : PowerState.SHUTDOWN };
    try {
      const st = await (await this.qmp(uuid)).execute<{ status: string }>('query-status');
      const map: Record<string, PowerState> = {
        running: PowerState.RUNNING,
        paused: PowerState.PAUSED,
        shutdown: PowerState.SHUTDOWN,
        'guest-panicked': PowerState.CRASHED,
        'internal-error': PowerState.CRASHED,
        inmigrate: PowerState.PAUSED,
        postmigrate: PowerState.PAUSED,
        prelaunch: PowerState.PAUSED,
      };
      return { uuid, name, powerState: map[st.status] ?? PowerState.NOSTATE };
    } catch {
      return { uuid, name, powerState: PowerState.NOSTATE };
    }
  }

  // ---------------------------------------------------------------- disks
  private async makeDisks(spec: InstanceSpec): Promise<void> {
    await makeDisks(spec, this.dir(spec.uuid), {
      images: this.images,
      qemuImg: this.o.qemuImg,
      forceConfigDrive: this.o.forceConfigDrive,
    });
  }

  // ---------------------------------------------------------------- process
  /** A VNC display whose ports (5900+n, websocket 5700+n) no instance here uses and nothing else listens on. */
  private async freeDisplay(): Promise<number> {
    const used = new Set(
      this.uuids().map((u) => {
        try {
          return this.saved(u).vncDisplay;
        } catch {
          return -1;
        }
      }),
    );
    for (let n = 10; n < 190; n++) {
      if (used.has(n)) continue;
      if ((await portFree(this.o.vncListen, 5900 + n)) && (await portFree(this.o.vncListen, 5700 + n)))
        return n;
    }
    throw new DriverError('no free VNC display', 'NoResources');
  }

  /** Start QEMU for a saved instance and wait until QMP answers; optionally attach hot-plugged volumes again. */
  private async launch(uuid: string, s: Saved, incoming?: string): Promise<void> {
    const release = await this.boots.acquire();
    try {
      rmSync(join(this.dir(uuid), 'pid'), { force: true });
      s.bootId = currentBootId();
      this.save(uuid, s);
      const args = qemuArgs(uuid, s, {
        dir: this.dir(uuid),
        kvm: this.accelChoice?.accel === 'kvm',
        vncListen: this.o.vncListen,
        incoming,
      });
      await run(this.o.qemuBinary, args, { timeoutMs: 60_000 });
      const q = await this.qmp(uuid);
      for (const v of s.volumes) await plugVolume(q, v);
      for (const v of [...s.spec.networkInfo, ...s.extraVifs]) await this.wire(v);
      setTimeout(release, incoming ? 0 : this.o.bootSettleMs).unref();
    } catch (e) {
      release();
      throw e;
    }
  }

  private async wire(v: VifSpec): Promise<void> {
    await this.o.plugVif?.({ portId: v.portId, networkId: v.networkId, tap: tapName(v.portId) });
  }

  private async kill(uuid: string): Promise<void> {
    const q = this.qmps.get(uuid);
    const pid = this.pid(uuid);
    if (q) {
      await q.execute('quit').catch(() => undefined);
      q.close();
      this.qmps.delete(uuid);
    }
    if (pid) {
      for (let i = 0; i < 50 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
      if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(join(this.dir(uuid), 'pid'), { force: true });
  }

  // ---------------------------------------------------------------- lifecycle
  async spawn(spec: InstanceSpec): Promise<void> {
    if (existsSync(join(this.dir(spec.uuid), 'instance.json')) && this.pid(spec.uuid)) {
      throw new DriverError(`instance ${spec.uuid} already exists`, 'InstanceExists');
    }
    mkdirSync(this.dir(spec.uuid), { recursive: true });
    try {
      await this.makeDisks(spec);
      const s: Saved = { spec, vncDisplay: await this.freeDisplay(), volumes: [], extraVifs: [] };
      this.save(spec.uuid, s);
      await this.launch(spec.uuid, s);
    } catch (e) {
      await this.destroy(spec.uuid);
      throw e instanceof DriverError ? e : new DriverError(String((e as Error).message ?? e), 'SpawnFailed');
    }
  }

  async destroy(uuid: string): Promise<void> {
    await this.kill(uuid);
    rmSync(this.dir(uuid), { recursive: true, force: true });
  }

  private async gracefulShutdown(uuid: string, timeoutSeconds: number): Promise<boolean> {
    const q = await this.qmp(uuid);
    const st = await q.execute<{ status: string }>('query-status');
    if (st.status === 'shutdown') return true;
    const down = q.waitEvent('SHUTDOWN', timeoutSeconds * 1000).then(
      () => true,
      () => false,
    );
    await q.execute('system_powerdown');
    return down;
  }

  async reboot(uuid: string, type: RebootType): Promise<void> {
    const s = this.saved(uuid);
    if (!this.pid(uuid) || s.suspended) {
      s.suspended = false;
      s.powerOff = false;
      rmSync(join(this.dir(uuid), 'state'), { force: true });
      this.save(uuid, s);
      await this.launch(uuid, s);
      return;
    }
    const q = await this.qmp(uuid);
    if (type === 'SOFT') await this.gracefulShutdown(uuid, this.o.shutdownTimeoutSeconds);
    await q.execute('system_reset');
    await q.execute('cont');
  }

  async powerOff(uuid: string, opts: { timeoutSeconds?: number } = {}): Promise<void> {
    const s = this.saved(uuid);
    if (this.pid(uuid)) {
      await this.gracefulShutdown(uuid, opts.timeoutSeconds ?? this.o.shutdownTimeoutSeconds).catch(
        () => false,
      );
      await this.kill(uuid);
    }
    s.powerOff = true;
    this.save(uuid, s);
  }

  async powerOn(uuid: string): Promise<void> {
    const s = this.saved(uuid);
    if (this.pid(uuid)) {
      const q = await this.qmp(uuid);
      const st = await q.execute<{ status: string }>('query-status');
      if (st.status === 'running') return;
      if (st.status === 'shutdown') await q.execute('system_reset');
      await q.execute('cont');
      return;
    }
    s.powerOff = false;
    this.save(uuid, s);
    await this.launch(uuid, s);
  }

  async pause(uuid: string): Promise<void> {
    if (!this.pid(uuid)) throw new DriverError(`instance ${uuid} is not running`, 'InvalidState');
    await (await this.qmp(uuid)).execute('stop');
  }
  async unpause(uuid: string): Promise<void> {
    if (!this.pid(uuid)) throw new DriverError(`instance ${uuid} is not running`, 'InvalidState');
    await (await this.qmp(uuid)).execute('cont');
  }

  /** Save the RAM to `state` (QMP migrate to a file) and stop the process; resume restores it. */
  async suspend(uuid: string): Promise<void> {
    const s = this.saved(uuid);
    if (!this.pid(uuid)) throw new DriverError(`instance ${uuid} is not running`, 'InvalidState');
    const q = await this.qmp(uuid);
    const state = join(this.dir(uuid), 'state');
    await q.execute('stop');
    await q.execute('migrate', { uri: `exec:cat > ${state}` });
    for (let i = 0; i < 600; i++) {
      const m = await q.execute<{ status?: string; 'error-desc'?: string }>('query-migrate');
      if (m.status === 'completed') break;
      if (m.status === 'failed')
        throw new DriverError(`suspend failed: ${m['error-desc'] ?? 'migration failed'}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    s.suspended = true;
    this.save(uuid, s);
    await this.kill(uuid);
  }

  async resume(uuid: string): Promise<void> {
    const s = this.saved(uuid);
    if (!s.suspended) throw new DriverError(`instance ${uuid} is not suspended`, 'InvalidState');
    const state = join(this.dir(uuid), 'state');
    await this.launch(uuid, s, `exec:cat ${state}`);
    const q = await this.qmp(uuid);
    for (let i = 0; i < 600; i++) {
      const st = await q.execute<{ status: string }>('query-status');
      if (st.status !== 'inmigrate') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await q.execute('cont');
    s.suspended = false;
    this.save(uuid, s);
    rmSync(state, { force: true });
  }

  async snapshot(uuid: string, sink: SnapshotSink): Promise<void> {
    const disk = join(this.dir(uuid), 'disk');
    if (!existsSync(disk)) throw new InstanceNotFound(uuid);
    const out = join(this.dir(uuid), 'snapshot.qcow2');
    const running = this.pid(uuid) ? await this.getInfo(uuid) : undefined;
    const q = running?.powerState === PowerState.RUNNING ? await this.qmp(uuid) : undefined;
    try {
      // Pause for a consistent copy of the chain, then let the guest run again while the bytes upload.
      await q?.execute('stop');
      try {
        await run(this.o.qemuImg, ['convert', '-U', '-O', 'qcow2', disk, out]);
      } finally {
        await q?.execute('cont');
      }
      await sink(createReadStream(out), { diskFormat: 'qcow2' });
    } finally {
      rmSync(out, { force: true });
    }
  }

  async resize(uuid: string, flavor: InstanceSpec['flavor']): Promise<void> {
    const s = this.saved(uuid);
    const wasRunning = !!this.pid(uuid);
    if (wasRunning) await this.powerOff(uuid);
    if (flavor.rootGb > s.spec.flavor.rootGb)
      await run(this.o.qemuImg, ['resize', '-q', join(this.dir(uuid), 'disk'), `${flavor.rootGb}G`]);
    s.spec.flavor = flavor;
    s.powerOff = !wasRunning;
    this.save(uuid, s);
    if (wasRunning) await this.launch(uuid, s);
  }

  async rebuild(spec: InstanceSpec): Promise<void> {
    const s = this.saved(spec.uuid);
    await this.kill(spec.uuid);
    s.spec = { ...spec, networkInfo: s.spec.networkInfo };
    s.suspended = false;
    s.powerOff = false;
    rmSync(join(this.dir(spec.uuid), 'state'), { force: true });
    await this.makeDisks(s.spec);
    this.save(spec.uuid, s);
    await this.launch(spec.uuid, s);
  }

  /**
   * Rescue (Nova's libvirt way): stop the VM, boot a fresh disk of the rescue image (default: the
   * instance's own image) with the instance's disk attached second, so a person can repair it.
   */
  async rescue(uuid: string, rescueImage?: InstanceSpec['image']): Promise<void> {
    const s = this.saved(uuid);
    if (s.rescue) return;
    const image = rescueImage ?? s.spec.image;
    if (!image) throw new DriverError('no image to rescue from', 'Unsupported');
    const base = await this.images.base(image.id);
    await this.kill(uuid);
    await createOverlay(this.o.qemuImg, base, join(this.dir(uuid), 'disk.rescue'));
    s.rescue = true;
    s.suspended = false;
    s.powerOff = false;
    this.save(uuid, s);
    await this.launch(uuid, s);
  }

  async unrescue(uuid: string): Promise<void> {
    const s = this.saved(uuid);
    if (!s.rescue) return;
    await this.kill(uuid);
    rmSync(join(this.dir(uuid), 'disk.rescue'), { force: true });
    s.rescue = false;
    this.save(uuid, s);
    await this.launch(uuid, s);
  }

  // ---------------------------------------------------------------- hot-plug
  async attachVolume(uuid: string, volume: VolumeSpec): Promise<void> {
    const s = this.saved(uuid);
    if (s.volumes.some((v) => v.volumeId === volume.volumeId)) return;
    if (this.pid(uuid)) await plugVolume(await this.qmp(uuid), volume);
    s.volumes.push(volume);
    this.save(uuid, s);
  }

  async detachVolume(uuid: string, volumeId: string): Promise<void> {
    const s = this.saved(uuid);
    if (this.pid(uuid)) await unplugVolume(await this.qmp(uuid), volumeId);
    s.volumes = s.volumes.filter((v) => v.volumeId !== volumeId);
    this.save(uuid, s);
  }

  async attachInterface(uuid: string, vif: VifSpec): Promise<void> {
    const s = this.saved(uuid);
    if ([...s.spec.networkInfo, ...s.extraVifs].some((v) => v.portId === vif.portId)) return;
    if (this.pid(uuid)) {
      await plugNic(await this.qmp(uuid), vif);
      await this.wire(vif);
    }
    s.extraVifs.push(vif);
    this.save(uuid, s);
  }

  async detachInterface(uuid: string, portId: string): Promise<void> {
    const s = this.saved(uuid);
    if (this.pid(uuid)) await unplugNic(await this.qmp(uuid), portId);
    s.extraVifs = s.extraVifs.filter((v) => v.portId !== portId);
    this.save(uuid, s);
  }

  // ---------------------------------------------------------------- consoles
  async getConsoleOutput(uuid: string, lines?: number): Promise<string> {
    this.saved(uuid);
    let text = '';
    try {
      text = readFileSync(join(this.dir(uuid), 'console.log'), 'utf8');
    } catch {
      text = '';
    }
    if (lines && lines > 0)
      text = text
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    return text;
  }

  async getConsoleUrl(uuid: string, protocol: ConsoleUrl['protocol'], type: string): Promise<ConsoleUrl> {
    const s = this.saved(uuid);
    if (protocol !== 'vnc')
      throw new DriverError(`console protocol ${protocol} is not supported`, 'Unsupported');
    return { protocol, type, url: `ws://${this.o.vncListen}:${5700 + s.vncDisplay}` };
  }

  async close(): Promise<void> {
    for (const q of this.qmps.values()) q.close();
    this.qmps.clear();
  }
}
