/**
 * The compute service (Nova v2.1) mounted at /compute/v2.1: flavors, key pairs, servers and their actions,
 * quotas, availability zones, hypervisors, services, aggregates, server groups, usage, migrations — plus the
 * scheduler. The host agent and its compute driver are built by the host (src/agent/host.ts) from the
 * options below; the service starts the in-process host's compute agents between its recovery steps.
 */
import type { FastifyInstance } from 'fastify';
import type { HostAgent } from '../../agent/compute/agent.js';
import type { AgentReport } from '../../agent/compute/protocol.js';
import type { ComputeHostOptions } from '../../agent/host.js';
import type { Caller } from '../../core/auth/caller.js';
import type { ComputeFacade, ServerSummary } from '../../core/facades/compute.js';
import { ApiError } from '../../core/errors.js';
import { setupServiceScope } from '../../core/http/app.js';
import { metadataSecret } from '../../core/metadata-secret.js';
import type { ServiceContext, ServiceModule } from '../../core/service.js';
import { microversionHooks, novaFault, VERSION_INFO } from './api/common.js';
import { computeRoutes } from './api/index.js';
import { ComputeManager, DEFAULT_COMPUTE_OPTIONS, type ComputeOptions } from './manager/index.js';
import { MetadataService } from './metadata.js';
import { computeMigrations } from './migrations.js';
import { computePolicies } from './policies/index.js';
import { ComputeStore } from './store/index.js';
import { statusOf } from './views.js';

export { computeMigrations } from './migrations.js';
export { computePolicies } from './policies/index.js';
export { novaFault } from './api/common.js';

/** The service's own options, and what it asks of the in-process host (src/agent/host.ts). */
export interface ComputeServiceOptions extends ComputeHostOptions {
  compute?: Partial<ComputeOptions>;
  /** Run a host agent in this process (default true). */
  agent?: boolean;
}

/**
 * The compute facade (src/core/facades/compute.ts) as this in-process service gives it: tests (and the
 * process that runs it) also reach the manager and the in-process host's compute agent.
 */
export interface InProcessCompute extends ComputeFacade {
  manager: ComputeManager;
  agent?: HostAgent;
}

export function computeService(
  options: ComputeServiceOptions = {},
): ServiceModule & { facade?: InProcessCompute } {
  let mgr: ComputeManager | undefined;
  let ctxRef: ServiceContext | undefined;
  let timer: NodeJS.Timeout | undefined;
  const mod: ServiceModule & { facade?: InProcessCompute } = {
    type: 'compute',
    catalog: { name: 'nova', path: '/compute/v2.1' },
    migrations: computeMigrations,
    policies: computePolicies,
    host: options.agent === false ? {} : { compute: hostOptions(options) },
    async register(app: FastifyInstance, ctx: ServiceContext) {
      ctxRef = ctx;
      const store = new ComputeStore(ctx.db);
      const m = new ComputeManager(
        store,
        ctx.policy,
        ctx.bus,
        ctx.log.child({ service: 'compute' }),
        { ...DEFAULT_COMPUTE_OPTIONS, ...options.compute },
        ctx.services,
      );
      mgr = m;
      await m.seedFlavors();
      const base = `${ctx.config.publicUrl}/compute`;
      await app.register(
        async (scope) => {
          setupServiceScope(scope, { faults: novaFault, validator: ctx.tokens, policy: ctx.policy });
          microversionHooks(scope);
          scope.get('/', { config: { public: true } }, async () => ({ versions: [VERSION_INFO(base)] }));
          scope.get('/v2.1', { config: { public: true } }, async () => ({ version: VERSION_INFO(base) }));
          computeRoutes(scope, m, base);
        },
        { prefix: '/compute' },
      );
      // The metadata API (169.254.169.254 through the network agent's proxy), at /metadata.
      await new MetadataService(m, metadataSecret(ctx.config.dataDir)).register(app);
      const facade: InProcessCompute = {
        manager: m,
        get agent() {
          return ctx.host?.computeAgent;
        },
        findServers: async (creds, ref) => {
          const c: Caller = {
            userId: creds.user_id ?? '',
            projectId: creds.project_id ?? '',
            roles: creds.roles ?? [],
            isAdmin: ctx.policy.check('context_is_admin', {}, creds),
            creds,
            requestId: '',
          };
          const byId = ref ? await store.server(ref) : undefined;
          const rows = byId ? [byId] : await store.serversNamed(ref, c.isAdmin ? undefined : c.projectId);
          const out: ServerSummary[] = [];
          for (const row of rows) {
            const s = await m.getServer(c, row.id, 'os_compute_api:servers:show').catch((e: unknown) => {
              if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return undefined;
              throw e;
            });
            if (s)
              out.push({
                id: s.id,
                name: s.name,
                status: statusOf(s.vm_state, s.task_state),
                project_id: s.project_id,
              });
          }
          return out;
        },
        settle: async () => {
          for (let i = 0; i < 3; i++) {
            await m.settle();
            await ctx.host?.settleCompute();
            await new Promise((r) => setTimeout(r, 5));
          }
        },
      };
      mod.facade = facade;
      return facade;
    },
    async start() {
      if (!mgr || !ctxRef) return;
      const m = mgr;
      const ctx = ctxRef;
      m.start();
      await m.recoverNetworking();
      if (options.agent !== false && ctx.host) {
        const hello = () =>
          new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 5000);
            const l = (r: AgentReport) => {
              if (r.kind === 'hello') {
                clearTimeout(t);
                m.listeners.delete(l);
                resolve();
              }
            };
            m.listeners.add(l);
          });
        await ctx.host.startCompute(
          {
            // Images for snapshots: the agent uploads with the requester's rights (in-process transfer).
            upload: async (imageId, data) => {
              const c = m.snapshotCaller(imageId);
              if (!c) throw new Error(`No requester known for snapshot image ${imageId}`);
              try {
                await m.images.upload(c, imageId, data);
              } finally {
                m.forgetSnapshot(imageId);
              }
            },
          },
          hello,
        );
        await m.settle();
      }
      await m.recover();
      timer = setInterval(() => void m.track(m.checkHosts()), 15_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await ctxRef?.host?.stopCompute();
      await mgr?.stop();
    },
  };
  return mod;
}

/** The host options out of the service's options. */
function hostOptions(o: ComputeServiceOptions): ComputeHostOptions {
  const { driver, fake, heartbeatSeconds, availabilityZone, extraFakeHosts } = o;
  return { driver, fake, heartbeatSeconds, availabilityZone, extraFakeHosts };
}
