import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The one typed configuration object. Built once from defaults, environment and flags; nothing else reads process.env. */
export interface Config {
  host: string;
  port: number;
  /** Base URL clients use to reach this server (endpoints in the catalog are built from it). */
  publicUrl: string;
  dataDir: string;
  /** Cache of built artefacts such as the test guest image (`STACKBOX_CACHE`, default ~/.cache/stackbox). */
  cacheDir: string;
  /** Compute driver of the in-process agent: qemu where it can run (auto), or forced. */
  computeDriver: 'auto' | 'qemu' | 'fake';
  /** Network driver of the in-process agent: linux where it can run (auto), or forced. */
  networkDriver: 'auto' | 'linux' | 'fake';
  /** Volume driver (block storage backend): qcow2 files where qemu-img runs (auto), or forced. */
  volumeDriver: 'auto' | 'file' | 'fake';
  /**
   * Physical networks (provider:physical_network) on this host: name → bridge, optionally in a namespace
   * (`STACKBOX_PHYSICAL_NETWORKS=extnet:br-ex,lab:br-lab@labns`).
   */
  physicalNetworks: Record<string, { bridge: string; netns?: string }>;
  /**
   * The default external network `public` (flat, physical network `public`): its CIDR, with the gateway
   * (first address) on a host bridge Stackbox creates, so floating IPs answer from the host shell.
   * Null when switched off (`STACKBOX_PUBLIC_NETWORK=none`).
   */
  publicNetwork: { cidr: string; bridge: string } | null;
  /** Register the cached test guest image as the public image `stackbox-test` at start. */
  registerTestImage: boolean;
  /** `sqlite:<path>` (default, under the data directory) or `postgres://...`. */
  databaseUrl: string;
  adminPassword?: string;
  region: string;
  logLevel: string;
  /** Log lines: pretty on a terminal and JSON otherwise (auto), or always one of them. */
  logFormat: 'auto' | 'json' | 'pretty';
  /** Where `stackbox up` writes its clouds.yaml entry; undefined disables writing. */
  cloudsYaml?: string;
  identity: {
    tokenExpirationSeconds: number;
    /** Number of Fernet-style keys kept (primary + secondary + staged). */
    maxActiveKeys: number;
    bcryptRounds: number;
    policyFile?: string;
    securityCompliance: SecurityCompliance;
  };
}

export interface SecurityCompliance {
  /** Lock a user after this many consecutive failed password authentications (0 = off). */
  lockoutFailureAttempts: number;
  lockoutDurationSeconds: number;
  /** Days after which a password expires (0 = never). */
  passwordExpiresDays: number;
  passwordRegex?: string;
  passwordRegexDescription?: string;
  /** Number of previous passwords a user may not reuse (0/1 = off, as in Keystone). */
  uniqueLastPasswordCount: number;
  minimumPasswordAgeDays: number;
  changePasswordUponFirstUse: boolean;
}

export const DEFAULT_PORT = 8600;

export interface ConfigInput {
  host?: string;
  port?: number | string;
  publicUrl?: string;
  dataDir?: string;
  databaseUrl?: string;
  adminPassword?: string;
  logLevel?: string;
  logFormat?: string;
  cloudsYaml?: string | false;
  policyFile?: string;
  tokenExpiration?: number | string;
  testImage?: boolean;
  computeDriver?: string;
  networkDriver?: string;
  volumeDriver?: string;
  physicalNetworks?: string;
  publicNetwork?: string | false;
  bcryptRounds?: number | string;
}

/** `name:bridge[@netns],...` → the physical network map. */
export function parsePhysicalNetworks(v: string): Record<string, { bridge: string; netns?: string }> {
  const out: Record<string, { bridge: string; netns?: string }> = {};
  for (const item of v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const m = /^([^:\s]+):([A-Za-z0-9_.-]{1,15})(?:@([A-Za-z0-9_.-]+))?$/.exec(item);
    if (!m) throw new Error(`bad physical network "${item}" (expected name:bridge or name:bridge@namespace)`);
    out[m[1]!] = { bridge: m[2]!, ...(m[3] ? { netns: m[3] } : {}) };
  }
  return out;
}

function parsePublicNetwork(v: string | false | undefined): { cidr: string; bridge: string } | null {
  if (v === false || v === 'none' || v === 'false' || v === 'off') return null;
  const cidr = v || '172.24.4.0/24';
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) < 8 || Number(m[5]) > 30)
    throw new Error(`bad public network "${cidr}" (an IPv4 CIDR such as 172.24.4.0/24, or none)`);
  return { cidr, bridge: 'br-stackbox' };
}

function int(v: string | number | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  const n = typeof v === 'number' ? v : Number.parseInt(v, 10);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
}

