/**
 * The network driver: what a host agent does to make the wiring real. The control plane never calls a driver
 * directly; it publishes desired-state documents on the bus (see agent.ts) and the agent drives its driver.
 *
 * Every document is complete (level-triggered): applying the same document twice is a no-op, and a document
 * carries everything the driver needs, so an agent in another process (`stackbox agent`, NATS) needs no
 * database access. Deleting is idempotent: removing something that is not there succeeds.
 *
 * The shape fits the Linux data plane in ../shared/research/dataplane.md: a network is a bridge in its own
 * namespace (VXLAN VNI or a flat physical bridge), a port is a tap on that bridge with nftables rules from its
 * security groups, DHCP is dnsmasq with static `--dhcp-host` entries, a router is a namespace with `qr-`
 * interfaces, a `qg-` gateway, SNAT and per-floating-IP DNAT/SNAT, and metadata is a proxy per network.
 */

export interface SubnetSpec {
  id: string;
  cidr: string;
  ipVersion: number;
  gatewayIp: string | null;
  enableDhcp: boolean;
  dnsNameservers: string[];
  hostRoutes: { destination: string; nexthop: string }[];
  ipv6AddressMode: string | null;
  ipv6RaMode: string | null;
}

export interface NetworkSpec {
  id: string;
  /** flat | vlan | vxlan | local */
  networkType: string;
  physicalNetwork: string | null;
  segmentationId: number | null;
  mtu: number;
  adminStateUp: boolean;
  external: boolean;
  subnets: SubnetSpec[];
  /** The network's DHCP server address per subnet (the network:dhcp port), if DHCP is on. */
  dhcpPort: { portId: string; mac: string; fixedIps: { subnetId: string; ipAddress: string }[] } | null;
  /** Serve instance metadata (169.254.169.254) on this network. */
  metadata: boolean;
}

/**
 * One firewall rule of a port, from its security groups. A remote group is not expanded here: it names an
 * address set (an nftables named set) that the driver keeps from `ensureAddressSet`, so adding a port to a
 * group updates one set instead of every member's rules.
 */
export interface FirewallRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  /** Protocol name or number as text; null = any. */
  protocol: string | null;
  /** Ports (tcp/udp/...) or ICMP type (min) and code (max). */
  portRangeMin: number | null;
  portRangeMax: number | null;
  /** Remote prefix; null = any (unless remoteGroupId). */
  remoteIpPrefix: string | null;
  /** Remote security group: the address set of that group's members. */
  remoteGroupId: string | null;
}

export interface PortSpec {
  id: string;
  networkId: string;
  mac: string;
  fixedIps: { subnetId: string; ipAddress: string }[];
  adminStateUp: boolean;
  deviceId: string;
  deviceOwner: string;
  hostId: string;
  mtu: number;
  portSecurity: boolean;
  /** The network serves DHCP to this port: the DHCP server adds a static entry (mac → fixed IPs). */
  dhcp: boolean;
  /** Stateful (conntrack) filtering; false when every group of the port is stateless. */
  stateful: boolean;
  securityGroupIds: string[];
  firewall: FirewallRule[];
  allowedAddressPairs: { ipAddress: string; macAddress: string }[];
}

export interface RouterInterfaceSpec {
  portId: string;
  mac: string;
  networkId: string;
  subnetId: string;
  ipAddress: string;
  cidr: string;
}

export interface FloatingIpSpec {
  id: string;
  floatingIpAddress: string;
  fixedIpAddress: string;
  fixedPortId: string;
}

export interface RouterSpec {
  id: string;
  adminStateUp: boolean;
  interfaces: RouterInterfaceSpec[];
  gateway: {
    portId: string;
    mac: string;
    networkId: string;
    fixedIps: { subnetId: string; ipAddress: string; cidr: string; gatewayIp: string | null }[];
    enableSnat: boolean;
  } | null;
  /** Internal subnets SNATed behind the gateway address (empty when SNAT is off). */
  snat: { sourceCidr: string; toAddress: string }[];
  floatingIps: FloatingIpSpec[];
  routes: { destination: string; nexthop: string }[];
}

/** Status a driver reports for what it applied. */
export type WiringStatus = 'ACTIVE' | 'DOWN' | 'ERROR';

