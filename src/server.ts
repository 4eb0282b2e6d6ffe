/** Assemble the API process: database, migrations, policy, identity, the other services, one HTTP port. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './core/config.js';
import { migrate, openDatabase, type Database } from './core/db/index.js';
import { PolicyEngine } from './core/auth/policy.js';
import { InProcessBus, type Bus } from './core/bus/index.js';
import { createApp } from './core/http/app.js';
import type { ServiceContext, ServiceModule } from './core/service.js';
import {
  IdentityService,
  bootstrap,
  identityBaseRules,
  identityMigrations,
  identityPolicies,
} from './services/identity/index.js';
import type { BootstrapResult } from './services/identity/bootstrap.js';
import { imageService } from './services/image/index.js';
import { networkService, type NetworkFacade } from './services/network/index.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeService } from './services/compute/index.js';
import { objectService } from './services/object/index.js';
import { selectComputeDriver } from './agent/compute/select.js';

/** The services mounted beside identity. Each new service adds itself here. */
export function defaultServices(): ServiceModule[] {
  return [
    imageService(),
    networkService(),
    objectService(),
    computeService({
      driver: (ctx) => {
        const { driver, reason } = selectComputeDriver(ctx.config.computeDriver, ctx);
        ctx.log.info({ computeDriver: driver?.type ?? 'fake' }, reason);
        if (!driver && ctx.config.computeDriver === 'auto') process.stderr.write(`stackbox: ${reason}\n`);
        return driver;
      },
    }),
  ];
}

export interface Server {
  app: FastifyInstance;
  db: Database;
  identity: IdentityService;
  policy: PolicyEngine;
  bus: Bus;
  ctx: ServiceContext;
  bootstrap: BootstrapResult;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function createServer(
  config: Config,
  log: Logger,
  opts: { services?: ServiceModule[] } = {},
): Promise<Server> {
  const services = opts.services ?? defaultServices();
  const db = openDatabase(config.databaseUrl);
  await migrate(db, {
    identity: identityMigrations,
    ...Object.fromEntries(services.map((s) => [s.type, s.migrations])),
  });
  const policy = new PolicyEngine([
    ...identityBaseRules,
    ...identityPolicies,
    ...services.flatMap((s) => s.policies),
  ]);
  if (config.identity.policyFile) policy.loadOverrides(config.identity.policyFile);

  const identity = new IdentityService(config, db, log);
  await identity.init();
  const boot = await bootstrap(identity.manager, {
    adminPassword: config.adminPassword,
    region: config.region,
    catalog: [
      { type: 'identity', name: 'keystone', url: `${config.publicUrl}/identity` },
      ...services.map((s) => ({
        type: s.type,
        name: s.catalog.name,
        url: `${config.publicUrl}${s.catalog.path}${s.catalog.suffix ?? ''}`,
      })),
    ],
  });

  const bus = new InProcessBus();
  const app = createApp(log);
  const ctx: ServiceContext = {
    config,
    db,
    log,
    policy,
    tokens: identity.tokens,
    bus,
    identity: identity.facade(),
    services: {},
  };
  await identity.register(app, policy);
  for (const s of services) ctx.services[s.type] = await s.register(app, ctx);
  await app.ready();
  if (config.publicNetwork) await ensurePublicNetwork(ctx, boot.adminProjectId, config.publicNetwork.cidr);

  let closed = false;
  return {
    app,
    db,
    identity,
    policy,
    bus,
    ctx,
    bootstrap: boot,
    async listen() {
      const addr = await app.listen({ host: config.host, port: config.port });
      for (const s of services) await s.start?.();
      return addr;
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of [...services].reverse()) await s.stop?.();
      await app.close();
      identity.stop();
      await bus.close();
      await db.close();
    },
  };
}

/**
 * The default external network, made once per data directory (a marker file remembers it, so an admin who
 * deletes it is not overruled at the next start).
 */
async function ensurePublicNetwork(ctx: ServiceContext, projectId: string, cidr: string): Promise<void> {
  const net = ctx.services.network as NetworkFacade | undefined;
  const marker = join(ctx.config.dataDir, 'public-network');
  if (!net || existsSync(marker)) return;
  const id = await net.ensurePublicNetwork(projectId, cidr);
  writeFileSync(marker, `${id ?? 'existing'}\n`);
  if (id) ctx.log.info({ network: id, cidr }, 'created the external network "public"');
}
