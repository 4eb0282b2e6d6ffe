/** `stackbox up` registers the cached test guest image as the public image `stackbox-test`, once. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox } from './support/stackbox.js';

const hasQemuImg = spawnSync('sh', ['-c', 'command -v qemu-img']).status === 0;
const cache = mkdtempSync(join(tmpdir(), 'stackbox-cache-'));
const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-reg-'));
afterAll(() => {
  rmSync(cache, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!hasOpenstackCli || !hasQemuImg)('test image registration', () => {
  it('is public, active and not duplicated by a restart', async () => {
    mkdirSync(join(cache, 'images'), { recursive: true });
    execFileSync('qemu-img', [
      'create',
      '-q',
      '-f',
      'qcow2',
      join(cache, 'images', 'stackbox-test.qcow2'),
      '32M',
    ]);
    const env = { STACKBOX_TEST_IMAGE: 'true', STACKBOX_CACHE: cache };
    let sb = await startStackbox({ dataDir, env });
    const id = /Test image "stackbox-test" is (\S+)/.exec(sb.output())?.[1];
    expect(id).toBeTruthy();
    const img = sb.osJson(['image', 'show', 'stackbox-test']);
    expect(img).toMatchObject({
      id,
      status: 'active',
      visibility: 'public',
      disk_format: 'qcow2',
      min_ram: 128,
    });
    await sb.stop();
    sb = await startStackbox({ dataDir, port: sb.port, env });
    expect(sb.output()).toContain(`Test image "stackbox-test" is ${id}`);
    expect(
      sb.osJson<{ Name: string }[]>(['image', 'list']).filter((i) => i.Name === 'stackbox-test'),
    ).toHaveLength(1);
    await sb.stop();
  });
});
