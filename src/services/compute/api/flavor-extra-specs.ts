/** /flavors/{id}/os-extra_specs (nova/api/openstack/compute/flavors_extraspecs.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import type { FlavorRow } from '../rows.js';
import { bad, callerOf, type Obj, type P } from './common.js';
import { visibleFlavor } from './flavors.js';

export function flavorExtraSpecRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;
  const specsOf = (f: FlavorRow) => json<Record<string, string>>(f.extra_specs, {});
  function specsBody(v: unknown): Record<string, string> {
    if (!v || typeof v !== 'object' || Array.isArray(v))
      throw bad("Invalid input for field/attribute extra_specs. is not of type 'object'");
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Obj)) {
      if (k.length < 1 || k.length > 255 || !/^[\w.:-]+$/.test(k))
        throw bad(`Invalid input for field/attribute extra_specs. Key '${k}' is not valid`);
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean')
        throw bad(`Invalid input for field/attribute extra_specs. Value of '${k}' must be a string`);
      const s = String(val);
      if (s.length > 255)
        throw bad(`Invalid input for field/attribute extra_specs. Value of '${k}' is too long`);
      out[k] = s;
    }
    return out;
  }
  async function flavorFor(req: FastifyRequest, rule: string): Promise<FlavorRow> {
    const c = callerOf(req, mgr);
    req.authorize({ project_id: c.projectId }, rule);
    return visibleFlavor(req, mgr, (req.params as P).id!);
  }
  app.get(
    '/v2.1/flavors/:id/os-extra_specs',
    { config: { policy: 'os_compute_api:os-flavor-extra-specs:index' } },
    async (req) => ({
      extra_specs: specsOf(await flavorFor(req, 'os_compute_api:os-flavor-extra-specs:index')),
    }),
  );
  app.post(
    '/v2.1/flavors/:id/os-extra_specs',
    { config: { policy: 'os_compute_api:os-flavor-extra-specs:create' } },
    async (req) => {
      const f = await flavorFor(req, 'os_compute_api:os-flavor-extra-specs:create');
      const add = specsBody((req.body as Obj | undefined)?.extra_specs);
      const specs = { ...specsOf(f), ...add };
      await store.updateFlavor(f.id, { extra_specs: JSON.stringify(specs) });
      return { extra_specs: add };
    },
  );
  app.get(
    '/v2.1/flavors/:id/os-extra_specs/:key',
    { config: { policy: 'os_compute_api:os-flavor-extra-specs:show' } },
    async (req) => {
      const f = await flavorFor(req, 'os_compute_api:os-flavor-extra-specs:show');
      const key = (req.params as P).key!;
      const specs = specsOf(f);
      if (!(key in specs))
        throw new ApiError(404, `Flavor ${f.id} has no extra specs with key ${key}.`, 'itemNotFound');
      return { [key]: specs[key] };
    },
  );
  app.put(
    '/v2.1/flavors/:id/os-extra_specs/:key',
    { config: { policy: 'os_compute_api:os-flavor-extra-specs:update' } },
    async (req) => {
      const f = await flavorFor(req, 'os_compute_api:os-flavor-extra-specs:update');
      const key = (req.params as P).key!;
      const body = specsBody(req.body);
      if (Object.keys(body).length !== 1) throw bad('Request body contains too many items');
      if (!(key in body)) throw bad('Request body and URI mismatch');
      await store.updateFlavor(f.id, { extra_specs: JSON.stringify({ ...specsOf(f), ...body }) });
      return body;
    },
  );
  app.delete(
    '/v2.1/flavors/:id/os-extra_specs/:key',
    { config: { policy: 'os_compute_api:os-flavor-extra-specs:delete' } },
    async (req, reply) => {
      const f = await flavorFor(req, 'os_compute_api:os-flavor-extra-specs:delete');
      const key = (req.params as P).key!;
      const specs = specsOf(f);
      if (!(key in specs))
        throw new ApiError(404, `Flavor ${f.id} has no extra specs with key ${key}.`, 'itemNotFound');
      delete specs[key];
      await store.updateFlavor(f.id, { extra_specs: JSON.stringify(specs) });
      reply.code(200).send();
    },
  );
}
