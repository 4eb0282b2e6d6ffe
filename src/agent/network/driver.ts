/**
 * The network driver: what a host agent does to make the wiring real. The control plane never calls a driver
 * directly; it publishes desired-state documents on the bus (protocol.ts) and the agent (agent.ts) and the agent drives its driver.
 *
 * Every document is complete (level-triggered): applying the same document twice is a no-op, and a document
 * carries everything the driver needs, so an agent in another process (`stackbox agent`, NATS) needs no
 * database access. Deleting is idempotent: removing something that is not there succeeds.
 *
 * The shape fits the Linux data plane in ../shared/research/dataplane.md: a network is a bridge in its own
 * namespace (VXLAN VNI or a flat physical bridge), a port is a tap on that bridge with nftables rules from its
 * security groups, DHCP is dnsmasq with static `--dhcp-host` entries, a router is a namespace with `qr-`
 * interfaces, a `qg-` gateway, SNAT and per-floating-IP DNAT/SNAT, and metadata is served in every network by the one agent process (a socket opened inside each namespace).
 */

/** The host device of a VM's NIC for a port: QEMU creates it by this name, the network driver wires it. */
export const tapName = (portId: string) => `tap${portId.slice(0, 11)}`;

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

/** What plugVif needs: the hypervisor created `tap` for `portId` in the host namespace. */
export interface VifPlug {
  portId: string;
  networkId: string;
  tap: string;
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
  /**
   * Drivers that wire hypervisor taps implement this: the compute driver calls it after QEMU created a NIC's
   * tap (at every start and hot-plug), and the network driver moves the tap into the port's network.
   */
  plugVif?(v: VifPlug): Promise<void>;
  /** Release what the driver holds in this process (proxies, timers); the wiring stays. */
  close?(): void;
}
