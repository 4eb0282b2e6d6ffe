/** /volumes: list, detail, summary, show, create, update, delete, and /volumes/{id}/metadata. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { novaLinks } from '../../../core/http/collection.js';
import { ApiError } from '../../../core/errors.js';
import type { VolumeRow } from '../manager/common.js';
import { volumeSummaryView, volumeView } from '../views.js';
import {
  bodyOf,
  caller,
  isTrue,
  listQuery,
  mv,
  params,
  query,
  viewCtx,
  metadataItemRoutes,
  type Api,
} from './common.js';
import * as S from './schemas.js';

const SORTABLE = new Set([
  'id',
  'name',
  'status',
  'size',
  'created_at',
  'updated_at',
  'availability_zone',
  'bootable',
  'project_id',
  'description',
  'user_id',
  'volume_type_id',
]);
const FILTERS = new Set([
  'name',
  'status',
  'bootable',
  'availability_zone',
  'size',
  'project_id',
  'migration_status',
  'volume_type_id',
  'user_id',
]);
const RENAME = {
  display_name: 'name',
  display_description: 'description',
  tenant_id: 'project_id',
  volume_type: 'volume_type_id',
};

/** Full views of volume rows (metadata, attachments and types fetched in one query each). */
export async function renderVolumes(req: FastifyRequest, api: Api, rows: VolumeRow[]) {
  const ctx = viewCtx(req, api);
  const { metadata: md, attachments: atts, types } = await api.mgr.volumes.related(rows);
  return rows.map((v) =>
    volumeView(ctx, v, {
      metadata: md.get(v.id) ?? {},
      attachments: atts.filter((a) => a.volume_id === v.id),
      type: types.find((t) => t.id === v.volume_type_id),
    }),
  );
}

