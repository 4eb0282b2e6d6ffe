/**
 * The small test guest image (tools/test-image, Stackbox's CirrOS): where it is cached, how to build it,
 * and its registration as the public image `stackbox-test` on `stackbox up`, so a new user can boot
 * something in the first minute. Registration goes through the public API like any upload.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Server } from './server.js';

export const TEST_IMAGE_NAME = 'stackbox-test';
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function testImagePath(cacheDir: string): string {
  return join(cacheDir, 'images', 'stackbox-test.qcow2');
}

/** Build (or reuse) the image with tools/test-image/build.sh; resolves with the image path. */
export function buildTestImage(
  cacheDir: string,
  out: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  return new Promise((res, rej) => {
    const p = spawn('bash', [join(ROOT, 'tools', 'test-image', 'build.sh'), join(cacheDir, 'images')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, STACKBOX_CACHE: cacheDir },
    });
    p.stdout.pipe(out, { end: false });
    p.stderr.pipe(out, { end: false });
    p.on('error', rej);
    p.on('exit', (code) =>
      code === 0 ? res(testImagePath(cacheDir)) : rej(new Error(`build.sh exited with ${code}`)),
    );
  });
}

/**
 * Upload the cached test image as the public image `stackbox-test` unless one exists already.
 * Returns the image id, or undefined when there is no cached image or no image service.
 */
export async function registerTestImage(
  server: Server,
  adminPassword: string,
  cacheDir: string,
): Promise<string | undefined> {
  const file = testImagePath(cacheDir);
  if (!existsSync(file) || !server.ctx.services.image) return undefined;
  const app = server.app;
  const auth = await app.inject({
    method: 'POST',
    url: '/identity/v3/auth/tokens?nocatalog',
    payload: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { id: 'default' }, password: adminPassword } },
        },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    },
  });
  if (auth.statusCode !== 201)
    throw new Error(`cannot register the test image: admin login failed (${auth.statusCode})`);
  const headers = { 'x-auth-token': String(auth.headers['x-subject-token']) };
  const found = await app.inject({ method: 'GET', url: `/image/v2/images?name=${TEST_IMAGE_NAME}`, headers });
  const existing = (found.json() as { images?: { id: string; status: string }[] }).images ?? [];
  const active = existing.find((i) => i.status === 'active');
  if (active) return active.id;
  let manifest: Record<string, unknown> = {};
  try {
    manifest = JSON.parse(readFileSync(join(dirname(file), 'stackbox-test.manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    manifest = {};
  }
  const created = await app.inject({
    method: 'POST',
    url: '/image/v2/images',
    headers,
    payload: {
      name: TEST_IMAGE_NAME,
      disk_format: 'qcow2',
      container_format: 'bare',
      visibility: 'public',
      min_ram: Number(manifest.min_ram_mb ?? 128),
      hw_rng_model: 'virtio',
      description: 'Stackbox test guest (Debian kernel, busybox, dropbear); console login cirros/gocubsgo',
    },
  });
  if (created.statusCode !== 201) throw new Error(`cannot register the test image: ${created.body}`);
  const id = (created.json() as { id: string }).id;
  const up = await app.inject({
    method: 'PUT',
    url: `/image/v2/images/${id}/file`,
    headers: {
      ...headers,
      'content-type': 'application/octet-stream',
      'content-length': String(statSync(file).size),
    },
    payload: createReadStream(file),
  });
  if (up.statusCode !== 204) throw new Error(`cannot upload the test image: ${up.statusCode} ${up.body}`);
  return id;
}
