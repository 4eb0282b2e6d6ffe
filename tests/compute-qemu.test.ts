/**
 * Data plane: a real VM through the API. `stackbox up --compute-driver qemu` boots the registered test
 * guest with `openstack server create --wait`; its readiness line and the injected key show up in
 * `openstack console log show`; the control plane is killed with SIGKILL and restarted while the VM runs
 * (the VM keeps running and is adopted); stop/start; delete leaves no process and no file.
 * Needs root, qemu-system-x86_64, genisoimage, the openstack CLI and the test image (`stackbox image build-test`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

const cache = process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox');
const ready =
  hasOpenstackCli &&
  process.getuid?.() === 0 &&
  existsSync(join(cache, 'images', 'stackbox-test.qcow2')) &&
  spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v genisoimage']).status === 0;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!ready)('real VMs through the compute API (QEMU driver)', () => {
  let sb: StackboxProcess | undefined;
  afterAll(async () => {
    if (sb) {
      sb.os(['server', 'delete', '--wait', 'vm1']);
      await sb.cleanup();
    }
  });

  it(
    'boots, survives a control-plane kill -9, stops, starts and deletes cleanly',
    { timeout: 900_000 },
    async () => {
      const env = { STACKBOX_COMPUTE_DRIVER: 'qemu', STACKBOX_TEST_IMAGE: 'true', STACKBOX_CACHE: cache };
      sb = await startStackbox({ env });
      expect(sb.output()).toMatch(/Test image "stackbox-test" is/);
      const hv = sb.osJson<{ 'Hypervisor Type': string }[]>(['hypervisor', 'list']);
      expect(hv[0]!['Hypervisor Type']).toMatch(/^(QEMU|KVM)$/);

      const keyFile = join(sb.dataDir, 'k1.pem');
      let r = sb.os(['keypair', 'create', '--private-key', keyFile, 'k1']);
      expect(r.status, r.stderr).toBe(0);
      const server = sb.osJson([
        '--os-compute-api-version',
        '2.37',
        'server',
        'create',
        '--image',
        'stackbox-test',
        '--flavor',
        'm1.nano',
        '--nic',
        'none',
        '--key-name',
        'k1',
        '--wait',
        'vm1',
      ]);
      expect(server.status).toBe('ACTIVE');
      const id = server.id as string;
      const pidFile = join(sb.dataDir, 'instances', id, 'pid');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(pid)).toBe(true);

      // The guest reaches its readiness line; the console log API shows it.
      let log = '';
      for (let i = 0; i < 120 && !log.includes('STACKBOX-READY'); i++) {
        log = sb.os(['console', 'log', 'show', 'vm1']).stdout;
        if (!log.includes('STACKBOX-READY')) await new Promise((res) => setTimeout(res, 2000));
      }
      expect(log).toMatch(/STACKBOX-READY hostname=vm1/);
      const url = sb.osJson(['console', 'url', 'show', 'vm1']);
      expect(url.url).toBeTruthy();

      // kill -9 the control plane: the VM keeps running; a restart adopts it.
      await sb.stop('SIGKILL');
      expect(alive(pid)).toBe(true);
      sb = await startStackbox({ dataDir: sb.dataDir, port: sb.port, env });
      const after = sb.osJson(['server', 'show', 'vm1']);
      expect(after.status).toBe('ACTIVE');
      expect(Number(readFileSync(pidFile, 'utf8'))).toBe(pid);
      expect(alive(pid)).toBe(true);

      r = sb.os(['server', 'stop', 'vm1']);
      expect(r.status, r.stderr).toBe(0);
      for (let i = 0; i < 60 && sb.osJson(['server', 'show', 'vm1']).status !== 'SHUTOFF'; i++)
        await new Promise((res) => setTimeout(res, 2000));
      expect(sb.osJson(['server', 'show', 'vm1']).status).toBe('SHUTOFF');
      expect(alive(pid)).toBe(false);
      r = sb.os(['server', 'start', 'vm1']);
      expect(r.status, r.stderr).toBe(0);
      for (let i = 0; i < 60 && sb.osJson(['server', 'show', 'vm1']).status !== 'ACTIVE'; i++)
        await new Promise((res) => setTimeout(res, 2000));
      const pid2 = Number(readFileSync(pidFile, 'utf8'));
      expect(alive(pid2)).toBe(true);

      r = sb.os(['server', 'delete', '--wait', 'vm1']);
      expect(r.status, r.stderr).toBe(0);
      expect(alive(pid2)).toBe(false);
      expect(existsSync(join(sb.dataDir, 'instances', id))).toBe(false);
    },
  );
});
