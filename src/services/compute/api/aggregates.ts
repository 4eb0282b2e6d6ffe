/** os-aggregates (nova/api/openstack/compute/aggregates.py). */
import type { FastifyInstance } from 'fastify';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import { type ComputeManager } from '../manager/index.js';
import type { Mv } from '../microversion.js';
import type { AggregateRow } from '../rows.js';
import { naiveMicro } from '../views.js';
import { bad, bodyKey, mv, noExtra, str, type Obj, type P } from './common.js';

export function aggregateRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const store = mgr.store;
  const aggView = (a: AggregateRow, v: Mv) => ({
    id: a.id,
    name: a.name,
    availability_zone: a.availability_zone,
    hosts: json<string[]>(a.hosts, []),
    metadata: {
      ...json<Record<string, string>>(a.metadata, {}),
      ...(a.availability_zone ? { availability_zone: a.availability_zone } : {}),
    },
    created_at: naiveMicro(new Date(a.created_at).toISOString()),
    updated_at: a.updated_at ? naiveMicro(new Date(a.updated_at).toISOString()) : null,
    deleted_at: null,
    deleted: false,
    ...(v.ge(41) ? { uuid: a.uuid } : {}),
  });
  const aggNotFound = (id: string) =>
    new ApiError(404, `Aggregate ${id} could not be found.`, 'itemNotFound');
  async function agg(id: string): Promise<AggregateRow> {
    if (!/^\d+$/.test(id)) throw aggNotFound(id);
    const a = await store.aggregate(Number(id));
    if (!a) throw aggNotFound(id);
    return a;
  }
  app.get(
    '/v2.1/os-aggregates',
    { config: { policy: 'os_compute_api:os-aggregates:index' } },
    async (req) => {
      req.authorize({});
      const rows = await store.aggregates();
      return { aggregates: rows.map((a) => aggView(a, mv(req))) };
    },
  );
  app.post(
    '/v2.1/os-aggregates',
    { config: { policy: 'os_compute_api:os-aggregates:create' } },
    async (req) => {
      req.authorize({});
      const b = bodyKey(req, 'aggregate');
      noExtra(b, ['name', 'availability_zone'], 'aggregate');
      const name = str(b, 'name', { required: true, min: 1, max: 255, trim: true })!;
      const az = str(b, 'availability_zone', { min: 1, max: 255, nullable: true }) ?? null;
      if (az?.includes(':'))
        throw bad("Invalid input for field/attribute availability_zone. It must not contain ':'");
      const t = new Date().toISOString();
      try {
        const id = await store.insertAggregate({
          uuid: uuid(),
          name,
          availability_zone: az,
          metadata: '{}',
          hosts: '[]',
          created_at: t,
          updated_at: null,
        });
        const a = await agg(String(id));
        const v = aggView(a, mv(req));
        return {
          aggregate: {
            id: v.id,
            name: v.name,
            availability_zone: v.availability_zone,
            created_at: v.created_at,
            updated_at: null,
            deleted_at: null,
            deleted: false,
            ...(mv(req).ge(41) ? { uuid: a.uuid } : {}),
          },
        };
      } catch (e) {
        if (store.uniqueViolation(e))
          throw new ApiError(409, `Aggregate ${name} already exists.`, 'conflictingRequest');
        throw e;
      }
    },
  );
  app.get(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:show' } },
    async (req) => {
      req.authorize({});
      return { aggregate: aggView(await agg((req.params as P).id!), mv(req)) };
    },
  );
  app.put(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:update' } },
    async (req) => {
      req.authorize({});
      const a = await agg((req.params as P).id!);
      const b = bodyKey(req, 'aggregate');
      noExtra(b, ['name', 'availability_zone'], 'aggregate');
      if (Object.keys(b).length === 0)
        throw bad('Invalid input for field/attribute aggregate. {} does not have enough properties');
      const values: Partial<AggregateRow> = { updated_at: new Date().toISOString() };
      if (b.name !== undefined) values.name = str(b, 'name', { min: 1, max: 255, trim: true })!;
      if (b.availability_zone !== undefined)
        values.availability_zone = str(b, 'availability_zone', { min: 1, max: 255, nullable: true }) ?? null;
      try {
        await store.updateAggregate(a.id, values);
      } catch (e) {
        if (store.uniqueViolation(e))
          throw new ApiError(409, `Aggregate ${values.name} already exists.`, 'conflictingRequest');
        throw e;
      }
      return { aggregate: aggView(await agg(String(a.id)), mv(req)) };
    },
  );
  app.delete(
    '/v2.1/os-aggregates/:id',
    { config: { policy: 'os_compute_api:os-aggregates:delete' } },
    async (req, reply) => {
      req.authorize({});
      const a = await agg((req.params as P).id!);
      if (json<string[]>(a.hosts, []).length)
        throw bad(`Cannot remove aggregate ${a.id}: it still has hosts`);
      await store.deleteAggregate(a.id);
      reply.code(200).send();
    },
  );
  app.post(
    '/v2.1/os-aggregates/:id/action',
    { config: { policy: 'os_compute_api:os-aggregates:add_host' } },
    async (req) => {
      const b = req.body as Obj | undefined;
      const action = b && Object.keys(b).length === 1 ? Object.keys(b)[0]! : '';
      const rules: Record<string, string> = {
        add_host: 'os_compute_api:os-aggregates:add_host',
        remove_host: 'os_compute_api:os-aggregates:remove_host',
        set_metadata: 'os_compute_api:os-aggregates:set_metadata',
      };
      if (!rules[action])
        throw bad('Invalid request body: expected one of add_host, remove_host, set_metadata');
      req.authorize({}, rules[action]);
      const a = await agg((req.params as P).id!);
      const arg = b![action] as Obj;
      if (!arg || typeof arg !== 'object') throw bad(`Invalid input for field/attribute ${action}.`);
      const hosts = json<string[]>(a.hosts, []);
      const values: Partial<AggregateRow> = { updated_at: new Date().toISOString() };
      if (action === 'add_host' || action === 'remove_host') {
        const host = str(arg, 'host', { required: true, min: 1, max: 255 })!;
        if (!(await store.host(host)))
          throw new ApiError(404, `Compute host ${host} could not be found.`, 'itemNotFound');
        if (action === 'add_host') {
          if (hosts.includes(host))
            throw new ApiError(
              409,
              `Cannot add host ${host} in aggregate ${a.id}: host exists`,
              'conflictingRequest',
            );
          hosts.push(host);
        } else {
          if (!hosts.includes(host))
            throw new ApiError(404, `Cannot remove host ${host} in aggregate ${a.id}`, 'itemNotFound');
          hosts.splice(hosts.indexOf(host), 1);
        }
        values.hosts = JSON.stringify(hosts);
      } else {
        const md = arg.metadata as Obj;
        if (!md || typeof md !== 'object')
          throw bad("Invalid input for field/attribute metadata. 'metadata' is a required property");
        const cur = json<Record<string, string>>(a.metadata, {});
        for (const [k, v] of Object.entries(md)) {
          if (k === 'availability_zone') {
            values.availability_zone = v === null ? null : String(v);
            continue;
          }
          if (v === null) delete cur[k];
          else cur[k] = String(v);
        }
        values.metadata = JSON.stringify(cur);
      }
      await store.updateAggregate(a.id, values);
      return { aggregate: aggView(await agg(String(a.id)), mv(req)) };
    },
  );
}
