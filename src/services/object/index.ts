/**
 * The object store (Swift v1) mounted at /object-store: accounts `AUTH_<project_id>`, containers and objects
 * in the database (listings, counters), bytes in a backend (a filesystem under `<data>/objects` by default).
 * The catalog advertises `<public>/object-store/v1/AUTH_$(project_id)s`, as DevStack registers Swift.
 */
import { join } from 'node:path';
import type { ServiceModule } from '../../core/service.js';
import { FilesystemBackend, type ObjectBackend } from './backend.js';
import { Access } from './domain/access.js';
import { ObjectManager } from './manager.js';
import { objectMigrations } from './migrations.js';
import { objectPolicies } from './policies/index.js';
import { ObjectStore } from './store.js';
import { swiftRoutes } from './api/routes.js';
import { infoDoc } from './api/info.js';

export { objectMigrations } from './migrations.js';
export { objectPolicies } from './policies/index.js';

/** What other services get from ctx.services['object-store']. */
export interface ObjectFacade {
  manager: ObjectManager;
}

export function objectService(options: { backend?: (dataDir: string) => ObjectBackend } = {}): ServiceModule {
  let manager: ObjectManager | undefined;
  return {
    type: 'object-store',
    catalog: { name: 'swift', path: '/object-store/v1', suffix: '/AUTH_$(project_id)s' },
    migrations: objectMigrations,
    policies: objectPolicies,
    async register(app, ctx) {
      const backend =
        options.backend?.(ctx.config.dataDir) ?? new FilesystemBackend(join(ctx.config.dataDir, 'objects'));
      await backend.init();
      const log = ctx.log.child({ service: 'object-store' });
      const store = new ObjectStore(ctx.db);
      const mgr = new ObjectManager(store, backend, log);
      manager = mgr;
      if (!app.supportedMethods.includes('COPY')) app.addHttpMethod('COPY', { hasBody: true });
      await app.register(
        async (scope) =>
          swiftRoutes(
            scope,
            { mgr, access: new Access(ctx.policy), log, prefix: '/object-store' },
            ctx.tokens,
          ),
        { prefix: '/object-store' },
      );
      // swiftclient asks for the capabilities at the root of the storage URL's host (`/info`).
      app.get('/info', { config: { public: true } }, async (_req, reply) => {
        reply.header('content-type', 'application/json; charset=utf-8');
        return JSON.stringify(infoDoc());
      });
      const facade: ObjectFacade = { manager: mgr };
      return facade;
    },
    async start() {
      await manager?.start();
    },
    async stop() {
      await manager?.stop();
    },
  };
}
