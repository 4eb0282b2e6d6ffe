/**
 * The compute service (Nova v2.1) mounted at /compute/v2.1: flavors, key pairs, servers and their actions,
 * quotas, availability zones, hypervisors, services, aggregates, server groups, usage, migrations — plus the
 * scheduler and, in-process by default, the host agent with its compute driver (fake for now; the QEMU
 * driver of issue 6 slots in behind the same interface).
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { HostAgent } from '../../agent/agent.js';
import type { ComputeDriver } from '../../agent/compute/driver.js';
import { FakeDriver, type FakeDriverOptions } from '../../agent/compute/fake/index.js';
import type { AgentReport } from '../../agent/compute/protocol.js';
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

export interface ComputeServiceOptions {
  compute?: Partial<ComputeOptions>;
  /** Run a host agent in this process (default true). */
  agent?: boolean;
  /** The driver of the in-process agent; undefined (or no option): the fake driver (state under <data>/compute). */
  driver?: (ctx: ServiceContext) => ComputeDriver | undefined;
  fake?: Partial<FakeDriverOptions>;
  heartbeatSeconds?: number;
  availabilityZone?: string;
  /** More in-process fake hosts (each its own agent and fake hypervisor), e.g. to try migrations. */
  extraFakeHosts?: (Partial<FakeDriverOptions> & { hostname: string; availabilityZone?: string })[];
}

/**
 * The compute facade (src/core/facades/compute.ts) as this in-process service gives it: tests (and the
 * process that runs it) also reach the manager and the in-process host agent.
 */
export interface InProcessCompute extends ComputeFacade {
  manager: ComputeManager;
  agent?: HostAgent;
}

export function computeService(
  options: ComputeServiceOptions = {},
): ServiceModule & { facade?: InProcessCompute } {
  let mgr: ComputeManager | undefined;
  let agent: HostAgent | undefined;
  const extraAgents: HostAgent[] = [];
  let ctxRef: ServiceContext | undefined;
  let timer: NodeJS.Timeout | undefined;
  const mod: ServiceModule & { facade?: InProcessCompute } = {
    type: 'compute',
    catalog: { name: 'nova', path: '/compute/v2.1' },
    migrations: computeMigrations,
    policies: computePolicies,
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
          return agent;
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
            await agent?.settle();
            for (const a of extraAgents) await a.settle();
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
      // Images for snapshots: the agent uploads with the requester's rights (in-process transfer).
      if (options.agent !== false) {
        const driver =
          options.driver?.(ctx) ??
          new FakeDriver({
            hostname: hostname(),
            stateFile: join(
              ctx.config.dataDir,
              'compute',
              `fake-${options.fake?.hostname ?? hostname()}.json`,
            ),
            ...options.fake,
          });
        agent = new HostAgent({
          bus: ctx.bus,
          driver,
          log: ctx.log.child({ service: 'compute-agent' }),
          availabilityZone: options.availabilityZone,
          heartbeatSeconds: options.heartbeatSeconds ?? 10,
          images: {
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
        });
        const hello = new Promise<void>((resolve) => {
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
        await agent.start();
        await hello;
        for (const h of options.extraFakeHosts ?? []) {
          const { availabilityZone, ...fake } = h;
          const a = new HostAgent({
            bus: ctx.bus,
            driver: new FakeDriver({
              ...options.fake,
              stateFile: join(ctx.config.dataDir, 'compute', `fake-${h.hostname}.json`),
              ...fake,
            }),
            log: ctx.log.child({ service: 'compute-agent', host: h.hostname }),
            availabilityZone,
            heartbeatSeconds: options.heartbeatSeconds ?? 10,
            images: agent.images,
          });
          extraAgents.push(a);
          await a.start();
        }
        await m.settle();
      }
      await m.recover();
      timer = setInterval(() => void m.track(m.checkHosts()), 15_000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      for (const a of extraAgents) await a.stop();
      await agent?.stop();
      await mgr?.stop();
    },
  };
  return mod;
}
