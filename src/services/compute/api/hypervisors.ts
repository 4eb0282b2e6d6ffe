/** os-hypervisors (nova/api/openstack/compute/hypervisors.py). */
import { novaLinks } from '../../../core/http/collection.js';
import type { HostWithUsage } from '../manager/index.js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { type ComputeManager } from '../manager/index.js';
import { hypervisorView } from '../views.js';
import { bad, flag, limitOf, mv, q1, requireMv, afterMarker, type P } from './common.js';

export function hypervisorRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const hostStates = () => mgr.hostStates();
  async function serversOn(host: string) {
    const rows = await mgr.serversOn(host);
    return rows.map((r) => ({ uuid: r.id, name: `instance-${r.seq.toString(16).padStart(8, '0')}` }));
  }
  async function listHypervisors(req: FastifyRequest, detail: boolean) {
    req.authorize({});
    const v = mv(req);
    let hs = await hostStates();
    const pattern = v.ge(53) ? q1(req, 'hypervisor_hostname_pattern') : undefined;
    if (pattern) {
      hs = hs.filter((x) => x.h.hypervisor_hostname.includes(pattern));
      if (hs.length === 0)
        throw new ApiError(404, `No hypervisor matching '${pattern}' could be found.`, 'itemNotFound');
    }
    hs = afterMarker(hs, v.ge(33) ? q1(req, 'marker') : undefined, (x) =>
      v.ge(53) ? x.h.hypervisor_uuid : String(x.h.id),
    );
    const limit = v.ge(33) ? limitOf(req) : undefined;
    if (limit !== undefined) hs = hs.slice(0, limit);
    const withServers = v.ge(53) && flag(req, 'with_servers');
    const out = [];
    for (const x of hs)
      out.push(
        hypervisorView(x.h, v, {
          detail,
          up: x.up,
          usage: x.usage,
          servers: withServers ? await serversOn(x.h.name) : undefined,
        }),
      );
    const res: Record<string, unknown> = { hypervisors: out };
    const links = novaLinks(`${base}/v2.1/os-hypervisors${detail ? '/detail' : ''}`, {}, out, limit);
    if (links.length) res.hypervisors_links = links;
    return res;
  }
  app.get('/v2.1/os-hypervisors', { config: { policy: 'os_compute_api:os-hypervisors:list' } }, (req) =>
    listHypervisors(req, false),
  );
  app.get(
    '/v2.1/os-hypervisors/detail',
    { config: { policy: 'os_compute_api:os-hypervisors:list-detail' } },
    (req) => listHypervisors(req, true),
  );
  app.get(
    '/v2.1/os-hypervisors/statistics',
    { config: { policy: 'os_compute_api:os-hypervisors:statistics' } },
    async (req) => {
      req.authorize({});
      const hs = await hostStates();
      const sum = (f: (x: (typeof hs)[number]) => number) => hs.reduce((a, x) => a + f(x), 0);
      return {
        hypervisor_statistics: {
          count: hs.length,
          vcpus: sum((x) => x.h.vcpus),
          memory_mb: sum((x) => x.h.memory_mb),
          local_gb: sum((x) => x.h.local_gb),
          vcpus_used: sum((x) => x.usage.vcpus),
          memory_mb_used: sum((x) => x.usage.memory_mb),
          local_gb_used: sum((x) => x.usage.disk_gb),
          free_ram_mb: sum((x) => x.h.memory_mb - x.usage.memory_mb),
          free_disk_gb: sum((x) => x.h.local_gb - x.usage.disk_gb),
          current_workload: 0,
          running_vms: sum((x) => x.usage.count),
          disk_available_least: sum((x) => x.h.local_gb - x.usage.disk_gb),
        },
      };
    },
  );
  async function oneHypervisor(req: FastifyRequest): Promise<HostWithUsage> {
    const id = (req.params as P).id!;
    const x = (await hostStates()).find((y) =>
      mv(req).ge(53) ? y.h.hypervisor_uuid === id : String(y.h.id) === id,
    );
    if (!x) {
      if (mv(req).ge(53) && !/^[0-9a-f-]{36}$/i.test(id)) throw bad(`Invalid uuid ${id}`);
      throw new ApiError(404, `Hypervisor with ID ${id} could not be found.`, 'itemNotFound');
    }
    return x;
  }
  app.get(
    '/v2.1/os-hypervisors/:id',
    { config: { policy: 'os_compute_api:os-hypervisors:show' } },
    async (req) => {
      req.authorize({});
      const x = await oneHypervisor(req);
      const withServers = mv(req).ge(53) && flag(req, 'with_servers');
      return {
        hypervisor: hypervisorView(x.h, mv(req), {
          detail: true,
          up: x.up,
          usage: x.usage,
          servers: withServers ? await serversOn(x.h.name) : undefined,
        }),
      };
    },
  );
  app.get(
    '/v2.1/os-hypervisors/:id/uptime',
    { config: { policy: 'os_compute_api:os-hypervisors:uptime' } },
    async (req) => {
      req.authorize({});
      const x = await oneHypervisor(req);
      const secs = Math.floor(process.uptime());
      const up = ` ${new Date().toISOString().slice(11, 19)} up ${Math.floor(secs / 60)} min,  1 user,  load average: 0.00, 0.00, 0.00`;
      return {
        hypervisor: {
          ...hypervisorView(x.h, mv(req), { detail: false, up: x.up, usage: x.usage }),
          uptime: up,
        },
      };
    },
  );
  /** Hypervisors whose hostname contains the pattern; 404 when none does (Nova's search). */
  const matching = async (p: string) => {
    const hs = (await hostStates()).filter((x) => x.h.hypervisor_hostname.includes(p));
    if (!hs.length) throw new ApiError(404, `No hypervisor matching '${p}' could be found.`, 'itemNotFound');
    return hs;
  };
  app.get(
    '/v2.1/os-hypervisors/:pattern/search',
    { config: { policy: 'os_compute_api:os-hypervisors:search' } },
    async (req) => {
      requireMv(req, 1, 52);
      req.authorize({});
      const hs = await matching((req.params as P).pattern!);
      return {
        hypervisors: hs.map((x) => hypervisorView(x.h, mv(req), { detail: false, up: x.up, usage: x.usage })),
      };
    },
  );
  app.get(
    '/v2.1/os-hypervisors/:pattern/servers',
    { config: { policy: 'os_compute_api:os-hypervisors:servers' } },
    async (req) => {
      requireMv(req, 1, 52);
      req.authorize({});
      const hs = await matching((req.params as P).pattern!);
      const out = [];
      for (const x of hs)
        out.push(
          hypervisorView(x.h, mv(req), {
            detail: false,
            up: x.up,
            usage: x.usage,
            servers: await serversOn(x.h.name),
          }),
        );
      return { hypervisors: out };
    },
  );
}
