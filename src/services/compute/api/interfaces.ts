/** /servers/{id}/os-interface (nova/api/openstack/compute/attach_interfaces.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../../../core/errors.js';
import type { PortInfo } from '../facades.js';
import { type ComputeManager } from '../manager/index.js';
import { bad, callerOf, mv, noExtra, str, type Obj, type P } from './common.js';

export function interfaceRoutes(app: FastifyInstance, mgr: ComputeManager) {
  const attachmentView = (req: FastifyRequest, p: PortInfo & { status?: string }) => ({
    port_id: p.id,
    net_id: p.networkId,
    mac_addr: p.macAddress,
    port_state: p.status ?? 'ACTIVE',
    fixed_ips: p.fixedIps.map((f) => ({ ip_address: f.ipAddress, subnet_id: f.subnetId ?? null })),
    ...(mv(req).ge(70) ? { tag: null } : {}),
  });
  app.get(
    '/v2.1/servers/:id/os-interface',
    { config: { policy: 'os_compute_api:os-attach-interfaces:list' } },
    async (req) => {
      const s = await mgr.getServer(
        callerOf(req, mgr),
        (req.params as P).id!,
        'os_compute_api:os-attach-interfaces:list',
      );
      return { interfaceAttachments: (await mgr.serverPorts(s)).map((p) => attachmentView(req, p)) };
    },
  );
  app.get(
    '/v2.1/servers/:id/os-interface/:port',
    { config: { policy: 'os_compute_api:os-attach-interfaces:show' } },
    async (req) => {
      const p = req.params as P;
      const s = await mgr.getServer(callerOf(req, mgr), p.id!, 'os_compute_api:os-attach-interfaces:show');
      const port = (await mgr.serverPorts(s)).find((x) => x.id === p.port);
      if (!port) throw new ApiError(404, `Port ${p.port} is not attached`, 'itemNotFound');
      return { interfaceAttachment: attachmentView(req, port) };
    },
  );
  app.post(
    '/v2.1/servers/:id/os-interface',
    { config: { policy: 'os_compute_api:os-attach-interfaces:create' } },
    async (req) => {
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-attach-interfaces:create');
      const b = (req.body as Obj | undefined)?.interfaceAttachment as Obj | undefined;
      const a = b && typeof b === 'object' ? b : {};
      noExtra(a, ['net_id', 'port_id', 'fixed_ips', 'tag'], 'interfaceAttachment');
      const netId = str(a, 'net_id');
      const portId = str(a, 'port_id');
      if (netId && portId) throw bad('Must not input both network_id and port_id');
      let fixedIp: string | undefined;
      if (a.fixed_ips !== undefined) {
        if (!Array.isArray(a.fixed_ips) || a.fixed_ips.length !== 1)
          throw bad('Invalid input for field/attribute fixed_ips.');
        if (!netId) throw bad('Must input network_id when request IP address');
        fixedIp = str(a.fixed_ips[0] as Obj, 'ip_address', { required: true });
      }
      if (!netId && !portId)
        throw bad('Either net_id or port_id is required: this cloud does not pick a network for you.');
      const port = await mgr.attachInterface(c, s, { networkId: netId, portId, fixedIp });
      return { interfaceAttachment: attachmentView(req, port) };
    },
  );
  app.delete(
    '/v2.1/servers/:id/os-interface/:port',
    { config: { policy: 'os_compute_api:os-attach-interfaces:delete' } },
    async (req, reply) => {
      const c = callerOf(req, mgr);
      const p = req.params as P;
      const s = await mgr.getServer(c, p.id!, 'os_compute_api:os-attach-interfaces:delete');
      await mgr.detachInterface(c, s, p.port!);
      reply.code(202).send();
    },
  );
}
