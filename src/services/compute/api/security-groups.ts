/**
 * GET /servers/{id}/os-security-groups and the addSecurityGroup / removeSecurityGroup actions
 * (nova/api/openstack/compute/security_groups.py).
 */
import type { FastifyInstance } from 'fastify';
import { json } from '../../../core/db/index.js';
import type { ComputeManager } from '../manager/index.js';
import type { ServerAction } from './actions/types.js';
import { accepted } from './actions/types.js';
import { bad, callerOf, str, type P } from './common.js';

export function securityGroupRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get(
    '/v2.1/servers/:id/os-security-groups',
    { config: { policy: 'os_compute_api:os-security-groups:list' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-security-groups:list',
      );
      return {
        security_groups: json<string[]>(s.security_groups, []).map((name) => ({
          id: name,
          name,
          description: '',
          tenant_id: s.project_id,
          rules: [],
        })),
      };
    },
  );
}

const changeGroups: ServerAction['handle'] = async (x) => {
  const { s } = x;
  const name = str(x.a, 'name', { required: true, min: 1 })!;
  const sgs = json<string[]>(s.security_groups, []);
  if (x.action === 'addSecurityGroup') {
    if (sgs.includes(name))
      throw bad(`Security group ${name} is already associated with the instance ${s.id}`);
    sgs.push(name);
  } else {
    if (!sgs.includes(name)) throw bad(`Security group ${name} not associated with the instance ${s.id}`);
    sgs.splice(sgs.indexOf(name), 1);
  }
  await x.mgr.setSecurityGroups(s, sgs);
  return accepted(x);
};

export const securityGroupActions: Record<string, ServerAction> = {
  addSecurityGroup: { rule: 'os_compute_api:os-security-groups:add', handle: changeGroups },
  removeSecurityGroup: { rule: 'os_compute_api:os-security-groups:remove', handle: changeGroups },
};
