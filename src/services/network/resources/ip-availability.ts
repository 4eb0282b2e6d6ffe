/** Network IP availability (network-ip-availability): addresses used and free per network and subnet. */
import { json } from '../../../core/db/index.js';
import { NotFound } from '../errors.js';
import { poolsSize, type IpRange } from '../ipam.js';
import type { Query } from '../query.js';
import type { Cond } from '../store.js';
import { type Caller } from './base.js';
import type { NetworkManager } from '../manager.js';

/** Every network's (or one network's) address usage, from its subnets' pools and allocations. */
export class IpAvailability {
  constructor(private readonly m: NetworkManager) {}

  async list(c: Caller, q: Query, networkId?: string) {
    this.m.enforce(c, 'get_network_ip_availability', {});
    const conds: Cond[] = networkId ? [{ eq: 'id', values: [networkId] }] : [];
    for (const k of ['network_id', 'network_name', 'project_id', 'tenant_id', 'ip_version']) {
      const val = q[k];
      if (val === undefined) continue;
      const vals = Array.isArray(val) ? val : [val];
      if (k === 'network_id') conds.push({ eq: 'id', values: vals });
      if (k === 'network_name') conds.push({ eq: 'name', values: vals });
      if (k === 'project_id' || k === 'tenant_id') conds.push({ eq: 'project_id', values: vals });
    }
    const nets = await this.m.store.list('net_networks', { where: conds, sort: [{ col: 'id', dir: 'asc' }] });
    if (networkId && nets.length === 0) throw NotFound.network(networkId);
    const ipv =
      q.ip_version === undefined
        ? undefined
        : Number(Array.isArray(q.ip_version) ? q.ip_version[0] : q.ip_version);
    const out = [];
    for (const n of nets) {
      let subnets = await this.m.store.list('net_subnets', { where: [{ eq: 'network_id', values: [n.id] }] });
      if (ipv) subnets = subnets.filter((s) => Number(s.ip_version) === ipv);
      const per = [];
      let total = 0n;
      let used = 0;
      for (const s of subnets) {
        const t = poolsSize(json<IpRange[]>(s.allocation_pools, []));
        const u = await this.m.store.count('net_ipallocations', [{ eq: 'subnet_id', values: [s.id] }]);
        total += t;
        used += u;
        per.push({
          subnet_id: s.id,
          subnet_name: s.name,
          cidr: s.cidr,
          ip_version: Number(s.ip_version),
          total_ips: Number(t),
          used_ips: u,
        });
      }
      out.push({
        network_id: n.id,
        network_name: n.name,
        tenant_id: n.project_id,
        project_id: n.project_id,
        total_ips: Number(total),
        used_ips: used,
        subnet_ip_availability: per,
      });
    }
    return out;
  }
}
