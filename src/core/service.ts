import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Database, ServiceMigrations } from './db/index.js';
import type { PolicyEngine, PolicyRule } from './auth/policy.js';
import type { TokenValidator } from './auth/context.js';
import type { Bus } from './bus/index.js';
import type { Host, HostOptions } from '../agent/host.js';
import type { ComputeFacade } from './facades/compute.js';
import type { ImageFacade } from './facades/image.js';
import type { NetworkFacade } from './facades/network.js';
import type { VolumeFacade } from './facades/volume.js';

/**
 * Each service's facade by service type (`ctx.services.<type>`), typed here in core so services use each
 * other without importing each other's files. A service that is not mounted is undefined.
 */
export interface ServiceFacades {
  image?: ImageFacade;
  network?: NetworkFacade;
  compute?: ComputeFacade;
  'block-storage'?: VolumeFacade;
}

/** What the identity service offers other services (its facade; nothing else is imported across services). */
export interface IdentityFacade {
  /** A project by id, or undefined. */
  getProject(
    id: string,
  ): Promise<{ id: string; name: string; domainId: string; enabled: boolean } | undefined>;
  /** Ids of every project (for admin views and reconciliation). */
  listProjectIds(): Promise<string[]>;
}

/** Everything a service gets from the process that hosts it. */
export interface ServiceContext {
  config: Config;
  db: Database;
  log: Logger;
  policy: PolicyEngine;
  tokens: TokenValidator;
  bus: Bus;
  identity: IdentityFacade;
  /** Other services' facades by service type, filled in as services start (e.g. ctx.services.image). */
  services: ServiceFacades;
  /**
   * The host `stackbox up` runs in the same process (src/agent/host.ts), built from what the services ask
   * for (`ServiceModule.host`). Services start their part of it when their lifecycle needs it and read
   * what tests and tools use (the fake drivers, the agents) from it; they never build drivers or agents.
   */
  host?: Host;
}

/** One OpenStack service mounted in the API process. */
export interface ServiceModule {
  /** OpenStack service type, e.g. `image`; also the name of its migrations set. */
  type: string;
  /**
   * Catalog entry: service name and the path under the public URL (DevStack style, e.g. `/image`), other
   * types the same endpoint is registered under (block storage: `volumev3`, `volume`, as DevStack does), and an
   * optional suffix appended to the endpoint URL, where Keystone's `$(project_id)s` is substituted per token
   * (Swift's `/AUTH_$(project_id)s`).
   */
  catalog: { name: string; path: string; aliases?: { type: string; name: string }[]; suffix?: string };
  migrations: ServiceMigrations;
  policies: PolicyRule[];
  /** What this service needs of the host run in the same process (its agent and driver options). */
  host?: HostOptions;
  /** Mount routes (the module uses `app.register(plugin, { prefix })` itself) and return its facade. */
  register(app: FastifyInstance, ctx: ServiceContext): Promise<unknown>;
  /** Called after every service registered and the server listens (start background work). */
  start?(): Promise<void>;
  stop?(): Promise<void>;
}
