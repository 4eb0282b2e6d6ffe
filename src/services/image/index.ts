/**
 * The image service (Glance v2) mounted at /image: images, data upload/download with format
 * verification, sharing, interoperable import (glance-direct). Needs `qemu-img` (Debian qemu-utils) on
 * PATH to verify qcow2/vmdk/vhd/vhdx/vdi/ploop uploads.
 */
import { join } from 'node:path';
import type { ApiError } from '../../core/errors.js';
import type { ImageFacade } from '../../core/facades/image.js';
import { setupServiceScope } from '../../core/http/app.js';
import type { ServiceModule } from '../../core/service.js';
import { DISCOVERY_RULE, imageRoutes } from './api/routes.js';
import { FilesystemStore, StagingArea, type StoreDriver } from './backend.js';
import { DEFAULT_OPTIONS, ImageManager, type ImageOptions } from './manager.js';
import { imageMigrations } from './migrations.js';
import { imagePolicies } from './policies/index.js';
import { ImageStore } from './store.js';

export { imageMigrations } from './migrations.js';
export { imagePolicies } from './policies/index.js';
export type { ImageOptions } from './manager.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  410: 'Gone',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Glance answers errors through webob; with `Accept: application/json` (what keystoneauth sends) the
 * body is `{"message", "code": "404 Not Found", "title"}`, which openstacksdk and glanceclient both
 * parse. We always answer in that JSON form, without webob's `<br />` decoration in the message.
 */
export const glanceFault = (e: ApiError) => {
  const title = TITLES[e.status] ?? 'Error';
  return { message: e.message, code: `${e.status} ${title}`, title };
};

export function imageService(
  options: Partial<ImageOptions> & { driver?: (dataDir: string) => StoreDriver } = {},
): ServiceModule {
  let manager: ImageManager | undefined;
  return {
    type: 'image',
    catalog: { name: 'glance', path: '/image' },
    migrations: imageMigrations,
    policies: [
      ...imagePolicies,
      {
        name: DISCOVERY_RULE,
        check: '',
        description: 'Schemas and info documents: any authenticated user (Glance has no rule for them).',
      },
    ],
    async register(app, ctx) {
      const dir = join(ctx.config.dataDir, 'images');
      const driver = options.driver?.(ctx.config.dataDir) ?? new FilesystemStore(dir);
      const staging = new StagingArea(join(dir, 'staging'));
      await driver.init();
      await staging.init();
      const { driver: _d, ...opts } = options;
      const mgr = new ImageManager(
        new ImageStore(ctx.db),
        driver,
        staging,
        ctx.policy,
        { ...DEFAULT_OPTIONS, ...opts },
        ctx.log.child({ service: 'image' }),
      );
      manager = mgr;
      await mgr.reconcile();
      await app.register(
        async (scope) => {
          setupServiceScope(scope, { faults: glanceFault, validator: ctx.tokens, policy: ctx.policy });
          imageRoutes(scope, mgr, ctx.policy);
        },
        { prefix: '/image' },
      );
      const facade: ImageFacade = { manager: mgr };
      return facade;
    },
    async stop() {
      await manager?.settle();
    },
  };
}
