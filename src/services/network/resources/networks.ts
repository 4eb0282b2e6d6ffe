/** Networks (ML2 core resource): provider segments, sharing and external flags through RBAC. */
import { randomUUID } from 'node:crypto';
import { bool, int } from '../../../core/db/index.js';
import { NotFound, badRequest, conflict, invalidInput } from '../errors.js';
import type { Cond, Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { azList } from '../validate.js';
import { networkView } from '../views.js';
import {
  B,
  I,
  OWNER_DHCP,
  OWNER_FLOATINGIP,
  OWNER_ROUTER_GATEWAY,
  Resource,
  S,
  STD,
  now,
  ownProject,
  type Caller,
  type Rendered,
  type ResourceDef,
} from './base.js';

export class Networks extends Resource {
  readonly def: ResourceDef = {
    kind: 'network',
    path: 'networks',
    collection: 'networks',
    member: 'network',
    table: 'net_networks',
    tagType: 'network',
    columns: {
      ...STD,
      name: S('name'),
      admin_state_up: B('admin_state_up'),
      status: S('status'),
      shared: B('shared'),
      'router:external': B('external'),
      is_default: B('is_default'),
      mtu: I('mtu'),
      port_security_enabled: B('port_security_enabled'),
      'provider:network_type': S('network_type'),
      'provider:physical_network': S('physical_network'),
      'provider:segmentation_id': I('segmentation_id'),
    },
    others: [
      'subnets',
      'availability_zones',
      'availability_zone_hints',
      'ipv4_address_scope',
      'ipv6_address_scope',
      'l2_adjacency',
    ],
  };

  override visibility(c: Caller): Cond[] {
    return [visibleNetworks(c)];
  }

  override async target(c: Caller, row: Row, ex: Exec): Promise<Row> {
    return {
      ...row,
      tenant_id: row.project_id,
      shared: await this.sharedFor(c, row, ex),
      'router:external': await this.externalFor(row, c.projectId, ex),
    };
  }

  /** A child's (subnet, port) network, when the caller may see it (else NetworkNotFound). */
  async parent(c: Caller, networkId: string): Promise<Row> {
    return this.m.visibleRow(c, 'network', networkId).catch(() => {
      throw NotFound.network(networkId);
    });
  }

  /** The network's attributes in a child's (subnet, port) policy target. */
  async parentTarget(c: Caller, row: Row, ex: Exec): Promise<Row> {
    const net = await this.store.get('net_networks', row.network_id, ex);
    if (!net) return {};
    return {
      'network:project_id': net.project_id,
      'network:tenant_id': net.project_id,
      shared: await this.sharedFor(c, net, ex),
      'router:external': await this.externalFor(net, c.projectId, ex),
    };
  }

  /** External for everyone (`router:external`), or for this project through an access_as_external entry. */
  async externalFor(net: Row, projectId: string, ex: Exec = this.store.db): Promise<boolean> {
    if (bool(net.external)) return true;
    const n = await this.store.count(
      'net_rbac_policies',
      [
        { eq: 'object_id', values: [net.id] },
        { eq: 'action', values: ['access_as_external'] },
        { eq: 'target_project', values: [projectId] },
      ],
      ex,
    );
    return n > 0;
  }

  /** Shared with everyone, or with the caller's project through an access_as_shared entry. */
  async sharedFor(c: Caller, net: Row, ex: Exec = this.store.db): Promise<boolean> {
    if (bool(net.shared)) return true;
    if (net.project_id === c.projectId) return false;
    const n = await this.store.count(
      'net_rbac_policies',
      [
        { eq: 'object_id', values: [net.id] },
        { eq: 'action', values: ['access_as_shared'] },
        { eq: 'target_project', values: [c.projectId] },
      ],
      ex,
    );
    return n > 0;
  }

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const ids = rows.map((r) => r.id as string);
    const targets: Row[] = [];
    const subnets = await this.store.list('net_subnets', { where: [{ eq: 'network_id', values: ids }] }, ex);
    const rbac = c.isAdmin
      ? []
      : await this.store.list(
          'net_rbac_policies',
          {
            where: [
              { eq: 'object_id', values: ids },
              { eq: 'target_project', values: [c.projectId] },
            ],
          },
          ex,
        );
    const sharedIds = new Set(rbac.filter((r) => r.action === 'access_as_shared').map((r) => r.object_id));
    const extIds = new Set(rbac.filter((r) => r.action === 'access_as_external').map((r) => r.object_id));
    const views: Record<string, unknown>[] = rows.map((r) => {
      const shared = bool(r.shared) || (r.project_id !== c.projectId && sharedIds.has(r.id));
      const external = bool(r.external) || extIds.has(r.id);
      targets.push({ ...r, tenant_id: r.project_id, shared, 'router:external': external });
      return networkView(
        { ...r, external: int(external) },
        {
          subnets: subnets
            .filter((s) => s.network_id === r.id)
            .map((s) => s.id as string)
            .sort(),
          tags: tags.get(r.id),
          sharedForCaller: shared,
        },
      );
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'network', [
      ...UPDATABLE,
      'availability_zone_hints',
      'project_id',
      'tenant_id',
      'tags',
      'dns_domain',
    ]);
    if (b.dns_domain !== undefined) throw badRequest(`Unrecognized attribute(s) 'dns_domain'`);
    const { projectId } = this.m.authorizeCreate(c, 'network', b);
    const shared = b.shared === undefined ? false : v.bool('shared', b.shared);
    const external =
      b['router:external'] === undefined ? false : v.bool('router:external', b['router:external']);
    const seg = this.segmentRequest(b);
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const azHints = b.availability_zone_hints === undefined ? [] : azList(b.availability_zone_hints);
    const id = randomUUID();
    const ts = now();
    // Segment ids are unique in the database: a concurrent create that took the same VNI/VLAN is retried
    // (allocated ids) or reported (requested ids).
    const segConflict =
      seg.type === 'flat' || (seg.segid !== null && seg.segid !== undefined)
        ? () =>
            seg.type === 'flat'
              ? conflict(
                  'FlatNetworkInUse',
                  `Unable to create the flat network. Physical network ${seg.physnet} is in use.`,
                )
              : conflict('SegmentInUse', `Unable to create the network. Segment ${seg.segid} is in use.`)
        : undefined;
    await this.m.txRetry(segConflict, async (trx) => {
      await this.m.checkQuota(projectId, 'network', trx);
      const s = await this.allocateSegment(seg, trx);
      const mtu = s.network_type === 'vxlan' ? 1450 : 1500;
      if (b.mtu !== undefined && v.int('mtu', b.mtu, 68) > mtu)
        throw invalidInput(`Requested MTU is too big, maximum is ${mtu}`);
      await this.store.insert(
        'net_networks',
        {
          id,
          project_id: projectId,
          name: b.name === undefined ? '' : v.str('name', b.name),
          admin_state_up: int(
            b.admin_state_up === undefined ? true : v.bool('admin_state_up', b.admin_state_up),
          ),
          status: 'ACTIVE',
          shared: int(shared),
          external: int(external),
          is_default: int(b.is_default === undefined ? false : v.bool('is_default', b.is_default)),
          mtu: b.mtu === undefined ? mtu : v.int('mtu', b.mtu),
          port_security_enabled: int(
            b.port_security_enabled === undefined
              ? true
              : v.bool('port_security_enabled', b.port_security_enabled),
          ),
          network_type: s.network_type,
          physical_network: s.physical_network,
          segmentation_id: s.segmentation_id,
          availability_zone_hints: JSON.stringify(azHints),
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      await this.store.insert(
        'net_segments',
        {
          network_id: id,
          network_type: s.network_type,
          physical_network: s.physical_network ?? '',
          segmentation_id: s.network_type === 'flat' ? 0 : s.segmentation_id,
        },
        trx,
      );
      if (shared) await this.insertRbac(trx, projectId, id, '*', 'access_as_shared');
      if (external) await this.insertRbac(trx, projectId, id, '*', 'access_as_external');
      await this.store.setTags('network', id, tags, trx);
    });
    await this.m.securityGroups.ensureDefaultSg(projectId);
    this.changes.network(id);
    return this.m.viewOf(c, 'network', id);
  }

  segmentRequest(b: Row): { type?: string; physnet?: string | null; segid?: number | null } {
    const t = b['provider:network_type'];
    const p = b['provider:physical_network'];
    const s = b['provider:segmentation_id'];
    if (t === undefined && p === undefined && s === undefined) return {};
    if (t === undefined) throw invalidInput('network_type required');
    const type = v.str('provider:network_type', t);
    if (!(NETWORK_TYPES as readonly string[]).includes(type))
      throw invalidInput(`network_type value '${type}' not supported`);
    const physnet =
      p === undefined || p === null || p === '' ? null : v.str('provider:physical_network', p, 64);
    const segid = s === undefined || s === null ? null : v.int('provider:segmentation_id', s);
    switch (type) {
      case 'flat':
        if (!physnet) throw invalidInput('physical_network required for flat provider network');
        if (segid !== null) throw invalidInput('segmentation_id specified for flat provider network');
        break;
      case 'vlan':
        if (!physnet) throw invalidInput('physical_network required for VLAN provider network');
        if (segid !== null && (segid < 1 || segid > 4094))
          throw invalidInput('segmentation_id out of range (1 through 4094)');
        break;
      case 'vxlan':
        if (physnet) throw invalidInput('provider:physical_network specified for VXLAN network');
        if (segid !== null && (segid < 1 || segid > 16777215))
          throw invalidInput(`segmentation_id out of range (1 through 16777215)`);
        break;
      case 'local':
        if (physnet) throw invalidInput('provider:physical_network specified for local network');
        if (segid !== null) throw invalidInput('provider:segmentation_id specified for local network');
        break;
    }
    return { type, physnet, segid };
  }

  async allocateSegment(
    req: { type?: string; physnet?: string | null; segid?: number | null },
    ex: Exec,
  ): Promise<{ network_type: string; physical_network: string | null; segmentation_id: number | null }> {
    const type = req.type ?? 'vxlan';
    const physnet = req.physnet ?? null;
    if (type === 'flat' || type === 'local') {
      if (type === 'flat') {
        const used = await this.store.count(
          'net_segments',
          [
            { eq: 'network_type', values: ['flat'] },
            { eq: 'physical_network', values: [physnet!] },
          ],
          ex,
        );
        if (used)
          throw conflict(
            'FlatNetworkInUse',
            `Unable to create the flat network. Physical network ${physnet} is in use.`,
          );
      }
      return { network_type: type, physical_network: physnet, segmentation_id: null };
    }
    const inUse = async (id: number) =>
      (await this.store.count(
        'net_segments',
        [
          { eq: 'network_type', values: [type] },
          { eq: 'physical_network', values: [physnet ?? ''] },
          { eq: 'segmentation_id', values: [id] },
        ],
        ex,
      )) > 0;
    if (req.segid !== null && req.segid !== undefined) {
      if (await inUse(req.segid)) {
        throw type === 'vlan'
          ? conflict(
              'VlanIdInUse',
              `Unable to create the network. The VLAN ${req.segid} on physical network ${physnet} is in use.`,
            )
          : conflict('TunnelIdInUse', `Unable to create the network. The tunnel ID ${req.segid} is in use.`);
      }
      return { network_type: type, physical_network: physnet, segmentation_id: req.segid };
    }
    const [lo, hi] = type === 'vlan' ? VLAN_RANGE : VXLAN_RANGE;
    const used = new Set(
      (
        await this.store.list(
          'net_segments',
          {
            where: [
              { eq: 'network_type', values: [type] },
              { eq: 'physical_network', values: [physnet ?? ''] },
            ],
          },
          ex,
        )
      ).map((r) => Number(r.segmentation_id)),
    );
    // A random one of the first free ids, so concurrent creates rarely collide (a collision is retried).
    const free: number[] = [];
    for (let i = lo; i <= hi && free.length < 32; i++) if (!used.has(i)) free.push(i);
    if (free.length)
      return {
        network_type: type,
        physical_network: physnet,
        segmentation_id: free[Math.floor(Math.random() * free.length)]!,
      };
    throw conflict(
      'NoNetworkAvailable',
      'Unable to create the network. No tenant network is available for allocation.',
    );
  }

  async insertRbac(ex: Exec, projectId: string, objectId: string, target: string, action: string) {
    await this.store.insertIfAbsent(
      'net_rbac_policies',
      {
        id: randomUUID(),
        project_id: projectId,
        object_type: 'network',
        object_id: objectId,
        target_project: target,
        action,
      },
      ex,
    );
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(body, 'network', UPDATABLE, [
      'id',
      'tenant_id',
      'project_id',
      'status',
      'subnets',
    ]);
    const { row } = await this.m.forChange(c, 'network', 'update', id, ifMatch, b);
    for (const k of ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'])
      if (b[k] !== undefined) throw invalidInput('Plugin does not support updating provider attributes');
    const patch: Row = {};
    if (b.name !== undefined) patch.name = v.str('name', b.name);
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.admin_state_up !== undefined)
      patch.admin_state_up = int(v.bool('admin_state_up', b.admin_state_up));
    if (b.port_security_enabled !== undefined)
      patch.port_security_enabled = int(v.bool('port_security_enabled', b.port_security_enabled));
    if (b.is_default !== undefined) patch.is_default = int(v.bool('is_default', b.is_default));
    if (b.mtu !== undefined) {
      const max = row.network_type === 'vxlan' ? 1450 : 1500;
      const mtu = v.int('mtu', b.mtu, 68);
      if (mtu > max) throw invalidInput(`Requested MTU is too big, maximum is ${max}`);
      patch.mtu = mtu;
    }
    await this.store.tx(async (trx) => {
      if (b.shared !== undefined) {
        const shared = v.bool('shared', b.shared);
        if (shared) await this.insertRbac(trx, row.project_id, id, '*', 'access_as_shared');
        else if (bool(row.shared)) {
          const others = await this.store.count(
            'net_ports',
            [
              { eq: 'network_id', values: [id] },
              { ne: 'project_id', value: row.project_id },
              { ne: 'device_owner', value: OWNER_ROUTER_GATEWAY },
              { ne: 'device_owner', value: OWNER_FLOATINGIP },
            ],
            trx,
          );
          if (others)
            throw conflict(
              'InvalidSharedSetting',
              `Unable to reconfigure sharing settings for network ${id}. Multiple tenants are using it.`,
            );
          await this.store.delete(
            'net_rbac_policies',
            [
              { eq: 'object_id', values: [id] },
              { eq: 'target_project', values: ['*'] },
              { eq: 'action', values: ['access_as_shared'] },
            ],
            trx,
          );
        }
        patch.shared = int(shared);
      }
      if (b['router:external'] !== undefined) {
        const ext = v.bool('router:external', b['router:external']);
        if (!ext && bool(row.external)) {
          const gws = await this.store.count('net_routers', [{ eq: 'gw_network_id', values: [id] }], trx);
          const fips = await this.store.count(
            'net_floatingips',
            [{ eq: 'floating_network_id', values: [id] }],
            trx,
          );
          if (gws || fips)
            throw conflict(
              'ExternalNetworkInUse',
              `External network ${id} cannot be updated to be internal because it is in use.`,
            );
          await this.store.delete(
            'net_rbac_policies',
            [
              { eq: 'object_id', values: [id] },
              { eq: 'action', values: ['access_as_external'] },
            ],
            trx,
          );
        }
        if (ext) await this.insertRbac(trx, row.project_id, id, '*', 'access_as_external');
        patch.external = int(ext);
      }
      await this.m.bump('net_networks', id, patch, trx);
    });
    this.changes.network(id);
    return this.m.viewOf(c, 'network', id);
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    await this.m.forChange(c, 'network', 'delete', id, ifMatch);
    const portIds: { id: string }[] = [];
    await this.store.tx(async (trx) => {
      const ports = await this.store.list('net_ports', { where: [{ eq: 'network_id', values: [id] }] }, trx);
      if (ports.some((p) => p.device_owner !== OWNER_DHCP))
        throw conflict(
          'NetworkInUse',
          `Unable to complete operation on network ${id}. There are one or more ports still in use on the network.`,
        );
      for (const p of ports) portIds.push({ id: p.id });
      await this.store.delete('net_ports', [{ eq: 'network_id', values: [id] }], trx);
      await this.store.delete('net_subnets', [{ eq: 'network_id', values: [id] }], trx);
      await this.store.delete('net_rbac_policies', [{ eq: 'object_id', values: [id] }], trx);
      await this.store.removeTag('network', id, undefined, trx);
      await this.store.delete('net_networks', [{ eq: 'id', values: [id] }], trx);
    });
    for (const p of portIds) this.changes.port(p.id, id, true);
    this.changes.network(id);
  }
}

/** The attributes a network update may name (provider ones only to be refused); a create takes more. */
const UPDATABLE = [
  'name',
  'admin_state_up',
  'shared',
  'router:external',
  'mtu',
  'port_security_enabled',
  'description',
  'is_default',
  'provider:network_type',
  'provider:physical_network',
  'provider:segmentation_id',
];

export const NETWORK_TYPES = ['flat', 'vlan', 'vxlan', 'local'] as const;
const VXLAN_RANGE = [1, 65535] as const;
const VLAN_RANGE = [1000, 2999] as const;

/** The networks a member sees: its own, shared, external, or shared with it by RBAC (a SQL condition). */
export function visibleNetworks(c: Caller): Cond {
  const me = ownProject(c);
  const rbacNet: Cond = {
    in: 'id',
    table: 'net_rbac_policies',
    select: 'object_id',
    where: [
      { eq: 'object_type', values: ['network'] },
      { eq: 'target_project', values: [c.projectId, '*'] },
    ],
  };
  return { or: [me, { eq: 'shared', values: [1] }, { eq: 'external', values: [1] }, rbacNet] };
}
