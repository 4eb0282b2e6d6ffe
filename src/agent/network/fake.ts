import type { NetworkDriver, NetworkSpec, PortSpec, RouterSpec, WiringStatus } from './driver.js';

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
