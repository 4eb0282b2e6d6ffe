/**
 * Compatibility: the Debian `openstack` CLI (container/object commands) and `swift` (python3-swiftclient)
 * against a real `stackbox up` (built dist/: run `npm run build` first).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

const hasSwift = spawnSync('sh', ['-c', 'command -v swift'], { encoding: 'utf8' }).status === 0;
const md5 = (f: string) => createHash('md5').update(readFileSync(f)).digest('hex');

describe.skipIf(!hasOpenstackCli || !hasSwift)(
  'openstack and swift CLIs against stackbox up (object store)',
  () => {
    let sb: StackboxProcess;
    let work: string;
    let swiftEnv: Record<string, string>;
    const swift = (args: string[]) => {
      const r = spawnSync('swift', args, { cwd: work, env: swiftEnv, encoding: 'utf8', timeout: 120_000 });
      return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    };
    const ok = (r: { status: number; stdout: string; stderr: string }) => {
      if (r.status !== 0) throw new Error(`failed (${r.status}): ${r.stderr}${r.stdout}`);
      return r.stdout;
    };

    beforeAll(async () => {
      sb = await startStackbox();
      work = join(sb.dataDir, 'work');
      mkdirSync(join(work, 'up', 'sub'), { recursive: true });
      swiftEnv = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work,
        ...sb.as('admin', sb.adminPassword, 'admin'),
        OS_AUTH_TYPE: 'password',
      };
    }, 90_000);
    afterAll(async () => {
      await sb?.cleanup();
    });

    it('openstack container create/list/show/set/save/delete and object create/list/show/set/save/delete', () => {
      const file = join(work, 'hello.txt');
      writeFileSync(file, 'hello from the openstack CLI\n');
      const opts = { cwd: work };
      expect(sb.osJson(['container', 'create', 'oc1'])[0]).toMatchObject({ container: 'oc1' });
      expect(sb.osJson<{ Name: string }[]>(['container', 'list']).map((c) => c.Name)).toContain('oc1');
      const created = spawnSync('openstack', ['object', 'create', 'oc1', 'hello.txt', '-f', 'json'], {
        ...opts,
        env: sb.cliEnv(),
        encoding: 'utf8',
      });
      expect(created.status, created.stderr).toBe(0);
      expect(JSON.parse(created.stdout)[0]).toMatchObject({ object: 'hello.txt', etag: md5(file) });
      expect(sb.osJson<{ Name: string }[]>(['object', 'list', 'oc1']).map((o) => o.Name)).toEqual([
        'hello.txt',
      ]);
      const shown = sb.osJson(['object', 'show', 'oc1', 'hello.txt']);
      expect(shown).toMatchObject({ etag: md5(file), 'content-length': '29', 'content-type': 'text/plain' });
      expect(sb.os(['object', 'set', '--property', 'color=blue', 'oc1', 'hello.txt']).status).toBe(0);
      expect(sb.osJson(['object', 'show', 'oc1', 'hello.txt']).properties).toMatchObject({ color: 'blue' });
      expect(sb.os(['container', 'set', '--property', 'team=a', 'oc1']).status).toBe(0);
      const c = sb.osJson(['container', 'show', 'oc1']);
      expect(c).toMatchObject({ object_count: '1', bytes_used: '29' });
      expect(c.properties).toMatchObject({ team: 'a' });
      const out = join(work, 'saved.txt');
      expect(sb.os(['object', 'save', '--file', out, 'oc1', 'hello.txt']).status).toBe(0);
      expect(readFileSync(out, 'utf8')).toBe('hello from the openstack CLI\n');
      const saveDir = join(work, 'save');
      mkdirSync(saveDir);
      const saved = spawnSync('openstack', ['container', 'save', 'oc1'], {
        cwd: saveDir,
        env: sb.cliEnv(),
        encoding: 'utf8',
      });
      expect(saved.status, saved.stderr).toBe(0);
      expect(md5(join(saveDir, 'hello.txt'))).toBe(md5(file));
      expect(sb.os(['container', 'delete', 'oc1']).status).not.toBe(0); // not empty: 409
      expect(sb.os(['object', 'delete', 'oc1', 'hello.txt']).status).toBe(0);
      expect(sb.os(['container', 'delete', 'oc1']).status).toBe(0);
      expect(sb.osJson<{ Name: string }[]>(['container', 'list']).map((x) => x.Name)).not.toContain('oc1');
    });

    it('swift upload/list/stat/download/post/delete, and a public container read anonymously', async () => {
      writeFileSync(join(work, 'up', 'a.txt'), 'one\n');
      writeFileSync(join(work, 'up', 'sub', 'b.txt'), 'two\n');
      writeFileSync(join(work, 'up', 'big.bin'), randomBytes(3 * 1024 * 1024 + 17));
      ok(swift(['upload', 'sc1', 'up']));
      expect(
        ok(swift(['list', 'sc1']))
          .trim()
          .split('\n'),
      ).toEqual(['up/a.txt', 'up/big.bin', 'up/sub/b.txt']);
      expect(
        ok(swift(['list', 'sc1', '--prefix', 'up/', '--delimiter', '/']))
          .trim()
          .split('\n'),
      ).toEqual(['up/a.txt', 'up/big.bin', 'up/sub/']);
      const stat = ok(swift(['stat', 'sc1']));
      expect(stat).toMatch(/Objects: 3/);
      expect(stat).toMatch(new RegExp(`Bytes: ${3 * 1024 * 1024 + 17 + 8}`));
      expect(ok(swift(['stat']))).toMatch(/Containers: 1/);
      expect(ok(swift(['stat', 'sc1', 'up/big.bin']))).toMatch(
        new RegExp(`ETag: ${md5(join(work, 'up', 'big.bin'))}`),
      );
      ok(swift(['download', 'sc1', '-D', 'dl']));
      expect(md5(join(work, 'dl', 'up', 'big.bin'))).toBe(md5(join(work, 'up', 'big.bin')));
      ok(swift(['post', '-m', 'color:red', 'sc1']));
      expect(ok(swift(['stat', 'sc1']))).toMatch(/Meta Color: red/);
      ok(swift(['post', '-m', 'kind:text', 'sc1', 'up/a.txt']));
      expect(ok(swift(['stat', 'sc1', 'up/a.txt']))).toMatch(/Meta Kind: text/);

      // private: anonymous is 401; public after `swift post -r '.r:*'`
      const storageUrl = /OS_STORAGE_URL=(\S+)/.exec(ok(swift(['auth'])))![1]!;
      expect((await fetch(`${storageUrl}/sc1/up/a.txt`)).status).toBe(401);
      ok(swift(['post', '-r', '.r:*', 'sc1']));
      expect(ok(swift(['stat', 'sc1']))).toMatch(/Read ACL: \.r:\*/);
      const anon = await fetch(`${storageUrl}/sc1/up/a.txt`);
      expect(anon.status).toBe(200);
      expect(await anon.text()).toBe('one\n');
      expect((await fetch(`${storageUrl}/sc1`)).status).toBe(401); // no .rlistings
      ok(swift(['post', '-r', '.r:*,.rlistings', 'sc1']));
      expect((await (await fetch(`${storageUrl}/sc1`)).text()).split('\n')).toContain('up/a.txt');

      ok(swift(['delete', 'sc1', 'up/a.txt']));
      expect(
        ok(swift(['list', 'sc1']))
          .trim()
          .split('\n'),
      ).toEqual(['up/big.bin', 'up/sub/b.txt']);
      ok(swift(['delete', 'sc1']));
      expect(ok(swift(['list'])).trim()).toBe('');
    });

    it('swift upload --segment-size (SLO with --use-slo, DLO by default), download checks the whole, tempurl', async () => {
      const big = join(work, 'large.bin');
      writeFileSync(big, randomBytes(5 * 1024 * 1024 + 3));
      ok(swift(['upload', '--use-slo', '--segment-size', '1048576', 'lc', 'large.bin']));
      expect(ok(swift(['stat', 'lc', 'large.bin']))).toMatch(/X-Static-Large-Object: True/i);
      expect(
        ok(swift(['list', 'lc_segments']))
          .trim()
          .split('\n'),
      ).toHaveLength(6);
      ok(swift(['download', 'lc', 'large.bin', '-o', 'large.out']));
      expect(md5(join(work, 'large.out'))).toBe(md5(big));
      ok(swift(['upload', '--segment-size', '2097152', '--object-name', 'dlo.bin', 'lc', 'large.bin']));
      expect(ok(swift(['stat', 'lc', 'dlo.bin']))).toMatch(/Manifest: lc_segments\/dlo.bin/);
      ok(swift(['download', 'lc', 'dlo.bin', '-o', 'dlo.out']));
      expect(md5(join(work, 'dlo.out'))).toBe(md5(big));

      // tempurl: a key on the account, a signed GET without a token
      ok(swift(['post', '-m', 'Temp-URL-Key:cli-secret']));
      const storageUrl = /OS_STORAGE_URL=(\S+)/.exec(ok(swift(['auth'])))![1]!;
      const path = new URL(storageUrl).pathname.replace(/^\/object-store/, '') + '/lc/large.bin';
      const signed = ok(swift(['tempurl', '--digest', 'sha256', 'GET', '600', path, 'cli-secret'])).trim();
      const res = await fetch(`${new URL(storageUrl).origin}/object-store${signed}`);
      expect(res.status).toBe(200);
      expect(
        createHash('md5')
          .update(Buffer.from(await res.arrayBuffer()))
          .digest('hex'),
      ).toBe(md5(big));

      ok(swift(['delete', 'lc']));
      expect(ok(swift(['list', 'lc_segments'])).trim()).toBe('');
    });

    it('swift capabilities reads /info', () => {
      const caps = ok(swift(['capabilities']));
      expect(caps).toMatch(/max_file_size: 5368709122/);
    });
  },
);