export function volumeRoutes(app: FastifyInstance, api: Api): void {
  const { mgr } = api;

  const list = async (req: FastifyRequest, detail: boolean) => {
    const c = caller(req, api.policy);
    const L = listQuery(req, {
      sortable: SORTABLE,
      filters: FILTERS,
      rename: RENAME,
      maxLimit: api.opts.maxLimit,
    });
    // volume_type filters by name or id
    if (typeof L.q.eq.volume_type_id === 'string') {
      const t = await mgr.types.find(c, L.q.eq.volume_type_id).catch(() => undefined);
      L.q.eq.volume_type_id = t?.id ?? L.q.eq.volume_type_id;
    }
    if (L.marker) L.q.marker = await mgr.volumes.markerRow(c, L.marker);
    const rows = await mgr.volumes.list(c, L.q, L.allTenants);
    const ctx = viewCtx(req, api, c);
    const volumes = detail ? await renderVolumes(req, api, rows) : rows.map((v) => volumeSummaryView(ctx, v));
    const body: Record<string, unknown> = { volumes };
    const links = novaLinks(`${ctx.base}/volumes${detail ? '/detail' : ''}`, query(req), rows, L.q.limit);
    if (links.length) body.volumes_links = links;
    if (L.withCount)
      body.count = (
        await mgr.volumes.list(
          c,
          { ...L.q, limit: undefined, offset: undefined, marker: undefined },
          L.allTenants,
        )
      ).length;
    return body;
  };
  app.get('/volumes', { config: { policy: 'volume:get_all' } }, (req) => list(req, false));
  app.get('/volumes/detail', { config: { policy: 'volume:get_all' } }, (req) => list(req, true));
  app.get('/volumes/summary', { config: { policy: 'volume:get_all' } }, async (req) => {
    if (mv(req).lt(12)) throw new ApiError(404, 'The resource could not be found.', 'itemNotFound');
    const s = await mgr.volumes.summary(
      caller(req, api.policy),
      isTrue(query(req).all_tenants as string | undefined),
    );
    const out: Record<string, unknown> = { total_count: s.count, total_size: s.size };
    if (mv(req).ge(36)) out.metadata = s.metadata;
    return { 'volume-summary': out };
  });

  app.post(
    '/volumes',
    { config: { policy: 'volume:create' }, schema: { body: S.volumeCreate } },
    async (req, reply) => {
      const b = bodyOf(req, 'volume');
      if (b.backup_id)
        throw new ApiError(
          400,
          'Invalid input received: creating a volume from a backup is not supported yet.',
          'badRequest',
        );
      const size = typeof b.size === 'string' ? Number(b.size.trim()) : b.size;
      const row = await mgr.volumes.create(caller(req, api.policy), {
        size,
        name: b.name ?? b.display_name,
        description: b.description ?? b.display_description,
        volume_type: b.volume_type,
        availability_zone: b.availability_zone,
        snapshot_id: b.snapshot_id,
        source_volid: b.source_volid,
        imageRef: b.imageRef ?? b.image_id,
        metadata: b.metadata,
        multiattach: b.multiattach,
      });
      reply.code(202);
      return { volume: (await renderVolumes(req, api, [row]))[0] };
    },
  );

  app.get('/volumes/:volume_id', { config: { policy: 'volume:get' } }, async (req) => {
    const v = await mgr.volumes.authorized(caller(req, api.policy), params(req).volume_id!, 'volume:get');
    return { volume: (await renderVolumes(req, api, [v]))[0] };
  });

  app.put(
    '/volumes/:volume_id',
    { config: { policy: 'volume:update' }, schema: { body: S.volumeUpdate } },
    async (req) => {
      const b = bodyOf(req, 'volume');
      if (Object.keys(b).length === 0)
        throw new ApiError(400, "Missing required element 'volume' in request body.", 'badRequest');
      const v = await mgr.volumes.update(caller(req, api.policy), params(req).volume_id!, {
        name: b.name !== undefined ? b.name : b.display_name,
        description: b.description !== undefined ? b.description : b.display_description,
        metadata: b.metadata,
      });
      return { volume: (await renderVolumes(req, api, [v]))[0] };
    },
  );

  app.delete('/volumes/:volume_id', { config: { policy: 'volume:delete' } }, async (req, reply) => {
    const q = query(req);
    await mgr.volumes.delete(caller(req, api.policy), params(req).volume_id!, {
      cascade: isTrue(q.cascade as string | undefined),
      force: isTrue(q.force as string | undefined),
    });
    return reply.code(202).send();
  });

  // ------------------------------------------------------------------ metadata
  const id = (req: FastifyRequest) => params(req).volume_id!;
  app.get(
    '/volumes/:volume_id/metadata',
    { config: { policy: 'volume:get_volume_metadata' } },
    async (req) => ({
      metadata: await mgr.volumes.metadata(caller(req, api.policy), id(req)),
    }),
  );
  app.post(
    '/volumes/:volume_id/metadata',
    { config: { policy: 'volume:create_volume_metadata' }, schema: { body: S.metadataBody } },
    async (req) => ({
      metadata: await mgr.volumes.setMetadata(
        caller(req, api.policy),
        id(req),
        (req.body as { metadata: Record<string, string> }).metadata,
        false,
      ),
    }),
  );
  app.put(
    '/volumes/:volume_id/metadata',
    { config: { policy: 'volume:update_volume_metadata' }, schema: { body: S.metadataBody } },
    async (req) => ({
      metadata: await mgr.volumes.setMetadata(
        caller(req, api.policy),
        id(req),
        (req.body as { metadata: Record<string, string> }).metadata,
        true,
      ),
    }),
  );
  metadataItemRoutes(app, api, {
    collection: 'volumes',
    param: 'volume_id',
    label: 'Volume',
    owner: mgr.volumes,
    policies: {
      get: 'volume:get_volume_metadata',
      update: 'volume:update_volume_metadata',
      delete: 'volume:delete_volume_metadata',
    },
    itemBody: S.metaItemBody,
  });
}
