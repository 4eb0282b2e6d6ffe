/**
 * `stackbox explain`: ask a running cloud why a flow does or does not reach a server
 * (GET <network endpoint>/v2.0/stackbox/explain, src/services/network/explain/) and print the walk.
 *
 * Authentication is the OpenStack client's: `OS_CLOUD` (or `--os-cloud`) names a cloud in clouds.yaml
 * (`OS_CLIENT_CONFIG_FILE`, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml), else
 * `OS_AUTH_URL`, `OS_USERNAME`/`OS_USER_ID`, `OS_PASSWORD`, `OS_PROJECT_NAME`/`OS_PROJECT_ID`,
 * `OS_USER_DOMAIN_NAME`/`_ID`, `OS_PROJECT_DOMAIN_NAME`/`_ID` (or application credentials). A token comes from
 * Keystone and the network endpoint from its catalog (`OS_INTERFACE`, `OS_REGION_NAME`). This is a client: it
 * reads the environment it is given (the caller passes process.env), not the server's Config.
 *
 * Exit status: 0 allowed, 1 dropped, 2 error (bad input, authentication, not found), 3 unknown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

type Env = Record<string, string | undefined>;

export interface ExplainOptions {
  from: string;
  to: string;
  protocol?: string;
  port?: string;
  fromNetwork?: string;
  toNetwork?: string;
  json?: boolean;
  osCloud?: string;
}

/** What Keystone needs, whichever way it was given. */
export interface CloudAuth {
  authUrl: string;
  authType: string;
  username?: string;
  userId?: string;
  password?: string;
  projectName?: string;
  projectId?: string;
  userDomainName?: string;
  userDomainId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret?: string;
  region?: string;
  interface: string;
  /** Where it came from, for messages. */
  source: string;
}

class CliError extends Error {}

const nonEmpty = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/** The clouds.yaml files the OpenStack client reads, in its order. */
function cloudsFiles(env: Env): string[] {
  if (nonEmpty(env.OS_CLIENT_CONFIG_FILE)) return [env.OS_CLIENT_CONFIG_FILE!];
  return [
    join(process.cwd(), 'clouds.yaml'),
    join(env.HOME || homedir(), '.config', 'openstack', 'clouds.yaml'),
    '/etc/openstack/clouds.yaml',
  ];
}

