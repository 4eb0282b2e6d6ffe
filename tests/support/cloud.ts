/**
 * In-process test cloud: a real server (real SQLite file, or PostgreSQL when STACKBOX_TEST_DATABASE_URL is
 * set) driven with fastify.inject. Every test file gets its own data directory and database.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadConfig, type Config } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import type { ServiceModule } from '../../src/core/service.js';
import { createServer, defaultServices, type Server } from '../../src/server.js';
import { passwordAuth } from './stackbox.js';

export const ADMIN_PASSWORD = 'test-admin-password';

export interface TestCloud {
  server: Server;
  config: Config;
  dataDir: string;
  adminToken: string;
  /** Inject a request with an optional token; JSON bodies are serialized. */
  req(
    method: string,
    url: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  /** Issue a project-scoped token by user and project name (Default domain). */
  token(user: string, password: string, project?: string): Promise<string>;
  /** Create a project and a user with a role on it; returns ids and a project-scoped token. */
  projectUser(
    project: string,
    user: string,
    role?: string,
  ): Promise<{ projectId: string; userId: string; token: string; password: string }>;
  close(): Promise<void>;
}

async function freshPostgres(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `sbtest_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function startTestCloud(
  opts: { services?: ServiceModule[]; env?: Record<string, string> } = {},
): Promise<TestCloud> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stackbox-test-'));
  let dropDb: (() => Promise<void>) | undefined;
  let databaseUrl: string | undefined;
  const pgUrl = process.env.STACKBOX_TEST_DATABASE_URL;
  if (pgUrl) {
    const fresh = await freshPostgres(pgUrl);
    databaseUrl = fresh.url;
    dropDb = fresh.drop;
  }
  const config = loadConfig(
    {
      dataDir,
      databaseUrl,
      adminPassword: ADMIN_PASSWORD,
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://localhost',
      bcryptRounds: 4,
      computeDriver: 'fake',
      networkDriver: opts.env?.STACKBOX_NETWORK_DRIVER ?? 'fake',
      publicNetwork: opts.env?.STACKBOX_PUBLIC_NETWORK ?? false,
      cloudsYaml: false,
    },
    { ...opts.env },
  );
  const log = createLogger(process.env.STACKBOX_TEST_LOG ?? 'silent');
  const server = await createServer(config, log, { services: opts.services ?? defaultServices() });

  const req: TestCloud['req'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (o.token) headers['x-auth-token'] = o.token;
    const inject: InjectOptions = { method: method as InjectOptions['method'], url, headers };
    if (o.body !== undefined) {
      if (typeof o.body === 'string' || Buffer.isBuffer(o.body)) inject.payload = o.body as string;
      else {
        inject.payload = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    return server.app.inject(inject);
  };
  const token: TestCloud['token'] = async (user, password, project) => {
    const r = await req('POST', '/identity/v3/auth/tokens', { body: passwordAuth(user, password, project) });
    if (r.statusCode !== 201) throw new Error(`token for ${user}: ${r.statusCode} ${r.body}`);
    return String(r.headers['x-subject-token']);
  };
  const adminToken = await token('admin', ADMIN_PASSWORD, 'admin');
  const roleId = async (name: string) => {
    const r = await req('GET', `/identity/v3/roles?name=${name}`, { token: adminToken });
    return (r.json() as { roles: { id: string }[] }).roles[0]!.id;
  };
  return {
    server,
    config,
    dataDir,
    adminToken,
    req,
    token,
    async projectUser(project, user, role = 'member') {
      let r = await req('POST', '/identity/v3/projects', {
        token: adminToken,
        body: { project: { name: project } },
      });
      if (r.statusCode !== 201) throw new Error(`project ${project}: ${r.body}`);
      const projectId = (r.json() as { project: { id: string } }).project.id;
      const password = `password-${user}`;
      r = await req('POST', '/identity/v3/users', {
        token: adminToken,
        body: { user: { name: user, password, default_project_id: projectId } },
      });
      if (r.statusCode !== 201) throw new Error(`user ${user}: ${r.body}`);
      const userId = (r.json() as { user: { id: string } }).user.id;
      r = await req('PUT', `/identity/v3/projects/${projectId}/users/${userId}/roles/${await roleId(role)}`, {
        token: adminToken,
      });
      if (r.statusCode !== 204) throw new Error(`grant: ${r.body}`);
      return { projectId, userId, password, token: await token(user, password, project) };
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
      await dropDb?.();
    },
  };
}
