/** Ports: fixed IPs (IPAM), MAC, bindings, security groups, allowed address pairs. */
import { randomUUID } from 'node:crypto';
import { bool, int, isUniqueViolation, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { NotFound, badRequest, conflict } from '../errors.js';
import { normalizeIp, randomMac } from '../ipam.js';
import type { ListParams } from '../query.js';
import type { Cond, Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { portView } from '../views.js';
import {
  B,
  OWNER_FLOATINGIP,
  OWNER_ROUTER_GATEWAY,
  OWNER_ROUTER_INTERFACE,
  Resource,
  S,
  STD,
  groupBy,
  now,
  ownProject,
  uniq,
  type Caller,
  type Rendered,
  type ResourceDef,
} from './base.js';

export class Ports extends Resource {
  readonly def: ResourceDef = {
    kind: 'port',
    path: 'ports',
    collection: 'ports',
    member: 'port',
    table: 'net_ports',
    tagType: 'port',
    columns: {
      ...STD,
      name: S('name'),
      network_id: S('network_id'),
      mac_address: S('mac_address'),
      admin_state_up: B('admin_state_up'),
      status: S('status'),
      device_id: S('device_id'),
      device_owner: S('device_owner'),
      port_security_enabled: B('port_security_enabled'),
      'binding:host_id': S('binding_host_id'),
      'binding:vnic_type': S('binding_vnic_type'),
      'binding:vif_type': S('binding_vif_type'),
    },
    others: ['allowed_address_pairs', 'binding:profile', 'binding:vif_details'],
  };

  override readonly specialFilters = ['fixed_ips', 'security_groups'];

  override visibility(c: Caller): Cond[] {
    const me = ownProject(c);
    return [{ or: [me, { in: 'network_id', table: 'net_networks', select: 'id', where: [me] }] }];
  }

  override async target(c: Caller, row: Row, ex: Exec): Promise<Row> {
    return {
      ...row,
      tenant_id: row.project_id,
      ...(await this.m.networks.parentTarget(c, row, ex)),
      'device_owner:is_network': String(row.device_owner ?? '').startsWith('network:'),
    };
  }

  override filterConds(params: ListParams): Cond[] {
    const conds: Cond[] = [];
    for (const f of params.filters.fixed_ips ?? []) {
      const m = /^(ip_address|subnet_id|ip_address_substr)=(.*)$/.exec(f);
      if (!m) throw badRequest(`Invalid input for fixed_ips. Reason: '${f}' is not a valid filter.`);
      const where: Cond[] =
        m[1] === 'ip_address'
          ? [{ eq: 'ip_address', values: [normalizeIp(m[2]) ?? m[2]!] }]
          : m[1] === 'subnet_id'
            ? [{ eq: 'subnet_id', values: [m[2]!] }]
            : [{ like: 'ip_address', pattern: `%${m[2]!.replace(/[%_]/g, '')}%` }];
      conds.push({ in: 'id', table: 'net_ipallocations', select: 'port_id', where });
    }
    const sgs = params.filters.security_groups;
    if (sgs?.length)
      conds.push({
        in: 'id',
        table: 'net_port_security_groups',
        select: 'port_id',
        where: [{ eq: 'security_group_id', values: sgs }],
      });
    return conds;
  }

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const ids = rows.map((r) => r.id as string);
    const targets: Row[] = [];
    const allocs = groupBy(await this.store.allocationsFor(ids, ex), 'port_id');
    const sgs = groupBy(await this.store.portSecurityGroups(ids, ex), 'port_id');
    const nets = new Map(
      (await this.store.getMany('net_networks', uniq(rows.map((r) => r.network_id)), ex)).map((n) => [
        n.id,
        n,
      ]),
    );
    const views: Record<string, unknown>[] = rows.map((r) => {
      const net = nets.get(r.network_id);
      targets.push({
        ...r,
        tenant_id: r.project_id,
        'network:project_id': net?.project_id,
        'network:tenant_id': net?.project_id,
        shared: net ? bool(net.shared) : false,
        'device_owner:is_network': String(r.device_owner).startsWith('network:'),
      });
      return portView(r, {
        fixedIps: (allocs.get(r.id) ?? []).map((a) => ({
          subnet_id: a.subnet_id,
          ip_address: a.ip_address,
        })),
        securityGroups: (sgs.get(r.id) ?? []).map((s) => s.security_group_id),
        tags: tags.get(r.id),
      });
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  parsePairs(val: unknown): { ip_address: string; mac_address?: string }[] {
    const pairs = v.list('allowed_address_pairs', val).map((x) => {
      const d = v.dict('allowed_address_pairs', x);
      const bad = Object.keys(d).filter((k) => k !== 'ip_address' && k !== 'mac_address');
      if (bad.length) throw badRequest(`Unrecognized attribute(s) '${bad.join(', ')}'`);
      if (d.ip_address === undefined)
        throw new ApiError(400, 'AllowedAddressPair must contain ip_address', 'AllowedAddressPairsMissingIP');
      const out: { ip_address: string; mac_address?: string } = {
        ip_address: v.cidrOrIp('allowed_address_pairs', d.ip_address),
      };
      if (d.mac_address !== undefined) out.mac_address = v.mac('allowed_address_pairs', d.mac_address);
      return out;
    });
    const keys = pairs.map((p) => `${p.ip_address}|${p.mac_address ?? ''}`);
    if (new Set(keys).size !== keys.length)
      throw new ApiError(
        400,
        'Request contains duplicate address pair: ' + keys.find((k, i) => keys.indexOf(k) !== i),
        'DuplicateAddressPairInRequest',
      );
    return pairs;
  }

  async resolveSgs(projectId: string, val: unknown, ex: Exec): Promise<string[]> {
    const ids = uniq(v.list('security_groups', val).map((x) => v.str('security_groups', x)));
    const out: string[] = [];
    for (const id of ids) {
      const g = v.isUuid(id)
        ? await this.store.get('net_security_groups', id, ex)
        : (
            await this.store.list(
              'net_security_groups',
              {
                where: [
                  { eq: 'name', values: [id] },
                  { eq: 'project_id', values: [projectId] },
                ],
              },
              ex,
            )
          )[0];
      if (!g || g.project_id !== projectId) throw NotFound.security_group(id);
      out.push(g.id);
    }
    return out;
  }

  override async create(c: Caller, body: unknown): Promise<Record<string, unknown>> {
    const b = v.resourceBody(body, 'port', [...UPDATABLE, 'network_id', 'project_id', 'tenant_id', 'tags']);
    v.required(b, 'network_id');
    const networkId = v.uuid('network_id', b.network_id);
    const net = await this.m.networks.parent(c, networkId);
    const projectId = this.m.owner(c, b);
    const deviceOwner = b.device_owner === undefined ? '' : v.str('device_owner', b.device_owner);
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      'network:project_id': net.project_id,
      'network:tenant_id': net.project_id,
      shared: await this.m.networks.sharedFor(c, net),
      'device_owner:is_network': deviceOwner.startsWith('network:'),
    };
    this.m.enforce(c, 'create_port', target);
    this.m.enforceAttrs(c, 'create', 'port', b, target);
    const fixed = b.fixed_ips === undefined ? undefined : this.m.addresses.parseFixedIps(b.fixed_ips);
    const pairs = b.allowed_address_pairs === undefined ? [] : this.parsePairs(b.allowed_address_pairs);
    const mac = b.mac_address === undefined ? undefined : v.mac('mac_address', b.mac_address);
    const portSecurity =
      b.port_security_enabled === undefined
        ? bool(net.port_security_enabled)
        : v.bool('port_security_enabled', b.port_security_enabled);
    const hostId = b['binding:host_id'] === undefined ? '' : v.str('binding:host_id', b['binding:host_id']);
    const profile = b['binding:profile'] === undefined ? {} : v.dict('binding:profile', b['binding:profile']);
    const vnic =
      b['binding:vnic_type'] === undefined
        ? 'normal'
        : v.oneOf('binding:vnic_type', b['binding:vnic_type'], VNIC_TYPES);
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    if (!portSecurity && pairs.length)
      throw conflict(
        'AddressPairAndPortSecurityRequired',
        'Port Security must be enabled in order to have allowed address pairs on a port.',
      );
    if (
      b.security_groups !== undefined &&
      !portSecurity &&
      v.list('security_groups', b.security_groups).length
    )
      throw new ApiError(
        400,
        'Port security must be enabled and port must have an IP address in order to use security groups.',
        'PortSecurityAndIPRequiredForSecurityGroups',
      );
    const wantDefaultSg =
      b.security_groups === undefined && portSecurity && !deviceOwner.startsWith('network:');
    if (wantDefaultSg) await this.m.securityGroups.ensureDefaultSg(projectId);
    const id = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.tx(async (trx) => {
          await this.m.checkQuota(projectId, 'port', trx);
          const sgs =
            b.security_groups !== undefined
              ? await this.resolveSgs(projectId, b.security_groups, trx)
              : wantDefaultSg
                ? [await this.m.securityGroups.defaultSgId(projectId, trx)]
                : [];
          const ts = now();
          const row: Row = {
            id,
            project_id: projectId,
            network_id: networkId,
            name: b.name === undefined ? '' : v.str('name', b.name),
            mac_address: mac ?? randomMac(),
            admin_state_up: int(
              b.admin_state_up === undefined ? true : v.bool('admin_state_up', b.admin_state_up),
            ),
            status: 'DOWN',
            device_id: b.device_id === undefined ? '' : v.str('device_id', b.device_id),
            device_owner: deviceOwner,
            port_security_enabled: int(portSecurity),
            binding_host_id: hostId,
            binding_profile: JSON.stringify(profile),
            binding_vif_type: hostId ? 'tap' : 'unbound',
            binding_vif_details: JSON.stringify(hostId ? { port_filter: true, connectivity: 'l2' } : {}),
            binding_vnic_type: vnic,
            allowed_address_pairs: JSON.stringify(
              pairs.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? mac ?? '' })),
            ),
            description: b.description === undefined ? '' : v.str('description', b.description),
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          };
          if (mac) {
            const used = await this.store.count(
              'net_ports',
              [
                { eq: 'network_id', values: [networkId] },
                { eq: 'mac_address', values: [mac] },
              ],
              trx,
            );
            if (used)
              throw conflict(
                'MacAddressInUse',
                `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`,
              );
          }
          await this.store.insert('net_ports', row, trx);
          if (!mac) {
            const pairsFixed = pairs.map((p) => ({
              ip_address: p.ip_address,
              mac_address: p.mac_address ?? row.mac_address,
            }));
            if (pairs.length)
              await this.store.setColumns(
                'net_ports',
                [{ eq: 'id', values: [id] }],
                { allowed_address_pairs: JSON.stringify(pairsFixed) },
                trx,
              );
          }
          const subnets = await this.store.list(
            'net_subnets',
            { where: [{ eq: 'network_id', values: [networkId] }], sort: [{ col: 'created_at', dir: 'asc' }] },
            trx,
          );
          await this.m.addresses.allocateFixedIps(row, fixed, subnets, trx);
          for (const sg of sgs)
            await this.store.insert('net_port_security_groups', { port_id: id, security_group_id: sg }, trx);
          await this.store.setTags('port', id, tags, trx);
        });
        break;
      } catch (e) {
        if (!mac && attempt < 3 && isUniqueViolation(e)) continue;
        if (mac && isUniqueViolation(e))
          throw conflict(
            'MacAddressInUse',
            `Unable to complete operation for network ${networkId}. The mac address ${mac} is in use.`,
          );
        throw e;
      }
    }
    this.changes.port(id, networkId);
    return this.m.viewOf(c, 'port', id);
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(body, 'port', UPDATABLE, [
      'id',
      'network_id',
      'tenant_id',
      'project_id',
      'status',
    ]);
    const { row } = await this.m.forChange(c, 'port', 'update', id, ifMatch, b);
    const patch: Row = {};
    if (b.name !== undefined) patch.name = v.str('name', b.name);
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.admin_state_up !== undefined)
      patch.admin_state_up = int(v.bool('admin_state_up', b.admin_state_up));
    if (b.device_id !== undefined) patch.device_id = v.str('device_id', b.device_id);
    if (b.device_owner !== undefined) patch.device_owner = v.str('device_owner', b.device_owner);
    if (b.mac_address !== undefined) {
      const mac = v.mac('mac_address', b.mac_address);
      if (mac !== row.mac_address) {
        if (row.binding_host_id)
          throw conflict(
            'PortBound',
            `Unable to complete operation on port ${id}, port is already bound, port type: tap, old_mac ${row.mac_address}, new_mac ${mac}.`,
          );
        patch.mac_address = mac;
      }
    }
    if (b['binding:host_id'] !== undefined) {
      const host = b['binding:host_id'] === null ? '' : v.str('binding:host_id', b['binding:host_id']);
      patch.binding_host_id = host;
      patch.binding_vif_type = host ? 'tap' : 'unbound';
      patch.binding_vif_details = JSON.stringify(host ? { port_filter: true, connectivity: 'l2' } : {});
      if (!host) patch.status = 'DOWN';
    }
    if (b['binding:profile'] !== undefined)
      patch.binding_profile = JSON.stringify(
        b['binding:profile'] === null ? {} : v.dict('binding:profile', b['binding:profile']),
      );
    if (b['binding:vnic_type'] !== undefined)
      patch.binding_vnic_type = v.oneOf('binding:vnic_type', b['binding:vnic_type'], VNIC_TYPES);
    const portSecurity =
      b.port_security_enabled === undefined
        ? bool(row.port_security_enabled)
        : v.bool('port_security_enabled', b.port_security_enabled);
    patch.port_security_enabled = int(portSecurity);
    const pairs =
      b.allowed_address_pairs === undefined
        ? undefined
        : b.allowed_address_pairs === null
          ? []
          : this.parsePairs(b.allowed_address_pairs);
    const macNow = patch.mac_address ?? row.mac_address;
    if (pairs !== undefined)
      patch.allowed_address_pairs = JSON.stringify(
        pairs.map((p) => ({ ip_address: p.ip_address, mac_address: p.mac_address ?? macNow })),
      );
    const pairsAfter = pairs ?? json<unknown[]>(row.allowed_address_pairs, []);
    if (!portSecurity && pairsAfter.length)
      throw conflict(
        'AddressPairAndPortSecurityRequired',
        'Port Security must be enabled in order to have allowed address pairs on a port.',
      );
    const leftGroups: string[] = [];
    const fixed = b.fixed_ips === undefined ? undefined : this.m.addresses.parseFixedIps(b.fixed_ips);
    await this.store.tx(async (trx) => {
      let sgs: string[] | undefined;
      if (b.security_groups !== undefined)
        sgs = b.security_groups === null ? [] : await this.resolveSgs(row.project_id, b.security_groups, trx);
      const currentSgs = (await this.store.portSecurityGroups([id], trx)).map((x) => x.security_group_id);
      leftGroups.push(...currentSgs);
      if (!portSecurity && (sgs ?? currentSgs).length)
        throw conflict(
          'PortSecurityPortHasSecurityGroup',
          'Port has security group associated. Cannot disable port security or ip address until security group is removed',
        );
      if (patch.mac_address) {
        const used = await this.store.count(
          'net_ports',
          [
            { eq: 'network_id', values: [row.network_id] },
            { eq: 'mac_address', values: [patch.mac_address] },
          ],
          trx,
        );
        if (used)
          throw conflict(
            'MacAddressInUse',
            `Unable to complete operation for network ${row.network_id}. The mac address ${patch.mac_address} is in use.`,
          );
      }
      const updated = await this.store.update(
        'net_ports',
        id,
        { ...patch, updated_at: now() },
        trx,
        ifMatch ? Number(row.revision_number) : undefined,
      );
      if (!updated)
        throw new ApiError(
          412,
          `Constrained to ${Number(row.revision_number)}, but current revision is newer`,
          'RevisionNumberConstraintFailed',
        );
      if (sgs !== undefined) {
        await this.store.delete('net_port_security_groups', [{ eq: 'port_id', values: [id] }], trx);
        for (const sg of sgs)
          await this.store.insert('net_port_security_groups', { port_id: id, security_group_id: sg }, trx);
      }
      if (fixed !== undefined) {
        const current = await this.store.allocationsFor([id], trx);
        const subnets = await this.store.list(
          'net_subnets',
          { where: [{ eq: 'network_id', values: [row.network_id] }] },
          trx,
        );
        // Keep requested addresses that the port already has; release the rest; allocate the new ones.
        const keep = new Set<string>();
        const toAllocate: { subnet_id?: string; ip_address?: string }[] = [];
        for (const f of fixed) {
          const hit = current.find(
            (a) =>
              !keep.has(`${a.subnet_id}|${a.ip_address}`) &&
              (f.ip_address === undefined || a.ip_address === f.ip_address) &&
              (f.subnet_id === undefined || a.subnet_id === f.subnet_id) &&
              f.ip_address !== undefined,
          );
          if (hit) keep.add(`${hit.subnet_id}|${hit.ip_address}`);
          else toAllocate.push(f);
        }
        for (const a of current)
          if (!keep.has(`${a.subnet_id}|${a.ip_address}`))
            await this.store.allocationStore(trx).release(a.subnet_id, a.ip_address);
        const portRow = { ...row, ...patch };
        if (toAllocate.length) await this.m.addresses.allocateFixedIps(portRow, toAllocate, subnets, trx);
      }
    });
    this.changes.port(id, row.network_id, false, leftGroups);
    return this.m.viewOf(c, 'port', id);
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.m.forChange(c, 'port', 'delete', id, ifMatch);
    // Router and floating IP ports belong to their router / floating IP (Neutron's prevent_l3_port_deletion).
    if ([OWNER_ROUTER_INTERFACE, OWNER_ROUTER_GATEWAY, OWNER_FLOATINGIP].includes(row.device_owner))
      throw conflict(
        'PortInUse',
        `Port ${id} cannot be deleted directly via the port API: has device owner ${row.device_owner}.`,
      );
    await this.removePort(row);
  }

  /** Delete a port row with its addresses, floating IP associations and tags. */
  async removePort(row: Row): Promise<void> {
    const routers: string[] = [];
    const groups: string[] = [];
    await this.store.tx(async (trx) => {
      for (const g of await this.store.portSecurityGroups([row.id], trx)) groups.push(g.security_group_id);
      const fips = await this.store.list(
        'net_floatingips',
        { where: [{ eq: 'fixed_port_id', values: [row.id] }] },
        trx,
      );
      for (const f of fips) {
        if (f.router_id) routers.push(f.router_id);
        await this.store.update(
          'net_floatingips',
          f.id,
          { fixed_port_id: null, fixed_ip_address: null, router_id: null, status: 'DOWN', updated_at: now() },
          trx,
        );
      }
      await this.store.removeTag('port', row.id, undefined, trx);
      await this.store.delete('net_ports', [{ eq: 'id', values: [row.id] }], trx);
    });
    this.changes.port(row.id, row.network_id, true, groups);
    for (const r of uniq(routers)) this.changes.router(r);
  }
}

/** The attributes a port update may set (a create also takes network_id, project_id, tenant_id, tags). */
const UPDATABLE = [
  'name',
  'admin_state_up',
  'mac_address',
  'fixed_ips',
  'device_id',
  'device_owner',
  'security_groups',
  'allowed_address_pairs',
  'port_security_enabled',
  'binding:host_id',
  'binding:profile',
  'binding:vnic_type',
  'description',
];

const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'remote-managed',
] as const;
