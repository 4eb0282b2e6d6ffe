/** /os-keypairs (nova/api/openstack/compute/keypairs.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { novaLinks } from '../../../core/http/collection.js';
import { fingerprintOf, generateSshKeyPair } from '../keypairs.js';
import { now, type ComputeManager } from '../manager/index.js';
import { keypairView } from '../views.js';
import { bad, bodyKey, callerOf, limitOf, mv, noExtra, q1, str, type P } from './common.js';

export function keypairRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;
  // ================================================================== keypairs
  function userFor(req: FastifyRequest): string {
    const c = callerOf(req, mgr);
    const u = mv(req).ge(10) ? q1(req, 'user_id') : undefined;
    return u ?? c.userId;
  }
  app.get('/v2.1/os-keypairs', { config: { policy: 'os_compute_api:os-keypairs:index' } }, async (req) => {
    const userId = userFor(req);
    req.authorize({ user_id: userId });
    const paged = mv(req).ge(35);
    const marker = paged ? q1(req, 'marker') : undefined;
    if (marker && !(await store.keypair(userId, marker))) throw bad(`marker [${marker}] not found`);
    const limit = paged ? limitOf(req) : undefined;
    const rows = await store.keypairs(userId, { after: marker || undefined, limit });
    const out: Record<string, unknown> = {
      keypairs: rows.map((k) => ({ keypair: keypairView(k, mv(req), false) })),
    };
    const links = novaLinks(`${base}/v2.1/os-keypairs`, {}, rows, limit, (k) => k.name);
    if (links.length) out.keypairs_links = links;
    return out;
  });
  app.get(
    '/v2.1/os-keypairs/:name',
    { config: { policy: 'os_compute_api:os-keypairs:show' } },
    async (req) => {
      const userId = userFor(req);
      req.authorize({ user_id: userId });
      const name = (req.params as P).name!;
      const k = await store.keypair(userId, name);
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
      if (!(await store.deleteKeypair(userId, name)))
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
      const t = now();
      const created = await mgr.createKeypair(c, {
        user_id: userId,
        name,
        type,
        public_key: publicKey,
        fingerprint,
        created_at: new Date().toISOString(),
      });
      const row = { ...created, created_at: t };
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
