/** The identity service (Keystone v3) mounted at /identity, and its facade for other services. */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import type { Database } from '../../core/db/index.js';
import { bool } from '../../core/db/index.js';
import { ApiError } from '../../core/errors.js';
import { setupServiceScope } from '../../core/http/app.js';
import type { PolicyEngine } from '../../core/auth/policy.js';
import type { IdentityFacade } from '../../core/service.js';
import { TokenService } from './auth.js';
import { authRoutes, versionV3 } from './api/auth.js';
import { resourceRoutes } from './api/index.js';
import { IdentityManager } from './manager.js';
import { IdentityStore } from './store.js';
import { KeyRepository } from './tokens.js';

export { identityMigrations } from './migrations.js';
export { identityBaseRules, identityPolicies } from './policies/index.js';
export { bootstrap } from './bootstrap.js';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
};

/** Keystone's fault body. */
export const keystoneFault = (e: ApiError) => ({
  error: { code: e.status, message: e.message, title: TITLES[e.status] ?? 'Error' },
});

export function keyRepositoryFor(config: Config): KeyRepository {
  return new KeyRepository(join(config.dataDir, 'fernet-keys'), config.identity.maxActiveKeys);
}

export class IdentityService {
  readonly store: IdentityStore;
  readonly manager: IdentityManager;
  readonly tokens: TokenService;

  constructor(config: Config, db: Database, log: Logger) {
    this.store = new IdentityStore(db);
    this.manager = new IdentityManager(this.store, config, log);
    const keys = keyRepositoryFor(config);
    keys.initialize();
    this.tokens = new TokenService(this.manager, keys);
  }

  private keyTimer?: NodeJS.Timeout;

  async init(): Promise<void> {
    await this.tokens.init();
    // Pick up `stackbox token rotate` (run from another process) without a restart.
    this.keyTimer = setInterval(() => {
      try {
        this.tokens.keys.load();
      } catch {
        // a rotation in progress; the next tick reads a complete set
      }
    }, 30_000);
    this.keyTimer.unref();
  }

  stop(): void {
    clearInterval(this.keyTimer);
  }

  facade(): IdentityFacade {
    return {
      getProject: async (id) => {
        const p = await this.store.get('project', id);
        if (!p || bool(p.is_domain)) return undefined;
        return { id: p.id, name: p.name, domainId: p.domain_id, enabled: bool(p.enabled) };
      },
      listProjectIds: async () => (await this.store.listProjects({ isDomain: false })).map((p) => p.id),
    };
  }

  async register(app: FastifyInstance, policy: PolicyEngine): Promise<void> {
    await app.register(
      async (scope) => {
        setupServiceScope(scope, { faults: keystoneFault, validator: this.tokens, policy });
        scope.get('/', { config: { public: true } }, async (req, reply) => {
          reply.code(300);
          return { versions: { values: [versionV3(req)] } };
        });
        authRoutes(scope, this.manager, this.tokens);
        resourceRoutes(scope, this.manager);
      },
      { prefix: '/identity' },
    );
  }
}
