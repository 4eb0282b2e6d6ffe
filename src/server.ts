/**
 * Assemble `stackbox up`: the control plane (database, migrations, policy, identity, the other services, one
 * HTTP port) and, in the same process, one host (src/agent/host.ts) with the drivers and agents the services
 * ask for.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './core/config.js';
import { migrate, openDatabase, type Database } from './core/db/index.js';
import { PolicyEngine } from './core/auth/policy.js';
import { InProcessBus, type Bus } from './core/bus/index.js';
import { createApp } from './core/http/app.js';
import { serviceCaller } from './core/auth/caller.js';
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
import { networkService } from './services/network/index.js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { computeService } from './services/compute/index.js';
import { objectService } from './services/object/index.js';
import { volumeService } from './services/volume/index.js';
import { createHost, type Host, type HostOptions } from './agent/host.js';
import type { ImageFetcher } from './agent/compute/qemu/driver.js';

/** The services mounted beside identity. Each new service adds itself here. */
export function defaultServices(): ServiceModule[] {
  return [
    imageService(),
    networkService(),
    volumeService(),
    objectService(),
    computeService({ driver: 'config' }),
  ];
}

export interface Server {
  app: FastifyInstance;
  db: Database;
  identity: IdentityService;
  policy: PolicyEngine;
  bus: Bus;
  /** The host run in this process (drivers and agents). */
  host: Host;
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
      ...services.flatMap((s) =>
        [{ type: s.type, name: s.catalog.name }, ...(s.catalog.aliases ?? [])].map((e) => ({
          ...e,
          url: `${config.publicUrl}${s.catalog.path}${s.catalog.suffix ?? ''}`,
        })),
      ),
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
  const hostOptions: HostOptions = Object.assign({}, ...services.map((s) => s.host ?? {}));
  const host = await createHost({ config, bus, log, images: { fetch: imageFetcher(ctx) } }, hostOptions);
  ctx.host = host;
  await identity.register(app, policy);
  for (const s of services) (ctx.services as Record<string, unknown>)[s.type] = await s.register(app, ctx);
  // The network service listens for the agent's resync request now; the compute agents start with compute.
  await host.startNetwork();
  await app.ready();
  if (config.publicNetwork) await ensurePublicNetwork(ctx, boot.adminProjectId, config.publicNetwork.cidr);

  let closed = false;
  return {
    app,
    db,
    identity,
    policy,
    bus,
    host,
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
      await host.stop();
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
  const net = ctx.services.network;
  const marker = join(ctx.config.dataDir, 'public-network');
  if (!net || existsSync(marker)) return;
  const id = await net.ensurePublicNetwork(projectId, cidr);
  writeFileSync(marker, `${id ?? 'existing'}\n`);
  if (id) ctx.log.info({ network: id, cidr }, 'created the external network "public"');
}

/** Image bytes for the in-process host, read from the image service as the host's admin. */
function imageFetcher(ctx: ServiceContext): ImageFetcher {
  // The host reads image data as an admin of no particular project (Glance's rules are project-scoped).
  const caller = serviceCaller('stackbox-compute-host', 'stackbox-compute-host');
  return async (imageId) => {
    const images = ctx.services.image;
    if (!images?.manager) throw new Error('the image service is not available to fetch image data');
    const img = await images.manager.lookup(imageId, caller);
    const r = await images.manager.download(caller, imageId, undefined);
    if (!r.stream) throw new Error(`image ${imageId} has no data`);
    return { data: r.stream, format: img.disk_format ?? 'raw', checksum: img.checksum ?? undefined };
  };
}
