/** Application credentials (Keystone keystone/api/users.py, application credential resources). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { json } from '../../../core/db/index.js';
import { badRequest, forbidden } from '../../../core/errors.js';
import { randomSecret } from '../../../core/ids.js';
import type { IdentityManager } from '../manager.js';
import { appCredView, listLinks } from '../views.js';
import { bodyOf, noContent, one, params, q, tokenOf } from './common.js';
import * as S from './schemas.js';

export function appCredentialRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const ownerTarget = (req: FastifyRequest) => ({ user_id: params(req).user_id });
  app.get(
    '/v3/users/:user_id/application_credentials',
    { config: { policy: 'identity:list_application_credentials' } },
    async (req) => {
      req.authorize(ownerTarget(req));
      await mgr.getUser(params(req).user_id!);
      const rows = await mgr.store.listAppCreds(params(req).user_id!, one(q(req), 'name'));
      const out = [];
      for (const a of rows) out.push(appCredView(req, a, await mgr.appCredRoles(json(a.roles, []))));
      return { application_credentials: out, links: listLinks(req) };
    },
  );
  app.post(
    '/v3/users/:user_id/application_credentials',
    { config: { policy: 'identity:create_application_credential' }, schema: { body: S.appCredCreate } },
    async (req, reply) => {
      req.authorize(ownerTarget(req));
      const a = tokenOf(req);
      if (a.userId !== params(req).user_id)
        throw forbidden('You may only create application credentials for yourself.');
      if (a.appCred?.restricted)
        throw forbidden(
          'Using method application_credential is not allowed for managing additional application credentials.',
        );
      const b = bodyOf<Record<string, any>>(req, 'application_credential');
      if (!a.projectId && !a.system) throw badRequest('Application credentials need a project-scoped token.');
      const roles = mgr.appCredRolesFromToken(a.roles, b.roles, a.userId);
      if (b.expires_at) {
        const t = Date.parse(
          b.expires_at.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(b.expires_at)
            ? b.expires_at
            : `${b.expires_at}Z`,
        );
        if (Number.isNaN(t))
          throw badRequest(`Invalid input for field 'expires_at': ${b.expires_at} is not a valid date.`);
        if (t <= Date.now())
          throw badRequest('The expiration date of an application credential cannot be in the past.');
        b.expires_at = new Date(t).toISOString();
      }
      const secret: string = b.secret ?? randomSecret(48);
      const row = await mgr.createAppCred({
        name: b.name,
        userId: a.userId,
        projectId: a.projectId ?? null,
        system: Boolean(a.system),
        secret,
        description: b.description,
        expiresAt: b.expires_at,
        unrestricted: b.unrestricted,
        roles,
      });
      reply.code(201);
      return { application_credential: { ...appCredView(req, row, await mgr.appCredRoles(roles)), secret } };
    },
  );
  app.get(
    '/v3/users/:user_id/application_credentials/:cred_id',
    { config: { policy: 'identity:get_application_credential' } },
    async (req) => {
      req.authorize(ownerTarget(req));
      const a = await mgr.getAppCred(params(req).user_id!, params(req).cred_id!);
      return { application_credential: appCredView(req, a, await mgr.appCredRoles(json(a.roles, []))) };
    },
  );
  app.delete(
    '/v3/users/:user_id/application_credentials/:cred_id',
    { config: { policy: 'identity:delete_application_credential' } },
    async (req, reply) => {
      req.authorize(ownerTarget(req));
      const a = await mgr.getAppCred(params(req).user_id!, params(req).cred_id!);
      if (tokenOf(req).appCred?.restricted)
        throw forbidden(
          'Using method application_credential is not allowed for managing additional application credentials.',
        );
      await mgr.deleteAppCred(a.id);
      return noContent(reply);
    },
  );
}
