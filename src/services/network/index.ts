/**
 * The network service (Neutron v2.0), mounted at /networking, and its facade for other services.
 *
 * Facade (ctx.services.network, type NetworkFacade) — what compute uses; ports are Neutron port dicts:
 *   createServerPort({projectId, networkId, serverId, hostId, az?, fixedIp?, subnetId?, securityGroups?})
 *        create a port for a server as a member of projectId would (policy applies: the network must be
 *        visible to the project), then bind it: device_id = serverId, device_owner = compute:<az>,
 *        binding:host_id = hostId. Errors are ApiErrors with Neutron's types (e.g. 409
 *        IpAddressGenerationFailure, 404 NetworkNotFound).
 *   getPort(portId)                  the port, or undefined
 *   listServerPorts(serverId)        ports whose device_id is serverId
 *   findPortByNetworkIp(networkId, ip)  the port on that network holding that fixed IP (any owner), or
 *                                    undefined: the metadata service's "which instance is asking"
 *   bindPort(portId, {projectId, serverId, hostId, az?})
 *        attach an existing (user-created) port to a server: 409 PortInUse when it has another device
 *   (securityGroups: ids or names of the project's groups; default: the project's `default` group)
 *   unbindPort(portId)               clear device_id/device_owner/binding (the port stays; user-created ports)
 *   unbindServerPorts(serverId)      unbindPort for every port of the server; returns how many
 *   deletePort(portId)               delete one port (idempotent)
 *   deleteServerPorts(serverId)      delete every port of the server; returns how many
 *   listBootableNetworks(projectId)  networks a server of the project may boot on without naming one, as Nova's
 *                                    _get_available_networks: the project's own networks plus shared ones
 *   serverAddresses(serverId)        Nova's `addresses`: {<network name>: [{addr, version, type: fixed|floating,
 *                                    mac}]}
 *   settle()                         resolve when the in-process host's network agent applied every pending
 *                                    change (tests, tools)
 *   ensurePublicNetwork(projectId, cidr)
 *        the default external network `public` (flat on physical network `public`, gateway = first address,
 *        no DHCP), created once; returns its id, or undefined when a network named `public` already exists
 *   driver                           the in-process host's network driver (the fake records the desired wiring)
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
import { AUTHENTICATED_RULE, networkRoutes } from './api.js';
import { explainPolicy } from './explain.js';
import type { NetworkDriver } from '../../agent/network/driver.js';
import { neutronFault } from './errors.js';
import { NetworkManager, type Caller } from './manager.js';
import { networkMigrations } from './migrations.js';
import { networkPolicies } from './policies.js';
import { NetworkStore } from './store.js';
import { Wiring } from './wiring.js';
import { normalizeIp, parseIp } from './ipam.js';
import type { Host } from '../../agent/host.js';

export type NeutronPort = {
  id: string;
  network_id: string;
  project_id: string;
  mac_address: string;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups: string[];
  'binding:host_id': string;
  'binding:vif_type': string;
  [k: string]: unknown;
};

export interface ServerAddress {
  addr: string;
  version: 4 | 6;
  type: 'fixed' | 'floating';
  mac: string;
}

export interface NetworkFacade {
  createServerPort(o: {
    projectId: string;
    networkId: string;
    serverId: string;
    hostId: string;
    az?: string;
    fixedIp?: string;
    subnetId?: string;
    securityGroups?: string[];
  }): Promise<NeutronPort>;
  getPort(portId: string): Promise<NeutronPort | undefined>;
  listServerPorts(serverId: string): Promise<NeutronPort[]>;
  findPortByNetworkIp(networkId: string, ip: string): Promise<NeutronPort | undefined>;
  bindPort(
    portId: string,
    o: { projectId: string; serverId: string; hostId: string; az?: string },
  ): Promise<NeutronPort>;
  unbindPort(portId: string): Promise<void>;
  unbindServerPorts(serverId: string): Promise<number>;
  deletePort(portId: string): Promise<void>;
  deleteServerPorts(serverId: string): Promise<number>;
  serverAddresses(serverId: string): Promise<Record<string, ServerAddress[]>>;
  listBootableNetworks(projectId: string): Promise<{ id: string; name: string }[]>;
  settle(): Promise<void>;
  ensurePublicNetwork(projectId: string, cidr: string): Promise<string | undefined>;
  readonly driver: NetworkDriver;
}

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
  const service = m.serviceCaller();
  const member = (projectId: string): Caller => ({
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
    (await m.updatePort(service, portId, {
      port: { device_id: serverId, device_owner: `compute:${az}`, 'binding:host_id': hostId },
    })) as NeutronPort;
  return {
    driver,
    settle: () => wiring.settle({ whenIdle: () => host.networkIdle() }),
    async ensurePublicNetwork(projectId, cidr) {
      const existing = await m.store.list('net_networks', { where: [{ eq: 'name', values: ['public'] }] });
      if (existing.length) return undefined;
      const net = (await m.createNetwork(service, {
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
      await m.createSubnet(service, {
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
      const created = (await m.createPort(member(o.projectId), { port })) as NeutronPort;
      try {
        return await bind(created.id, o.serverId, o.hostId, o.az);
      } catch (e) {
        await m.deletePort(service, created.id).catch(() => undefined);
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
      await m.updatePort(service, portId, {
        port: { device_id: '', device_owner: '', 'binding:host_id': '' },
      });
    },
    async unbindServerPorts(serverId) {
      const ports = await listServerPorts(serverId);
      for (const p of ports) await this.unbindPort(p.id);
      return ports.length;
    },
    async deletePort(portId) {
      await m.deletePort(service, portId).catch((e) => {
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
