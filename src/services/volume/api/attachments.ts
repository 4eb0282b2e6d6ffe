/** /attachments (3.27+; os-complete 3.44+): how Nova attaches volumes today. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { lastParam, novaLinks, parseLimit } from '../../../core/http/collection.js';
import { attachmentView } from '../views.js';
import { bodyOf, caller, isTrue, mv, params, query, requireVersion, viewCtx, type Api } from './common.js';
import * as S from './schemas.js';

export function attachmentRoutes(app: FastifyInstance, api: Api): void {
  const { mgr } = api;
  const id = (req: FastifyRequest) => params(req).attachment_id!;

  const list = async (req: FastifyRequest, detail: boolean) => {
    requireVersion(req, 27);
    const q = query(req);
    const limit = parseLimit(lastParam(q, 'limit'), {
      max: api.opts.maxLimit,
      invalid: () =>
        new ApiError(400, 'Invalid input received: limit must be a non-negative integer.', 'badRequest'),
    });
    const rows = await mgr.attachments.list(caller(req, api.policy), {
      allTenants: isTrue(lastParam(q, 'all_tenants')),
      volumeId: lastParam(q, 'volume_id'),
      instanceId: lastParam(q, 'instance_id'),
      status: lastParam(q, 'status'),
      limit,
      marker: lastParam(q, 'marker'),
    });
    const body: Record<string, unknown> = { attachments: rows.map((a) => attachmentView(a, detail)) };
    const links = novaLinks(
      `${viewCtx(req, api).base}/attachments${detail ? '/detail' : ''}`,
      q,
      rows,
      limit,
    );
    if (links.length) body.attachments_links = links;
    return body;
  };
  app.get('/attachments', { config: { policy: 'volume:get_all' } }, (req) => list(req, false));
  app.get('/attachments/detail', { config: { policy: 'volume:get_all' } }, (req) => list(req, true));
  app.get('/attachments/:attachment_id', { config: { policy: 'volume:get' } }, async (req) => {
    requireVersion(req, 27);
    return { attachment: attachmentView(await mgr.attachments.find(caller(req, api.policy), id(req)), true) };
  });
  app.post(
    '/attachments',
    { config: { policy: 'volume:attachment_create' }, schema: { body: S.attachmentCreate } },
    async (req) => {
      requireVersion(req, 27);
      const b = bodyOf(req, 'attachment');
      if (b.mode !== undefined && mv(req).lt(54))
        throw new ApiError(400, 'Invalid input received: mode needs microversion 3.54.', 'badRequest');
      const a = await mgr.attachments.create(caller(req, api.policy), {
        volume_uuid: b.volume_uuid,
        instance_uuid: b.instance_uuid,
        connector: b.connector,
        mode: b.mode,
      });
      return { attachment: attachmentView(a, true) };
    },
  );
  app.put(
    '/attachments/:attachment_id',
    { config: { policy: 'volume:attachment_update' }, schema: { body: S.attachmentUpdate } },
    async (req) => {
      requireVersion(req, 27);
      const a = await mgr.attachments.update(
        caller(req, api.policy),
        id(req),
        bodyOf(req, 'attachment').connector,
      );
      return { attachment: attachmentView(a, true) };
    },
  );
  app.post(
    '/attachments/:attachment_id/action',
    { config: { policy: 'volume:attachment_complete' } },
    async (req, reply) => {
      requireVersion(req, 44);
      const b = req.body as Record<string, unknown> | undefined;
      if (!b || !('os-complete' in b)) throw new ApiError(400, 'There is no such action.', 'badRequest');
      await mgr.attachments.complete(caller(req, api.policy), id(req));
      return reply.code(204).send();
    },
  );
  app.delete(
    '/attachments/:attachment_id',
    { config: { policy: 'volume:attachment_delete' } },
    async (req) => {
      requireVersion(req, 27);
      await mgr.attachments.delete(caller(req, api.policy), id(req));
      return { attachments: [] };
    },
  );
}
