/** os-availability-zone (nova/api/openstack/compute/availability_zone.py). */
import type { FastifyInstance } from 'fastify';
import { bool } from '../../../core/db/index.js';
import { type ComputeManager } from '../manager/index.js';
import { naiveMicro } from '../views.js';

export function availabilityZoneRoutes(app: FastifyInstance, mgr: ComputeManager) {
  app.get(
    '/v2.1/os-availability-zone',
    { config: { policy: 'os_compute_api:os-availability-zone:list' } },
    async (req) => {
      req.authorize({});
      const zones = await mgr.hostZones();
      const hosts = await mgr.hosts();
      const avail = new Set<string>();
      const unavail = new Set<string>();
      for (const h of hosts) (h.enabled && mgr.isUp(h) ? avail : unavail).add(zones.get(h.name)!);
      for (const z of avail) unavail.delete(z);
      return {
        availabilityZoneInfo: [
          ...[...avail].map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
          ...[...unavail].map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
        ],
      };
    },
  );
  app.get(
    '/v2.1/os-availability-zone/detail',
    { config: { policy: 'os_compute_api:os-availability-zone:detail' } },
    async (req) => {
      req.authorize({});
      const zones = await mgr.hostZones();
      const byZone = new Map<string, Record<string, unknown>>();
      for (const h of await mgr.hosts()) {
        const z = zones.get(h.name)!;
        const hostsOf = byZone.get(z) ?? {};
        hostsOf[h.name] = {
          'nova-compute': {
            available: mgr.isUp(h),
            active: bool(h.enabled),
            updated_at: naiveMicro(h.heartbeat_at),
          },
        };
        byZone.set(z, hostsOf);
      }
      const out = [...byZone.entries()].map(([z, hosts]) => ({
        zoneName: z,
        zoneState: {
          available: Object.values(hosts).some(
            (x) => (x as { 'nova-compute': { available: boolean } })['nova-compute'].available,
          ),
        },
        hosts,
      }));
      out.unshift({
        zoneName: 'internal',
        zoneState: { available: true },
        hosts: {
          [Object.keys(byZone.values().next().value ?? {})[0] ?? 'localhost']: {
            'nova-conductor': {
              available: true,
              active: true,
              updated_at: naiveMicro(new Date().toISOString()),
            },
            'nova-scheduler': {
              available: true,
              active: true,
              updated_at: naiveMicro(new Date().toISOString()),
            },
          },
        },
      });
      return { availabilityZoneInfo: out };
    },
  );
}
