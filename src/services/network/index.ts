/** The network service, mounted at /networking. (Being built: see the issue for this service.) */
import type { ServiceModule } from '../../core/service.js';

export function networkService(): ServiceModule {
  return {
    type: 'network',
    catalog: { name: 'neutron', path: '/networking' },
    migrations: {},
    policies: [],
    async register() {
      return {};
    },
  };
}
