/**
 * What Cinder says about itself: availability zones, os-services (the scheduler and the volume backend of this
 * process, up while it runs), scheduler pools with capacity, capabilities, extensions.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import { DISCOVERY_RULE } from '../policies/index.js';
import { cinderTime } from '../manager/common.js';
import { caller, isTrue, query, type Api } from './common.js';

const EXTENSIONS = [
  ['AdminActions', 'os-admin-actions', 'Enable admin actions.'],
  ['AvailabilityZones', 'os-availability-zone', 'Describe Availability Zones.'],
  ['ExtendedSnapshotAttributes', 'os-extended-snapshot-attributes', 'Extended SnapshotAttributes support.'],
  ['QuotaClasses', 'os-quota-class-sets', 'Quota classes management support.'],
  ['Quotas', 'os-quota-sets', 'Quota management support.'],
  ['Services', 'os-services', 'Services support.'],
  ['SchedulerStats', 'scheduler-stats', 'Scheduler stats support.'],
  ['TypesManage', 'os-types-manage', 'Types manage support.'],
  ['TypesExtraSpecs', 'os-types-extra-specs', 'Type extra specs support.'],
  ['UsedLimits', 'os-used-limits', 'Provide data on limited resources that are being used.'],
  ['VolumeActions', 'os-volume-actions', 'Enable volume actions.'],
  ['VolumeHostAttribute', 'os-vol-host-attr', 'Expose host as an attribute of a volume.'],
  ['VolumeImageMetadata', 'os-vol-image-meta', 'Show image metadata associated with the volume.'],
  [
    'VolumeTenantAttribute',
    'os-vol-tenant-attr',
    'Expose the internal project_id as an attribute of a volume.',
  ],
  ['VolumeTransfer', 'os-volume-transfer', 'Volume transfer management support.'],
  ['VolumeTypeAccess', 'os-volume-type-access', 'Volume type access support.'],
];

export function serviceRoutes(app: FastifyInstance, api: Api, startedAt: Date): void {
  const host = api.opts.host.split('#')[0]!.split('@')[0]!;
  app.get('/os-availability-zone', { config: { policy: DISCOVERY_RULE } }, async () => ({
    availabilityZoneInfo: [{ zoneName: api.opts.availabilityZone, zoneState: { available: true } }],
  }));
  app.get('/extensions', { config: { policy: DISCOVERY_RULE } }, async () => ({
    extensions: EXTENSIONS.map(([name, alias, description]) => ({
      name,
      alias,
      description,
      updated: '2013-01-01T00:00:00+00:00',
      links: [],
    })),
  }));
  app.get('/os-services', { config: { policy: 'volume_extension:services:index' } }, async (req) => {
    const c = caller(req, api.policy);
    if (!api.policy.check('volume_extension:services:index', {}, c.creds))
      throw new ApiError(
        403,
        "Policy doesn't allow volume_extension:services:index to be performed.",
        'forbidden',
      );
    const q = query(req);
    const svc = (binary: string, h: string) => ({
      binary,
      host: h,
      zone: api.opts.availabilityZone,
      status: 'enabled',
      state: 'up',
      updated_at: cinderTime(),
      disabled_reason: null,
      frozen: false,
      ...(binary === 'cinder-volume' ? { replication_status: 'disabled', active_backend_id: null } : {}),
      cluster: null,
      backend_state: binary === 'cinder-volume' ? 'up' : undefined,
    });
    const all = [svc('cinder-scheduler', host), svc('cinder-volume', api.opts.host.split('#')[0]!)];
    void startedAt;
    return {
      services: all.filter(
        (s) =>
          (!q.binary || s.binary === q.binary) &&
          (!q.host || s.host === q.host || s.host.startsWith(`${String(q.host)}@`)),
      ),
    };
  });
  app.get(
    '/scheduler-stats/get_pools',
    { config: { policy: 'scheduler_extension:scheduler_stats:get_pools' } },
    async (req) => {
      const c = caller(req, api.policy);
      if (!api.policy.check('scheduler_extension:scheduler_stats:get_pools', {}, c.creds))
        throw new ApiError(
          403,
          "Policy doesn't allow scheduler_extension:scheduler_stats:get_pools to be performed.",
          'forbidden',
        );
      const name = api.opts.host;
      if (!isTrue(query(req).detail as string | undefined)) return { pools: [{ name }] };
      const s = await api.driver.stats();
      return {
        pools: [
          {
            name,
            capabilities: {
              pool_name: name.split('#')[1] ?? s.backendName,
              volume_backend_name: s.backendName,
              vendor_name: 'Stackbox',
              driver_version: '1.0',
              storage_protocol: s.storageProtocol,
              total_capacity_gb: s.totalCapacityGb,
              free_capacity_gb: s.freeCapacityGb,
              provisioned_capacity_gb: s.provisionedCapacityGb,
              allocated_capacity_gb: s.provisionedCapacityGb,
              thin_provisioning_support: s.thinProvisioning,
              thick_provisioning_support: !s.thinProvisioning,
              max_over_subscription_ratio: '20.0',
              reserved_percentage: 0,
              multiattach: api.driver.capabilities.multiattach,
              online_extend_support: api.driver.capabilities.onlineExtend,
              timestamp: cinderTime(),
            },
          },
        ],
      };
    },
  );
}
