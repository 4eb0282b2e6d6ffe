/** Credentials (Keystone keystone/api/credentials.py). */
import type { FastifyInstance } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { credentialView, listLinks } from '../views.js';
import { bodyOf, noContent, one, params, q, splitExtra, tokenOf } from './common.js';
import * as S from './schemas.js';

export function credentialRoutes(app: FastifyInstance, mgr: IdentityManager) {
  app.get('/v3/credentials', { config: { policy: 'identity:list_credentials' } }, async (req) => {
    const query = q(req);
    let rows = await mgr.store.listCredentials({ userId: one(query, 'user_id'), type: one(query, 'type') });
    // Keystone filters the list to what the caller may see.
    rows = rows.filter(
      (c) =>
        req.auth &&
        (() => {
          try {
            req.authorize({ target: { credential: { user_id: c.user_id } } });
            return true;
          } catch {
            return false;
          }
        })(),
    );
    return { credentials: rows.map((c) => credentialView(req, c)), links: listLinks(req) };
  });
  app.post(
    '/v3/credentials',
    { config: { policy: 'identity:create_credential' }, schema: { body: S.credentialCreate } },
    async (req, reply) => {
      const b = bodyOf<Record<string, any>>(req, 'credential');
      const userId = b.user_id ?? tokenOf(req).userId;
      req.authorize({ target: { credential: { user_id: userId } } });
      const row = await mgr.createCredential({
        user_id: userId,
        project_id: b.project_id,
        type: b.type,
        blob: b.blob,
        extra: splitExtra(b, ['id', 'user_id', 'project_id', 'type', 'blob']),
      });
      reply.code(201);
      return { credential: credentialView(req, row) };
    },
  );
  app.get(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:get_credential' } },
    async (req) => {
      const c = await mgr.getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      return { credential: credentialView(req, c) };
    },
  );
  app.patch(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:update_credential' }, schema: { body: S.credentialUpdate } },
    async (req) => {
      const c = await mgr.getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      const b = bodyOf<Record<string, any>>(req, 'credential');
      if (b.user_id && b.user_id !== c.user_id)
        req.authorize({ target: { credential: { user_id: b.user_id } } });
      const updated = await mgr.updateCredential(c.id, {
        blob: b.blob,
        type: b.type,
        user_id: b.user_id,
        project_id: b.project_id,
      });
      return { credential: credentialView(req, updated) };
    },
  );
  app.delete(
    '/v3/credentials/:credential_id',
    { config: { policy: 'identity:delete_credential' } },
    async (req, reply) => {
      const c = await mgr.getCredential(params(req).credential_id!);
      req.authorize({ target: { credential: { user_id: c.user_id } } });
      await mgr.deleteCredential(c.id);
      return noContent(reply);
    },
  );
}
