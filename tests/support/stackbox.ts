/**
 * A real `stackbox up` process for tests and benchmarks: start it on a temporary data directory and a free
 * port (its environment, drivers and flags chosen by the caller), wait until it is ready, log in (a Keystone
 * token), point the `openstack` CLI at it (clouds.yaml or OS_* variables), stop it gracefully or with
 * SIGKILL (crash tests), restart it on the same data, and clean up. The one place that knows how to spawn a
 * cloud: the CLI/SDK compatibility tests and every bench under bench/ use it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
/** The built CLI (`npm run build` first): what a user runs. */
export const STACKBOX_BIN = join(ROOT, 'bin', 'stackbox.js');

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

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * What tests want unless they say otherwise: fake drivers (real VMs and namespaces only where a test asks),
 * no test guest registered, no default external network (the seed tests create `public`), quiet logs.
 */
export const TEST_ENV: Readonly<Record<string, string>> = {
  STACKBOX_LOG_LEVEL: 'warn',
  STACKBOX_TEST_IMAGE: 'false',
  STACKBOX_COMPUTE_DRIVER: 'fake',
  STACKBOX_NETWORK_DRIVER: 'fake',
  STACKBOX_PUBLIC_NETWORK: 'none',
};

/** Keystone's password authentication body for a user of the Default domain, project-scoped when named. */
export function passwordAuth(user: string, password: string, project?: string) {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user, domain: { id: 'default' }, password } },
      },
      ...(project ? { scope: { project: { name: project, domain: { id: 'default' } } } } : {}),
    },
  };
}

export interface Login {
  token: string;
  projectId: string;
  userId: string;
  /** `x-auth-token` and a JSON content type, for fetch. */
  headers: Record<string, string>;
}

/**
 * Issue a token on a cloud at `url` (admin on project admin by default). `catalog: false` asks for
 * `?nocatalog`. Throws unless Keystone answers 201.
 */
