/**
 * Which compute driver the in-process agent runs: `qemu` (real VMs) wherever it can work — root (taps),
 * qemu-system-x86_64 and genisoimage on PATH — else `fake`, saying why. `--compute-driver` forces one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ServiceContext } from '../../core/service.js';
import type { ComputeDriver } from './driver.js';
import { QemuDriver } from './qemu/driver.js';
import type { VifPlug } from '../network/linux/driver.js';

type VifPlugger = { plugVif(v: VifPlug): Promise<void> };

export type ComputeDriverName = 'auto' | 'qemu' | 'fake';

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

interface ImageDownload {
  manager: {
    download(
      caller: unknown,
      id: string,
      range: undefined,
    ): Promise<{ status: number; headers: Record<string, string>; stream?: Readable }>;
    lookup(id: string, caller: unknown): Promise<{ disk_format: string | null; checksum?: string | null }>;
  };
}

/** A QEMU driver whose image cache is filled from the image service (as the host's admin). */
export function qemuDriverFor(ctx: ServiceContext): QemuDriver {
  // The host reads image data as an admin of no particular project (Glance's rules are project-scoped).
  const host = 'stackbox-compute-host';
  const caller = {
    creds: {
      roles: ['admin', 'member', 'reader'],
      user_id: host,
      project_id: host,
      domain_id: null,
      system_scope: null,
    },
    isAdmin: true,
    project: host,
  };
  // With a real network driver, NICs are wired into their networks and the metadata service answers
  // there, so a config drive is only made when asked for (as Nova's force_config_drive=False).
  const net = (ctx.services.network as { driver?: Partial<VifPlugger> } | undefined)?.driver;
  const plugVif = net?.plugVif ? (v: VifPlug) => net.plugVif!(v) : undefined;
  return new QemuDriver({
    stateDir: join(ctx.config.dataDir, 'instances'),
    plugVif,
    forceConfigDrive: !plugVif,
    log: ctx.log.child({ service: 'qemu' }),
    fetchImage: async (imageId) => {
      const images = ctx.services.image as ImageDownload | undefined;
      if (!images?.manager) throw new Error('the image service is not available to fetch image data');
      const img = await images.manager.lookup(imageId, caller);
      const r = await images.manager.download(caller, imageId, undefined);
      if (!r.stream) throw new Error(`image ${imageId} has no data`);
      return { data: r.stream, format: img.disk_format ?? 'raw', checksum: img.checksum ?? undefined };
    },
  });
}

export function selectComputeDriver(
  name: ComputeDriverName,
  ctx: ServiceContext,
): { driver?: ComputeDriver; reason: string } {
  if (name === 'fake') return { reason: 'the fake driver was asked for' };
  const why = qemuUnavailable();
  if (why) {
    if (name === 'qemu') throw new Error(`--compute-driver qemu cannot run here: ${why}`);
    return { reason: `using the fake compute driver: the QEMU driver cannot run here because ${why}` };
  }
  return { driver: qemuDriverFor(ctx), reason: 'QEMU driver (real virtual machines)' };
}
