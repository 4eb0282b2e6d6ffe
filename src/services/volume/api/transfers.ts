/** /os-volume-transfer (and /volume-transfers from 3.55): offer a volume to another project. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { transferView } from '../views.js';
import { bodyOf, caller, isTrue, params, query, requireVersion, viewCtx, type Api } from './common.js';
import * as S from './schemas.js';

export function transferRoutes(app: FastifyInstance, api: Api): void {
  const { transfers } = api.mgr;
  for (const base of ['/os-volume-transfer', '/volume-transfers']) {
    const gate = (req: FastifyRequest) => base === '/volume-transfers' && requireVersion(req, 55);
    const id = (req: FastifyRequest) => params(req).transfer_id!;
    const list = async (req: FastifyRequest, detail: boolean) => {
      gate(req);
      const c = caller(req, api.policy);
      const rows = await transfers.list(c, isTrue(query(req).all_tenants as string | undefined));
      const ctx = viewCtx(req, api, c);
      return { transfers: rows.map((t) => transferView(ctx, t, detail)) };
    };
    app.get(base, { config: { policy: 'volume:get_all_transfers' } }, (req) => list(req, false));
    app.get(`${base}/detail`, { config: { policy: 'volume:get_all_transfers' } }, (req) => list(req, true));
    app.get(`${base}/:transfer_id`, { config: { policy: 'volume:get_transfer' } }, async (req) => {
      gate(req);
      const c = caller(req, api.policy);
      return { transfer: transferView(viewCtx(req, api, c), await transfers.get(c, id(req)), true) };
    });
    app.post(
      base,
      { config: { policy: 'volume:create_transfer' }, schema: { body: S.transferCreate } },
      async (req, reply) => {
        gate(req);
        const b = bodyOf(req, 'transfer');
        const c = caller(req, api.policy);
        const { row, authKey } = await transfers.create(c, {
          volume_id: b.volume_id,
          name: b.name,
          no_snapshots: b.no_snapshots,
        });
        reply.code(202);
        return { transfer: transferView(viewCtx(req, api, c), row, true, authKey) };
      },
    );
    app.post(
      `${base}/:transfer_id/accept`,
      { config: { policy: 'volume:accept_transfer' }, schema: { body: S.transferAccept } },
      async (req, reply) => {
        gate(req);
        const c = caller(req, api.policy);
        const t = await transfers.accept(c, id(req), bodyOf(req, 'accept').auth_key);
        reply.code(202);
        const v = transferView(viewCtx(req, api, c), t, false);
        return { transfer: { id: v.id, name: v.name, volume_id: v.volume_id, links: v.links } };
      },
    );
    app.delete(
      `${base}/:transfer_id`,
      { config: { policy: 'volume:delete_transfer' } },
      async (req, reply) => {
        gate(req);
        await transfers.delete(caller(req, api.policy), id(req));
        return reply.code(202).send();
      },
    );
  }
}
