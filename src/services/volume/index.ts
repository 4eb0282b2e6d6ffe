/**
 * The block-storage service (Cinder v3) mounted at /volume: version discovery at /volume/, the API at
 * /volume/v3 and /volume/v3/{project_id} (both forms, as Cinder serves them). Registered in the catalog as
 * `block-storage`, `volumev3` and `volume`, the three types DevStack registers. The data plane is a
 * `VolumeDriver` from src/agent/volume (qcow2 files, or the fake driver without qemu-img).
 */
import type { FastifyInstance } from 'fastify';
import type { ApiError } from '../../core/errors.js';
import { setupServiceScope } from '../../core/http/app.js';
import type { ServiceContext, ServiceModule } from '../../core/service.js';
import type { VolumeFacade } from '../../core/facades/volume.js';
import type { VolumeDriver } from '../../agent/volume/driver.js';
import { attachmentRoutes } from './api/attachments.js';
import { microversions, type Api } from './api/common.js';
import { quotaRoutes } from './api/quotas.js';
import { serviceRoutes } from './api/services.js';
import { snapshotRoutes } from './api/snapshots.js';
import { transferRoutes } from './api/transfers.js';
import { typeRoutes } from './api/types.js';
import { rootVersionRoutes, v3VersionRoutes } from './api/versions.js';
import { volumeActionRoutes } from './api/volume-actions.js';
import { volumeRoutes } from './api/volumes.js';
import { createFacade } from './facade.js';
import { DEFAULT_VOLUME_OPTIONS, type VolumeOptions } from './manager/common.js';
import { Images } from './manager/images.js';
import { VolumeManager } from './manager/index.js';
import { Worker } from './manager/worker.js';
import { volumeMigrations } from './migrations.js';
import { volumeServicePolicies } from './policies/index.js';
import { VolumeStore } from './store.js';

export { volumeMigrations } from './migrations.js';
export { volumeServicePolicies } from './policies/index.js';

const FAULT_NAMES: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  429: 'overLimit',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};

/** Cinder's fault body (cinder/api/openstack/wsgi.py Fault): `{"itemNotFound": {"message", "code"}}`. */
export const cinderFault = (e: ApiError) => ({
  [FAULT_NAMES[e.status] ?? 'computeFault']: { message: e.message, code: e.status },
});

export interface VolumeServiceOptions extends Partial<VolumeOptions> {
  /** The backend; by default the host's (src/agent/host.ts, chosen by `config.volumeDriver`). */
  driver?: VolumeDriver;
}

export function volumeService(options: VolumeServiceOptions = {}): ServiceModule {
  let worker: Worker | undefined;
  return {
    type: 'block-storage',
    catalog: {
      name: 'cinder',
      path: '/volume/v3',
      aliases: [
        { type: 'volumev3', name: 'cinderv3' },
        { type: 'volume', name: 'cinder' },
      ],
    },
    migrations: volumeMigrations,
    policies: volumeServicePolicies,
    // The backend is the host's: the composition root builds it beside the compute and network drivers.
    host: { volume: { driver: options.driver } },
    async register(app: FastifyInstance, ctx: ServiceContext): Promise<VolumeFacade> {
      const log = ctx.log.child({ service: 'block-storage' });
      const driver = ctx.host?.volumeDriver;
      if (!driver) throw new Error('block storage needs a host with a volume driver (src/agent/host.ts)');
      const { driver: _d, ...rest } = options;
      const opts: VolumeOptions = { ...DEFAULT_VOLUME_OPTIONS, ...rest };
      worker = new Worker(log);
      const mgr = new VolumeManager({
        store: new VolumeStore(ctx.db),
        driver,
        policy: ctx.policy,
        log,
        images: new Images(() => ctx.services.image),
        worker,
        opts,
      });
      await mgr.types.ensureDefault();
      await mgr.reconcile();
      const api: Api = { mgr, policy: ctx.policy, driver, opts };
      const startedAt = new Date();
      const scope = { faults: cinderFault, validator: ctx.tokens, policy: ctx.policy };
      await app.register(
        async (s) => {
          setupServiceScope(s, scope);
          rootVersionRoutes(s);
        },
        { prefix: '/volume' },
      );
      for (const prefix of ['/volume/v3', '/volume/v3/:project_id'])
        await app.register(
          async (s) => {
            setupServiceScope(s, scope);
            microversions(s);
            if (prefix === '/volume/v3') v3VersionRoutes(s);
            volumeRoutes(s, api);
            volumeActionRoutes(s, api);
            typeRoutes(s, api);
            snapshotRoutes(s, api);
            attachmentRoutes(s, api);
            quotaRoutes(s, api);
            transferRoutes(s, api);
            serviceRoutes(s, api, startedAt);
          },
          { prefix },
        );
      return createFacade(mgr);
    },
    async stop() {
      await worker?.settle();
    },
  };
}
