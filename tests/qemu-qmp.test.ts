/** The QMP client and the accelerator probe against a real qemu-system-x86_64 (skipped where absent). */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseAccel } from '../src/agent/compute/qemu/accel.js';
import { QmpClient, QmpError } from '../src/agent/compute/qemu/qmp.js';

const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64']).status === 0;

describe('accelerator choice', () => {
  it('KVM only with hardware virtualization, never on a PVM-only /dev/kvm', () => {
    expect(chooseAccel({ devKvm: true, cpuFlags: ['vmx'], modules: ['kvm_intel', 'kvm'] }).accel).toBe('kvm');
    expect(chooseAccel({ devKvm: true, cpuFlags: ['svm'], modules: ['kvm_amd', 'kvm'] }).hypervisorType).toBe(
      'KVM',
    );
    const pvm = chooseAccel({ devKvm: true, cpuFlags: ['sse2'], modules: ['kvm_pvm', 'kvm'] });
    expect(pvm).toMatchObject({ accel: 'tcg', hypervisorType: 'QEMU' });
    expect(pvm.reason).toMatch(/PVM/);
    expect(chooseAccel({ devKvm: false, cpuFlags: ['vmx'], modules: [] }).accel).toBe('tcg');
    expect(chooseAccel({ devKvm: true, cpuFlags: [], modules: ['kvm'] }).accel).toBe('tcg');
  });
});

describe.skipIf(!hasQemu)('QMP client', () => {
  it('negotiates, runs commands, reports errors and events', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stackbox-qmp-'));
    const sock = join(dir, 'qmp.sock');
    const p = spawn(
      'qemu-system-x86_64',
      [
        '-machine',
        'q35',
        '-accel',
        'tcg',
        '-nodefaults',
        '-display',
        'none',
        '-S',
        '-m',
        '64',
        '-qmp',
        `unix:${sock},server=on,wait=off`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const qmp = await QmpClient.connect(sock);
      expect(qmp.version?.qemu.major).toBeGreaterThanOrEqual(7);
      expect(await qmp.execute('query-status')).toMatchObject({ status: 'prelaunch', running: false });
      await expect(qmp.execute('no-such-command')).rejects.toBeInstanceOf(QmpError);
      // commands after an error still line up with their answers
      expect(await qmp.execute('query-name')).toEqual({});
      const resumed = qmp.waitEvent('RESUME', 5000);
      await qmp.execute('cont');
      await resumed;
      expect(await qmp.execute('query-status')).toMatchObject({ running: true });
      const exited = new Promise((r) => p.once('exit', r));
      await qmp.execute('quit').catch(() => undefined);
      await exited;
      qmp.close();
    } finally {
      p.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
