/**
 * The composition root of one hypervisor host: its drivers and the agents that drive them, built from the
 * configuration, a bus and a logger — nothing of the control plane. `stackbox up` (src/server.ts) builds the
 * control plane and, in the same process, one host with this; a later `stackbox agent` runs a host alone
 * (with a NATS bus, and the image API behind `HostImages`).
 *
 *   network: the network driver (select.ts: linux or fake) and its NetworkAgent (documents from the bus)
 *   compute: the compute driver (select.ts: qemu or fake; the QEMU driver's NICs are wired by the network
 *            driver's plugVif) and its HostAgent, plus any extra fake hosts (tests of moves between hosts)
 *
 * The parts a host runs are asked for by the services mounted beside it (`ServiceModule.host`): a cloud
 * without compute runs no compute agent. In-process, the network agent starts once the network service
 * listens for its documents, and the compute agents when the compute service starts (between its recovery
 * steps); `start()` starts both, for a host on its own.
 */
import type { VolumeDriver } from './volume/driver.js';
import { selectVolumeDriver } from './volume/select.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Bus } from '../core/bus/index.js';
import type { Config } from '../core/config.js';
import { HostAgent, type ImageTransfer } from './compute/agent.js';
import type { ComputeDriver } from './compute/driver.js';
import { FakeDriver, type FakeDriverOptions } from './compute/fake/index.js';
import type { ImageFetcher } from './compute/qemu/driver.js';
import { selectComputeDriver, type ComputeDriverDeps } from './compute/select.js';
import { NetworkAgent } from './network/agent.js';
import type { NetworkDriver } from './network/driver.js';
import { FakeNetworkDriver } from './network/fake.js';
import { selectNetworkDriver } from './network/select.js';

export interface ComputeHostOptions {
  /**
   * The compute driver: `config` chooses by `config.computeDriver` (compute/select.ts: QEMU where it can
   * run); a function builds one (undefined from it: the fake driver). Default: the fake driver, its state
   * under <data>/compute.
   */
  driver?: 'config' | ((deps: ComputeDriverDeps) => ComputeDriver | undefined);
  fake?: Partial<FakeDriverOptions>;
  heartbeatSeconds?: number;
  availabilityZone?: string;
  /** More fake hosts in this process (each its own agent and fake hypervisor), e.g. to try migrations. */
  extraFakeHosts?: (Partial<FakeDriverOptions> & { hostname: string; availabilityZone?: string })[];
}

export interface NetworkHostOptions {
  /** The network driver; default: by `config.networkDriver` (network/select.ts: Linux where it can run). */
  driver?: NetworkDriver;
}

/** The parts of a host to run; an absent part is not built. */
export interface VolumeHostOptions {
  /** The volume backend; default: by `config.volumeDriver` (volume/select.ts: files where qemu-img runs). */
  driver?: VolumeDriver;
}

export interface HostOptions {
  compute?: ComputeHostOptions;
  network?: NetworkHostOptions;
  volume?: VolumeHostOptions;
}

/** How a host moves image bytes (in-process: the image and compute services; alone: the image API). */
export interface HostImages {
  /** Image data for the compute driver's image cache. */
  fetch: ImageFetcher;
  /** Snapshot bytes to the image service; may also be given to `startCompute`. */
  upload?: ImageTransfer['upload'];
}

export interface HostDeps {
  config: Config;
  bus: Bus;
  log: Logger;
  images: HostImages;
}

export class Host {
  /** Compute agents: this host's first, then the extra fake hosts. Built by `startCompute`. */
  readonly computeAgents: HostAgent[] = [];
  private networkStarted = false;

  constructor(
    private readonly deps: HostDeps,
    private readonly opts: HostOptions,
    readonly networkDriver: NetworkDriver | undefined,
    readonly networkAgent: NetworkAgent | undefined,
    readonly computeDriver: ComputeDriver | undefined,
    /** The block-storage backend of this host (its disks are what the compute driver attaches). */
    readonly volumeDriver: VolumeDriver | undefined = undefined,
  ) {}

  /** This host's own compute agent (undefined before `startCompute` or without compute). */
  get computeAgent(): HostAgent | undefined {
    return this.computeAgents[0];
  }

  /** Start applying network documents (the control plane's wiring must listen for resync requests). */
  async startNetwork(): Promise<void> {
    if (!this.networkAgent || this.networkStarted) return;
    this.networkStarted = true;
    this.networkAgent.start();
  }

