/** GET /limits (nova/api/openstack/compute/limits.py). */
import type { FastifyInstance } from 'fastify';
import { type ComputeManager } from '../manager/index.js';
import { callerOf, mv, q1 } from './common.js';

export function limitRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get('/v2.1/limits', { config: { policy: 'os_compute_api:limits' } }, async (req) => {
    const c = callerOf(req, mgr);
    let projectId = c.projectId;
    const other = q1(req, 'tenant_id');
    if (other && other !== c.projectId) {
      req.authorize({ project_id: other }, 'os_compute_api:limits:other_project');
      projectId = other;
    }
    req.authorize({});
    const l = await mgr.quotaLimits(projectId);
    const u = await mgr.usage(projectId, c.userId);
    const v = mv(req);
    const abs: Record<string, number> = {
      maxServerMeta: l.metadata_items!,
      maxTotalInstances: l.instances!,
      maxTotalRAMSize: l.ram!,
      maxTotalCores: l.cores!,
      maxTotalKeypairs: l.key_pairs!,
      maxServerGroups: l.server_groups!,
      maxServerGroupMembers: l.server_group_members!,
      totalInstancesUsed: u.instances!,
      totalCoresUsed: u.cores!,
      totalRAMUsed: u.ram!,
      totalServerGroupsUsed: u.server_groups!,
    };
    if (v.lt(57))
      Object.assign(abs, {
        maxPersonality: l.injected_files,
        maxPersonalitySize: l.injected_file_content_bytes,
      });
    if (v.lt(39)) abs.maxImageMeta = l.metadata_items!;
    if (v.lt(36))
      Object.assign(abs, {
        maxSecurityGroups: l.security_groups,
        maxSecurityGroupRules: l.security_group_rules,
        maxTotalFloatingIps: l.floating_ips,
        totalFloatingIpsUsed: 0,
        totalSecurityGroupsUsed: 0,
      });
    return { limits: { rate: [], absolute: abs } };
  });
}