export interface NetworkDriver {
  readonly name: string;
  /** Create or update a network's L2 segment, its DHCP server (subnets, static entries) and metadata. */
  ensureNetwork(spec: NetworkSpec): Promise<WiringStatus>;
  /** Remove a network and everything the driver made for it. Idempotent. */
  deleteNetwork(networkId: string): Promise<void>;
  /** Plug a port (tap on the network) and apply its firewall rules; returns the port's status. */
  plugPort(spec: PortSpec): Promise<WiringStatus>;
  unplugPort(portId: string, networkId: string): Promise<void>;
  /** Create or update a router: interfaces, gateway, SNAT, floating IP NAT, static routes. */
  ensureRouter(
    spec: RouterSpec,
  ): Promise<{ status: WiringStatus; floatingIps: Record<string, WiringStatus> }>;
  deleteRouter(routerId: string): Promise<void>;
  /** Set the members (addresses) of a security group's address set, used by rules with a remote group. */
  ensureAddressSet(groupId: string, addresses: string[]): Promise<void>;
  deleteAddressSet(groupId: string): Promise<void>;
  /**
   * Drivers with host state implement this: at agent start the agent asks the control plane for the whole
   * desired state, applies it, then calls reconcile with every id that exists, so the driver removes what
   * it made that is no longer wanted.
   */
  reconcile?(wanted: { networks: string[]; routers: string[]; ports: string[] }): Promise<void>;
  /**
   * Set by the agent: a driver reports status changes it notices on its own (a VM's NIC plugged after the
   * port's document was applied) through it.
   */
  onStatus?: (kind: 'port', id: string, status: WiringStatus) => void;
}

/**
 * The fake driver: records the desired wiring so tests can assert it, and reports ports ACTIVE when they
 * are up and in use (bound to a host or owned by a device), as an agent would after plugging them.
 */
export class FakeNetworkDriver implements NetworkDriver {
  readonly name = 'fake';
  readonly networks = new Map<string, NetworkSpec>();
  readonly ports = new Map<string, PortSpec>();
  readonly routers = new Map<string, RouterSpec>();
  readonly addressSets = new Map<string, string[]>();
  /** Every call, in order, for tests that assert sequencing. */
  readonly calls: { op: string; id: string }[] = [];

  async ensureNetwork(spec: NetworkSpec): Promise<WiringStatus> {
    this.calls.push({ op: 'ensureNetwork', id: spec.id });
    this.networks.set(spec.id, spec);
    return spec.adminStateUp ? 'ACTIVE' : 'DOWN';
  }

  async deleteNetwork(networkId: string): Promise<void> {
    this.calls.push({ op: 'deleteNetwork', id: networkId });
    this.networks.delete(networkId);
  }

  async plugPort(spec: PortSpec): Promise<WiringStatus> {
    this.calls.push({ op: 'plugPort', id: spec.id });
    this.ports.set(spec.id, spec);
    if (!spec.adminStateUp) return 'DOWN';
    return spec.hostId !== '' || spec.deviceOwner !== '' ? 'ACTIVE' : 'DOWN';
  }

  async unplugPort(portId: string): Promise<void> {
    this.calls.push({ op: 'unplugPort', id: portId });
    this.ports.delete(portId);
  }

  async ensureRouter(spec: RouterSpec) {
    this.calls.push({ op: 'ensureRouter', id: spec.id });
    this.routers.set(spec.id, spec);
    const floatingIps: Record<string, WiringStatus> = {};
    for (const f of spec.floatingIps) floatingIps[f.id] = spec.adminStateUp ? 'ACTIVE' : 'DOWN';
    return { status: (spec.adminStateUp ? 'ACTIVE' : 'DOWN') as WiringStatus, floatingIps };
  }

  async deleteRouter(routerId: string): Promise<void> {
    this.calls.push({ op: 'deleteRouter', id: routerId });
    this.routers.delete(routerId);
  }

  async ensureAddressSet(groupId: string, addresses: string[]): Promise<void> {
    this.calls.push({ op: 'ensureAddressSet', id: groupId });
    this.addressSets.set(groupId, addresses);
  }

  async deleteAddressSet(groupId: string): Promise<void> {
    this.calls.push({ op: 'deleteAddressSet', id: groupId });
    this.addressSets.delete(groupId);
  }
}
