/** /os-quota-sets, /os-quota-class-sets and /limits. */
import type { FastifyInstance } from 'fastify';
import { bodyOf, caller, isTrue, params, query, type Api } from './common.js';
import * as S from './schemas.js';

export function quotaRoutes(app: FastifyInstance, api: Api): void {
  const { quotas } = api.mgr;
  const pid = (req: { params: unknown }) => (req.params as Record<string, string>).target_project_id!;

  app.get(
    '/os-quota-sets/:target_project_id',
    { config: { policy: 'volume_extension:quotas:show' } },
    async (req) => ({
      quota_set: await quotas.show(
        caller(req, api.policy),
        pid(req),
        isTrue(query(req).usage as string | undefined),
      ),
    }),
  );
  app.get(
    '/os-quota-sets/:target_project_id/defaults',
    { config: { policy: 'volume_extension:quotas:show' } },
    async (req) => ({
      quota_set: { id: pid(req), ...(await quotas.defaults()) },
    }),
  );
  app.put(
    '/os-quota-sets/:target_project_id',
    { config: { policy: 'volume_extension:quotas:update' }, schema: { body: S.quotaSetBody } },
    async (req) => ({
      quota_set: await quotas.update(caller(req, api.policy), pid(req), bodyOf(req, 'quota_set')),
    }),
  );
  app.delete(
    '/os-quota-sets/:target_project_id',
    { config: { policy: 'volume_extension:quotas:delete' } },
    async (req, reply) => {
      await quotas.reset(caller(req, api.policy), pid(req));
      return reply.code(200).send();
    },
  );
  app.get(
    '/os-quota-class-sets/:class_name',
    { config: { policy: 'volume_extension:quota_classes' } },
    async (req) => ({
      quota_class_set: await quotas.showClass(caller(req, api.policy), params(req).class_name!),
    }),
  );
  app.put(
    '/os-quota-class-sets/:class_name',
    { config: { policy: 'volume_extension:quota_classes' }, schema: { body: S.quotaClassBody } },
    async (req) => ({
      quota_class_set: await quotas.updateClass(
        caller(req, api.policy),
        params(req).class_name!,
        bodyOf(req, 'quota_class_set'),
      ),
    }),
  );
  app.get('/limits', { config: { policy: 'limits_extension:used_limits' } }, async (req) => ({
    limits: { rate: [], absolute: await quotas.absolute(caller(req, api.policy)) },
  }));
}
