/**
 * Which compute driver a host runs: `qemu` (real VMs) wherever it can work — root (taps),
 * qemu-system-x86_64 and genisoimage on PATH — else `fake`, saying why. `--compute-driver` forces one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import type { VifPlug } from '../network/driver.js';
import type { ComputeDriver } from './driver.js';
import { QemuDriver, type ImageFetcher } from './qemu/driver.js';

export type ComputeDriverName = 'auto' | 'qemu' | 'fake';

/** What a compute driver is built from (src/agent/host.ts supplies it). */
export interface ComputeDriverDeps {
  config: Config;
  log: Logger;
  /** Image bytes for the driver's image cache (in-process: the image service, as the host's admin). */
  fetchImage: ImageFetcher;
  /** The host's network driver wiring NIC taps, when it has one that does (the Linux driver). */
  plugVif?: (v: VifPlug) => Promise<void>;
}

const onPath = (cmd: string) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Undefined when the QEMU driver can run here, else the reason it cannot. */
export function qemuUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root (tap devices for the NICs)';
  for (const cmd of ['qemu-system-x86_64', 'qemu-img', 'genisoimage']) {
    if (!onPath(cmd)) return `${cmd} is not installed (Debian: qemu-system-x86 qemu-utils genisoimage)`;
  }
  return undefined;
}

/** A QEMU driver whose image cache is filled through `fetchImage`. */
export function qemuDriverFor(deps: ComputeDriverDeps): QemuDriver {
  // With a real network driver, NICs are wired into their networks and the metadata service answers
  // there, so a config drive is only made when asked for (as Nova's force_config_drive=False).
  return new QemuDriver({
    stateDir: join(deps.config.dataDir, 'instances'),
    plugVif: deps.plugVif,
    forceConfigDrive: !deps.plugVif,
    log: deps.log.child({ service: 'qemu' }),
    fetchImage: deps.fetchImage,
  });
}

export function selectComputeDriver(
  name: ComputeDriverName,
  deps: ComputeDriverDeps,
): { driver?: ComputeDriver; reason: string } {
  if (name === 'fake') return { reason: 'the fake driver was asked for' };
  const why = qemuUnavailable();
  if (why) {
    if (name === 'qemu') throw new Error(`--compute-driver qemu cannot run here: ${why}`);
    return { reason: `using the fake compute driver: the QEMU driver cannot run here because ${why}` };
  }
  return { driver: qemuDriverFor(deps), reason: 'QEMU driver (real virtual machines)' };
}
