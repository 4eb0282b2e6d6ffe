/**
 * Content verification of uploaded images, as Glance's format inspector does it (glance/location.py
 * set_data): detect the real format, compare it with disk_format, compute virtual_size, and refuse images
 * that would make a hypervisor open other files (qcow2 backing file or external data file, VMDK extents
 * other than the file itself).
 *
 * Detection reads magic numbers first, in this process. `qemu-img info` (Debian package qemu-utils) then
 * runs only with an explicit `-f <detected format>` and only for qcow2/vmdk/vhdx/vpc/vdi/parallels, after
 * the header checks passed — never with format probing, which is how `qemu-img info` itself gets tricked
 * into opening host files.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';

/** Formats the inspector recognizes (Glance's format_inspector.ALL_FORMATS, minus gpt/luks). */
export const INSPECTABLE = new Set(['raw', 'qcow2', 'vmdk', 'vhd', 'vhdx', 'vdi', 'iso', 'ploop']);
const QEMU_FORMAT: Record<string, string> = {
  qcow2: 'qcow2',
  vmdk: 'vmdk',
  vhdx: 'vhdx',
  vhd: 'vpc',
  vdi: 'vdi',
  ploop: 'parallels',
};

export class ImageDataError extends Error {}

export interface Inspection {
  /** Detected format in Glance's disk_format vocabulary. */
  format: string;
  virtualSize?: number;
}

/** Detect the format from magic numbers; fail on unsafe qcow2/vmdk headers. */
export async function detect(path: string, size: number): Promise<{ format: string; unsafe?: string }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const h = head.subarray(0, bytesRead);
    if (h.length >= 104 && h.readUInt32BE(0) === 0x514649fb) {
      const version = h.readUInt32BE(4);
      if (h.readBigUInt64BE(8) !== 0n) return { format: 'qcow2', unsafe: 'qcow2 image has a backing file' };
      if (version >= 3) {
        const incompatible = h.readBigUInt64BE(72);
        if (incompatible & 4n) return { format: 'qcow2', unsafe: 'qcow2 image has an external data file' };
        if (incompatible & ~0x1fn)
          return { format: 'qcow2', unsafe: 'qcow2 image has unknown incompatible features' };
      }
      return { format: 'qcow2' };
    }
    if (h.length >= 44 && h.toString('latin1', 0, 4) === 'KDMV') {
      const descOffset = Number(h.readBigUInt64LE(28)) * 512;
      const descSize = Number(h.readBigUInt64LE(36)) * 512;
      if (descOffset === 0 || descSize === 0 || descSize > 1 << 20)
        return { format: 'vmdk', unsafe: 'vmdk image has no embedded descriptor' };
      const desc = Buffer.alloc(descSize);
      const r = await fh.read(desc, 0, descSize, descOffset);
      const text = desc.toString('latin1', 0, r.bytesRead).replace(/\0.*$/s, '');
      const createType = /createType\s*=\s*"([^"]*)"/.exec(text)?.[1];
      if (createType !== 'monolithicSparse' && createType !== 'streamOptimized')
        return { format: 'vmdk', unsafe: `vmdk createType ${createType ?? 'missing'} is not allowed` };
      const extents = text.split('\n').filter((l) => /^\s*(RW|RDONLY|NOACCESS)\s/.test(l));
      if (extents.length !== 1) return { format: 'vmdk', unsafe: 'vmdk image has more than one extent' };
      return { format: 'vmdk' };
    }
    if (/^#\s*Disk DescriptorFile/i.test(h.toString('latin1', 0, 64)))
      return { format: 'vmdk', unsafe: 'vmdk descriptor file references external extents' };
    if (h.toString('latin1', 0, 8) === 'vhdxfile') return { format: 'vhdx' };
    if (h.toString('latin1', 0, 8) === 'conectix') return { format: 'vhd' };
    if (h.length >= 68 && h.readUInt32LE(64) === 0xbeda107f) return { format: 'vdi' };
    const p = h.toString('latin1', 0, 16);
    if (p === 'WithoutFreeSpace' || p === 'WithouFreSpacExt') return { format: 'ploop' };
    if (size >= 0x8006) {
      const iso = Buffer.alloc(5);
      await fh.read(iso, 0, 5, 0x8001);
      if (iso.toString('latin1') === 'CD001') return { format: 'iso' };
    }
    if (size >= 512) {
      const foot = Buffer.alloc(8);
      await fh.read(foot, 0, 8, size - 512);
      if (foot.toString('latin1') === 'conectix') return { format: 'vhd' };
    }
    return { format: 'raw' };
  } finally {
    await fh.close();
  }
}

interface QemuInfo {
  format?: string;
  'virtual-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  filename?: string;
  'format-specific'?: { type?: string; data?: Record<string, any> };
}

export function qemuImgInfo(path: string, format: string, timeoutMs = 30_000): Promise<QemuInfo> {
  return new Promise((res, rej) => {
    execFile(
      'qemu-img',
      ['info', '-f', format, '--output=json', path],
      {
        timeout: timeoutMs,
        maxBuffer: 1 << 20,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
      },
      (err, stdout, stderr) => {
        if (err) return rej(new Error(`qemu-img info failed: ${stderr || err.message}`));
        try {
          res(JSON.parse(stdout) as QemuInfo);
        } catch {
          rej(new Error('qemu-img info printed invalid JSON'));
        }
      },
    );
  });
}

/**
 * Verify image data against its disk_format (Glance's rules, require_image_format_match = True):
 * - detected == disk_format: accepted, virtual_size from the format;
 * - detected raw and disk_format not inspectable (ami, ari, aki): accepted, no virtual_size;
 * - disk_format raw and something else detected: accepted (Nova boots it as raw), virtual_size = size;
 * - anything else: refused. Unsafe content (backing/data files) is refused whatever the disk_format.
 * Throws ImageDataError with Glance's message.
 */
export async function verifyImage(path: string, size: number, diskFormat: string): Promise<Inspection> {
  let detected: { format: string; unsafe?: string };
  try {
    detected = await detect(path, size);
  } catch {
    throw new ImageDataError('Image format inspection failed');
  }
  if (detected.unsafe) throw new ImageDataError('Image failed safety checks');
  let virtualSize: number | undefined =
    detected.format === 'raw' || detected.format === 'iso' ? size : undefined;
  const qemuFormat = QEMU_FORMAT[detected.format];
  if (qemuFormat) {
    let info: QemuInfo;
    try {
      info = await qemuImgInfo(path, qemuFormat);
    } catch {
      throw new ImageDataError('Image format inspection failed');
    }
    const data = info['format-specific']?.data ?? {};
    if (info['backing-filename'] || info['full-backing-filename'] || data['data-file'])
      throw new ImageDataError('Image failed safety checks');
    if (qemuFormat === 'vmdk') {
      const extents = (data.extents ?? []) as { filename?: string }[];
      if (extents.some((e) => e.filename && e.filename !== path))
        throw new ImageDataError('Image failed safety checks');
    }
    virtualSize = info['virtual-size'];
  }
  if (detected.format === diskFormat) return { format: detected.format, virtualSize };
  if (detected.format === 'raw' && !INSPECTABLE.has(diskFormat)) return { format: 'raw' };
  if (diskFormat === 'raw') return { format: detected.format, virtualSize: size };
  throw new ImageDataError(`Image disk_format ${diskFormat} does not match stream data ${detected.format}`);
}
