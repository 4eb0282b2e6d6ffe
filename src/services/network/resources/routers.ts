/** Routers (L3): external gateway, interfaces, static and extra routes. */
import { randomUUID } from 'node:crypto';
import { bool, int, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { NotFound, badRequest, conflict, invalidAttr } from '../errors.js';
import { cidrContains, cidrsOverlap, parseCidr, parseIp, randomMac } from '../ipam.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { azList, hostRoutes } from '../validate.js';
import { routerView } from '../views.js';
import {
  B,
  OWNER_ROUTER_GATEWAY,
  OWNER_ROUTER_INTERFACE,
  Resource,
  S,
  STD,
  now,
  uniq,
  type Caller,
  type Rendered,
  type ResourceDef,
} from './base.js';

export class Routers extends Resource {
  readonly def: ResourceDef = {
    kind: 'router',
    path: 'routers',
    collection: 'routers',
    member: 'router',
    table: 'net_routers',
    tagType: 'router',
    columns: { ...STD, name: S('name'), admin_state_up: B('admin_state_up'), status: S('status') },
    others: ['external_gateway_info', 'routes', 'availability_zones', 'availability_zone_hints'],
  };

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const targets: Row[] = [];
    const gwIds = rows.map((r) => r.gw_port_id).filter(Boolean) as string[];
    const allocs = await this.store.allocationsFor(gwIds, ex);
    const views: Record<string, unknown>[] = rows.map((r) => {
      targets.push({ ...r, tenant_id: r.project_id });
      const gateway = r.gw_network_id
        ? {
            network_id: r.gw_network_id,
            enable_snat: bool(r.enable_snat),
            external_fixed_ips: allocs
              .filter((a) => a.port_id === r.gw_port_id)
              .map((a) => ({ subnet_id: a.subnet_id, ip_address: a.ip_address })),
          }
        : null;
      return routerView(r, { gateway, tags: tags.get(r.id) });
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'router', [
      'name',
      'admin_state_up',
      'external_gateway_info',
      'description',
      'project_id',
      'tenant_id',
      'availability_zone_hints',
      'tags',
      'distributed',
      'ha',
    ]);
    const { projectId } = this.m.authorizeCreate(c, 'router', b);
    if (b.distributed !== undefined && v.bool('distributed', b.distributed))
      throw badRequest('Distributed routers are not supported');
    if (b.ha !== undefined && v.bool('ha', b.ha)) throw badRequest('HA routers are not supported');
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.m.checkQuota(projectId, 'router', trx);
      await this.store.insert(
        'net_routers',
        {
          id,
          project_id: projectId,
          name: b.name === undefined ? '' : v.str('name', b.name),
          admin_state_up: int(
            b.admin_state_up === undefined ? true : v.bool('admin_state_up', b.admin_state_up),
          ),
          status: 'ACTIVE',
          enable_snat: 1,
          routes: '[]',
          availability_zone_hints: JSON.stringify(
            b.availability_zone_hints === undefined ? [] : azList(b.availability_zone_hints),
          ),
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      await this.store.setTags('router', id, tags, trx);
    });
    try {
      if (b.external_gateway_info !== undefined && b.external_gateway_info !== null)
        await this.setGateway(c, id, b.external_gateway_info);
    } catch (e) {
      await this.store.delete('net_routers', [{ eq: 'id', values: [id] }]);
      throw e;
    }
    this.changes.router(id);
    return this.m.viewOf(c, 'router', id);
  }

  /** Set, change or clear (`{}`/null) a router's external gateway. */
  async setGateway(c: Caller, routerId: string, info: unknown): Promise<void> {
    const router = (await this.store.get('net_routers', routerId))!;
    const d = info === null ? {} : v.dict('external_gateway_info', info);
    const bad = Object.keys(d).filter(
      (k) => !['network_id', 'enable_snat', 'external_fixed_ips'].includes(k),
    );
    if (bad.length)
      throw invalidAttr('external_gateway_info', `Unrecognized attribute(s) '${bad.join(', ')}'`);
    const clear = d.network_id === undefined || d.network_id === null;
    if (clear) {
      if (!router.gw_network_id) return;
      await this.removeGateway(router);
      return;
    }
    const netId = v.uuid('network_id', d.network_id);
    const net = await this.store.get('net_networks', netId);
    if (!net || !this.m.allowed(c, 'get_network', await this.m.target(c, 'network', net)))
      throw NotFound.network(netId);
    if (!(await this.m.networks.externalFor(net, router.project_id)))
      throw new ApiError(
        400,
        `Bad router request: Network ${netId} is not an external network.`,
        'BadRequest',
      );
    const enableSnat = d.enable_snat === undefined ? true : v.bool('enable_snat', d.enable_snat);
    const fixed =
      d.external_fixed_ips === undefined ? undefined : this.m.addresses.parseFixedIps(d.external_fixed_ips);
    if (router.gw_network_id === netId && fixed === undefined) {
      await this.store.update('net_routers', routerId, { enable_snat: int(enableSnat), updated_at: now() });
      return;
    }
    if (router.gw_network_id) await this.removeGateway(router);
    const portId = randomUUID();
    await this.store.tx(async (trx) => {
      const ts = now();
      const port: Row = {
        id: portId,
        project_id: '',
        network_id: netId,
        name: '',
        mac_address: randomMac(),
        admin_state_up: 1,
        status: 'DOWN',
        device_id: routerId,
        device_owner: OWNER_ROUTER_GATEWAY,
        port_security_enabled: 0,
        revision_number: 0,
        created_at: ts,
        updated_at: ts,
      };
      await this.store.insert('net_ports', port, trx);
      const subnets = await this.store.list(
        'net_subnets',
        { where: [{ eq: 'network_id', values: [netId] }], sort: [{ col: 'created_at', dir: 'asc' }] },
        trx,
      );
      if (subnets.length === 0)
        throw new ApiError(400, `Bad router request: No subnets on external network ${netId}.`, 'BadRequest');
      await this.m.addresses.allocateFixedIps(port, fixed, subnets, trx);
      await this.store.update(
        'net_routers',
        routerId,
        { gw_port_id: portId, gw_network_id: netId, enable_snat: int(enableSnat), updated_at: now() },
        trx,
      );
    });
    this.changes.port(portId, netId);
  }

  async removeGateway(router: Row): Promise<void> {
    const fips = await this.store.count('net_floatingips', [
      { eq: 'router_id', values: [router.id] },
      { eq: 'floating_network_id', values: [router.gw_network_id] },
    ]);
    if (fips)
      throw conflict(
        'RouterExternalGatewayInUseByFloatingIp',
        `Gateway cannot be updated for router ${router.id}, since a gateway to external network ${router.gw_network_id} is required by one or more floating IPs.`,
      );
    await this.store.tx(async (trx) => {
      await this.store.update(
        'net_routers',
        router.id,
        { gw_port_id: null, gw_network_id: null, updated_at: now() },
        trx,
      );
      if (router.gw_port_id)
        await this.store.delete('net_ports', [{ eq: 'id', values: [router.gw_port_id] }], trx);
    });
    if (router.gw_port_id) this.changes.port(router.gw_port_id, router.gw_network_id, true);
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'router',
      ['name', 'admin_state_up', 'external_gateway_info', 'description', 'routes', 'distributed', 'ha'],
      ['id', 'tenant_id', 'project_id', 'status'],
    );
    await this.m.forChange(c, 'router', 'update', id, ifMatch, b);
    const patch: Row = {};
    if (b.name !== undefined) patch.name = v.str('name', b.name);
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.admin_state_up !== undefined)
      patch.admin_state_up = int(v.bool('admin_state_up', b.admin_state_up));
    if (b.routes !== undefined)
      patch.routes = JSON.stringify(await this.validateRoutes(id, b.routes === null ? [] : b.routes));
    if (b.external_gateway_info !== undefined) await this.setGateway(c, id, b.external_gateway_info);
    await this.m.bump('net_routers', id, patch, this.store.db);
    this.changes.router(id);
    return this.m.viewOf(c, 'router', id);
  }

  /** Static routes: nexthop must be in a subnet connected to the router (InvalidRoutes). */
  async validateRoutes(
    routerId: string,
    val: unknown,
    ex: Exec = this.store.db,
  ): Promise<{ destination: string; nexthop: string }[]> {
    const routes = hostRoutes(val, undefined, 'routes');
    const ports = await this.store.list(
      'net_ports',
      { where: [{ eq: 'device_id', values: [routerId] }] },
      ex,
    );
    const allocs = await this.store.allocationsFor(
      ports.map((p) => p.id),
      ex,
    );
    const subnets = await this.store.getMany('net_subnets', uniq(allocs.map((a) => a.subnet_id)), ex);
    for (const r of routes) {
      const nh = parseIp(r.nexthop)!;
      if (!subnets.some((s) => cidrContains(parseCidr(s.cidr)!, nh)))
        throw new ApiError(
          400,
          `Invalid format for routes: ${JSON.stringify([r])}, the nexthop is not connected with router`,
          'InvalidRoutes',
        );
      if (allocs.some((a) => a.ip_address === r.nexthop))
        throw new ApiError(
          400,
          `Invalid format for routes: ${JSON.stringify([r])}, the nexthop is used by router`,
          'InvalidRoutes',
        );
    }
    return routes;
  }

  async changeExtraRoutes(c: Caller, id: string, body: unknown, add: boolean) {
    const b = v.resourceBody(body, 'router', ['routes']);
    const row = await this.m.visibleRow(c, 'router', id);
    this.m.enforce(c, add ? 'add_extraroutes' : 'remove_extraroutes', await this.m.target(c, 'router', row));
    const given = hostRoutes(b.routes ?? [], undefined, 'routes');
    const cur = json<{ destination: string; nexthop: string }[]>(row.routes, []);
    const key = (r: { destination: string; nexthop: string }) => `${r.destination}|${r.nexthop}`;
    let next: typeof cur;
    if (add) {
      await this.validateRoutes(id, given);
      next = [...cur, ...given.filter((g) => !cur.some((x) => key(x) === key(g)))];
    } else next = cur.filter((x) => !given.some((g) => key(g) === key(x)));
    await this.m.bump('net_routers', id, { routes: JSON.stringify(next) }, this.store.db);
    this.changes.router(id);
    return this.m.viewOf(c, 'router', id);
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.m.forChange(c, 'router', 'delete', id, ifMatch);
    const ifaces = await this.store.count('net_ports', [
      { eq: 'device_id', values: [id] },
      { eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] },
    ]);
    if (ifaces) throw conflict('RouterInUse', `Router ${id} still has ports`);
    if (row.gw_network_id) await this.removeGateway(row);
    await this.store.tx(async (trx) => {
      await this.store.removeTag('router', id, undefined, trx);
      await this.store.delete('net_routers', [{ eq: 'id', values: [id] }], trx);
    });
    this.changes.router(id, true);
  }

  async addRouterInterface(c: Caller, id: string, body: unknown) {
    const router = await this.m.visibleRow(c, 'router', id);
    const target = await this.m.target(c, 'router', router);
    this.m.enforce(c, 'add_router_interface', target);
    const d = body && typeof body === 'object' && !Array.isArray(body) ? (body as Row) : undefined;
    if (!d) throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
    const bad = Object.keys(d).filter((k) => k !== 'subnet_id' && k !== 'port_id');
    if (bad.length) throw badRequest(`Unrecognized attribute(s) '${bad.join(', ')}'`);
    if (d.subnet_id !== undefined && d.port_id !== undefined)
      throw new ApiError(400, 'Bad router request: Cannot specify both subnet-id and port-id.', 'BadRequest');
    if (d.subnet_id === undefined && d.port_id === undefined)
      throw new ApiError(
        400,
        'Bad router request: Either subnet_id or port_id must be specified.',
        'BadRequest',
      );
    const { allocs: routerAllocs } = await this.routerInterfacePorts(id);
    let portId: string;
    let subnetIds: string[];
    if (d.port_id !== undefined) {
      portId = v.uuid('port_id', d.port_id);
      const port = await this.m.visibleRow(c, 'port', portId);
      if (port.device_id || port.device_owner)
        throw conflict(
          'PortInUse',
          `Unable to complete operation on port ${portId} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`,
        );
      const allocs = await this.store.allocationsFor([portId]);
      if (allocs.length === 0)
        throw new ApiError(
          400,
          `Bad router request: Router port must have at least one fixed IP.`,
          'BadRequest',
        );
      subnetIds = uniq(allocs.map((a) => a.subnet_id));
      for (const s of subnetIds) await this.checkSubnetFree(s, routerAllocs);
      await this.store.update('net_ports', portId, {
        device_id: id,
        device_owner: OWNER_ROUTER_INTERFACE,
        updated_at: now(),
      });
    } else {
      const subnetId = v.uuid('subnet_id', d.subnet_id);
      const subnet = await this.m.visibleRow(c, 'subnet', subnetId);
      if (!subnet.gateway_ip)
        throw new ApiError(
          400,
          `Bad router request: Subnet for router interface must have a gateway IP.`,
          'BadRequest',
        );
      await this.checkSubnetFree(subnetId, routerAllocs);
      const net = await this.store.get('net_networks', subnet.network_id);
      if (bool(net!.external))
        throw new ApiError(
          400,
          `Bad router request: Router interface on an external network is not supported.`,
          'BadRequest',
        );
      portId = randomUUID();
      subnetIds = [subnetId];
      await this.store.tx(async (trx) => {
        const ts = now();
        const port: Row = {
          id: portId,
          project_id: router.project_id,
          network_id: subnet.network_id,
          name: '',
          mac_address: randomMac(),
          admin_state_up: 1,
          status: 'DOWN',
          device_id: id,
          device_owner: OWNER_ROUTER_INTERFACE,
          port_security_enabled: 0,
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        };
        await this.store.insert('net_ports', port, trx);
        await this.m.addresses.allocateOn(subnet, port, subnet.gateway_ip, trx);
      });
    }
    await this.m.bump('net_routers', id, {}, this.store.db);
    const port = (await this.store.get('net_ports', portId))!;
    this.changes.port(portId, port.network_id);
    this.changes.router(id);
    return {
      id,
      tenant_id: router.project_id,
      project_id: router.project_id,
      port_id: portId,
      network_id: port.network_id,
      subnet_id: subnetIds[0],
      subnet_ids: subnetIds,
    };
  }

  async checkSubnetFree(subnetId: string, routerAllocs: Row[]) {
    if (routerAllocs.some((a) => a.subnet_id === subnetId))
      throw new ApiError(
        400,
        `Bad router request: Router already has a port on subnet ${subnetId}.`,
        'BadRequest',
      );
    const subnet = await this.store.get('net_subnets', subnetId);
    const mine = parseCidr(subnet!.cidr)!;
    const others = await this.store.getMany('net_subnets', uniq(routerAllocs.map((a) => a.subnet_id)));
    for (const o of others)
      if (cidrsOverlap(parseCidr(o.cidr)!, mine))
        throw new ApiError(
          400,
          `Bad router request: Cidr ${subnet!.cidr} of subnet ${subnetId} overlaps with cidr ${o.cidr} of subnet ${o.id}.`,
          'BadRequest',
        );
  }

  /** A router's interface ports and their address allocations. */
  async routerInterfacePorts(routerId: string) {
    const ports = await this.store.list('net_ports', {
      where: [
        { eq: 'device_id', values: [routerId] },
        { eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] },
      ],
    });
    return { ports, allocs: await this.store.allocationsFor(ports.map((p) => p.id)) };
  }

  async removeRouterInterface(c: Caller, id: string, body: unknown) {
    const router = await this.m.visibleRow(c, 'router', id);
    this.m.enforce(c, 'remove_router_interface', await this.m.target(c, 'router', router));
    const d = body && typeof body === 'object' && !Array.isArray(body) ? (body as Row) : {};
    if (d.subnet_id === undefined && d.port_id === undefined)
      throw new ApiError(
        400,
        'Bad router request: Either subnet_id or port_id must be specified.',
        'BadRequest',
      );
    const { ports, allocs } = await this.routerInterfacePorts(id);
    let port: Row | undefined;
    let subnetIds: string[];
    if (d.port_id !== undefined) {
      const pid = v.str('port_id', d.port_id);
      port = ports.find((p) => p.id === pid);
      if (!port)
        throw new ApiError(
          404,
          `Router ${id} does not have an interface with id ${pid}`,
          'RouterInterfaceNotFound',
        );
      subnetIds = allocs.filter((a) => a.port_id === pid).map((a) => a.subnet_id);
      if (d.subnet_id !== undefined && !subnetIds.includes(String(d.subnet_id)))
        throw new ApiError(
          409,
          `Subnet ${String(d.subnet_id)} is not associated with port ${pid}`,
          'SubnetMismatchForPort',
        );
    } else {
      const sid = v.str('subnet_id', d.subnet_id);
      const a = allocs.find((x) => x.subnet_id === sid);
      if (!a)
        throw new ApiError(
          404,
          `Router ${id} has no interface on subnet ${sid}`,
          'RouterInterfaceNotFoundForSubnet',
        );
      port = ports.find((p) => p.id === a.port_id)!;
      subnetIds = [sid];
    }
    // Floating IPs reaching their ports through this interface keep the interface in use.
    for (const sid of subnetIds) {
      const fips = await this.store.list('net_floatingips', { where: [{ eq: 'router_id', values: [id] }] });
      const fixedAllocs = await this.store.allocationsFor(fips.map((f) => f.fixed_port_id).filter(Boolean));
      if (
        fixedAllocs.some((a) => a.subnet_id === sid && fips.some((f) => f.fixed_ip_address === a.ip_address))
      )
        throw conflict(
          'RouterInterfaceInUseByFloatingIP',
          `Router interface for subnet ${sid} on router ${id} cannot be deleted, as it is required by one or more floating IPs.`,
        );
    }
    const remaining = allocs.filter((a) => a.port_id === port!.id && !subnetIds.includes(a.subnet_id));
    await this.store.tx(async (trx) => {
      if (remaining.length === 0)
        await this.store.delete('net_ports', [{ eq: 'id', values: [port!.id] }], trx);
      else
        for (const sid of subnetIds)
          await this.store.delete(
            'net_ipallocations',
            [
              { eq: 'port_id', values: [port!.id] },
              { eq: 'subnet_id', values: [sid] },
            ],
            trx,
          );
      await this.m.bump('net_routers', id, {}, trx);
    });
    this.changes.port(port.id, port.network_id, remaining.length === 0);
    this.changes.router(id);
    return {
      id,
      tenant_id: router.project_id,
      project_id: router.project_id,
      port_id: port.id,
      network_id: port.network_id,
      subnet_id: subnetIds[0],
      subnet_ids: subnetIds,
    };
  }
}