export async function login(
  url: string,
  password: string,
  opts: { user?: string; project?: string | null; catalog?: boolean } = {},
): Promise<Login> {
  const project = opts.project === undefined ? 'admin' : (opts.project ?? undefined);
  const r = await fetch(`${url}/identity/v3/auth/tokens${opts.catalog === false ? '?nocatalog' : ''}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(passwordAuth(opts.user ?? 'admin', password, project)),
  });
  if (r.status !== 201) throw new Error(`token for ${opts.user ?? 'admin'}: ${r.status} ${await r.text()}`);
  const token = r.headers.get('x-subject-token')!;
  const body = (await r.json()) as { token: { project?: { id: string }; user: { id: string } } };
  return {
    token,
    projectId: body.token.project?.id ?? '',
    userId: body.token.user.id,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
  };
}

/** A child process serving a cloud, with everything it printed kept for assertions and error messages. */
export interface CloudProcess {
  proc: ChildProcess;
  pid: number;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolve when the output matches (the match), reject on timeout or exit. */
  waitFor(pattern: string | RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Send a signal (SIGTERM: graceful) and resolve with the exit code; at once if it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, for crash tests: nothing gets to clean up. */
  kill(): Promise<number | null>;
}

export interface SpawnCloudOptions {
  /** Node arguments (a script and its arguments); the process is `node <argv>`. */
  argv: string[];
  /** The child's whole environment. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Copy the child's stderr to ours as it comes (benches show the server's warnings). */
  echoStderr?: boolean;
}

/** Start `node <argv>` and collect its output; wait for readiness with `waitFor`. */
export function spawnCloud(opts: SpawnCloudOptions): CloudProcess {
  let out = '';
  const proc = spawn(process.execPath, opts.argv, {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d;
    for (const w of [...waiters]) w();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', (d: Buffer) => {
    if (opts.echoStderr) process.stderr.write(d);
    onData(d);
  });
  const exited = () => proc.exitCode !== null || proc.signalCode !== null;
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (exited()) return proc.exitCode;
    return new Promise((res) => {
      proc.once('exit', (code) => res(code));
      proc.kill(signal);
    });
  };
  return {
    proc,
    pid: proc.pid!,
    output: () => out,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((res, rej) => {
        const match = () =>
          typeof pattern === 'string'
            ? out.includes(pattern)
              ? ([pattern] as RegExpMatchArray)
              : null
            : pattern.exec(out);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(check);
          proc.off('exit', onExit);
        };
        const check = () => {
          const m = match();
          if (m) {
            done();
            res(m);
          }
        };
        const onExit = (code: number | null) => {
          done();
          rej(new Error(`stackbox exited with ${code} before printing ${String(pattern)}:\n${out}`));
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`stackbox did not print ${String(pattern)} in ${timeoutMs / 1000} s:\n${out}`));
        }, timeoutMs);
        waiters.add(check);
        proc.once('exit', onExit);
        check();
        if (exited() && waiters.has(check)) onExit(proc.exitCode);
      });
    },
    stop,
    kill: () => stop('SIGKILL'),
  };
}

export interface StartOptions {
  /** Data directory (a new temporary one by default; `cleanup()` removes it either way). */
  dataDir?: string;
  /** Port (a free one by default). */
  port?: number;
  /** Admin password (STACKBOX_ADMIN_PASSWORD); `env` may override it, e.g. with '' to have one generated. */
  adminPassword?: string;
  /** Variables on top of the defaults (TEST_ENV unless `testDefaults: false`) and this process's. */
  env?: Record<string, string>;
  /**
   * Start from TEST_ENV (fake drivers, no test image, no public network, warn logs). Benches that measure
   * `stackbox up` as a user runs it pass false and set only what they need.
   */
  testDefaults?: boolean;
  /** More `stackbox up` flags. */
  args?: string[];
  /** Write the `stackbox` cloud to <dataDir>/clouds.yaml (default), or not (`--no-clouds-yaml`). */
  cloudsYaml?: boolean;
  /**
   * Ready when it prints the closing `export OS_CLOUD=stackbox` (default), or as soon as a token can be
   * issued (polled every 20 ms: what a client sees first, before the banner).
   */
  ready?: 'banner' | 'token';
  timeoutMs?: number;
  echoStderr?: boolean;
}

export interface StackboxProcess extends CloudProcess {
  url: string;
  port: number;
  dataDir: string;
  /** The clouds.yaml `stackbox up` wrote (empty when started with `cloudsYaml: false`). */
  cloudsYaml: string;
  adminPassword: string;
  /** A token (admin on project admin unless told otherwise). */
  login(opts?: Parameters<typeof login>[2]): Promise<Login>;
  /** Environment for the CLI: clouds.yaml's admin (this process's OS_* variables removed). */
  cliEnv(): Record<string, string>;
  /** Run the openstack CLI against this cloud (admin by default; pass env to change user). */
  os(args: string[], env?: Record<string, string>): { status: number; stdout: string; stderr: string };
  /** Run the CLI with `-f json` and parse the result; throws with stderr on failure. */
  osJson<T = any>(args: string[], env?: Record<string, string>): T;
  /** Environment that makes the CLI authenticate as this user on this project (instead of clouds.yaml's admin). */
  as(user: string, password: string, project?: string): Record<string, string>;
  /**
   * A clouds.yaml of its own (cloud `u`) for another user, with the variables that select it: openstacksdk
   * ignores OS_PROJECT_NAME next to OS_CLOUD.
   */
  cloudFor(user: string, password: string, project: string): Record<string, string>;
  /** Stop (graceful unless told otherwise) and start again on the same data directory and port. */
  restart(signal?: NodeJS.Signals, opts?: Omit<StartOptions, 'dataDir' | 'port'>): Promise<StackboxProcess>;
  /** Stop and remove the data directory. */
  cleanup(): Promise<void>;
}

/** `stackbox up` (the built bin/stackbox.js) on 127.0.0.1, ready to use. */
export async function startStackbox(opts: StartOptions = {}): Promise<StackboxProcess> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'stackbox-proc-'));
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const writeClouds = opts.cloudsYaml !== false;
  const cloudsYaml = writeClouds ? join(dataDir, 'clouds.yaml') : '';
  const adminPassword = opts.adminPassword ?? 'compat-admin-pw';
  const child = spawnCloud({
    argv: [
      STACKBOX_BIN,
      'up',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      ...(writeClouds ? ['--clouds-yaml', cloudsYaml] : ['--no-clouds-yaml']),
      ...(opts.args ?? []),
    ],
    env: {
      ...process.env,
      STACKBOX_ADMIN_PASSWORD: adminPassword,
      ...(opts.testDefaults === false ? {} : TEST_ENV),
      ...opts.env,
    },
    echoStderr: opts.echoStderr,
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  if (opts.ready === 'token') {
    const t0 = Date.now();
    for (;;) {
      try {
        await login(url, adminPassword, { catalog: false });
        break;
      } catch (err) {
        if (child.proc.exitCode !== null || Date.now() - t0 > timeoutMs)
          throw new Error(`stackbox gave no token (${String(err)}):\n${child.output()}`);
        await sleep(20);
      }
    }
  } else await child.waitFor('export OS_CLOUD=stackbox', timeoutMs);

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
  const sb: StackboxProcess = {
    ...child,
    url,
    port,
    dataDir,
    cloudsYaml,
    adminPassword,
    login: (o) => login(url, adminPassword, o),
    cliEnv: () => ({ ...baseEnv }),
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
        OS_AUTH_URL: `${url}/identity/v3`,
        OS_IDENTITY_API_VERSION: '3',
        OS_USERNAME: user,
        OS_PASSWORD: password,
        OS_USER_DOMAIN_NAME: 'Default',
        ...(project ? { OS_PROJECT_NAME: project, OS_PROJECT_DOMAIN_NAME: 'Default' } : {}),
      };
    },
    cloudFor(user, password, project) {
      const file = join(dataDir, `clouds-${user}.yaml`);
      writeFileSync(
        file,
        [
          'clouds:',
          '  u:',
          '    auth:',
          `      auth_url: ${url}/identity/v3`,
          `      username: ${user}`,
          `      password: ${password}`,
          `      project_name: ${project}`,
          '      user_domain_name: Default',
          '      project_domain_name: Default',
          '    region_name: RegionOne',
          '    identity_api_version: 3',
          '',
        ].join('\n'),
      );
      return { OS_CLIENT_CONFIG_FILE: file, OS_CLOUD: 'u' };
    },
    async restart(signal = 'SIGTERM', more = {}) {
      await child.stop(signal);
      return startStackbox({ ...opts, ...more, dataDir, port });
    },
    async cleanup() {
      await child.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return sb;
}