function parseNetDriver(v: string): 'auto' | 'linux' | 'fake' {
  if (v === 'auto' || v === 'linux' || v === 'fake') return v;
  throw new Error(`unknown network driver "${v}" (auto, linux or fake)`);
}

function parseVolumeDriver(v: string): 'auto' | 'file' | 'fake' {
  if (v === 'auto' || v === 'file' || v === 'fake') return v;
  throw new Error(`unknown volume driver "${v}" (auto, file or fake)`);
}

function parseLogFormat(v: string): 'auto' | 'json' | 'pretty' {
  if (v === 'auto' || v === 'json' || v === 'pretty') return v;
  throw new Error(`unknown log format "${v}" (auto, json or pretty)`);
}

function parseDriver(v: string): 'auto' | 'qemu' | 'fake' {
  if (v === 'auto' || v === 'qemu' || v === 'fake') return v;
  throw new Error(`unknown compute driver "${v}" (auto, qemu or fake)`);
}

/** Build the configuration: flags win over environment, environment over defaults. */
export function loadConfig(input: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const host = input.host ?? env.STACKBOX_HOST ?? '0.0.0.0';
  const port = int(input.port ?? env.STACKBOX_PORT, DEFAULT_PORT);
  const dataDir = resolve(input.dataDir ?? env.STACKBOX_DATA_DIR ?? join(homedir(), '.stackbox'));
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const publicUrl = (input.publicUrl ?? env.STACKBOX_PUBLIC_URL ?? `http://${urlHost}:${port}`).replace(
    /\/+$/,
    '',
  );
  const databaseUrl =
    input.databaseUrl ?? env.STACKBOX_DATABASE_URL ?? `sqlite:${join(dataDir, 'stackbox.db')}`;
  let cloudsYaml: string | undefined;
  if (input.cloudsYaml !== false) {
    cloudsYaml =
      input.cloudsYaml ?? env.OS_CLIENT_CONFIG_FILE ?? join(homedir(), '.config', 'openstack', 'clouds.yaml');
  }
  return {
    host,
    port,
    publicUrl,
    dataDir,
    cacheDir: resolve(env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox')),
    computeDriver: parseDriver(input.computeDriver ?? env.STACKBOX_COMPUTE_DRIVER ?? 'auto'),
    networkDriver: parseNetDriver(input.networkDriver ?? env.STACKBOX_NETWORK_DRIVER ?? 'auto'),
    volumeDriver: parseVolumeDriver(input.volumeDriver ?? env.STACKBOX_VOLUME_DRIVER ?? 'auto'),
    physicalNetworks: parsePhysicalNetworks(input.physicalNetworks ?? env.STACKBOX_PHYSICAL_NETWORKS ?? ''),
    publicNetwork: parsePublicNetwork(input.publicNetwork ?? env.STACKBOX_PUBLIC_NETWORK),
    registerTestImage: input.testImage !== false && env.STACKBOX_TEST_IMAGE !== 'false',
    databaseUrl,
    adminPassword: input.adminPassword || env.STACKBOX_ADMIN_PASSWORD || undefined,
    region: env.STACKBOX_REGION ?? 'RegionOne',
    logLevel: input.logLevel ?? env.STACKBOX_LOG_LEVEL ?? 'info',
    logFormat: parseLogFormat(input.logFormat ?? env.STACKBOX_LOG_FORMAT ?? 'auto'),
    cloudsYaml,
    identity: {
      tokenExpirationSeconds: int(input.tokenExpiration ?? env.STACKBOX_TOKEN_EXPIRATION, 3600),
      maxActiveKeys: 3,
      bcryptRounds: int(input.bcryptRounds ?? env.STACKBOX_BCRYPT_ROUNDS, 12),
      policyFile: input.policyFile ?? env.STACKBOX_POLICY_FILE,
      securityCompliance: {
        lockoutFailureAttempts: int(env.STACKBOX_LOCKOUT_FAILURE_ATTEMPTS, 0),
        lockoutDurationSeconds: int(env.STACKBOX_LOCKOUT_DURATION, 1800),
        passwordExpiresDays: int(env.STACKBOX_PASSWORD_EXPIRES_DAYS, 0),
        passwordRegex: env.STACKBOX_PASSWORD_REGEX,
        passwordRegexDescription: env.STACKBOX_PASSWORD_REGEX_DESCRIPTION,
        uniqueLastPasswordCount: int(env.STACKBOX_UNIQUE_LAST_PASSWORD_COUNT, 0),
        minimumPasswordAgeDays: int(env.STACKBOX_MINIMUM_PASSWORD_AGE, 0),
        changePasswordUponFirstUse: env.STACKBOX_CHANGE_PASSWORD_UPON_FIRST_USE === 'true',
      },
    },
  };
}
