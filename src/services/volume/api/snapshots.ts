/** /snapshots: list, detail, show, create, update, delete, metadata, admin actions. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { novaLinks } from '../../../core/http/collection.js';
import { ApiError } from '../../../core/errors.js';
import { snapshotView } from '../views.js';
import { bodyOf, caller, listQuery, params, query, viewCtx, metadataItemRoutes, type Api } from './common.js';
import * as S from './schemas.js';

const SORTABLE = new Set([
  'id',
  'name',
  'status',
  'size',
  'created_at',
  'updated_at',
  'volume_id',
  'project_id',
]);
const FILTERS = new Set(['name', 'status', 'volume_id', 'project_id', 'volume_type_id']);
const RENAME = { display_name: 'name', tenant_id: 'project_id' };

export function snapshotRoutes(app: FastifyInstance, api: Api): void {
  const { mgr } = api;
  const id = (req: FastifyRequest) => params(req).snapshot_id!;

  const list = async (req: FastifyRequest, detail: boolean) => {
    const c = caller(req, api.policy);
    const L = listQuery(req, {
      sortable: SORTABLE,
      filters: FILTERS,
      rename: RENAME,
      maxLimit: api.opts.maxLimit,
    });
    if (L.marker) L.q.marker = await mgr.snapshots.markerRow(c, L.marker);
    const rows = await mgr.snapshots.list(c, L.q, L.allTenants);
    const ctx = viewCtx(req, api, c);
    const snapshots = rows.map((s) => {
      const v = snapshotView(ctx, s);
      return detail
        ? v
        : {
            id: v.id,
            name: v.name,
            status: v.status,
            size: v.size,
            volume_id: v.volume_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
            description: v.description,
            metadata: v.metadata,
          };
    });
    const body: Record<string, unknown> = { snapshots };
    const links = novaLinks(`${ctx.base}/snapshots${detail ? '/detail' : ''}`, query(req), rows, L.q.limit);
    if (links.length) body.snapshots_links = links;
    if (L.withCount)
      body.count = (
        await mgr.snapshots.list(
          c,
          { ...L.q, limit: undefined, offset: undefined, marker: undefined },
          L.allTenants,
        )
      ).length;
    return body;
  };
  app.get('/snapshots', { config: { policy: 'volume:get_all_snapshots' } }, (req) => list(req, false));
  app.get('/snapshots/detail', { config: { policy: 'volume:get_all_snapshots' } }, (req) => list(req, true));

  app.get('/snapshots/:snapshot_id', { config: { policy: 'volume:get_snapshot' } }, async (req) => {
    const c = caller(req, api.policy);
    return {
      snapshot: snapshotView(
        viewCtx(req, api, c),
        await mgr.snapshots.authorized(c, id(req), 'volume:get_snapshot'),
      ),
    };
  });
  app.post(
    '/snapshots',
    { config: { policy: 'volume:create_snapshot' }, schema: { body: S.snapshotCreate } },
    async (req, reply) => {
      const b = bodyOf(req, 'snapshot');
      const c = caller(req, api.policy);
      const s = await mgr.snapshots.create(c, {
        volume_id: b.volume_id,
        force: b.force,
        name: b.name ?? b.display_name,
        description: b.description ?? b.display_description,
        metadata: b.metadata,
      });
      reply.code(202);
      return { snapshot: snapshotView(viewCtx(req, api, c), s) };
    },
  );
  app.put(
    '/snapshots/:snapshot_id',
    { config: { policy: 'volume:update_snapshot' }, schema: { body: S.snapshotUpdate } },
    async (req) => {
      const b = bodyOf(req, 'snapshot');
      const c = caller(req, api.policy);
      const s = await mgr.snapshots.update(c, id(req), {
        name: b.name !== undefined ? b.name : b.display_name,
        description: b.description !== undefined ? b.description : b.display_description,
      });
      return { snapshot: snapshotView(viewCtx(req, api, c), s) };
    },
  );
  app.delete(
    '/snapshots/:snapshot_id',
    { config: { policy: 'volume:delete_snapshot' } },
    async (req, reply) => {
      await mgr.snapshots.delete(caller(req, api.policy), id(req));
      return reply.code(202).send();
    },
  );
  app.post(
    '/snapshots/:snapshot_id/action',
    { config: { policy: 'volume:update_snapshot' } },
    async (req, reply) => {
      const raw = req.body;
      const b = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : undefined) as
        Record<string, any> | undefined;
      const c = caller(req, api.policy);
      if (b && 'os-reset_status' in b)
        await mgr.snapshots.resetStatus(c, id(req), b['os-reset_status']?.status);
      else if (b && 'os-force_delete' in b) await mgr.snapshots.delete(c, id(req), true);
      else throw new ApiError(400, 'There is no such action.', 'badRequest');
      return reply.code(202).send();
    },
  );

  // ------------------------------------------------------------------ metadata
  app.get(
    '/snapshots/:snapshot_id/metadata',
    { config: { policy: 'volume:get_snapshot_metadata' } },
    async (req) => ({
      metadata: await mgr.snapshots.metadata(caller(req, api.policy), id(req)),
    }),
  );
  for (const [method, replace] of [
    ['POST', false],
    ['PUT', true],
  ] as const)
    app.route({
      method,
      url: '/snapshots/:snapshot_id/metadata',
      config: { policy: 'volume:update_snapshot_metadata' },
      schema: { body: S.metadataBody },
      handler: async (req) => ({
        metadata: await mgr.snapshots.setMetadata(
          caller(req, api.policy),
          id(req),
          (req.body as { metadata: Record<string, string> }).metadata,
          replace,
        ),
      }),
    });
  metadataItemRoutes(app, api, {
    collection: 'snapshots',
    param: 'snapshot_id',
    label: 'Snapshot',
    owner: mgr.snapshots,
    policies: {
      get: 'volume:get_snapshot_metadata',
      update: 'volume:update_snapshot_metadata',
      delete: 'volume:delete_snapshot_metadata',
    },
    itemBody: S.metaItemBody,
  });
}
