/**
 * The network service's facade (ctx.services.network) — what compute uses; ports are Neutron port dicts:
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
 */
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
  /** The network driver in use (its type is the agent's NetworkDriver, src/agent/network/driver.ts). */
  readonly driver: { readonly name: string };
}
