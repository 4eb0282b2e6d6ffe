/**
 * Compatibility: the Debian `openstack` CLI (openstacksdk) against a real `stackbox up` (built dist/,
 * run `npm run build` first), images made with qemu-img.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackbox, type StackboxProcess } from './support/stackbox.js';

const hasCli =
  spawnSync('sh', ['-c', 'command -v openstack && command -v qemu-img'], { encoding: 'utf8' }).status === 0;
const PASSWORD = 'image-cli-admin-pw';

describe.skipIf(!hasCli)('openstack CLI against stackbox up (image)', () => {
  let dir: string;
  let sb: StackboxProcess | undefined;
  let env: Record<string, string>;
  const os = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync('openstack', args, { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const osJson = <T = any>(args: string[], extra: Record<string, string> = {}): T => {
    const r = os([...args, '-f', 'json'], extra);
    if (r.status !== 0) throw new Error(`openstack ${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  /** A clouds.yaml of its own for another user (openstacksdk ignores OS_PROJECT_NAME next to OS_CLOUD). */
  const cloudFor = (username: string, password: string, project: string) =>
    sb!.cloudFor(username, password, project);
  const md5File = (f: string) => createHash('md5').update(readFileSync(f)).digest('hex');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackbox-image-cli-'));
    sb = await startStackbox({ dataDir: join(dir, 'data'), adminPassword: PASSWORD });
    env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      OS_CLIENT_CONFIG_FILE: sb.cloudsYaml,
      OS_CLOUD: 'stackbox',
    };
    for (const f of ['a.qcow2', 'b.qcow2'])
      spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, f), f === 'a.qcow2' ? '32M' : '16M']);
    spawnSync('qemu-img', ['create', '-q', '-f', 'raw', join(dir, 'c.raw'), '2M']);
    spawnSync('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      '-o',
      `backing_file=${join(dir, 'c.raw')},backing_fmt=raw`,
      join(dir, 'evil.qcow2'),
    ]);
  }, 120_000);

  afterAll(async () => {
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 300_000);

  it('creates public/private/shared/protected qcow2 images from files and shows them', () => {
    // `image create` prints the image as POST returned it (queued); `image show` has the uploaded state
    const created = osJson([
      'image',
      'create',
      '--file',
      join(dir, 'a.qcow2'),
      '--disk-format',
      'qcow2',
      '--public',
      '--protected',
      'cli-public',
    ]);
    expect(created).toMatchObject({
      name: 'cli-public',
      visibility: 'public',
      protected: true,
      disk_format: 'qcow2',
      container_format: 'bare',
    });
    const pub = osJson(['image', 'show', 'cli-public']);
    expect(pub).toMatchObject({
      id: created.id,
      status: 'active',
      size: readFileSync(join(dir, 'a.qcow2')).length,
      virtual_size: 32 * 1024 * 1024,
    });
    expect(pub.checksum).toBe(md5File(join(dir, 'a.qcow2')));
    expect(pub.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    osJson([
      'image',
      'create',
      '--file',
      join(dir, 'b.qcow2'),
      '--disk-format',
      'qcow2',
      '--private',
      'cli-private',
    ]);
    expect(osJson(['image', 'show', 'cli-private'])).toMatchObject({
      visibility: 'private',
      status: 'active',
    });
    osJson([
      'image',
      'create',
      '--file',
      join(dir, 'b.qcow2'),
      '--disk-format',
      'qcow2',
      '--shared',
      'cli-shared',
    ]);
    expect(osJson(['image', 'show', 'cli-shared'])).toMatchObject({ visibility: 'shared', status: 'active' });
    const list = osJson<{ Name: string; Status: string }[]>(['image', 'list']);
    expect(list.map((i) => i.Name).sort()).toEqual(['cli-private', 'cli-public', 'cli-shared']);
    expect(list.every((i) => i.Status === 'active')).toBe(true);
    expect(osJson<{ Name: string }[]>(['image', 'list', '--private']).map((i) => i.Name)).toEqual([
      'cli-private',
    ]);
  }, 300_000);

  it('refuses a qcow2 with a backing file and a mismatched format', () => {
    let r = os(['image', 'create', '--file', join(dir, 'evil.qcow2'), '--disk-format', 'qcow2', 'cli-evil']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/safety checks/);
    r = os(['image', 'create', '--file', join(dir, 'c.raw'), '--disk-format', 'qcow2', 'cli-mismatch']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/does not match/);
  }, 300_000);

  it('set / unset / save (checksum equal) / protected delete / delete', () => {
    expect(
      os([
        'image',
        'set',
        '--property',
        'os_distro=debian',
        '--tag',
        'blue',
        '--min-ram',
        '256',
        '--name',
        'cli-shared2',
        'cli-shared',
      ]).status,
    ).toBe(0);
    let s = osJson(['image', 'show', 'cli-shared2']);
    expect(s).toMatchObject({ min_ram: 256, tags: ['blue'] });
    expect(JSON.stringify(s.properties)).toContain('debian');
    expect(os(['image', 'unset', '--property', 'os_distro', '--tag', 'blue', 'cli-shared2']).status).toBe(0);
    s = osJson(['image', 'show', 'cli-shared2']);
    expect(s.tags).toEqual([]);
    expect(JSON.stringify(s.properties ?? {})).not.toContain('debian');
    const saved = join(dir, 'saved.qcow2');
    const r = os(['image', 'save', '--file', saved, 'cli-public']);
    expect(r.status, r.stderr).toBe(0);
    expect(md5File(saved)).toBe(md5File(join(dir, 'a.qcow2')));
    // protected: delete fails until unprotected
    expect(os(['image', 'delete', 'cli-public']).status).not.toBe(0);
    expect(os(['image', 'set', '--unprotected', 'cli-public']).status).toBe(0);
    expect(os(['image', 'delete', 'cli-public']).status).toBe(0);
    expect(os(['image', 'show', 'cli-public']).status).not.toBe(0);
  }, 300_000);

  it('shares with another project; the member accepts and sees it; an outsider does not', () => {
    const admin = {};
    osJson(['project', 'create', 'img-proj'], admin);
    osJson(['user', 'create', '--password', 'img-user-pw', '--project', 'img-proj', 'img-user'], admin);
    expect(os(['role', 'add', '--project', 'img-proj', '--user', 'img-user', 'member']).status).toBe(0);
    osJson(['project', 'create', 'img-out']);
    osJson(['user', 'create', '--password', 'img-out-pw', '--project', 'img-out', 'img-out']);
    expect(os(['role', 'add', '--project', 'img-out', '--user', 'img-out', 'member']).status).toBe(0);
    const user = cloudFor('img-user', 'img-user-pw', 'img-proj');
    const outsider = cloudFor('img-out', 'img-out-pw', 'img-out');
    const image = osJson(['image', 'show', 'cli-shared2']);
    const m = osJson(['image', 'add', 'project', 'cli-shared2', 'img-proj']);
    expect(m).toMatchObject({ image_id: image.id, status: 'pending' });
    // pending: not listed for the member yet
    expect(osJson<{ ID: string }[]>(['image', 'list'], user).map((i) => i.ID)).not.toContain(image.id);
    let r = os(['image', 'set', '--accept', image.id], user);
    expect(r.status, r.stderr).toBe(0);
    expect(osJson<{ ID: string }[]>(['image', 'list'], user).map((i) => i.ID)).toContain(image.id);
    const members = osJson<{ 'Member ID': string; Status: string }[]>([
      'image',
      'member',
      'list',
      'cli-shared2',
    ]);
    expect(members).toEqual([expect.objectContaining({ Status: 'accepted' })]);
    const saved = join(dir, 'member.qcow2');
    r = os(['image', 'save', '--file', saved, image.id], user);
    expect(r.status, r.stderr).toBe(0);
    expect(md5File(saved)).toBe(md5File(join(dir, 'b.qcow2')));
    // the member may not change it; the outsider sees nothing
    expect(os(['image', 'set', '--name', 'stolen', image.id], user).status).not.toBe(0);
    expect(osJson<{ ID: string }[]>(['image', 'list'], outsider)).toEqual([]);
    expect(os(['image', 'show', image.id], outsider).status).not.toBe(0);
    expect(os(['image', 'remove', 'project', 'cli-shared2', 'img-proj']).status).toBe(0);
    expect(os(['image', 'show', image.id], user).status).not.toBe(0);
    expect(os(['image', 'delete', 'cli-shared2', 'cli-private']).status).toBe(0);
    expect(osJson(['image', 'list'])).toEqual([]);
  }, 300_000);
});
