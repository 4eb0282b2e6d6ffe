/**
 * A real `stackbox up` process on a temporary data directory and a free port, for compatibility tests
 * with real clients (the Debian `openstack` CLI, openstacksdk).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const hasOpenstackCli =
  spawnSync('sh', ['-c', 'command -v openstack'], { encoding: 'utf8' }).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface StackboxProcess {
  url: string;
  port: number;
  dataDir: string;
  cloudsYaml: string;
  adminPassword: string;
  proc: ChildProcess;
  output: () => string;
  /** Run the openstack CLI against this cloud (admin by default; pass env to change user). */
  os(args: string[], env?: Record<string, string>): { status: number; stdout: string; stderr: string };
  /** Run the CLI with `-f json` and parse the result; throws with stderr on failure. */
  osJson<T = any>(args: string[], env?: Record<string, string>): T;
  /** Environment that makes the CLI authenticate as this user on this project (instead of clouds.yaml's admin). */
  as(user: string, password: string, project?: string): Record<string, string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  cleanup(): Promise<void>;
}

const ROOT = resolve(import.meta.dirname, '..', '..');

export async function startStackbox(
  opts: { dataDir?: string; port?: number; env?: Record<string, string>; args?: string[] } = {},
): Promise<StackboxProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stackbox-proc-'));
  const port = opts.port ?? (await freePort());
  const cloudsYaml = join(dataDir, 'clouds.yaml');
  const adminPassword = 'compat-admin-pw';
  let out = '';
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, 'bin', 'stackbox.js'),
      'up',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--clouds-yaml',
      cloudsYaml,
      ...(opts.args ?? []),
    ],
    {
      env: {
        ...process.env,
        STACKBOX_ADMIN_PASSWORD: adminPassword,
        STACKBOX_LOG_LEVEL: 'warn',
        // only tests that want the cached test guest registered turn this on
        STACKBOX_TEST_IMAGE: 'false',
        // real VMs only in the data-plane tests that ask for them
        STACKBOX_COMPUTE_DRIVER: 'fake',
        STACKBOX_NETWORK_DRIVER: 'fake',
        // the default external network only where a test asks for it (the seed tests create `public`)
        STACKBOX_PUBLIC_NETWORK: 'none',
        ...opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`stackbox did not start in 60 s:\n${out}`)), 60_000);
    const check = () => {
      if (out.includes('export OS_CLOUD=stackbox')) {
        clearTimeout(timer);
        res();
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`stackbox exited with ${code}:\n${out}`));
    });
  });
  const baseEnv = { ...process.env, OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: 'stackbox' } as Record<
    string,
    string
  >;
  for (const k of Object.keys(baseEnv))
    if (k.startsWith('OS_') && !['OS_CLIENT_CONFIG_FILE', 'OS_CLOUD'].includes(k)) delete baseEnv[k];
  const os: StackboxProcess['os'] = (args, env = {}) => {
    const r = spawnSync('openstack', args, {
      env: { ...baseEnv, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    return new Promise((res) => {
      proc.once('exit', (code) => res(code));
      proc.kill(signal);
    });
  };
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dataDir,
    cloudsYaml,
    adminPassword,
    proc,
    output: () => out,
    os,
    osJson(args, env) {
      const r = os([...args, '-f', 'json'], env);
      if (r.status !== 0) throw new Error(`openstack ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      return JSON.parse(r.stdout);
    },
    as(user, password, project) {
      return {
        OS_CLOUD: '',
        OS_CLIENT_CONFIG_FILE: '/dev/null',
        OS_AUTH_URL: `http://127.0.0.1:${port}/identity/v3`,
        OS_IDENTITY_API_VERSION: '3',
        OS_USERNAME: user,
        OS_PASSWORD: password,
        OS_USER_DOMAIN_NAME: 'Default',
        ...(project ? { OS_PROJECT_NAME: project, OS_PROJECT_DOMAIN_NAME: 'Default' } : {}),
      };
    },
    stop,
    async cleanup() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