  /**
   * Build and start the compute agents, one after the other; each says hello on the bus. `expectHello` is
   * called just before each agent starts, and what it returns is awaited after the start (the control plane
   * applies one hello before the next host registers).
   */
  async startCompute(images?: ImageTransfer, expectHello?: () => Promise<void>): Promise<void> {
    const c = this.opts.compute;
    if (!c || !this.computeDriver || this.computeAgents.length) return;
    const { bus, log } = this.deps;
    const upload = images?.upload ?? this.deps.images.upload;
    const transfer: ImageTransfer | undefined = upload ? { upload } : undefined;
    const agent = new HostAgent({
      bus,
      driver: this.computeDriver,
      log: log.child({ service: 'compute-agent' }),
      availabilityZone: c.availabilityZone,
      heartbeatSeconds: c.heartbeatSeconds ?? 10,
      images: transfer,
    });
    const start = async (a: HostAgent) => {
      this.computeAgents.push(a);
      const hello = expectHello?.();
      await a.start();
      await hello;
    };
    await start(agent);
    for (const h of c.extraFakeHosts ?? []) {
      const { availabilityZone, ...fake } = h;
      const a = new HostAgent({
        bus,
        driver: new FakeDriver({ ...c.fake, stateFile: this.fakeStateFile(h.hostname), ...fake }),
        log: log.child({ service: 'compute-agent', host: h.hostname }),
        availabilityZone,
        heartbeatSeconds: c.heartbeatSeconds ?? 10,
        images: transfer,
      });
      await start(a);
    }
  }

  /** Both parts, for a host on its own. */
  async start(): Promise<void> {
    await this.startNetwork();
    await this.startCompute();
  }

  /** Wait for the compute agents' operations in flight. */
  async settleCompute(): Promise<void> {
    for (const a of this.computeAgents) await a.settle();
  }

  /** Resolves when the network agent has no document queued or being applied. */
  networkIdle(): Promise<void> {
    return this.networkAgent?.whenIdle() ?? Promise.resolve();
  }

  /** Stop the compute agents (extra hosts first); operations in flight finish and report. */
  async stopCompute(): Promise<void> {
    for (const a of this.computeAgents.slice(1)) await a.stop();
    await this.computeAgents[0]?.stop();
    this.computeAgents.length = 0;
  }

  async stopNetwork(): Promise<void> {
    if (!this.networkAgent) return;
    this.networkAgent.stop();
    this.networkDriver?.close?.();
  }

  async stop(): Promise<void> {
    await this.stopCompute();
    await this.stopNetwork();
  }

  fakeStateFile(host: string): string {
    return join(this.deps.config.dataDir, 'compute', `fake-${host}.json`);
  }
}

/** Build a host's drivers and agents (nothing runs until started). */
export async function createHost(deps: HostDeps, opts: HostOptions): Promise<Host> {
  const { config, log } = deps;
  let networkDriver: NetworkDriver | undefined;
  let networkAgent: NetworkAgent | undefined;
  if (opts.network) {
    networkDriver = opts.network.driver;
    if (!networkDriver) {
      const chosen = await selectNetworkDriver(config, log.child({ service: 'network-agent' }));
      log.info({ networkDriver: chosen.driver?.name ?? 'fake' }, chosen.reason);
      if (!chosen.driver && config.networkDriver === 'auto')
        process.stderr.write(`stackbox: ${chosen.reason}\n`);
      networkDriver = chosen.driver ?? new FakeNetworkDriver();
    }
    networkAgent = new NetworkAgent(networkDriver, deps.bus, log);
  }
  let computeDriver: ComputeDriver | undefined;
  const c = opts.compute;
  if (c) {
    const net = networkDriver;
    const driverDeps: ComputeDriverDeps = {
      config,
      log,
      fetchImage: deps.images.fetch,
      plugVif: net?.plugVif ? (v) => net.plugVif!(v) : undefined,
    };
    if (c.driver === 'config') {
      const { driver, reason } = selectComputeDriver(config.computeDriver, driverDeps);
      log.info({ computeDriver: driver?.type ?? 'fake' }, reason);
      if (!driver && config.computeDriver === 'auto') process.stderr.write(`stackbox: ${reason}\n`);
      computeDriver = driver;
    } else computeDriver = c.driver?.(driverDeps);
    const fakeHost = c.fake?.hostname ?? hostname();
    computeDriver ??= new FakeDriver({
      hostname: hostname(),
      stateFile: join(config.dataDir, 'compute', `fake-${fakeHost}.json`),
      ...c.fake,
    });
  }
  let volumeDriver: VolumeDriver | undefined;
  if (opts.volume) {
    volumeDriver = opts.volume.driver;
    if (!volumeDriver) {
      const sel = selectVolumeDriver(config.volumeDriver, config.dataDir);
      log.info({ volumeDriver: sel.driver.type }, sel.reason);
      volumeDriver = sel.driver;
    }
    await volumeDriver.init();
  }
  return new Host(deps, opts, networkDriver, networkAgent, computeDriver, volumeDriver);
}
