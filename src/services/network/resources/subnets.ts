/** Subnets: CIDR, gateway, allocation pools, DHCP port, DNS servers and host routes. */
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { bool, int, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { badRequest, conflict, invalidAttr, invalidInput } from '../errors.js';
import {
  cidrsOverlap,
  defaultGateway,
  formatCidr,
  gatewayInvalidInSubnet,
  generatePools,
  parseCidr,
  parseIp,
  poolContaining,
  randomMac,
  validatePools,
  type IpRange,
} from '../ipam.js';
import type { Cond, Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { hostRoutes, nameservers } from '../validate.js';
import { subnetView } from '../views.js';
import {
  B,
  I,
  OWNER_DHCP,
  OWNER_ROUTER_INTERFACE,
  Resource,
  S,
  STD,
  now,
  ownProject,
  uniq,
  type Caller,
  type Rendered,
  type ResourceDef,
} from './base.js';
import { visibleNetworks } from './networks.js';

export class Subnets extends Resource {
  readonly def: ResourceDef = {
    kind: 'subnet',
    path: 'subnets',
    collection: 'subnets',
    member: 'subnet',
    table: 'net_subnets',
    tagType: 'subnet',
    columns: {
      ...STD,
      name: S('name'),
      network_id: S('network_id'),
      ip_version: I('ip_version'),
      cidr: S('cidr'),
      gateway_ip: S('gateway_ip'),
      enable_dhcp: B('enable_dhcp'),
      ipv6_ra_mode: S('ipv6_ra_mode'),
      ipv6_address_mode: S('ipv6_address_mode'),
      subnetpool_id: S('subnetpool_id'),
      segment_id: S('segment_id'),
    },
    others: ['allocation_pools', 'dns_nameservers', 'host_routes', 'service_types'],
  };

  override visibility(c: Caller): Cond[] {
    return [
      {
        or: [
          ownProject(c),
          { in: 'network_id', table: 'net_networks', select: 'id', where: [visibleNetworks(c)] },
        ],
      },
    ];
  }

  override async target(c: Caller, row: Row, ex: Exec): Promise<Row> {
    return { ...row, tenant_id: row.project_id, ...(await this.m.networks.parentTarget(c, row, ex)) };
  }

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const targets: Row[] = [];
    const views: Record<string, unknown>[] = rows.map((r) => subnetView(r, tags.get(r.id)));
    for (const r of rows) targets.push(await this.target(c, r, ex));
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'subnet', [
      'name',
      'network_id',
      'ip_version',
      'cidr',
      'gateway_ip',
      'allocation_pools',
      'enable_dhcp',
      'dns_nameservers',
      'host_routes',
      'ipv6_ra_mode',
      'ipv6_address_mode',
      'description',
      'project_id',
      'tenant_id',
      'subnetpool_id',
      'segment_id',
      'tags',
      'service_types',
      'prefixlen',
      'use_default_subnetpool',
    ]);
    v.required(b, 'network_id');
    const networkId = v.uuid('network_id', b.network_id);
    const net = await this.m.networks.parent(c, networkId);
    const { projectId } = this.m.authorizeCreate(c, 'subnet', b, {
      'network:project_id': net.project_id,
      'network:tenant_id': net.project_id,
      shared: await this.m.networks.sharedFor(c, net),
    });
    if ((b.subnetpool_id ?? null) !== null || b.use_default_subnetpool || b.prefixlen !== undefined)
      throw badRequest('Subnet pools are not supported');
    if ((b.segment_id ?? null) !== null) throw badRequest('Segments are not supported');
    if (b.service_types !== undefined && v.list('service_types', b.service_types).length)
      throw badRequest('Service types are not supported');
    v.required(b, 'ip_version');
    const ipVersion = Number(v.oneOf('ip_version', String(b.ip_version), ['4', '6']));
    if (b.cidr === undefined || b.cidr === null)
      throw badRequest('Bad subnets request: a subnetpool must be specified in the absence of a cidr.');
    const cidrText = v.str('cidr', b.cidr);
    const loose = parseCidr(cidrText);
    if (!loose || !cidrText.includes('/'))
      throw invalidAttr('cidr', `'${cidrText}' is not a valid IP subnet`);
    const cidr = parseCidr(cidrText, true);
    if (!cidr)
      throw invalidAttr(
        'cidr',
        `'${cidrText}' isn't a recognized IP subnet cidr, '${formatCidr(loose)}' is recommended`,
      );
    if (cidr.version !== ipVersion)
      throw invalidInput(`Cidr ${cidrText} does not match ip_version ${ipVersion}`);
    const raMode = b.ipv6_ra_mode ?? null;
    const addrMode = b.ipv6_address_mode ?? null;
    const modes = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
    if (raMode !== null) v.oneOf('ipv6_ra_mode', raMode, modes);
    if (addrMode !== null) v.oneOf('ipv6_address_mode', addrMode, modes);
    if (ipVersion === 4 && (raMode !== null || addrMode !== null))
      throw invalidInput(`ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4`);
    if (raMode !== null && addrMode !== null && raMode !== addrMode)
      throw invalidInput(
        `ipv6_ra_mode set to '${raMode}' with ipv6_address_mode set to '${addrMode}' is not valid. If both attributes are set, they must be the same value`,
      );
    const enableDhcp = b.enable_dhcp === undefined ? true : v.bool('enable_dhcp', b.enable_dhcp);
    if (ipVersion === 6 && ['slaac', 'dhcpv6-stateless'].includes(String(addrMode)) && cidr.prefixlen !== 64)
      throw invalidInput(
        `Invalid CIDR ${cidrText} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
      );
    let gatewayIp: string | null;
    if (b.gateway_ip === undefined) gatewayIp = defaultGateway(cidr);
    else if (b.gateway_ip === null) gatewayIp = null;
    else {
      gatewayIp = v.ip('gateway_ip', b.gateway_ip);
      const gw = parseIp(gatewayIp)!;
      if (gw.version !== ipVersion || gatewayInvalidInSubnet(cidr, gw))
        throw invalidInput(`Gateway IP ${gatewayIp} is not valid for subnet ${cidrText}`);
    }
    let pools: IpRange[];
    if (b.allocation_pools === undefined || b.allocation_pools === null)
      pools = generatePools(cidr, gatewayIp);
    else {
      pools = validatePools(b.allocation_pools, cidr, cidrText);
      if (gatewayIp) {
        const hit = poolContaining(pools, parseIp(gatewayIp)!);
        if (hit)
          throw conflict(
            'GatewayConflictWithAllocationPools',
            `Gateway ip ${gatewayIp} conflicts with allocation pool ${hit.start}-${hit.end}`,
          );
      }
    }
    const dns = b.dns_nameservers === undefined ? [] : nameservers(b.dns_nameservers);
    const routes = b.host_routes === undefined ? [] : hostRoutes(b.host_routes, ipVersion);
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.m.checkQuota(projectId, 'subnet', trx);
      const others = await this.store.list(
        'net_subnets',
        { where: [{ eq: 'network_id', values: [networkId] }] },
        trx,
      );
      for (const o of others)
        if (cidrsOverlap(parseCidr(o.cidr)!, cidr))
          throw invalidInput(
            `Requested subnet with cidr: ${cidrText} for network: ${networkId} overlaps with another subnet`,
          );
      await this.store.insert(
        'net_subnets',
        {
          id,
          project_id: projectId,
          network_id: networkId,
          name: b.name === undefined ? '' : v.str('name', b.name),
          ip_version: ipVersion,
          cidr: formatCidr(cidr),
          gateway_ip: gatewayIp,
          enable_dhcp: int(enableDhcp),
          ipv6_ra_mode: raMode,
          ipv6_address_mode: addrMode,
          allocation_pools: JSON.stringify(pools),
          dns_nameservers: JSON.stringify(dns),
          host_routes: JSON.stringify(routes),
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      await this.store.setTags('subnet', id, tags, trx);
      if (enableDhcp) await this.ensureDhcpPort(net, id, trx);
      await this.m.bump('net_networks', networkId, {}, trx);
    });
    this.changes.network(networkId);
    return this.m.viewOf(c, 'subnet', id);
  }

  /** The network's DHCP port (network:dhcp) gets an address on a DHCP-enabled subnet, as the DHCP agent does. */
  async ensureDhcpPort(net: Row, subnetId: string, trx: Transaction<any>): Promise<void> {
    const existing = (
      await this.store.list(
        'net_ports',
        {
          where: [
            { eq: 'network_id', values: [net.id] },
            { eq: 'device_owner', values: [OWNER_DHCP] },
          ],
        },
        trx,
      )
    )[0];
    let portId = existing?.id as string | undefined;
    if (!portId) {
      portId = randomUUID();
      const ts = now();
      await this.store.insert(
        'net_ports',
        {
          id: portId,
          project_id: net.project_id,
          network_id: net.id,
          name: '',
          mac_address: randomMac(),
          admin_state_up: 1,
          status: 'DOWN',
          device_id: `dhcp-${net.id}`,
          device_owner: OWNER_DHCP,
          port_security_enabled: 0,
          binding_host_id: '',
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
    }
    const subnet = await this.store.get('net_subnets', subnetId, trx);
    const port = await this.store.get('net_ports', portId, trx);
    await this.m.addresses.allocateOn(subnet!, port!, undefined, trx).catch((e) => {
      // A full pool leaves the DHCP port without an address on this subnet; the subnet is still created.
      if (!(e instanceof ApiError) || e.status !== 409) throw e;
    });
    this.changes.port(portId, net.id);
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'subnet',
      [
        'name',
        'gateway_ip',
        'allocation_pools',
        'enable_dhcp',
        'dns_nameservers',
        'host_routes',
        'description',
      ],
      [
        'id',
        'network_id',
        'ip_version',
        'cidr',
        'tenant_id',
        'project_id',
        'ipv6_ra_mode',
        'ipv6_address_mode',
        'subnetpool_id',
      ],
    );
    const { row } = await this.m.forChange(c, 'subnet', 'update', id, ifMatch, b);
    const cidr = parseCidr(row.cidr)!;
    const patch: Row = {};
    if (b.name !== undefined) patch.name = v.str('name', b.name);
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    let gatewayIp: string | null = row.gateway_ip ?? null;
    if (b.gateway_ip !== undefined) {
      gatewayIp = b.gateway_ip === null ? null : v.ip('gateway_ip', b.gateway_ip);
      if (gatewayIp) {
        const gw = parseIp(gatewayIp)!;
        if (gw.version !== cidr.version || gatewayInvalidInSubnet(cidr, gw))
          throw invalidInput(`Gateway IP ${gatewayIp} is not valid for subnet ${row.cidr}`);
      }
      const rif = await this.store.count('net_ipallocations', [
        { eq: 'subnet_id', values: [id] },
        { eq: 'ip_address', values: [row.gateway_ip ?? ''] },
        {
          in: 'port_id',
          table: 'net_ports',
          select: 'id',
          where: [{ eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] }],
        },
      ]);
      if (rif && gatewayIp !== row.gateway_ip)
        throw conflict('GatewayIpInUse', `Gateway ip ${row.gateway_ip} is in use by a router interface.`);
      patch.gateway_ip = gatewayIp;
    }
    let pools: IpRange[] = json(row.allocation_pools, []);
    if (b.allocation_pools !== undefined) {
      pools = validatePools(b.allocation_pools, cidr, row.cidr);
      patch.allocation_pools = JSON.stringify(pools);
    }
    if (gatewayIp && (b.gateway_ip !== undefined || b.allocation_pools !== undefined)) {
      const hit = poolContaining(pools, parseIp(gatewayIp)!);
      if (hit)
        throw conflict(
          'GatewayConflictWithAllocationPools',
          `Gateway ip ${gatewayIp} conflicts with allocation pool ${hit.start}-${hit.end}`,
        );
    }
    if (b.dns_nameservers !== undefined)
      patch.dns_nameservers = JSON.stringify(nameservers(b.dns_nameservers));
    if (b.host_routes !== undefined)
      patch.host_routes = JSON.stringify(hostRoutes(b.host_routes, cidr.version));
    let dhcpOn = false;
    if (b.enable_dhcp !== undefined) {
      patch.enable_dhcp = int(v.bool('enable_dhcp', b.enable_dhcp));
      dhcpOn = !bool(row.enable_dhcp) && bool(patch.enable_dhcp);
    }
    await this.store.tx(async (trx) => {
      await this.m.bump('net_subnets', id, patch, trx);
      if (dhcpOn) {
        const net = await this.store.get('net_networks', row.network_id, trx);
        await this.ensureDhcpPort(net!, id, trx);
      }
    });
    this.changes.network(row.network_id);
    return this.m.viewOf(c, 'subnet', id);
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.m.forChange(c, 'subnet', 'delete', id, ifMatch);
    const touched: string[] = [];
    await this.store.tx(async (trx) => {
      const allocs = await this.store.list(
        'net_ipallocations',
        { where: [{ eq: 'subnet_id', values: [id] }] },
        trx,
      );
      const ports = await this.store.getMany('net_ports', uniq(allocs.map((a) => a.port_id)), trx);
      if (ports.some((p) => p.device_owner !== OWNER_DHCP))
        throw conflict(
          'SubnetInUse',
          `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`,
        );
      await this.store.delete('net_ipallocations', [{ eq: 'subnet_id', values: [id] }], trx);
      for (const p of ports) {
        touched.push(p.id);
        const left = await this.store.count('net_ipallocations', [{ eq: 'port_id', values: [p.id] }], trx);
        if (left === 0) await this.store.delete('net_ports', [{ eq: 'id', values: [p.id] }], trx);
      }
      await this.store.removeTag('subnet', id, undefined, trx);
      await this.store.delete('net_subnets', [{ eq: 'id', values: [id] }], trx);
      await this.m.bump('net_networks', row.network_id, {}, trx);
    });
    for (const p of touched) this.changes.port(p, row.network_id);
    this.changes.network(row.network_id);
  }
}
