/** /flavors: list, show, create, update (2.55), delete (nova/api/openstack/compute/flavors.py, flavor_manage.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import { novaLinks } from '../../../core/http/collection.js';
import { now, type ComputeManager } from '../manager/index.js';
import type { FlavorQuery, FlavorRow } from '../rows.js';
import { flavorView } from '../views.js';
import {
  bad,
  bodyKey,
  boolOf,
  callerOf,
  intOf,
  limitOf,
  mv,
  noExtra,
  q1,
  requireMv,
  str,
  afterMarker,
  type P,
} from './common.js';

const FLAVOR_NAME_RE = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;
const FLAVOR_ID_RE = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;

export const flavorNotFound = (id: string) =>
  new ApiError(404, `Flavor ${id} could not be found.`, 'itemNotFound');

/** A flavor the caller may use (404 otherwise). */
export async function visibleFlavor(
  req: FastifyRequest,
  mgr: ComputeManager,
  id: string,
): Promise<FlavorRow> {
  const f = await mgr.usableFlavor(callerOf(req, mgr), id);
  if (!f) throw flavorNotFound(id);
  return f;
}

export function flavorRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;
  const specsAllowed = (req: FastifyRequest) => {
    const c = callerOf(req, mgr);
    return mgr.can('os_compute_api:os-flavor-extra-specs:index', { project_id: c.projectId }, c);
  };

  async function list(req: FastifyRequest, detail: boolean) {
    req.authorize({});
    const c = callerOf(req, mgr);
    const fq: Omit<FlavorQuery, 'sort' | 'dir'> = {};
    const isPublic = q1(req, 'is_public');
    if (c.isAdmin) {
      if (isPublic !== undefined && isPublic.toLowerCase() !== 'none')
        fq.isPublic = ['true', '1', 'yes', 't'].includes(isPublic.toLowerCase()) ? 1 : 0;
      else if (isPublic === undefined) fq.isPublic = 1;
    } else fq.visibleTo = c.projectId;
    const minRam = q1(req, 'minRam');
    const minDisk = q1(req, 'minDisk');
    if (minRam !== undefined) {
      if (!/^\d+$/.test(minRam)) throw bad(`Invalid minRam filter [${minRam}]`);
      fq.minRam = Number(minRam);
    }
    if (minDisk !== undefined) {
      if (!/^\d+$/.test(minDisk)) throw bad(`Invalid minDisk filter [${minDisk}]`);
      fq.minDisk = Number(minDisk);
    }
    const sortKey = q1(req, 'sort_key') ?? 'flavorid';
    const cols: Record<string, string> = {
      flavorid: 'id',
      id: 'id',
      name: 'name',
      memory_mb: 'ram',
      ram: 'ram',
      vcpus: 'vcpus',
      root_gb: 'disk',
      disk: 'disk',
      ephemeral_gb: 'ephemeral',
      swap: 'swap',
      rxtx_factor: 'rxtx_factor',
      created_at: 'created_at',
      description: 'description',
      is_public: 'is_public',
    };
    const col = cols[sortKey];
    if (!col) throw bad(`Invalid sort_key ${sortKey}`);
    const dir = (q1(req, 'sort_dir') ?? 'asc').toLowerCase();
    if (!['asc', 'desc'].includes(dir)) throw bad(`Invalid sort_dir ${dir}`);
    let rows = await store.flavors({ ...fq, sort: col as keyof FlavorRow, dir: dir as 'asc' | 'desc' });
    rows = afterMarker(rows, q1(req, 'marker'), (r) => r.id);
    const limit = limitOf(req);
    const full = rows.length;
    if (limit !== undefined) rows = rows.slice(0, limit);
    const specs = detail && specsAllowed(req);
    const out: Record<string, unknown> = {
      flavors: rows.map((f) => flavorView(f, base, mv(req), { summary: !detail, extraSpecs: specs })),
    };
    if (limit !== undefined && full > limit)
      out.flavors_links = novaLinks(`${base}/v2.1/flavors${detail ? '/detail' : ''}`, {}, rows, limit);
    return out;
  }
  app.get('/v2.1/flavors', { config: { policy: 'os_compute_api:flavors' } }, (req) => list(req, false));
  app.get('/v2.1/flavors/detail', { config: { policy: 'os_compute_api:flavors' } }, (req) => list(req, true));
  app.get('/v2.1/flavors/:id', { config: { policy: 'os_compute_api:flavors' } }, async (req) => {
    req.authorize({});
    const f = await visibleFlavor(req, mgr, (req.params as P).id!);
    return { flavor: flavorView(f, base, mv(req), { extraSpecs: specsAllowed(req) }) };
  });

  app.post('/v2.1/flavors', { config: { policy: 'os_compute_api:os-flavor-manage:create' } }, async (req) => {
    const c = callerOf(req, mgr);
    req.authorize({ project_id: c.projectId });
    const b = bodyKey(req, 'flavor');
    noExtra(
      b,
      [
        'name',
        'id',
        'ram',
        'vcpus',
        'disk',
        'OS-FLV-EXT-DATA:ephemeral',
        'swap',
        'rxtx_factor',
        'os-flavor-access:is_public',
        ...(mv(req).ge(55) ? ['description'] : []),
      ],
      'flavor',
    );
    const name = str(b, 'name', { required: true, min: 1, max: 255 })!;
    if (!FLAVOR_NAME_RE.test(name))
      throw bad(
        `Invalid input for field/attribute name. Value: ${name}. '${name}' does not match the flavor name pattern`,
      );
    let id = b.id === undefined || b.id === null ? undefined : String(b.id);
    if (id !== undefined && typeof b.id !== 'string' && typeof b.id !== 'number')
      throw bad('Invalid input for field/attribute id.');
    if (id !== undefined && (id.length > 255 || !FLAVOR_ID_RE.test(id)))
      throw bad(
        `Invalid input for field/attribute id. Value: ${id}. '${id}' does not match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'`,
      );
    if (id === undefined || id.toLowerCase() === 'auto') id = uuid();
    const ram = intOf(b, 'ram', { required: true, min: 1, max: 2147483647, allowString: true })!;
    const vcpus = intOf(b, 'vcpus', { required: true, min: 1, max: 2147483647, allowString: true })!;
    const disk = intOf(b, 'disk', { required: true, min: 0, max: 2147483647, allowString: true })!;
    const ephemeral =
      intOf(b, 'OS-FLV-EXT-DATA:ephemeral', { min: 0, max: 2147483647, allowString: true }) ?? 0;
    const swap = intOf(b, 'swap', { min: 0, max: 2147483647, allowString: true }) ?? 0;
    const rx = b.rxtx_factor === undefined ? 1 : Number(b.rxtx_factor);
    if (!Number.isFinite(rx) || rx <= 0)
      throw bad(`Invalid input for field/attribute rxtx_factor. Value: ${b.rxtx_factor}.`);
    const isPublic = boolOf(b, 'os-flavor-access:is_public') ?? true;
    const description = mv(req).ge(55) ? str(b, 'description', { max: 65535, nullable: true }) : undefined;
    const row: FlavorRow = {
      id,
      name,
      ram,
      vcpus,
      disk,
      ephemeral,
      swap,
      rxtx_factor: rx,
      is_public: isPublic ? 1 : 0,
      disabled: 0,
      description: description ?? null,
      extra_specs: '{}',
      created_at: now(),
    };
    if (await store.flavorNamed(name))
      throw new ApiError(409, `Flavor with name ${name} already exists.`, 'conflictingRequest');
    if (await mgr.flavor(id))
      throw new ApiError(409, `Flavor with ID ${id} already exists.`, 'conflictingRequest');
    try {
      await store.insertFlavor(row);
    } catch (e) {
      if (store.uniqueViolation(e))
        throw new ApiError(409, `Flavor with name ${name} already exists.`, 'conflictingRequest');
      throw e;
    }
    return { flavor: flavorView(row, base, mv(req), { extraSpecs: true }) };
  });

  app.put(
    '/v2.1/flavors/:id',
    { config: { policy: 'os_compute_api:os-flavor-manage:update' } },
    async (req) => {
      requireMv(req, 55);
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId });
      const b = bodyKey(req, 'flavor');
      noExtra(b, ['description'], 'flavor');
      if (!('description' in b))
        throw bad("Invalid input for field/attribute flavor. 'description' is a required property");
      const f = await mgr.flavor((req.params as P).id!);
      if (!f) throw flavorNotFound((req.params as P).id!);
      const description = str(b, 'description', { max: 65535, nullable: true }) ?? null;
      await store.updateFlavor(f.id, { description });
      return { flavor: flavorView({ ...f, description }, base, mv(req), { extraSpecs: true }) };
    },
  );

  app.delete(
    '/v2.1/flavors/:id',
    { config: { policy: 'os_compute_api:os-flavor-manage:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId });
      if (!(await store.deleteFlavor((req.params as P).id!))) throw flavorNotFound((req.params as P).id!);
      reply.code(202).send();
    },
  );
}
