/**
 * The network service (Neutron v2.0), mounted at /networking, and its facade for other services (the
 * interface, NetworkFacade, is src/core/facades/network.ts).
 *
 * What this service uses of compute (optional, looked up at request time): ctx.services.compute.findServers(creds,
 * ref) — servers by id or exact name that the caller may see, with their Nova status — for GET
 * /v2.0/stackbox/explain (explain.ts), which resolves `server:<name|id>` through it and then through the ports
 * whose device_id is the server. Without compute, a server is known by its ports only (by id).
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../core/errors.js';
import { setupServiceScope } from '../../core/http/app.js';
import type { ServiceContext, ServiceModule } from '../../core/service.js';
import type { NeutronPort, NetworkFacade, ServerAddress } from '../../core/facades/network.js';
import { AUTHENTICATED_RULE, networkRoutes } from './api.js';
import { explainPolicy } from './explain/index.js';
import type { NetworkDriver } from '../../agent/network/driver.js';
import { neutronFault } from './errors.js';
import { NetworkManager } from './manager.js';
import { serviceCaller, type Caller } from '../../core/auth/caller.js';
import { networkMigrations } from './migrations.js';
import { networkPolicies } from './policies/index.js';
import { NetworkStore } from './store.js';
import { Wiring } from './wiring.js';
import { normalizeIp, parseIp } from './ipam.js';
import type { Host } from '../../agent/host.js';

export type { NeutronPort, NetworkFacade, ServerAddress };

/** Policy rules: Neutron's defaults, plus the rule for documents any authenticated caller may read and explain's. */
export const networkServicePolicies = [
  ...networkPolicies,
  { name: AUTHENTICATED_RULE, check: '', description: 'Any authenticated caller (extensions list).' },
  explainPolicy,
];

/** `driver`: the network driver of the in-process host (src/agent/host.ts); default: by configuration. */
export function networkService(opts: { driver?: NetworkDriver } = {}): ServiceModule {
  let wiring: Wiring | undefined;
  return {
    type: 'network',
    catalog: { name: 'neutron', path: '/networking' },
    migrations: networkMigrations,
    policies: networkServicePolicies,
    host: { network: { driver: opts.driver } },
    async register(app: FastifyInstance, ctx: ServiceContext): Promise<NetworkFacade> {
      const store = new NetworkStore(ctx.db);
      const host = ctx.host;
      if (!host?.networkDriver) throw new Error('the network service needs a host with a network driver');
      wiring = new Wiring(store, ctx.bus, ctx.log);
      const manager = new NetworkManager(
        store,
        ctx.policy,
        wiring,
        networkServicePolicies.map((r) => r.name),
      );
      wiring.manager = manager;
      wiring.start();
      await app.register(
        async (scope) => {
          setupServiceScope(scope, { faults: neutronFault, validator: ctx.tokens, policy: ctx.policy });
          networkRoutes(scope, manager, { compute: () => ctx.services.compute });
        },
        { prefix: '/networking' },
      );
      return facade(manager, wiring, host, host.networkDriver);
    },
    async stop() {
      await wiring?.stop();
    },
  };
}

