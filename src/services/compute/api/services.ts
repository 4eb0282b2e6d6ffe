/** os-services (nova/api/openstack/compute/services.py). */
import type { FastifyInstance } from 'fastify';
import { bool } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { now, type ComputeManager } from '../manager/index.js';
import type { Mv } from '../microversion.js';
import type { HostRow } from '../rows.js';
import { naiveMicro } from '../views.js';
import { bad, boolOf, mv, noExtra, q1, requireMv, str, type Obj, type P } from './common.js';

export function serviceRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const zonesP = () => mgr.hostZones();
  function serviceView(h: HostRow, v: Mv, zone: string) {
    return {
      id: v.ge(53) ? h.service_uuid : h.id,
      binary: 'nova-compute',
      host: h.name,
      zone,
      status: h.enabled ? 'enabled' : 'disabled',
      state: mgr.isUp(h) ? 'up' : 'down',
      updated_at: naiveMicro(h.heartbeat_at),
      disabled_reason: h.disabled_reason,
      ...(v.ge(11) ? { forced_down: bool(h.forced_down) } : {}),
    };
  }
  app.get('/v2.1/os-services', { config: { policy: 'os_compute_api:os-services:list' } }, async (req) => {
    req.authorize({});
    const zones = await zonesP();
    let hosts = await mgr.hosts();
    const host = q1(req, 'host');
    const binary = q1(req, 'binary');
    if (host) hosts = hosts.filter((h) => h.name === host);
    if (binary && binary !== 'nova-compute') hosts = [];
    return { services: hosts.map((h) => serviceView(h, mv(req), zones.get(h.name)!)) };
  });
  app.put(
    '/v2.1/os-services/:id',
    { config: { policy: 'os_compute_api:os-services:update' } },
    async (req) => {
      requireMv(req, 53);
      req.authorize({});
      const id = (req.params as P).id!;
      const h = (await mgr.hosts()).find((x) => x.service_uuid === id);
      if (!h) throw new ApiError(404, `Service ${id} could not be found.`, 'itemNotFound');
      const b = req.body as Obj;
      if (!b || typeof b !== 'object') throw bad('Invalid body');
      noExtra(b, ['status', 'disabled_reason', 'forced_down'], 'service');
      const values: Partial<HostRow> = { updated_at: now() };
      if (b.status !== undefined) {
        if (!['enabled', 'disabled'].includes(String(b.status)))
          throw bad(`Invalid input for field/attribute status. Value: ${b.status}.`);
        values.enabled = b.status === 'enabled' ? 1 : 0;
        values.disabled_reason =
          b.status === 'enabled' ? null : (str(b, 'disabled_reason', { max: 255 }) ?? null);
      } else if (b.disabled_reason !== undefined)
        throw bad('Specifying a disabled_reason is only supported when the status is disabled.');
      if (b.forced_down !== undefined) values.forced_down = boolOf(b, 'forced_down') ? 1 : 0;
      const fresh = (await mgr.updateHost(h.name, values))!;
      return { service: serviceView(fresh, mv(req), (await zonesP()).get(h.name)!) };
    },
  );
  // Legacy (< 2.53) enable/disable by host.
  for (const action of ['enable', 'disable', 'disable-log-reason', 'force-down']) {
    app.put(
      `/v2.1/os-services/${action}`,
      { config: { policy: 'os_compute_api:os-services:update' } },
      async (req) => {
        requireMv(req, 1, 52);
        req.authorize({});
        const b = (req.body ?? {}) as Obj;
        const host = str(b, 'host', { required: true })!;
        const h = await mgr.host(host);
        if (!h) throw new ApiError(404, `Host '${host}' is not mapped to any cell`, 'itemNotFound');
        const values: Partial<HostRow> = {};
        if (action === 'enable') Object.assign(values, { enabled: 1, disabled_reason: null });
        if (action === 'disable') values.enabled = 0;
        if (action === 'disable-log-reason')
          Object.assign(values, {
            enabled: 0,
            disabled_reason: str(b, 'disabled_reason', { required: true }),
          });
        if (action === 'force-down') values.forced_down = boolOf(b, 'forced_down') ? 1 : 0;
        await mgr.updateHost(host, values);
        return {
          service: {
            host,
            binary: 'nova-compute',
            ...(action === 'force-down'
              ? { forced_down: !!values.forced_down }
              : { status: values.enabled ? 'enabled' : 'disabled' }),
            ...(values.disabled_reason ? { disabled_reason: values.disabled_reason } : {}),
          },
        };
      },
    );
  }
  app.delete(
    '/v2.1/os-services/:id',
    { config: { policy: 'os_compute_api:os-services:delete' } },
    async (req, reply) => {
      req.authorize({});
      const id = (req.params as P).id!;
      const h = (await mgr.hosts()).find((x) =>
        mv(req).ge(53) ? x.service_uuid === id : String(x.id) === id,
      );
      if (!h) throw new ApiError(404, `Service ${id} could not be found.`, 'itemNotFound');
      await mgr.deleteHost(h);
      reply.code(204).send();
    },
  );
}
