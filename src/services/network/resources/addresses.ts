/** Fixed IPs: a port's addresses from its network's subnets (IPAM), for ports and the router and floating IP ports. */
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { invalidAttr, invalidInput } from '../errors.js';
import { Ipam, cidrContains, isAutoAddressSubnet, parseCidr, parseIp, type IpamSubnet } from '../ipam.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import type { NetworkManager } from '../manager.js';

/** Allocation of fixed IPs on a network's subnets, as Neutron's IPAM driver does it. */
export class Addresses {
  constructor(private readonly m: NetworkManager) {}

  ipamSubnet(s: Row): IpamSubnet {
    return {
      id: s.id,
      networkId: s.network_id,
      cidr: s.cidr,
      ipVersion: Number(s.ip_version),
      gatewayIp: s.gateway_ip ?? null,
      allocationPools: json(s.allocation_pools, []),
      ipv6AddressMode: s.ipv6_address_mode ?? null,
    };
  }

  /** Allocate one address on a subnet for a port: a given one, SLAAC, or any free one of the pools. */
  async allocateOn(subnet: Row, port: Row, address: string | undefined, ex: Exec): Promise<string> {
    const ipam = new Ipam(this.m.store.allocationStore(ex));
    const s = this.ipamSubnet(subnet);
    const routerOwner = String(port.device_owner).startsWith('network:router');
    if (address !== undefined) return ipam.allocateSpecific(s, address, port.id, routerOwner);
    if (isAutoAddressSubnet(s) && !routerOwner) return ipam.allocateAuto(s, port.mac_address, port.id);
    return ipam.allocateAny(s, port.id);
  }

  /**
   * Requested fixed_ips → allocations, as Neutron: `{subnet_id}`, `{ip_address}`, `{subnet_id, ip_address}`;
   * without a request, one address from an IPv4 subnet with room (tried in order) and one per IPv6 subnet.
   */
  async allocateFixedIps(
    port: Row,
    requested: { subnet_id?: string; ip_address?: string }[] | undefined,
    subnets: Row[],
    ex: Exec,
  ): Promise<void> {
    const net = port.network_id;
    if (requested === undefined) {
      // Neutron: one address from the first IPv4 subnet with room, one from the first stateful IPv6 subnet
      // with room, and the SLAAC address of every auto-address IPv6 subnet (router ports take none of those).
      const routerOwner = String(port.device_owner).startsWith('network:router');
      const auto = subnets.filter((s) => isAutoAddressSubnet(this.ipamSubnet(s)));
      const firstWithRoom = async (candidates: Row[]) => {
        let lastErr: unknown;
        for (const s of candidates) {
          try {
            await this.allocateOn(s, port, undefined, ex);
            return;
          } catch (e) {
            if (!(e instanceof ApiError) || e.status !== 409) throw e;
            lastErr = e;
          }
        }
        if (lastErr) throw lastErr;
      };
      await firstWithRoom(subnets.filter((s) => Number(s.ip_version) === 4));
      await firstWithRoom(subnets.filter((s) => Number(s.ip_version) === 6 && !auto.includes(s)));
      if (!routerOwner) for (const s of auto) await this.allocateOn(s, port, undefined, ex);
      return;
    }
    for (const f of requested) {
      let subnet: Row | undefined;
      if (f.subnet_id !== undefined) {
        subnet = subnets.find((s) => s.id === f.subnet_id);
        if (!subnet)
          throw invalidInput(
            `Failed to create port on network ${net}, because fixed_ips included invalid subnet ${f.subnet_id}`,
          );
      } else if (f.ip_address !== undefined) {
        const ip = parseIp(f.ip_address)!;
        subnet = subnets.find((s) => cidrContains(parseCidr(s.cidr)!, ip));
        if (!subnet)
          throw new ApiError(
            400,
            `IP address ${f.ip_address} is not a valid IP for any of the subnets on the specified network.`,
            'InvalidIpForNetwork',
          );
      }
      if (!subnet) throw invalidInput('Exceeded maximum amount of fixed ips per port.');
      await this.allocateOn(subnet, port, f.ip_address, ex);
    }
  }

  parseFixedIps(val: unknown): { subnet_id?: string; ip_address?: string }[] {
    return v.list('fixed_ips', val).map((x) => {
      const d = v.dict('fixed_ips', x);
      const bad = Object.keys(d).filter((k) => k !== 'subnet_id' && k !== 'ip_address');
      if (bad.length) throw invalidAttr('fixed_ips', `Unrecognized attribute(s) '${bad.join(', ')}'`);
      const out: { subnet_id?: string; ip_address?: string } = {};
      if (d.subnet_id !== undefined) out.subnet_id = v.uuid('fixed_ips', d.subnet_id);
      if (d.ip_address !== undefined) out.ip_address = v.ip('fixed_ips', d.ip_address);
      return out;
    });
  }
}
