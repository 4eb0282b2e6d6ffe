/** os-flavor-access and the addTenantAccess / removeTenantAccess flavor actions (nova/api/openstack/compute/flavor_access.py). */
import type { FastifyInstance } from 'fastify';
import { bool } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import { bad, callerOf, str, type Obj, type P } from './common.js';
import { flavorNotFound as notFound } from './flavors.js';

export function flavorAccessRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;
  app.get(
    '/v2.1/flavors/:id/os-flavor-access',
    { config: { policy: 'os_compute_api:os-flavor-access' } },
    async (req) => {
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId });
      const f = await mgr.flavor((req.params as P).id!);
      if (!f) throw notFound((req.params as P).id!);
      if (bool(f.is_public))
        throw new ApiError(404, 'Access list not available for public flavors.', 'itemNotFound');
      const rows = await store.flavorAccess(f.id);
      return { flavor_access: rows.map((r) => ({ flavor_id: f.id, tenant_id: r.project_id })) };
    },
  );

  app.post(
    '/v2.1/flavors/:id/action',
    { config: { policy: 'os_compute_api:os-flavor-access:add_tenant_access' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const b = req.body as Obj | undefined;
      const action = b && Object.keys(b)[0];
      if (!b || !action || !['addTenantAccess', 'removeTenantAccess'].includes(action))
        throw bad('There is no such action');
      req.authorize(
        { project_id: c.projectId },
        action === 'addTenantAccess'
          ? 'os_compute_api:os-flavor-access:add_tenant_access'
          : 'os_compute_api:os-flavor-access:remove_tenant_access',
      );
      const a = b[action] as Obj;
      if (!a || typeof a !== 'object') throw bad(`Invalid input for field/attribute ${action}.`);
      const tenant = str(a, 'tenant', { required: true, min: 1, max: 255 })!;
      const f = await mgr.flavor((req.params as P).id!);
      if (!f) throw notFound((req.params as P).id!);
      if (bool(f.is_public))
        throw new ApiError(409, 'Can not add access to a public flavor.', 'conflictingRequest');
      if (action === 'addTenantAccess') {
        try {
          await store.addFlavorAccess(f.id, tenant);
        } catch (e) {
          if (store.uniqueViolation(e))
            throw new ApiError(
              409,
              `Flavor access already exists for flavor ${f.id} and project ${tenant} combination.`,
              'conflictingRequest',
            );
          throw e;
        }
      } else {
        if (!(await store.removeFlavorAccess(f.id, tenant)))
          throw new ApiError(
            404,
            `Flavor access not found for ${f.id} / ${tenant} combination.`,
            'itemNotFound',
          );
      }
      const rows = await store.flavorAccess(f.id);
      return { flavor_access: rows.map((r) => ({ flavor_id: f.id, tenant_id: r.project_id })) };
    },
  );
}
