/** /flavors (+ os-flavor-access, os-extra_specs) and /os-keypairs. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import { fingerprintOf, generateSshKeyPair } from '../keypairs.js';
import { now, type ComputeManager } from '../manager.js';
import type { FlavorRow } from '../store.js';
import { flavorView, keypairView } from '../views.js';
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
  type Obj,
} from './common.js';

type P = Record<string, string>;
const FLAVOR_NAME_RE = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;
const FLAVOR_ID_RE = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;

export function flavorRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;
  const notFound = (id: string) => new ApiError(404, `Flavor ${id} could not be found.`, 'itemNotFound');

  async function visibleFlavor(req: FastifyRequest, id: string): Promise<FlavorRow> {
    const c = callerOf(req, mgr);
    const f = await mgr.usableFlavor(c, id);
    if (!f) throw notFound(id);
    return f;
  }
  const specsAllowed = (req: FastifyRequest) => {
    const c = callerOf(req, mgr);
    return mgr.can('os_compute_api:os-flavor-extra-specs:index', { project_id: c.projectId }, c);
  };

  async function list(req: FastifyRequest, detail: boolean) {
    req.authorize({});
    const c = callerOf(req, mgr);
    let q = store.k.selectFrom('compute_flavor').selectAll();
    const isPublic = q1(req, 'is_public');
    if (c.isAdmin) {
      if (isPublic !== undefined && isPublic.toLowerCase() !== 'none')
        q = q.where('is_public', '=', ['true', '1', 'yes', 't'].includes(isPublic.toLowerCase()) ? 1 : 0);
      else if (isPublic === undefined) q = q.where('is_public', '=', 1);
    } else {
      q = q.where((eb) =>
        eb.or([
          eb('is_public', '=', 1),
          eb.exists(
            eb
              .selectFrom('compute_flavor_access')
              .select('flavor_id')
              .whereRef('compute_flavor_access.flavor_id', '=', 'compute_flavor.id')
              .where('project_id', '=', c.projectId),
          ),
        ]),
      );
    }
    const minRam = q1(req, 'minRam');
    const minDisk = q1(req, 'minDisk');
    if (minRam !== undefined) {
      if (!/^\d+$/.test(minRam)) throw bad(`Invalid minRam filter [${minRam}]`);
      q = q.where('ram', '>=', Number(minRam));
    }
    if (minDisk !== undefined) {
      if (!/^\d+$/.test(minDisk)) throw bad(`Invalid minDisk filter [${minDisk}]`);
      q = q.where('disk', '>=', Number(minDisk));
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
    let rows = await q
      .orderBy(col as 'id', dir as 'asc')
      .orderBy('id', 'asc')
      .execute();
    const marker = q1(req, 'marker');
    if (marker) {
      const i = rows.findIndex((r) => r.id === marker);
      if (i < 0) throw bad(`marker [${marker}] not found`);
      rows = rows.slice(i + 1);
    }
    const limit = limitOf(req);
    const full = rows.length;
    if (limit !== undefined) rows = rows.slice(0, limit);
    const specs = detail && specsAllowed(req);
    const out: Record<string, unknown> = {
      flavors: rows.map((f) => flavorView(f, base, mv(req), { summary: !detail, extraSpecs: specs })),
    };
    if (limit !== undefined && rows.length === limit && full > limit)
      out.flavors_links = [
        {
          rel: 'next',
          href: `${base}/v2.1/flavors${detail ? '/detail' : ''}?limit=${limit}&marker=${rows[rows.length - 1]!.id}`,
        },
      ];
    return out;
  }
  app.get('/v2.1/flavors', { config: { policy: 'os_compute_api:flavors' } }, (req) => list(req, false));
  app.get('/v2.1/flavors/detail', { config: { policy: 'os_compute_api:flavors' } }, (req) => list(req, true));
  app.get('/v2.1/flavors/:id', { config: { policy: 'os_compute_api:flavors' } }, async (req) => {
    req.authorize({});
    const f = await visibleFlavor(req, (req.params as P).id!);
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
    if (await store.k.selectFrom('compute_flavor').select('id').where('name', '=', name).executeTakeFirst())
      throw new ApiError(409, `Flavor with name ${name} already exists.`, 'conflictingRequest');
    if (await mgr.flavor(id))
      throw new ApiError(409, `Flavor with ID ${id} already exists.`, 'conflictingRequest');
    try {
      await store.k.insertInto('compute_flavor').values(row).execute();
    } catch (e) {
      if (mgr.uniqueViolation(e))
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
      if (!f) throw notFound((req.params as P).id!);
      const description = str(b, 'description', { max: 65535, nullable: true }) ?? null;
      await store.k.updateTable('compute_flavor').set({ description }).where('id', '=', f.id).execute();
      return { flavor: flavorView({ ...f, description }, base, mv(req), { extraSpecs: true }) };
    },
  );

  app.delete(
    '/v2.1/flavors/:id',
    { config: { policy: 'os_compute_api:os-flavor-manage:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      req.authorize({ project_id: c.projectId });
      const r = await store.k
        .deleteFrom('compute_flavor')
        .where('id', '=', (req.params as P).id!)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0) throw notFound((req.params as P).id!);
      reply.code(202).send();
    },
  );

  // ------------------------------------------------------------------ access
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
      const rows = await store.k
        .selectFrom('compute_flavor_access')
        .selectAll()
        .where('flavor_id', '=', f.id)
        .execute();
      return { flavor_access: rows.map((r) => ({ flavor_id: f.id, tenant_id: r.project_id })) };
    },
  );

  // ------------------------------------------------------------------ extra specs
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
    return visibleFlavor(req, (req.params as P).id!);
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
      await store.k
        .updateTable('compute_flavor')
        .set({ extra_specs: JSON.stringify(specs) })
        .where('id', '=', f.id)
        .execute();
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
      await store.k
        .updateTable('compute_flavor')
        .set({ extra_specs: JSON.stringify({ ...specsOf(f), ...body }) })
        .where('id', '=', f.id)
        .execute();
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
      await store.k
        .updateTable('compute_flavor')
        .set({ extra_specs: JSON.stringify(specs) })
        .where('id', '=', f.id)
        .execute();
      reply.code(200).send();
    },
  );

  // ------------------------------------------------------------------ flavor actions: addTenantAccess / removeTenantAccess
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
          await store.k
            .insertInto('compute_flavor_access')
            .values({ flavor_id: f.id, project_id: tenant })
            .execute();
        } catch (e) {
          if (mgr.uniqueViolation(e))
            throw new ApiError(
              409,
              `Flavor access already exists for flavor ${f.id} and project ${tenant} combination.`,
              'conflictingRequest',
            );
          throw e;
        }
      } else {
        const r = await store.k
          .deleteFrom('compute_flavor_access')
          .where('flavor_id', '=', f.id)
          .where('project_id', '=', tenant)
          .executeTakeFirst();
        if (Number(r.numDeletedRows) === 0)
          throw new ApiError(
            404,
            `Flavor access not found for ${f.id} / ${tenant} combination.`,
            'itemNotFound',
          );
      }
      const rows = await store.k
        .selectFrom('compute_flavor_access')
        .selectAll()
        .where('flavor_id', '=', f.id)
        .execute();
      return { flavor_access: rows.map((r) => ({ flavor_id: f.id, tenant_id: r.project_id })) };
    },
  );

  // ================================================================== keypairs
  function userFor(req: FastifyRequest): string {
    const c = callerOf(req, mgr);
    const u = mv(req).ge(10) ? q1(req, 'user_id') : undefined;
    return u ?? c.userId;
  }
  app.get('/v2.1/os-keypairs', { config: { policy: 'os_compute_api:os-keypairs:index' } }, async (req) => {
    const userId = userFor(req);
    req.authorize({ user_id: userId });
    let q = store.k.selectFrom('compute_keypair').selectAll().where('user_id', '=', userId).orderBy('name');
    if (mv(req).ge(35)) {
      const marker = q1(req, 'marker');
      if (marker) {
        const m = await store.k
          .selectFrom('compute_keypair')
          .select('name')
          .where('user_id', '=', userId)
          .where('name', '=', marker)
          .executeTakeFirst();
        if (!m) throw bad(`marker [${marker}] not found`);
        q = q.where('name', '>', marker);
      }
      const limit = limitOf(req);
      if (limit !== undefined) q = q.limit(limit);
    }
    const rows = await q.execute();
    const out: Record<string, unknown> = {
      keypairs: rows.map((k) => ({ keypair: keypairView(k, mv(req), false) })),
    };
    const limit = mv(req).ge(35) ? limitOf(req) : undefined;
    if (limit !== undefined && rows.length === limit && rows.length > 0)
      out.keypairs_links = [
        {
          rel: 'next',
          href: `${base}/v2.1/os-keypairs?limit=${limit}&marker=${rows[rows.length - 1]!.name}`,
        },
      ];
    return out;
  });
  app.get(
    '/v2.1/os-keypairs/:name',
    { config: { policy: 'os_compute_api:os-keypairs:show' } },
    async (req) => {
      const userId = userFor(req);
      req.authorize({ user_id: userId });
      const name = (req.params as P).name!;
      const k = await store.k
        .selectFrom('compute_keypair')
        .selectAll()
        .where('user_id', '=', userId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (!k) throw new ApiError(404, `Keypair ${name} not found for user ${userId}`, 'itemNotFound');
      return { keypair: keypairView(k, mv(req), true) };
    },
  );
  app.delete(
    '/v2.1/os-keypairs/:name',
    { config: { policy: 'os_compute_api:os-keypairs:delete' } },
    async (req, reply) => {
      const userId = userFor(req);
      req.authorize({ user_id: userId });
      const name = (req.params as P).name!;
      const r = await store.k
        .deleteFrom('compute_keypair')
        .where('user_id', '=', userId)
        .where('name', '=', name)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 0)
        throw new ApiError(404, `Keypair ${name} not found for user ${userId}`, 'itemNotFound');
      reply.code(mv(req).ge(2) ? 204 : 202).send();
    },
  );
  app.post(
    '/v2.1/os-keypairs',
    { config: { policy: 'os_compute_api:os-keypairs:create' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const b = bodyKey(req, 'keypair');
      const allowed = [
        'name',
        'public_key',
        ...(mv(req).ge(2) ? ['type'] : []),
        ...(mv(req).ge(10) ? ['user_id'] : []),
      ];
      noExtra(b, allowed, 'keypair');
      const name = str(b, 'name', { required: true, min: 1, max: 255 })!;
      if (!/^[a-zA-Z0-9 _.@-]+$/.test(name) || name.trim() !== name)
        throw bad(
          `Invalid input for field/attribute name. Value: ${name}. '${name}' does not match the keypair name pattern`,
        );
      const type = (str(b, 'type') ?? 'ssh') as 'ssh' | 'x509';
      if (!['ssh', 'x509'].includes(type))
        throw bad(
          `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ['ssh', 'x509']`,
        );
      const userId = str(b, 'user_id', { min: 1, max: 255 }) ?? c.userId;
      req.authorize({ user_id: userId });
      let publicKey = str(b, 'public_key');
      let privateKey: string | undefined;
      let fingerprint: string;
      if (publicKey !== undefined) fingerprint = fingerprintOf(type, publicKey);
      else {
        if (type === 'x509')
          throw bad(
            'Generating x509 key pairs is not supported by this cloud; import a certificate in public_key instead.',
          );
        const g = await generateSshKeyPair();
        publicKey = g.publicKey;
        privateKey = g.privateKey;
        fingerprint = g.fingerprint;
      }
      const limits = await mgr.quotaLimits(c.projectId);
      const t = now();
      const row = await store.locked([`keypair:${userId}`], async (trx) => {
        const n = await trx
          .selectFrom('compute_keypair')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow();
        if (limits.key_pairs! >= 0 && Number(n.n) + 1 > limits.key_pairs!)
          throw new ApiError(403, 'Quota exceeded, too many key pairs.', 'forbidden');
        if (
          await trx
            .selectFrom('compute_keypair')
            .select('id')
            .where('user_id', '=', userId)
            .where('name', '=', name)
            .executeTakeFirst()
        )
          throw new ApiError(409, `Key pair '${name}' already exists.`, 'conflictingRequest');
        const r = await trx
          .insertInto('compute_keypair')
          .values({
            user_id: userId,
            name,
            type,
            public_key: publicKey!,
            fingerprint,
            created_at: new Date().toISOString(),
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return { id: r.id, user_id: userId, name, type, public_key: publicKey!, fingerprint, created_at: t };
      });
      reply.code(mv(req).ge(2) ? 201 : 200);
      return {
        keypair: {
          ...keypairView(row, mv(req), false),
          user_id: userId,
          ...(privateKey ? { private_key: privateKey } : {}),
        },
      };
    },
  );
}
