/** os-simple-tenant-usage (nova/api/openstack/compute/simple_tenant_usage.py). */
import { novaLinks, splitPage } from '../../../core/http/collection.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { json } from '../../../core/db/index.js';
import { type ComputeManager } from '../manager/index.js';
import { naiveMicro } from '../views.js';
import { bad, limitOf, mv, q1, afterMarker, type P } from './common.js';

export function usageRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;
  function period(req: FastifyRequest): [Date, Date] {
    const parse = (s: string | undefined, d: Date) => {
      if (!s) return d;
      const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
      if (Number.isNaN(t)) throw bad(`Invalid input for query parameters. Invalid timestamp for date ${s}`);
      return new Date(t);
    };
    const end = parse(q1(req, 'end'), new Date());
    const start = parse(q1(req, 'start'), new Date(end.getTime() - 30 * 86400_000));
    if (start > end) throw bad('Invalid start time. The start time cannot occur after the end time.');
    return [start, end];
  }
  async function usageFor(projectId: string | undefined, start: Date, end: Date, detailed: boolean) {
    const rows = (
      await store.serversCreatedBy(end.toISOString().replace(/\.\d{3}Z$/, 'Z'), projectId)
    ).filter((s) => !s.deleted_at || Date.parse(s.deleted_at) >= start.getTime());
    const byProject = new Map<string, typeof rows>();
    for (const s of rows) byProject.set(s.project_id, [...(byProject.get(s.project_id) ?? []), s]);
    const out = [];
    for (const [pid, servers] of byProject) {
      let hours = 0;
      let vcpuHours = 0;
      let mbHours = 0;
      let gbHours = 0;
      const serverUsages = [];
      for (const s of servers) {
        const from = Math.max(start.getTime(), Date.parse(s.created_at));
        const to = Math.min(end.getTime(), s.deleted_at ? Date.parse(s.deleted_at) : end.getTime());
        const h = Math.max(0, (to - from) / 3600_000);
        hours += h;
        vcpuHours += h * s.vcpus;
        mbHours += h * s.memory_mb;
        gbHours += h * s.disk_gb;
        if (detailed) {
          const f = json<{ name?: string; disk?: number }>(s.flavor, {});
          serverUsages.push({
            instance_id: s.id,
            name: s.name,
            hours: h,
            memory_mb: s.memory_mb,
            local_gb: f.disk ?? s.disk_gb,
            vcpus: s.vcpus,
            tenant_id: s.project_id,
            flavor: f.name ?? s.flavor_id,
            started_at: naiveMicro(new Date(s.created_at).toISOString()),
            ended_at: s.deleted_at ? naiveMicro(new Date(s.deleted_at).toISOString()) : null,
            state: s.deleted ? 'terminated' : s.vm_state,
            uptime: Math.floor((Date.now() - Date.parse(s.created_at)) / 1000),
          });
        }
      }
      out.push({
        tenant_id: pid,
        start: naiveMicro(start.toISOString()),
        stop: naiveMicro(end.toISOString()),
        total_hours: hours,
        total_vcpus_usage: vcpuHours,
        total_memory_mb_usage: mbHours,
        total_local_gb_usage: gbHours,
        ...(detailed ? { server_usages: serverUsages } : {}),
      });
    }
    return out;
  }
  app.get(
    '/v2.1/os-simple-tenant-usage',
    { config: { policy: 'os_compute_api:os-simple-tenant-usage:list' } },
    async (req) => {
      req.authorize({});
      const [start, end] = period(req);
      const detailed = ['1', 'true'].includes((q1(req, 'detailed') ?? '').toLowerCase());
      let usages = (await usageFor(undefined, start, end, detailed)).sort((a, b) =>
        a.tenant_id.localeCompare(b.tenant_id),
      );
      // 2.40: paging by tenant (marker = tenant id).
      const limit = mv(req).ge(40) ? limitOf(req) : undefined;
      usages = afterMarker(usages, mv(req).ge(40) ? q1(req, 'marker') : undefined, (u) => u.tenant_id);
      const page = splitPage(usages, limit);
      const out: Record<string, unknown> = { tenant_usages: page.items };
      if (page.hasMore)
        out.tenant_usages_links = novaLinks(
          `${base}/v2.1/os-simple-tenant-usage`,
          {},
          page.items,
          limit,
          (u) => u.tenant_id,
        );
      return out;
    },
  );
  app.get(
    '/v2.1/os-simple-tenant-usage/:project',
    { config: { policy: 'os_compute_api:os-simple-tenant-usage:show' } },
    async (req) => {
      const project = (req.params as P).project!;
      req.authorize({ project_id: project });
      const [start, end] = period(req);
      const u = await usageFor(project, start, end, true);
      return { tenant_usage: u[0] ?? {} };
    },
  );
}
