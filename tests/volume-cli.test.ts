/**
 * Compatibility: the Debian `openstack` CLI (cinderclient through openstackclient) against a real `stackbox up`
 * (built dist/: `npm run build` first) with the file volume backend (qcow2 files made with qemu-img).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, sleep, startStackbox, type StackboxProcess } from './support/stackbox.js';

const hasQemuImg = spawnSync('sh', ['-c', 'command -v qemu-img'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasOpenstackCli || !hasQemuImg)('openstack CLI against stackbox up (volume)', () => {
  let dir: string;
  let sb: StackboxProcess;
  const osJson = <T = any>(args: string[], env?: Record<string, string>) => sb.osJson<T>(args, env);
  const ok = (args: string[], env?: Record<string, string>) => {
    const r = sb.os(args, env);
    if (r.status !== 0) throw new Error(`openstack ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const waitStatus = async (kind: 'volume' | 'volume snapshot', id: string, want: string) => {
    for (let i = 0; i < 300; i++) {
      const v = osJson([...kind.split(' '), 'show', id]);
      if (v.status === want) return v;
      if (String(v.status).startsWith('error')) throw new Error(`${kind} ${id} is ${v.status}`);
      await sleep(200);
    }
    throw new Error(`${kind} ${id} never became ${want}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stackbox-volume-cli-'));
    sb = await startStackbox({ dataDir: join(dir, 'data'), env: { STACKBOX_VOLUME_DRIVER: 'file' } });
    spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'img.qcow2'), '64M']);
  });
  afterAll(async () => {
    await sb?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates, lists, shows, sets, extends and deletes volumes backed by qcow2 files', async () => {
    const v = osJson(['volume', 'create', '--size', '1', '--property', 'k=v', 'v1']);
    expect(v.size).toBe(1);
    const av = await waitStatus('volume', v.id, 'available');
    expect(av.type).toBe('__DEFAULT__');
    expect(existsSync(join(sb.dataDir, 'volumes', 'volumes', `${v.id}.qcow2`))).toBe(true);
    const list = osJson(['volume', 'list']);
    expect(list.map((x: { Name: string }) => x.Name)).toContain('v1');
    ok(['volume', 'set', '--name', 'v1b', '--description', 'd', '--property', 'k2=v2', '--bootable', 'v1']);
    ok(['volume', 'set', '--size', '2', 'v1b']);
    const big = await waitStatus('volume', v.id, 'available');
    expect(big).toMatchObject({ name: 'v1b', description: 'd', size: 2, bootable: 'true' });
    ok(['volume', 'unset', '--property', 'k', 'v1b']);
    const r = sb.os(['volume', 'set', '--size', '1', 'v1b']);
    expect(r.status).not.toBe(0);
    ok(['volume', 'delete', 'v1b']);
    for (let i = 0; i < 100 && sb.os(['volume', 'show', v.id]).status === 0; i++) await sleep(100);
    expect(sb.os(['volume', 'show', v.id]).status).not.toBe(0);
    expect(existsSync(join(sb.dataDir, 'volumes', 'volumes', `${v.id}.qcow2`))).toBe(false);
  });

  it('makes volumes from an image, a snapshot and another volume', async () => {
    const img = osJson([
      'image',
      'create',
      '--disk-format',
      'qcow2',
      '--file',
      join(dir, 'img.qcow2'),
      'img1',
    ]);
    const fromImage = osJson(['volume', 'create', '--size', '1', '--image', img.id, 'from-image']);
    const fi = await waitStatus('volume', fromImage.id, 'available');
    expect(fi.bootable).toBe('true');
    expect(fi.volume_image_metadata?.image_id ?? img.id).toBe(img.id);
    const snap = osJson(['volume', 'snapshot', 'create', '--volume', 'from-image', 's1']);
    await waitStatus('volume snapshot', snap.id, 'available');
    expect(osJson(['volume', 'snapshot', 'list']).map((s: { Name: string }) => s.Name)).toContain('s1');
    const fromSnap = osJson(['volume', 'create', '--snapshot', 's1', '--size', '2', 'from-snap']);
    await waitStatus('volume', fromSnap.id, 'available');
    const clone = osJson(['volume', 'create', '--source', 'from-image', 'clone']);
    await waitStatus('volume', clone.id, 'available');
    expect(sb.os(['volume', 'delete', 'from-image']).status).not.toBe(0); // it has a snapshot
    ok(['volume', 'snapshot', 'delete', 's1']);
    for (let i = 0; i < 100 && sb.os(['volume', 'snapshot', 'show', snap.id]).status === 0; i++)
      await sleep(100);
    ok(['volume', 'delete', 'from-image', 'from-snap', 'clone']);
  });

  it('manages types, transfers and quotas', async () => {
    const t = osJson(['volume', 'type', 'create', '--property', 'tier=gold', '--private', 'gold']);
    expect(t.name).toBe('gold');
    ok(['volume', 'type', 'set', '--project', 'admin', 'gold']);
    const shown = osJson(['volume', 'type', 'show', 'gold']);
    expect(JSON.stringify(shown.properties)).toContain('tier');
    expect(osJson(['volume', 'type', 'list']).map((x: { Name: string }) => x.Name)).toEqual(
      expect.arrayContaining(['__DEFAULT__', 'gold']),
    );
    const v = osJson(['volume', 'create', '--size', '1', '--type', 'gold', 'typed']);
    await waitStatus('volume', v.id, 'available');
    const tr = osJson(['volume', 'transfer', 'request', 'create', 'typed']);
    expect(tr.auth_key).toBeTruthy();
    expect(osJson(['volume', 'transfer', 'request', 'list']).length).toBe(1);
    ok(['volume', 'transfer', 'request', 'delete', tr.id]);
    await waitStatus('volume', v.id, 'available');
    ok(['volume', 'delete', 'typed']);
    for (let i = 0; i < 100 && sb.os(['volume', 'show', v.id]).status === 0; i++) await sleep(100);
    ok(['volume', 'type', 'delete', 'gold']);
    ok(['quota', 'set', '--volumes', '7', '--gigabytes', '70', 'admin']);
    const q = osJson(['quota', 'show', 'admin']);
    expect(q.volumes).toBe(7);
    expect(q.gigabytes).toBe(70);
  });
});
