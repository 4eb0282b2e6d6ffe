/** Floating IPs: an address on an external network, associated with a port through a router. */
import { randomUUID } from 'node:crypto';
import { bool, isUniqueViolation } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { NotFound } from '../errors.js';
import { parseIp, randomMac } from '../ipam.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { floatingIpView } from '../views.js';
import {
  OWNER_FLOATINGIP,
  OWNER_ROUTER_INTERFACE,
  Resource,
  S,
  STD,
  now,
  type Caller,
  type Rendered,
  type ResourceDef,
} from './base.js';

export class FloatingIps extends Resource {
  readonly def: ResourceDef = {
    kind: 'floatingip',
    path: 'floatingips',
    collection: 'floatingips',
    member: 'floatingip',
    table: 'net_floatingips',
    tagType: 'floatingip',
    columns: {
      ...STD,
      floating_network_id: S('floating_network_id'),
      floating_ip_address: S('floating_ip_address'),
      router_id: S('router_id'),
      port_id: S('fixed_port_id'),
      fixed_ip_address: S('fixed_ip_address'),
      status: S('status'),
    },
    others: ['port_details'],
  };

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const targets: Row[] = [];
    const ports = new Map(
      (await this.store.getMany('net_ports', rows.map((r) => r.fixed_port_id).filter(Boolean), ex)).map(
        (p) => [p.id, p],
      ),
    );
    const views: Record<string, unknown>[] = rows.map((r) => {
      targets.push({ ...r, tenant_id: r.project_id });
      const p = r.fixed_port_id ? ports.get(r.fixed_port_id) : undefined;
      return floatingIpView(r, {
        portDetails: p
          ? {
              name: p.name,
              network_id: p.network_id,
              mac_address: p.mac_address,
              admin_state_up: bool(p.admin_state_up),
              status: p.status,
              device_id: p.device_id,
              device_owner: p.device_owner,
            }
          : null,
        tags: tags.get(r.id),
      });
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'floatingip', [
      'floating_network_id',
      'floating_ip_address',
      'subnet_id',
      'port_id',
      'fixed_ip_address',
      'description',
      'project_id',
      'tenant_id',
      'tags',
    ]);
    v.required(b, 'floating_network_id');
    const netId = v.uuid('floating_network_id', b.floating_network_id);
    const { projectId } = this.m.authorizeCreate(c, 'floatingip', b);
    const net = await this.store.get('net_networks', netId);
    if (!net || !this.m.allowed(c, 'get_network', await this.m.target(c, 'network', net)))
      throw NotFound.network(netId);
    if (!(await this.m.networks.externalFor(net, projectId)))
      throw new ApiError(
        400,
        `Bad floatingip request: Network ${netId} is not a valid external network.`,
        'BadRequest',
      );
    const fixedReq: { subnet_id?: string; ip_address?: string }[] | undefined =
      b.floating_ip_address !== undefined || b.subnet_id !== undefined
        ? [
            {
              ...(b.subnet_id !== undefined ? { subnet_id: v.uuid('subnet_id', b.subnet_id) } : {}),
              ...(b.floating_ip_address !== undefined
                ? { ip_address: v.ip('floating_ip_address', b.floating_ip_address) }
                : {}),
            },
          ]
        : undefined;
    const assoc =
      b.port_id !== undefined && b.port_id !== null
        ? await this.resolveAssociation(c, projectId, netId, b.port_id, b.fixed_ip_address)
        : undefined;
    const id = randomUUID();
    const portId = randomUUID();
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    await this.store
      .tx(async (trx) => {
        await this.m.checkQuota(projectId, 'floatingip', trx);
        const ts = now();
        const port: Row = {
          id: portId,
          project_id: '',
          network_id: netId,
          name: '',
          mac_address: randomMac(),
          admin_state_up: 1,
          status: 'N/A',
          device_id: id,
          device_owner: OWNER_FLOATINGIP,
          port_security_enabled: 0,
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        };
        await this.store.insert('net_ports', port, trx);
        const subnets = (
          await this.store.list(
            'net_subnets',
            { where: [{ eq: 'network_id', values: [netId] }], sort: [{ col: 'created_at', dir: 'asc' }] },
            trx,
          )
        ).filter((s) => Number(s.ip_version) === 4);
        if (subnets.length === 0)
          throw new ApiError(
            400,
            `Bad floatingip request: Network ${netId} does not contain any IPv4 subnet.`,
            'BadRequest',
          );
        await this.m.addresses.allocateFixedIps(port, fixedReq, subnets, trx);
        const alloc = (await this.store.allocationsFor([portId], trx))[0]!;
        await this.store.insert(
          'net_floatingips',
          {
            id,
            project_id: projectId,
            floating_network_id: netId,
            floating_ip_address: alloc.ip_address,
            floating_port_id: portId,
            fixed_port_id: assoc?.portId ?? null,
            fixed_ip_address: assoc?.fixedIp ?? null,
            router_id: assoc?.routerId ?? null,
            status: 'DOWN',
            description: b.description === undefined ? '' : v.str('description', b.description),
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          },
          trx,
        );
        await this.store.setTags('floatingip', id, tags, trx);
      })
      .catch((e) => {
        if (isUniqueViolation(e)) throw fipAlreadyAssociated(assoc);
        throw e;
      });
    if (assoc) this.changes.router(assoc.routerId);
    return this.m.viewOf(c, 'floatingip', id);
  }

