/**
 * Which accelerator can run ordinary guests here: KVM where the host has hardware virtualization,
 * else TCG (software emulation). /dev/kvm existing is not enough: a nested PVM backend (as on this
 * project's build machines) opens fine but cannot boot a stock kernel (see shared/research/dataplane.md),
 * so the probe also checks the CPU flags and the KVM flavour, and can boot a kernel briefly to be sure.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AccelChoice {
  accel: 'kvm' | 'tcg';
  /** For os-hypervisors: hypervisor_type. */
  hypervisorType: 'KVM' | 'QEMU';
  reason: string;
}

export interface HostFacts {
  devKvm: boolean;
  cpuFlags: string[];
  modules: string[];
}

export function readHostFacts(root = '/'): HostFacts {
  let devKvm = false;
  try {
    accessSync(join(root, 'dev/kvm'), constants.R_OK | constants.W_OK);
    devKvm = true;
  } catch {
    devKvm = false;
  }
  let cpuFlags: string[] = [];
  try {
    const info = readFileSync(join(root, 'proc/cpuinfo'), 'utf8');
    cpuFlags = (/^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '').split(/\s+/).filter(Boolean);
  } catch {
    cpuFlags = [];
  }
  const modules = ['kvm_intel', 'kvm_amd', 'kvm_pvm', 'kvm'].filter((m) =>
    existsSync(join(root, 'sys/module', m)),
  );
  return { devKvm, cpuFlags, modules };
}

/** Decide from host facts alone (instant). */
export function chooseAccel(f: HostFacts): AccelChoice {
  if (!f.devKvm)
    return { accel: 'tcg', hypervisorType: 'QEMU', reason: '/dev/kvm is missing or not accessible' };
  const hw = f.cpuFlags.includes('vmx') || f.cpuFlags.includes('svm');
  if (f.modules.includes('kvm_pvm') && !f.modules.includes('kvm_intel') && !f.modules.includes('kvm_amd')) {
    return {
      accel: 'tcg',
      hypervisorType: 'QEMU',
      reason: '/dev/kvm is a PVM backend that cannot boot ordinary guests',
    };
  }
  if (!hw) return { accel: 'tcg', hypervisorType: 'QEMU', reason: 'the CPU exposes no vmx/svm flag' };
  return { accel: 'kvm', hypervisorType: 'KVM', reason: 'hardware virtualization available' };
}

/**
 * Confirm KVM by booting a kernel to its first console line (a few seconds at most; never hangs:
 * the process is killed at the deadline). Returns false if the kernel prints nothing in time.
 */
export async function kvmBootsKernel(qemu: string, kernel: string, timeoutMs = 15_000): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'stackbox-kvm-probe-'));
  try {
    return await new Promise<boolean>((resolve) => {
      const p = spawn(
        qemu,
        [
          '-accel',
          'kvm',
          '-cpu',
          'host',
          '-machine',
          'q35',
          '-m',
          '128',
          '-nodefaults',
          '-display',
          'none',
          '-no-reboot',
          '-serial',
          'stdio',
          '-kernel',
          kernel,
          '-append',
          'console=ttyS0 earlyprintk=ttyS0 panic=-1',
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let out = '';
      const done = (ok: boolean) => {
        clearTimeout(timer);
        p.kill('SIGKILL');
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      p.stdout.on('data', (d) => {
        out += d;
        if (/Linux version|Kernel panic|Run \/init/.test(out)) done(true);
      });
      p.on('error', () => done(false));
      p.on('exit', () => done(/Linux version|Kernel panic/.test(out)));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Host facts first; where they say KVM and a kernel is at hand, a short boot confirms it. */
export async function probeAccel(
  opts: { qemu?: string; kernel?: string; facts?: HostFacts } = {},
): Promise<AccelChoice> {
  const choice = chooseAccel(opts.facts ?? readHostFacts());
  if (choice.accel === 'kvm' && opts.qemu && opts.kernel) {
    if (!(await kvmBootsKernel(opts.qemu, opts.kernel))) {
      return {
        accel: 'tcg',
        hypervisorType: 'QEMU',
        reason: 'a kernel did not boot under KVM within the probe time',
      };
    }
  }
  return choice;
}
