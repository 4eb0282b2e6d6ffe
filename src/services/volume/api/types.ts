/** /types: volume types, their extra specs and private-type access (addProjectAccess / removeProjectAccess). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { parseBool } from '../manager/common.js';
import type { TypeRow } from '../manager/common.js';
import { typeView } from '../views.js';
import { bodyOf, caller, params, query, viewCtx, type Api } from './common.js';
import * as S from './schemas.js';

export function typeRoutes(app: FastifyInstance, api: Api): void {
  const { mgr } = api;
  const render = (req: FastifyRequest, t: TypeRow) => {
    const c = caller(req, api.policy);
    const tt = { project_id: c.projectId };
    return typeView(viewCtx(req, api, c), t, {
      extraSpecs: api.policy.check('volume_extension:access_types_extra_specs', tt, c.creds),
      qos: api.policy.check('volume_extension:access_types_qos_specs_id', tt, c.creds),
    });
  };
  const id = (req: FastifyRequest) => params(req).type_id!;

  app.get('/types', { config: { policy: 'volume_extension:type_get_all' } }, async (req) => {
    const rows = await mgr.types.list(caller(req, api.policy), query(req).is_public as string | undefined);
    return { volume_types: rows.map((t) => render(req, t)) };
  });
  app.get('/types/:type_id', { config: { policy: 'volume_extension:type_get' } }, async (req) => ({
    volume_type: render(req, await mgr.types.get(caller(req, api.policy), id(req))),
  }));
  app.post(
    '/types',
    { config: { policy: 'volume_extension:type_create' }, schema: { body: S.typeCreate } },
    async (req) => {
      const b = bodyOf(req, 'volume_type');
      const pub = b['os-volume-type-access:is_public'] ?? b.is_public;
      const t = await mgr.types.create(caller(req, api.policy), {
        name: b.name,
        description: b.description,
        is_public: pub === undefined ? true : parseBool(pub, 'is_public'),
        extra_specs: b.extra_specs,
      });
      return { volume_type: render(req, t) };
    },
  );
  app.put(
    '/types/:type_id',
    { config: { policy: 'volume_extension:type_update' }, schema: { body: S.typeUpdate } },
    async (req) => {
      const b = bodyOf(req, 'volume_type');
      const t = await mgr.types.update(caller(req, api.policy), id(req), {
        name: b.name,
        description: b.description,
        is_public: b.is_public === undefined ? undefined : parseBool(b.is_public, 'is_public'),
      });
      return { volume_type: render(req, t) };
    },
  );
  app.delete(
    '/types/:type_id',
    { config: { policy: 'volume_extension:type_delete' } },
    async (req, reply) => {
      await mgr.types.delete(caller(req, api.policy), id(req));
      return reply.code(202).send();
    },
  );

  // ------------------------------------------------------------------ extra specs
  app.get(
    '/types/:type_id/extra_specs',
    { config: { policy: 'volume_extension:types_extra_specs:index' } },
    async (req) => ({
      extra_specs: await mgr.types.listSpecs(caller(req, api.policy), id(req)),
    }),
  );
  app.post(
    '/types/:type_id/extra_specs',
    { config: { policy: 'volume_extension:types_extra_specs:create' }, schema: { body: S.extraSpecsBody } },
    async (req) => ({
      extra_specs: await mgr.types.setSpecs(
        caller(req, api.policy),
        id(req),
        (req.body as { extra_specs: Record<string, unknown> }).extra_specs,
        'volume_extension:types_extra_specs:create',
      ),
    }),
  );
  app.get(
    '/types/:type_id/extra_specs/:key',
    { config: { policy: 'volume_extension:types_extra_specs:show' } },
    async (req) => mgr.types.showSpec(caller(req, api.policy), id(req), params(req).key!),
  );
  app.put(
    '/types/:type_id/extra_specs/:key',
    { config: { policy: 'volume_extension:types_extra_specs:update' } },
    async (req) => {
      const b = req.body as Record<string, unknown> | undefined;
      const key = params(req).key!;
      if (!b || typeof b !== 'object' || Object.keys(b).length !== 1)
        throw new ApiError(400, 'Request body contains too many items.', 'badRequest');
      if (!(key in b)) throw new ApiError(400, 'Request body and URI mismatch', 'badRequest');
      return mgr.types.setSpecs(
        caller(req, api.policy),
        id(req),
        b,
        'volume_extension:types_extra_specs:update',
      );
    },
  );
  app.delete(
    '/types/:type_id/extra_specs/:key',
    { config: { policy: 'volume_extension:types_extra_specs:delete' } },
    async (req, reply) => {
      await mgr.types.deleteSpec(caller(req, api.policy), id(req), params(req).key!);
      return reply.code(202).send();
    },
  );

  // ------------------------------------------------------------------ access
  app.get(
    '/types/:type_id/os-volume-type-access',
    { config: { policy: 'volume_extension:volume_type_access:get_all_for_type' } },
    async (req) => ({
      volume_type_access: await mgr.types.accessList(caller(req, api.policy), id(req)),
    }),
  );
  app.post(
    '/types/:type_id/action',
    { config: { policy: 'volume_extension:volume_type_access:addProjectAccess' } },
    async (req, reply) => {
      const b = req.body as Record<string, { project?: unknown }> | undefined;
      const c = caller(req, api.policy);
      const add = b?.addProjectAccess;
      const remove = b?.removeProjectAccess;
      const project = (add ?? remove)?.project;
      if ((!add && !remove) || typeof project !== 'string' || !project)
        throw new ApiError(400, "Missing required element 'project' in request body.", 'badRequest');
      if (add) await mgr.types.addAccess(c, id(req), project);
      else await mgr.types.removeAccess(c, id(req), project);
      return reply.code(202).send();
    },
  );
}