  /**
   * The port/fixed IP a floating IP may be associated with, and the router that reaches it: a router with a
   * gateway on the floating network and an interface on the fixed IP's subnet (else 404, as Neutron).
   */
  async resolveAssociation(
    c: Caller,
    projectId: string,
    floatingNetId: string,
    portIdVal: unknown,
    fixedIpVal: unknown,
  ): Promise<{ portId: string; fixedIp: string; routerId: string }> {
    const portId = v.uuid('port_id', portIdVal);
    const port = await this.store.get('net_ports', portId);
    if (!port || !this.m.allowed(c, 'get_port', await this.m.target(c, 'port', port)))
      throw NotFound.port(portId);
    if (port.project_id !== projectId && !c.isAdmin)
      throw new ApiError(
        400,
        `Bad floatingip request: Cannot create floating IP and bind it to Port ${portId}, since that port is owned by a different tenant.`,
        'BadRequest',
      );
    if (String(port.device_owner).startsWith('network:'))
      throw new ApiError(
        400,
        `Bad floatingip request: Port ${portId} has owner ${port.device_owner} and therefore cannot be associated with a floating IP.`,
        'BadRequest',
      );
    const allocs = (await this.store.allocationsFor([portId])).filter(
      (a) => parseIp(a.ip_address)!.version === 4,
    );
    let alloc: Row | undefined;
    if (fixedIpVal !== undefined && fixedIpVal !== null) {
      const ip = v.ip('fixed_ip_address', fixedIpVal);
      alloc = allocs.find((a) => a.ip_address === ip);
      if (!alloc)
        throw new ApiError(
          400,
          `Bad floatingip request: Port ${portId} does not have fixed ip ${ip}.`,
          'BadRequest',
        );
    } else {
      if (allocs.length === 0)
        throw new ApiError(
          400,
          `Bad floatingip request: Port ${portId} does not have any IPv4 address.`,
          'BadRequest',
        );
      if (allocs.length > 1)
        throw new ApiError(
          400,
          `Bad floatingip request: Port ${portId} has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP.`,
          'BadRequest',
        );
      alloc = allocs[0]!;
    }
    const routers = await this.store.list('net_routers', {
      where: [{ eq: 'gw_network_id', values: [floatingNetId] }],
    });
    const ifacePorts = await this.store.list('net_ports', {
      where: [
        { eq: 'device_id', values: routers.map((r) => r.id) },
        { eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] },
        { eq: 'network_id', values: [port.network_id] },
      ],
    });
    const ifaceAllocs = await this.store.allocationsFor(ifacePorts.map((p) => p.id));
    const hit = ifaceAllocs.find((a) => a.subnet_id === alloc!.subnet_id);
    if (!hit)
      throw new ApiError(
        404,
        `External network ${floatingNetId} is not reachable from subnet ${alloc.subnet_id}.  Therefore, cannot associate Port ${portId} with a Floating IP.`,
        'ExternalGatewayForFloatingIPNotFound',
      );
    const routerId = ifacePorts.find((p) => p.id === hit.port_id)!.device_id as string;
    return { portId, fixedIp: alloc.ip_address, routerId };
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'floatingip',
      ['port_id', 'fixed_ip_address', 'description'],
      ['id', 'floating_network_id', 'floating_ip_address', 'tenant_id', 'project_id', 'router_id', 'status'],
    );
    const { row } = await this.m.forChange(c, 'floatingip', 'update', id, ifMatch, b);
    const patch: Row = {};
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    let assoc: { portId: string; fixedIp: string; routerId: string } | undefined;
    if (b.port_id !== undefined) {
      if (b.port_id === null) {
        patch.fixed_port_id = null;
        patch.fixed_ip_address = null;
        patch.router_id = null;
        patch.status = 'DOWN';
      } else {
        assoc = await this.resolveAssociation(
          c,
          row.project_id,
          row.floating_network_id,
          b.port_id,
          b.fixed_ip_address,
        );
        patch.fixed_port_id = assoc.portId;
        patch.fixed_ip_address = assoc.fixedIp;
        patch.router_id = assoc.routerId;
      }
    }
    await this.m.bump('net_floatingips', id, patch, this.store.db).catch((e) => {
      if (isUniqueViolation(e)) throw fipAlreadyAssociated(assoc);
      throw e;
    });
    if (row.router_id) this.changes.router(row.router_id);
    if (assoc && assoc.routerId !== row.router_id) this.changes.router(assoc.routerId);
    return this.m.viewOf(c, 'floatingip', id);
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.m.forChange(c, 'floatingip', 'delete', id, ifMatch);
    await this.store.tx(async (trx) => {
      await this.store.removeTag('floatingip', id, undefined, trx);
      await this.store.delete('net_floatingips', [{ eq: 'id', values: [id] }], trx);
      await this.store.delete('net_ports', [{ eq: 'id', values: [row.floating_port_id] }], trx);
    });
    if (row.router_id) this.changes.router(row.router_id);
    this.changes.port(row.floating_port_id, row.floating_network_id, true);
  }
}

function fipAlreadyAssociated(assoc: { portId: string; fixedIp: string } | undefined): ApiError {
  return new ApiError(
    409,
    `Cannot associate floating IP with port ${assoc?.portId} using fixed IP ${assoc?.fixedIp}, as that fixed IP already has a floating IP on external network.`,
    'FloatingIPPortAlreadyAssociated',
  );
}