function facade(m: NetworkManager, wiring: Wiring, host: Host, driver: NetworkDriver): NetworkFacade {
  const service = serviceCaller();
  const member = (projectId: string): Caller => ({
    userId: '',
    roles: ['member', 'reader'],
    creds: {
      roles: ['member', 'reader'],
      project_id: projectId,
      user_id: null,
      domain_id: null,
      system_scope: null,
    } as never,
    projectId,
    isAdmin: false,
  });
  const getPort = async (id: string) => {
    const row = await m.store.get('net_ports', id);
    return row ? ((await m.viewOf(service, 'port', id)) as NeutronPort) : undefined;
  };
  const listServerPorts = async (serverId: string) => {
    const rows = await m.store.list('net_ports', {
      where: [{ eq: 'device_id', values: [serverId] }],
      sort: [{ col: 'created_at', dir: 'asc' }],
    });
    return (await m.render(service, 'port', rows)).map((x) => x.view as NeutronPort);
  };
  const bind = async (portId: string, serverId: string, hostId: string, az = 'nova') =>
    (await m.ports.update(service, portId, {
      port: { device_id: serverId, device_owner: `compute:${az}`, 'binding:host_id': hostId },
    })) as NeutronPort;
  return {
    driver,
    settle: () => wiring.settle({ whenIdle: () => host.networkIdle() }),
    async ensurePublicNetwork(projectId, cidr) {
      const existing = await m.store.list('net_networks', { where: [{ eq: 'name', values: ['public'] }] });
      if (existing.length) return undefined;
      const net = (await m.networks.create(service, {
        network: {
          name: 'public',
          project_id: projectId,
          'router:external': true,
          'provider:network_type': 'flat',
          'provider:physical_network': 'public',
        },
      })) as { id: string };
      const [addr, len] = cidr.split('/');
      const o = addr!.split('.').map(Number);
      o[3]! += 1;
      await m.subnets.create(service, {
        subnet: {
          name: 'public-subnet',
          network_id: net.id,
          project_id: projectId,
          ip_version: 4,
          cidr: `${addr}/${len}`,
          gateway_ip: o.join('.'),
          enable_dhcp: false,
        },
      });
      return net.id;
    },
    getPort,
    listServerPorts,
    async findPortByNetworkIp(networkId, ip) {
      const address = normalizeIp(ip);
      if (!address) return undefined;
      const [alloc] = await m.store.list('net_ipallocations', {
        where: [
          { eq: 'network_id', values: [networkId] },
          { eq: 'ip_address', values: [address] },
        ],
      });
      return alloc ? getPort(alloc.port_id as string) : undefined;
    },
    async createServerPort(o) {
      const port: Record<string, unknown> = { network_id: o.networkId, project_id: o.projectId };
      if (o.fixedIp || o.subnetId)
        port.fixed_ips = [
          {
            ...(o.subnetId ? { subnet_id: o.subnetId } : {}),
            ...(o.fixedIp ? { ip_address: o.fixedIp } : {}),
          },
        ];
      if (o.securityGroups) port.security_groups = o.securityGroups;
      const created = (await m.ports.create(member(o.projectId), { port })) as NeutronPort;
      try {
        return await bind(created.id, o.serverId, o.hostId, o.az);
      } catch (e) {
        await m.ports.delete(service, created.id).catch(() => undefined);
        throw e;
      }
    },
    async bindPort(portId, o) {
      const port = await getPort(portId);
      if (!port) throw new ApiError(404, `Port ${portId} could not be found.`, 'PortNotFound');
      // The project must be able to see the port (its own, or on its own network).
      await m.visibleRow(member(o.projectId), 'port', portId);
      if (port.device_id && port.device_id !== o.serverId)
        throw new ApiError(
          409,
          `Unable to complete operation on port ${portId} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`,
          'PortInUse',
        );
      return bind(portId, o.serverId, o.hostId, o.az);
    },
    async unbindPort(portId) {
      await m.ports.update(service, portId, {
        port: { device_id: '', device_owner: '', 'binding:host_id': '' },
      });
    },
    async unbindServerPorts(serverId) {
      const ports = await listServerPorts(serverId);
      for (const p of ports) await this.unbindPort(p.id);
      return ports.length;
    },
    async deletePort(portId) {
      await m.ports.delete(service, portId).catch((e: unknown) => {
        if (!(e instanceof ApiError && e.status === 404)) throw e;
      });
    },
    async deleteServerPorts(serverId) {
      const ports = await listServerPorts(serverId);
      for (const p of ports) await this.deletePort(p.id);
      return ports.length;
    },
    async listBootableNetworks(projectId) {
      const own = await m.list(member(projectId), 'network', { project_id: projectId }, '');
      const shared = await m.list(member(projectId), 'network', { shared: 'true' }, '');
      const seen = new Set<string>();
      return [...own.items, ...shared.items]
        .filter((n) => !seen.has(n.id as string) && seen.add(n.id as string))
        .map((n) => ({ id: n.id as string, name: n.name as string }));
    },
    async serverAddresses(serverId) {
      const ports = await listServerPorts(serverId);
      const out: Record<string, ServerAddress[]> = {};
      for (const p of ports) {
        const net = await m.store.get('net_networks', p.network_id);
        const name = (net?.name as string) || p.network_id;
        const list = (out[name] ??= []);
        const fips = await m.store.list('net_floatingips', {
          where: [{ eq: 'fixed_port_id', values: [p.id] }],
        });
        for (const f of p.fixed_ips) {
          list.push({
            addr: f.ip_address,
            version: parseIp(f.ip_address)!.version,
            type: 'fixed',
            mac: p.mac_address,
          });
          for (const fip of fips.filter((x) => x.fixed_ip_address === f.ip_address))
            list.push({ addr: fip.floating_ip_address, version: 4, type: 'floating', mac: p.mac_address });
        }
      }
      return out;
    },
  };
}
