/** Shared helpers for the image tests: a test cloud, image files made with qemu-img, small request wrappers. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { TestCloud } from '../support/cloud.js';

export const hasQemuImg = (() => {
  try {
    execFileSync('qemu-img', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const workDir = () => mkdtempSync(join(tmpdir(), 'stackbox-image-'));

/** `qemu-img create -f <fmt> [-o opts] <file> <size>`; returns the file's bytes. */
export function qemuImage(dir: string, name: string, fmt: string, size: string, opts?: string): Buffer {
  const file = join(dir, name);
  execFileSync('qemu-img', ['create', '-q', '-f', fmt, ...(opts ? ['-o', opts] : []), file, size]);
  return readFileSync(file);
}

export const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
export const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');

export const PATCH21 = { 'content-type': 'application/openstack-images-v2.1-json-patch' };
export const PATCH20 = { 'content-type': 'application/openstack-images-v2.0-json-patch' };
export const OCTET = { 'content-type': 'application/octet-stream' };

export async function createImage(cloud: TestCloud, token: string, body: Record<string, unknown> = {}) {
  const r = await cloud.req('POST', '/image/v2/images', {
    token,
    body: { disk_format: 'raw', container_format: 'bare', ...body },
  });
  if (r.statusCode !== 201) throw new Error(`create image: ${r.statusCode} ${r.body}`);
  return r.json() as Record<string, any>;
}

export async function upload(cloud: TestCloud, token: string, id: string, data: Buffer) {
  return cloud.req('PUT', `/image/v2/images/${id}/file`, { token, body: data, headers: OCTET });
}

/** The Glance fault body, checked for shape. */
export function fault(r: LightMyRequestResponse): { message: string; code: string; title: string } {
  const b = r.json() as { message: string; code: string; title: string };
  if (typeof b.message !== 'string' || !b.code.startsWith(String(r.statusCode)))
    throw new Error(`not a Glance fault: ${r.body}`);
  return b;
}
