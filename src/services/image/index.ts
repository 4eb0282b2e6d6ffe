/** The image service, mounted at /image. (Being built: see the issue for this service.) */
import type { ServiceModule } from '../../core/service.js';

export function imageService(): ServiceModule {
  return {
    type: 'image',
    catalog: { name: 'glance', path: '/image' },
    migrations: {},
    policies: [],
    async register() {
      return {};
    },
  };
}