/** Credentials from clouds.yaml (a named cloud) or from OS_* variables. */
export function resolveAuth(env: Env, cloudName?: string): CloudAuth {
  const name = nonEmpty(cloudName) ?? nonEmpty(env.OS_CLOUD);
  if (name) {
    const files = cloudsFiles(env);
    for (const file of files) {
      if (!existsSync(file)) continue;
      let doc: { clouds?: Record<string, any> } | null;
      try {
        doc = YAML.parse(readFileSync(file, 'utf8')) as typeof doc;
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const cloud = doc?.clouds?.[name];
      if (!cloud) continue;
      const a = (cloud.auth ?? {}) as Record<string, unknown>;
      const authUrl = nonEmpty(a.auth_url);
      if (!authUrl) throw new CliError(`cloud ${name} in ${file} has no auth.auth_url`);
      return {
        authUrl,
        authType: nonEmpty(cloud.auth_type) ?? 'password',
        username: nonEmpty(a.username),
        userId: nonEmpty(a.user_id),
        password: nonEmpty(a.password),
        projectName: nonEmpty(a.project_name) ?? nonEmpty(a.tenant_name),
        projectId: nonEmpty(a.project_id) ?? nonEmpty(a.tenant_id),
        userDomainName: nonEmpty(a.user_domain_name) ?? nonEmpty(a.domain_name),
        userDomainId: nonEmpty(a.user_domain_id) ?? nonEmpty(a.domain_id),
        projectDomainName: nonEmpty(a.project_domain_name) ?? nonEmpty(a.domain_name),
        projectDomainId: nonEmpty(a.project_domain_id) ?? nonEmpty(a.domain_id),
        applicationCredentialId: nonEmpty(a.application_credential_id),
        applicationCredentialName: nonEmpty(a.application_credential_name),
        applicationCredentialSecret: nonEmpty(a.application_credential_secret),
        region: nonEmpty(cloud.region_name),
        interface: nonEmpty(cloud.interface) ?? nonEmpty(cloud.endpoint_type) ?? 'public',
        source: `cloud ${name} (${file})`,
      };
    }
    throw new CliError(`cloud ${name} is not in any clouds.yaml (looked in ${files.join(', ')})`);
  }
  const authUrl = nonEmpty(env.OS_AUTH_URL);
  if (!authUrl)
    throw new CliError(
      'no credentials: set OS_CLOUD (clouds.yaml) or OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, …',
    );
  return {
    authUrl,
    authType: nonEmpty(env.OS_AUTH_TYPE) ?? 'password',
    username: nonEmpty(env.OS_USERNAME),
    userId: nonEmpty(env.OS_USER_ID),
    password: nonEmpty(env.OS_PASSWORD),
    projectName: nonEmpty(env.OS_PROJECT_NAME) ?? nonEmpty(env.OS_TENANT_NAME),
    projectId: nonEmpty(env.OS_PROJECT_ID) ?? nonEmpty(env.OS_TENANT_ID),
    userDomainName: nonEmpty(env.OS_USER_DOMAIN_NAME) ?? nonEmpty(env.OS_DOMAIN_NAME),
    userDomainId: nonEmpty(env.OS_USER_DOMAIN_ID) ?? nonEmpty(env.OS_DOMAIN_ID),
    projectDomainName: nonEmpty(env.OS_PROJECT_DOMAIN_NAME) ?? nonEmpty(env.OS_DOMAIN_NAME),
    projectDomainId: nonEmpty(env.OS_PROJECT_DOMAIN_ID) ?? nonEmpty(env.OS_DOMAIN_ID),
    applicationCredentialId: nonEmpty(env.OS_APPLICATION_CREDENTIAL_ID),
    applicationCredentialName: nonEmpty(env.OS_APPLICATION_CREDENTIAL_NAME),
    applicationCredentialSecret: nonEmpty(env.OS_APPLICATION_CREDENTIAL_SECRET),
    region: nonEmpty(env.OS_REGION_NAME),
    interface: nonEmpty(env.OS_INTERFACE) ?? nonEmpty(env.OS_ENDPOINT_TYPE)?.replace(/URL$/, '') ?? 'public',
    source: 'OS_* environment variables',
  };
}

/** Keystone v3 password (or application credential) authentication: the token and the network endpoint. */
export async function authenticate(auth: CloudAuth): Promise<{ token: string; networkUrl: string }> {
  const base = auth.authUrl.replace(/\/+$/, '');
  const url = `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
  const domain = (n?: string, id?: string) => (id ? { id } : n ? { name: n } : { id: 'default' });
  let body: unknown;
  if (auth.authType === 'v3applicationcredential' || auth.applicationCredentialSecret) {
    body = {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: auth.applicationCredentialId
            ? { id: auth.applicationCredentialId, secret: auth.applicationCredentialSecret }
            : {
                name: auth.applicationCredentialName,
                secret: auth.applicationCredentialSecret,
                user: auth.userId
                  ? { id: auth.userId }
                  : { name: auth.username, domain: domain(auth.userDomainName, auth.userDomainId) },
              },
        },
      },
    };
  } else {
    if (!['password', 'v3password'].includes(auth.authType))
      throw new CliError(`auth type ${auth.authType} is not supported (password or v3applicationcredential)`);
    if (!auth.password || !(auth.username || auth.userId))
      throw new CliError(`${auth.source}: a user name (or id) and a password are needed`);
    const user = auth.userId
      ? { id: auth.userId, password: auth.password }
      : {
          name: auth.username,
          domain: domain(auth.userDomainName, auth.userDomainId),
          password: auth.password,
        };
    const scope = auth.projectId
      ? { project: { id: auth.projectId } }
      : auth.projectName
        ? {
            project: { name: auth.projectName, domain: domain(auth.projectDomainName, auth.projectDomainId) },
          }
        : undefined;
    body = { auth: { identity: { methods: ['password'], password: { user } }, ...(scope ? { scope } : {}) } };
  }
  let r: Response;
  try {
    r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    throw new CliError(`cannot reach Keystone at ${url}: ${errorText(e)}`);
  }
  const doc = (await r.json().catch(() => ({}))) as any;
  if (r.status !== 201)
    throw new CliError(
      `authentication failed (${auth.source}): ${r.status} ${doc?.error?.message ?? ''}`.trim(),
    );
  const token = r.headers.get('x-subject-token');
  if (!token) throw new CliError('Keystone answered without a token');
  const catalog = (doc?.token?.catalog ?? []) as {
    type: string;
    endpoints: { interface: string; region?: string; region_id?: string; url: string }[];
  }[];
  const service = catalog.find((s) => s.type === 'network');
  if (!service)
    throw new CliError('the service catalog has no network service (is the token project-scoped?)');
  const ep = service.endpoints.find(
    (e) =>
      e.interface === auth.interface &&
      (!auth.region || e.region === auth.region || e.region_id === auth.region),
  );
  if (!ep)
    throw new CliError(
      `the network service has no ${auth.interface} endpoint${auth.region ? ` in region ${auth.region}` : ''}`,
    );
  return { token, networkUrl: ep.url.replace(/\/+$/, '') };
}

/** Run the command; returns the exit status (0 allowed, 1 dropped, 2 error, 3 unknown). */
export async function runExplain(
  opts: ExplainOptions,
  env: Env,
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): Promise<number> {
  try {
    const { token, networkUrl } = await authenticate(resolveAuth(env, opts.osCloud));
    const q = new URLSearchParams({ from: opts.from, to: opts.to });
    if (opts.protocol !== undefined) q.set('protocol', opts.protocol);
    if (opts.port !== undefined) q.set('port', opts.port);
    if (opts.fromNetwork !== undefined) q.set('from_network', opts.fromNetwork);
    if (opts.toNetwork !== undefined) q.set('to_network', opts.toNetwork);
    const root = /\/v2\.0$/.test(networkUrl) ? networkUrl : `${networkUrl}/v2.0`;
    const r = await fetch(`${root}/stackbox/explain?${q}`, {
      headers: { 'x-auth-token': token, accept: 'application/json' },
    });
    const text = await r.text();
    let doc: any;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = undefined;
    }
    if (r.status !== 200) {
      const msg = doc?.NeutronError?.message ?? text.slice(0, 300);
      err.write(`stackbox explain: ${r.status} ${msg}\n`);
      return 2;
    }
    const e = doc?.explanation as Explanation | undefined;
    if (!e) throw new CliError('the answer has no explanation');
    out.write(opts.json ? `${JSON.stringify(doc, null, 2)}\n` : render(e));
    return e.verdict === 'allowed' ? 0 : e.verdict === 'dropped' ? 1 : 3;
  } catch (e) {
    err.write(`stackbox explain: ${errorText(e)}\n`);
    return 2;
  }
}

interface Explanation {
  verdict: 'allowed' | 'dropped' | 'unknown';
  from: Record<string, any>;
  to: Record<string, any>;
  protocol: string;
  port: number | null;
  hops: { step: string; ok: boolean | null; detail: string }[];
  blocked_at: string | null;
  reason: string | null;
}

/** One line per hop (✓ passes, ✗ dropped, ? cannot tell), then the verdict and the reason. */
export function render(e: Explanation): string {
  const end = (x: Record<string, any>) => {
    if (x.type === 'external') return `external ${x.address ?? '(any address)'}`;
    const addr = x.address ? ` ${x.address}` : '';
    if (x.type === 'server') return `server ${x.server?.name ?? x.server?.id ?? x.input}${addr}`;
    return `port ${x.port_id ?? x.input}${addr}`;
  };
  const flow =
    e.protocol === 'any'
      ? 'any protocol'
      : e.port === null
        ? e.protocol
        : e.protocol === 'icmp'
          ? `icmp type ${e.port}`
          : `${e.protocol}/${e.port}`;
  const width = Math.max(...e.hops.map((h) => h.step.length), 10);
  const lines = [`${end(e.from)} → ${end(e.to)}, ${flow}`];
  for (const h of e.hops)
    lines.push(`  ${h.ok === true ? '✓' : h.ok === false ? '✗' : '?'} ${h.step.padEnd(width)}  ${h.detail}`);
  lines.push(e.verdict === 'allowed' ? 'allowed' : `${e.verdict} at ${e.blocked_at}: ${e.reason}`);
  return `${lines.join('\n')}\n`;
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
