/**
 * The network manager: Neutron's plugin logic (ML2 + L3 + security groups + quotas + RBAC) over the store.
 * Routes parse and call it; it validates, enforces Neutron's policies (404 when the caller may not see a
 * resource, 403 when it may see but not change it), runs the store in transactions and tells the wiring
 * layer what changed.
 */
import { IP_PROTOCOL_MAP } from '../../agent/network/ip-protocols.js';
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Credentials, PolicyEngine } from '../../core/auth/policy.js';
import type { AuthContext } from '../../core/auth/context.js';
import { bool, int, isUniqueViolation, json } from '../../core/db/index.js';
import { ApiError } from '../../core/errors.js';
import { NotFound, badRequest, conflict, invalidAttr, invalidInput } from './errors.js';
import {
  Ipam,
  cidrContains,
  cidrsOverlap,
  defaultGateway,
  formatCidr,
  gatewayInvalidInSubnet,
  generatePools,
  isAutoAddressSubnet,
  normalizeIp,
  parseCidr,
  parseIp,
  poolContaining,
  poolsSize,
  randomMac,
  validatePools,
  type IpRange,
  type IpamSubnet,
} from './ipam.js';
import {
  columnConds,
  pageLinks,
  parseListParams,
  type CollectionDef,
  type ListParams,
  type Query,
} from './query.js';
import type { Cond, Exec, NetworkStore, Row, Table } from './store.js';
import * as v from './validate.js';
import {
  floatingIpView,
  networkView,
  portView,
  rbacView,
  routerView,
  sgRuleView,
  sgView,
  subnetView,
} from './views.js';

/** Who is calling, as the manager needs it. */
export interface Caller {
  creds: Credentials;
  projectId: string;
  isAdmin: boolean;
}

/** What changed, for the wiring layer (agent documents are rebuilt from the database, coalesced). */
export interface ChangeSink {
  network(id: string): void;
  /** A port changed; `groups` are security groups it left (their member address sets change). */
  port(id: string, networkId: string, deleted?: boolean, groups?: string[]): void;
  router(id: string, deleted?: boolean): void;
  securityGroup(id: string, deleted?: boolean): void;
}

export const DEFAULT_QUOTAS: Record<string, number> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
};
const QUOTA_TABLE: Record<string, Table> = {
  network: 'net_networks',
  subnet: 'net_subnets',
  port: 'net_ports',
  router: 'net_routers',
  floatingip: 'net_floatingips',
  security_group: 'net_security_groups',
  security_group_rule: 'net_security_group_rules',
  rbac_policy: 'net_rbac_policies',
};

export const NETWORK_TYPES = ['flat', 'vlan', 'vxlan', 'local'] as const;
const VXLAN_RANGE = [1, 65535] as const;
const VLAN_RANGE = [1000, 2999] as const;

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

export const OWNER_DHCP = 'network:dhcp';
export const OWNER_ROUTER_INTERFACE = 'network:router_interface';
export const OWNER_ROUTER_GATEWAY = 'network:router_gateway';
export const OWNER_FLOATINGIP = 'network:floatingip';

const now = () => new Date().toISOString();
const uniq = <T>(a: T[]) => [...new Set(a)];

// ---- collection definitions (filterable / sortable attributes)

const S = (col: string) => ({ col, type: 'string' as const });
const B = (col: string) => ({ col, type: 'bool' as const });
const I = (col: string) => ({ col, type: 'int' as const });
const STD = {
  id: S('id'),
  project_id: S('project_id'),
  description: S('description'),
  revision_number: I('revision_number'),
  created_at: S('created_at'),
  updated_at: S('updated_at'),
};

export const DEFS: Record<string, CollectionDef & { table: Table; tag?: string }> = {
  network: {
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
  },
  subnet: {
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
  },
  port: {
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
  },
  router: {
    collection: 'routers',
    member: 'router',
    table: 'net_routers',
    tagType: 'router',
    columns: { ...STD, name: S('name'), admin_state_up: B('admin_state_up'), status: S('status') },
    others: ['external_gateway_info', 'routes', 'availability_zones', 'availability_zone_hints'],
  },
  floatingip: {
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
  },
  security_group: {
    collection: 'security_groups',
    member: 'security_group',
    table: 'net_security_groups',
    tagType: 'security_group',
    columns: { ...STD, name: S('name'), stateful: B('stateful') },
    others: ['security_group_rules', 'shared'],
  },
  security_group_rule: {
    collection: 'security_group_rules',
    member: 'security_group_rule',
    table: 'net_security_group_rules',
    columns: {
      ...STD,
      security_group_id: S('security_group_id'),
      direction: S('direction'),
      ethertype: S('ethertype'),
      protocol: S('protocol'),
      port_range_min: I('port_range_min'),
      port_range_max: I('port_range_max'),
      remote_ip_prefix: S('remote_ip_prefix'),
      remote_group_id: S('remote_group_id'),
    },
    others: ['normalized_cidr', 'belongs_to_default_sg'],
  },
  rbac_policy: {
    collection: 'rbac_policies',
    member: 'rbac_policy',
    table: 'net_rbac_policies',
    columns: {
      id: S('id'),
      project_id: S('project_id'),
      object_type: S('object_type'),
      object_id: S('object_id'),
      action: S('action'),
      target_tenant: S('target_project'),
      target_project: S('target_project'),
    },
    others: [],
  },
};

/** Tag URL segment → resource kind. */
export const TAGGABLE: Record<string, string> = {
  networks: 'network',
  subnets: 'subnet',
  ports: 'port',
  routers: 'router',
  floatingips: 'floatingip',
  'security-groups': 'security_group',
};

export interface ListResult {
  items: Record<string, unknown>[];
  links: { rel: string; href: string }[];
}

const PORT_PROTOCOLS = ['tcp', 'udp', 'dccp', 'sctp', 'udplite', '6', '17', '33', '132', '136'];
const ICMP_PROTOCOLS = ['icmp', 'icmpv6', 'ipv6-icmp', '1', '58'];
const IPV6_ONLY_PROTOCOLS = [
  'ipv6-encap',
  'ipv6-frag',
  'ipv6-icmp',
  'icmpv6',
  'ipv6-nonxt',
  'ipv6-opts',
  'ipv6-route',
];

export class NetworkManager {
  private policyNames: Set<string>;

  constructor(
    readonly store: NetworkStore,
    readonly policy: PolicyEngine,
    readonly changes: ChangeSink,
    policyRuleNames: string[],
  ) {
    this.policyNames = new Set(policyRuleNames);
  }

  caller(auth: AuthContext | undefined): Caller {
    if (!auth) throw new ApiError(401, 'The request you have made requires authentication.');
    return {
      creds: auth.creds,
      projectId: auth.projectId ?? '',
      isAdmin: this.policy.check('context_is_admin', {}, auth.creds),
    };
  }

  /** A caller with every right (the facade other services use); project-scoped, as the policies require. */
  serviceCaller(projectId = 'stackbox-service'): Caller {
    return {
      creds: {
        roles: ['admin', 'member', 'reader', 'service'],
        project_id: projectId,
      } as unknown as Credentials,
      projectId,
      isAdmin: true,
    };
  }

  // ------------------------------------------------------------------------------------------------
  // policy

  allowed(c: Caller, rule: string, target: Record<string, unknown>): boolean {
    if (c.isAdmin && !this.policyNames.has(rule)) return true;
    return this.policy.check(rule, target, c.creds);
  }

  enforce(c: Caller, rule: string, target: Record<string, unknown>): void {
    if (!this.allowed(c, rule, target))
      throw new ApiError(403, `(rule:${rule}) is disallowed by policy`, 'PolicyNotAuthorized');
  }

  /** A transaction retried when it hits a unique constraint (a concurrent writer won), or that conflict. */
  private async txRetry<T>(
    onConflict: (() => ApiError) | undefined,
    fn: (trx: Transaction<any>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.tx(fn);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (onConflict) throw onConflict();
        if (attempt >= 10) throw conflict('HTTPConflict', 'Concurrent update conflict; retry the request.');
      }
    }
  }

  /** Per-attribute rules (`create_port:binding:host_id`) for the attributes given. */
  private enforceAttrs(
    c: Caller,
    action: string,
    member: string,
    body: Record<string, unknown>,
    target: Row,
  ) {
    for (const k of Object.keys(body)) {
      const rule = `${action}_${member}:${k}`;
      if (this.policyNames.has(rule)) this.enforce(c, rule, target);
      const val = body[k];
      const subs: Record<string, unknown>[] = Array.isArray(val)
        ? (val.filter((x) => x && typeof x === 'object') as Record<string, unknown>[])
        : val && typeof val === 'object'
          ? [val as Record<string, unknown>]
          : [];
      for (const s of subs)
        for (const sk of Object.keys(s)) {
          const r2 = `${rule}:${sk}`;
          if (this.policyNames.has(r2)) this.enforce(c, r2, target);
        }
    }
  }

  /** Drop attributes the caller may not read (`get_network:provider:network_type`). */
  private stripAttrs(c: Caller, member: string, view: Record<string, unknown>, target: Row) {
    if (c.isAdmin) return view;
    for (const k of Object.keys(view)) {
      const rule = `get_${member}:${k}`;
      if (k !== 'tags' && this.policyNames.has(rule) && !this.policy.check(rule, target, c.creds))
        delete view[k];
    }
    return view;
  }

  // ------------------------------------------------------------------------------------------------
  // quotas

  async quotaLimits(projectId: string, ex: Exec = this.store.db): Promise<Record<string, number>> {
    const out = { ...DEFAULT_QUOTAS };
    for (const r of await this.store.list(
      'net_quotas',
      { where: [{ eq: 'project_id', values: [projectId] }] },
      ex,
    ))
      out[r.resource] = Number(r.limit);
    return out;
  }

  private async checkQuota(projectId: string, resource: string, ex: Exec, adding = 1): Promise<void> {
    const limits = await this.quotaLimits(projectId, ex);
    const limit = limits[resource] ?? -1;
    if (limit < 0) return;
    const used = await this.store.usage(QUOTA_TABLE[resource]!, projectId, ex);
    if (used + adding > limit)
      throw new ApiError(409, `Quota exceeded for resources: ['${resource}'].`, 'OverQuota');
  }

  async quotaUsage(
    projectId: string,
  ): Promise<Record<string, { limit: number; used: number; reserved: number }>> {
    const limits = await this.quotaLimits(projectId);
    const out: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const [k, limit] of Object.entries(limits)) {
      const t = QUOTA_TABLE[k];
      out[k] = { limit, used: t ? await this.store.usage(t, projectId) : 0, reserved: 0 };
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // generic list / get

  private async visibility(c: Caller, kind: string): Promise<Cond[]> {
    if (c.isAdmin) return [];
    const me = { eq: 'project_id', values: [c.projectId] } as Cond;
    const rbacNet: Cond = {
      in: 'id',
      table: 'net_rbac_policies',
      select: 'object_id',
      where: [
        { eq: 'object_type', values: ['network'] },
        { eq: 'target_project', values: [c.projectId, '*'] },
      ],
    };
    switch (kind) {
      case 'network':
        return [{ or: [me, { eq: 'shared', values: [1] }, { eq: 'external', values: [1] }, rbacNet] }];
      case 'subnet':
        return [
          {
            or: [
              me,
              {
                in: 'network_id',
                table: 'net_networks',
                select: 'id',
                where: [
                  {
                    or: [me, { eq: 'shared', values: [1] }, { eq: 'external', values: [1] }, rbacNet],
                  },
                ],
              },
            ],
          },
        ];
      case 'port':
        return [{ or: [me, { in: 'network_id', table: 'net_networks', select: 'id', where: [me] }] }];
      default:
        return [me];
    }
  }

  async list(c: Caller, kind: string, q: Query, baseUrl: string, extra: Cond[] = []): Promise<ListResult> {
    const def = DEFS[kind]!;
    const special = kind === 'port' ? ['fixed_ips', 'security_groups'] : [];
    const params = parseListParams(q, def, special);
    const conds = [...(await this.visibility(c, kind)), ...columnConds(def, params), ...extra];
    if (kind === 'port') conds.push(...this.portFilterConds(params));
    // Like Neutron, listing groups is a "first use" that creates the caller's default group.
    if (kind === 'security_group' && c.projectId) await this.ensureDefaultSg(c.projectId);
    if (kind === 'security_group' && c.isAdmin && params.filters.project_id)
      for (const p of params.filters.project_id) await this.ensureDefaultSg(p);
    const sortDir = (d: 'asc' | 'desc') => (params.pageReverse ? (d === 'asc' ? 'desc' : 'asc') : d);
    let sort = params.sort.map((s) => ({ col: def.columns[s.key]!.col, dir: sortDir(s.dir) }));
    if (sort.length === 0 && (params.limit !== undefined || params.marker))
      sort = [{ col: 'id', dir: sortDir('asc') }];
    let after: Row | undefined;
    if (params.marker) {
      after = await this.store.get(def.table, params.marker);
      if (!after)
        throw (
          (NotFound as Record<string, (id: string) => ApiError>)[kind]?.(params.marker) ??
          badRequest('marker not found')
        );
    }
    const rows = await this.store.list(def.table, {
      where: conds,
      sort: sort.length ? sort : undefined,
      limit: params.limit !== undefined ? params.limit + 1 : undefined,
      after,
    });
    const hasMore = params.limit !== undefined && rows.length > params.limit;
    let page = hasMore ? rows.slice(0, params.limit) : rows;
    if (params.pageReverse) page = page.reverse();
    const views = await this.render(c, kind, page);
    const items = views.filter((x) => x.visible).map((x) => selectFields(x.view, params.fields));
    return {
      items,
      links: pageLinks(
        baseUrl,
        q,
        def.collection,
        params,
        views.map((x) => x.view),
        hasMore,
      ),
    };
  }

  private portFilterConds(params: ListParams): Cond[] {
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

  async show(c: Caller, kind: string, id: string, q: Query = {}): Promise<Record<string, unknown>> {
    const row = await this.visibleRow(c, kind, id);
    const [r] = await this.render(c, kind, [row]);
    const fields = parseListParams(
      Object.fromEntries(Object.entries(q).filter(([k]) => k === 'fields')),
      DEFS[kind]!,
    ).fields;
    return selectFields(r!.view, fields);
  }

  /** The row when the caller may see it (get_<kind>), else the resource's NotFound. */
  async visibleRow(c: Caller, kind: string, id: string, ex: Exec = this.store.db): Promise<Row> {
    const def = DEFS[kind]!;
    const nf = (NotFound as Record<string, (id: string) => ApiError>)[kind]!;
    const row = await this.store.get(def.table, id, ex);
    if (!row) throw nf(id);
    const target = await this.target(c, kind, row, ex);
    if (!this.allowed(c, `get_${def.member}`, target)) throw nf(id);
    return row;
  }

  /** Policy target of a resource (its attributes plus the parent's, as Neutron builds it). */
  async target(c: Caller, kind: string, row: Row, ex: Exec = this.store.db): Promise<Row> {
    const t: Row = { ...row, tenant_id: row.project_id };
    if (kind === 'network') {
      t.shared = await this.sharedFor(c, row, ex);
      t['router:external'] = await this.externalFor(row, c.projectId, ex);
    }
    if (kind === 'subnet' || kind === 'port') {
      const net = await this.store.get('net_networks', row.network_id, ex);
      if (net) {
        t['network:project_id'] = net.project_id;
        t['network:tenant_id'] = net.project_id;
        t.shared = await this.sharedFor(c, net, ex);
        t['router:external'] = await this.externalFor(net, c.projectId, ex);
      }
      if (kind === 'port')
        t['device_owner:is_network'] = String(row.device_owner ?? '').startsWith('network:');
    }
    if (kind === 'security_group') t.shared = false;
    if (kind === 'security_group_rule') {
      const sg = await this.store.get('net_security_groups', row.security_group_id, ex);
      t['security_group:project_id'] = sg?.project_id ?? row.project_id;
      t.belongs_to_default_sg = false;
    }
    return t;
  }

  /** External for everyone (`router:external`), or for this project through an access_as_external entry. */
  private async externalFor(net: Row, projectId: string, ex: Exec = this.store.db): Promise<boolean> {
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

  private async sharedFor(c: Caller, net: Row, ex: Exec = this.store.db): Promise<boolean> {
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

  /** Views for rows, with `visible` = the caller passes get_<kind> (and attributes stripped by policy). */
  async render(
    c: Caller,
    kind: string,
    rows: Row[],
    ex: Exec = this.store.db,
  ): Promise<{ view: Record<string, unknown>; visible: boolean }[]> {
    const def = DEFS[kind]!;
    const ids = rows.map((r) => r.id as string);
    const tags = def.tagType ? await this.store.tagsFor(def.tagType, ids, ex) : new Map<string, string[]>();
    let views: Record<string, unknown>[];
    const targets: Row[] = [];
    switch (kind) {
      case 'network': {
        const subnets = await this.store.list(
          'net_subnets',
          { where: [{ eq: 'network_id', values: ids }] },
          ex,
        );
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
        const sharedIds = new Set(
          rbac.filter((r) => r.action === 'access_as_shared').map((r) => r.object_id),
        );
        const extIds = new Set(rbac.filter((r) => r.action === 'access_as_external').map((r) => r.object_id));
        views = rows.map((r) => {
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
        break;
      }
      case 'subnet':
        views = rows.map((r) => subnetView(r, tags.get(r.id)));
        for (const r of rows) targets.push(await this.target(c, kind, r, ex));
        break;
      case 'port': {
        const allocs = groupBy(await this.store.allocationsFor(ids, ex), 'port_id');
        const sgs = groupBy(await this.store.portSecurityGroups(ids, ex), 'port_id');
        const nets = new Map(
          (await this.store.getMany('net_networks', uniq(rows.map((r) => r.network_id)), ex)).map((n) => [
            n.id,
            n,
          ]),
        );
        views = rows.map((r) => {
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
        break;
      }
      case 'router': {
        const gwIds = rows.map((r) => r.gw_port_id).filter(Boolean) as string[];
        const allocs = await this.store.allocationsFor(gwIds, ex);
        views = rows.map((r) => {
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
        break;
      }
      case 'floatingip': {
        const ports = new Map(
          (await this.store.getMany('net_ports', rows.map((r) => r.fixed_port_id).filter(Boolean), ex)).map(
            (p) => [p.id, p],
          ),
        );
        views = rows.map((r) => {
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
        break;
      }
      case 'security_group': {
        const rules = await this.store.list(
          'net_security_group_rules',
          { where: [{ eq: 'security_group_id', values: ids }], sort: [{ col: 'created_at', dir: 'asc' }] },
          ex,
        );
        const defaults = new Set(
          (
            await this.store.list(
              'net_default_security_groups',
              { where: [{ eq: 'security_group_id', values: ids }] },
              ex,
            )
          ).map((d) => d.security_group_id),
        );
        views = rows.map((r) => {
          targets.push({ ...r, tenant_id: r.project_id, shared: false });
          return sgView(
            r,
            rules.filter((x) => x.security_group_id === r.id).map((x) => ruleView(x, defaults.has(r.id))),
            tags.get(r.id),
          );
        });
        break;
      }
      case 'security_group_rule': {
        const groups = new Map(
          (
            await this.store.getMany('net_security_groups', uniq(rows.map((r) => r.security_group_id)), ex)
          ).map((g) => [g.id, g]),
        );
        const defaults = new Set(
          (
            await this.store.list(
              'net_default_security_groups',
              { where: [{ eq: 'security_group_id', values: [...groups.keys()] }] },
              ex,
            )
          ).map((d) => d.security_group_id),
        );
        views = rows.map((r) => {
          targets.push({
            ...r,
            tenant_id: r.project_id,
            'security_group:project_id': groups.get(r.security_group_id)?.project_id,
            belongs_to_default_sg: defaults.has(r.security_group_id),
          });
          return ruleView(r, defaults.has(r.security_group_id));
        });
        break;
      }
      case 'rbac_policy':
        views = rows.map((r) => {
          targets.push({ ...r, tenant_id: r.project_id, target_tenant: r.target_project });
          return rbacView(r);
        });
        break;
      default:
        throw new Error(`unknown kind ${kind}`);
    }
    return views.map((view, i) => {
      const visible = this.allowed(c, `get_${def.member}`, targets[i]!);
      return { view: this.stripAttrs(c, def.member, view, targets[i]!), visible };
    });
  }

  async viewOf(c: Caller, kind: string, id: string, ex: Exec = this.store.db) {
    const row = await this.store.get(DEFS[kind]!.table, id, ex);
    if (!row) throw (NotFound as Record<string, (id: string) => ApiError>)[kind]!(id);
    return (await this.render(c, kind, [row], ex))[0]!.view;
  }

  // ------------------------------------------------------------------------------------------------
  // update helpers

  /** Check `If-Match: revision_number=N` against the row (412 RevisionNumberConstraintFailed). */
  checkRevision(row: Row, ifMatch: string | undefined): void {
    if (!ifMatch) return;
    for (const part of ifMatch.split(',')) {
      const m = /^\s*revision_number=(\d+)\s*$/.exec(part);
      if (!m) continue;
      const want = Number(m[1]);
      const cur = Number(row.revision_number);
      if (want !== cur)
        throw new ApiError(
          412,
          `Constrained to ${want}, but current revision is ${cur}`,
          'RevisionNumberConstraintFailed',
        );
    }
  }

  private async bump(table: Table, id: string, patch: Row, ex: Exec): Promise<void> {
    await this.store.update(table, id, { ...patch, updated_at: now() }, ex);
  }

  /** The row for an update/delete: 404 when invisible, 403 when not allowed, 412 on revision mismatch. */
  private async forChange(
    c: Caller,
    kind: string,
    action: 'update' | 'delete',
    id: string,
    ifMatch?: string,
    body: Row = {},
    ex: Exec = this.store.db,
  ): Promise<{ row: Row; target: Row }> {
    const row = await this.visibleRow(c, kind, id, ex);
    const target = { ...(await this.target(c, kind, row, ex)), ...body };
    const member = DEFS[kind]!.member;
    this.enforce(c, `${action}_${member}`, target);
    if (action === 'update') this.enforceAttrs(c, 'update', member, body, target);
    this.checkRevision(row, ifMatch);
    return { row, target };
  }

  private owner(c: Caller, b: Row): string {
    const p = b.project_id ?? b.tenant_id;
    if (p !== undefined) {
      const s = v.str('project_id', p);
      if (b.project_id !== undefined && b.tenant_id !== undefined && b.project_id !== b.tenant_id)
        throw badRequest(`'project_id' and 'tenant_id' do not match`);
      return s;
    }
    return c.projectId;
  }

  // ------------------------------------------------------------------------------------------------
  // networks

  async createNetwork(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'network', [
      'name',
      'admin_state_up',
      'shared',
      'router:external',
      'mtu',
      'port_security_enabled',
      'provider:network_type',
      'provider:physical_network',
      'provider:segmentation_id',
      'availability_zone_hints',
      'description',
      'project_id',
      'tenant_id',
      'is_default',
      'tags',
      'dns_domain',
    ]);
    if (b.dns_domain !== undefined) throw badRequest(`Unrecognized attribute(s) 'dns_domain'`);
    const projectId = this.owner(c, b);
    const target = { ...b, project_id: projectId, tenant_id: projectId };
    this.enforce(c, 'create_network', target);
    this.enforceAttrs(c, 'create', 'network', b, target);
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
    await this.txRetry(segConflict, async (trx) => {
      await this.checkQuota(projectId, 'network', trx);
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
    await this.ensureDefaultSg(projectId);
    this.changes.network(id);
    return this.viewOf(c, 'network', id);
  }

  private segmentRequest(b: Row): { type?: string; physnet?: string | null; segid?: number | null } {
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

  private async allocateSegment(
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

  private async insertRbac(ex: Exec, projectId: string, objectId: string, target: string, action: string) {
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

  async updateNetwork(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'network',
      [
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
      ],
      ['id', 'tenant_id', 'project_id', 'status', 'subnets'],
    );
    const { row } = await this.forChange(c, 'network', 'update', id, ifMatch, b);
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
      await this.bump('net_networks', id, patch, trx);
    });
    this.changes.network(id);
    return this.viewOf(c, 'network', id);
  }

  async deleteNetwork(c: Caller, id: string, ifMatch?: string) {
    await this.forChange(c, 'network', 'delete', id, ifMatch);
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

  // ------------------------------------------------------------------------------------------------
  // subnets

  async createSubnet(c: Caller, body: unknown) {
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
    if (b.network_id === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'network_id' not specified`);
    const networkId = v.uuid('network_id', b.network_id);
    const net = await this.visibleRow(c, 'network', networkId).catch(() => {
      throw NotFound.network(networkId);
    });
    const projectId = this.owner(c, b);
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      'network:project_id': net.project_id,
      'network:tenant_id': net.project_id,
      shared: await this.sharedFor(c, net),
    };
    this.enforce(c, 'create_subnet', target);
    this.enforceAttrs(c, 'create', 'subnet', b, target);
    if ((b.subnetpool_id ?? null) !== null || b.use_default_subnetpool || b.prefixlen !== undefined)
      throw badRequest('Subnet pools are not supported');
    if ((b.segment_id ?? null) !== null) throw badRequest('Segments are not supported');
    if (b.service_types !== undefined && v.list('service_types', b.service_types).length)
      throw badRequest('Service types are not supported');
    if (b.ip_version === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'ip_version' not specified`);
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
      await this.checkQuota(projectId, 'subnet', trx);
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
      await this.bump('net_networks', networkId, {}, trx);
    });
    this.changes.network(networkId);
    return this.viewOf(c, 'subnet', id);
  }

  /** The network's DHCP port (network:dhcp) gets an address on a DHCP-enabled subnet, as the DHCP agent does. */
  private async ensureDhcpPort(net: Row, subnetId: string, trx: Transaction<any>): Promise<void> {
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
    await this.allocateOn(subnet!, port!, undefined, trx).catch((e) => {
      // A full pool leaves the DHCP port without an address on this subnet; the subnet is still created.
      if (!(e instanceof ApiError) || e.status !== 409) throw e;
    });
    this.changes.port(portId, net.id);
  }

  async updateSubnet(c: Caller, id: string, body: unknown, ifMatch?: string) {
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
    const { row } = await this.forChange(c, 'subnet', 'update', id, ifMatch, b);
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
      await this.bump('net_subnets', id, patch, trx);
      if (dhcpOn) {
        const net = await this.store.get('net_networks', row.network_id, trx);
        await this.ensureDhcpPort(net!, id, trx);
      }
    });
    this.changes.network(row.network_id);
    return this.viewOf(c, 'subnet', id);
  }

  async deleteSubnet(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.forChange(c, 'subnet', 'delete', id, ifMatch);
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
      await this.bump('net_networks', row.network_id, {}, trx);
    });
    for (const p of touched) this.changes.port(p, row.network_id);
    this.changes.network(row.network_id);
  }

  // ------------------------------------------------------------------------------------------------
  // ports

  private ipamSubnet(s: Row): IpamSubnet {
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
  private async allocateOn(subnet: Row, port: Row, address: string | undefined, ex: Exec): Promise<string> {
    const ipam = new Ipam(this.store.allocationStore(ex));
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
  private async allocateFixedIps(
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

  private parseFixedIps(val: unknown): { subnet_id?: string; ip_address?: string }[] {
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

  private parsePairs(val: unknown): { ip_address: string; mac_address?: string }[] {
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

  private async resolveSgs(projectId: string, val: unknown, ex: Exec): Promise<string[]> {
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

  async createPort(c: Caller, body: unknown): Promise<Record<string, unknown>> {
    const b = v.resourceBody(body, 'port', [
      'name',
      'network_id',
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
      'project_id',
      'tenant_id',
      'tags',
    ]);
    if (b.network_id === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'network_id' not specified`);
    const networkId = v.uuid('network_id', b.network_id);
    const net = await this.visibleRow(c, 'network', networkId).catch(() => {
      throw NotFound.network(networkId);
    });
    const projectId = this.owner(c, b);
    const deviceOwner = b.device_owner === undefined ? '' : v.str('device_owner', b.device_owner);
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      'network:project_id': net.project_id,
      'network:tenant_id': net.project_id,
      shared: await this.sharedFor(c, net),
      'device_owner:is_network': deviceOwner.startsWith('network:'),
    };
    this.enforce(c, 'create_port', target);
    this.enforceAttrs(c, 'create', 'port', b, target);
    const fixed = b.fixed_ips === undefined ? undefined : this.parseFixedIps(b.fixed_ips);
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
    if (wantDefaultSg) await this.ensureDefaultSg(projectId);
    const id = randomUUID();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.store.tx(async (trx) => {
          await this.checkQuota(projectId, 'port', trx);
          const sgs =
            b.security_groups !== undefined
              ? await this.resolveSgs(projectId, b.security_groups, trx)
              : wantDefaultSg
                ? [await this.defaultSgId(projectId, trx)]
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
          await this.allocateFixedIps(row, fixed, subnets, trx);
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
    return this.viewOf(c, 'port', id);
  }

  async updatePort(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'port',
      [
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
      ],
      ['id', 'network_id', 'tenant_id', 'project_id', 'status'],
    );
    const { row } = await this.forChange(c, 'port', 'update', id, ifMatch, b);
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
    const fixed = b.fixed_ips === undefined ? undefined : this.parseFixedIps(b.fixed_ips);
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
        if (toAllocate.length) await this.allocateFixedIps(portRow, toAllocate, subnets, trx);
      }
    });
    this.changes.port(id, row.network_id, false, leftGroups);
    return this.viewOf(c, 'port', id);
  }

  async deletePort(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.forChange(c, 'port', 'delete', id, ifMatch);
    // Router and floating IP ports belong to their router / floating IP (Neutron's prevent_l3_port_deletion).
    if ([OWNER_ROUTER_INTERFACE, OWNER_ROUTER_GATEWAY, OWNER_FLOATINGIP].includes(row.device_owner))
      throw conflict(
        'PortInUse',
        `Port ${id} cannot be deleted directly via the port API: has device owner ${row.device_owner}.`,
      );
    await this.removePort(row);
  }

  /** Delete a port row with its addresses, floating IP associations and tags. */
  private async removePort(row: Row): Promise<void> {
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

  // ------------------------------------------------------------------------------------------------
  // security groups

  async defaultSgId(projectId: string, ex: Exec = this.store.db): Promise<string> {
    const row = (
      await this.store.list(
        'net_default_security_groups',
        { where: [{ eq: 'project_id', values: [projectId] }] },
        ex,
      )
    )[0];
    if (!row) throw NotFound.security_group('default');
    return row.security_group_id;
  }

  /** Create the project's `default` group with Neutron's default rules, once (safe under concurrency). */
  async ensureDefaultSg(projectId: string): Promise<string> {
    const found = (
      await this.store.list('net_default_security_groups', {
        where: [{ eq: 'project_id', values: [projectId] }],
      })
    )[0];
    if (found) return found.security_group_id;
    const id = randomUUID();
    const ts = now();
    const created = await this.store
      .tx(async (trx) => {
        await this.store.insert(
          'net_security_groups',
          {
            id,
            project_id: projectId,
            name: 'default',
            stateful: 1,
            description: 'Default security group',
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          },
          trx,
        );
        if (
          !(await this.store.insertIfAbsent(
            'net_default_security_groups',
            { project_id: projectId, security_group_id: id },
            trx,
          ))
        )
          throw new Error('lost default-group race');
        for (const ethertype of ['IPv4', 'IPv6']) {
          for (const [direction, remote] of [
            ['egress', null],
            ['ingress', id],
          ] as const)
            await this.store.insert(
              'net_security_group_rules',
              {
                id: randomUUID(),
                project_id: projectId,
                security_group_id: id,
                direction,
                ethertype,
                protocol: null,
                port_range_min: null,
                port_range_max: null,
                remote_ip_prefix: null,
                remote_group_id: remote,
                description: '',
                revision_number: 0,
                created_at: ts,
                updated_at: ts,
              },
              trx,
            );
        }
        return true;
      })
      .catch((e) => {
        if (e instanceof Error && e.message === 'lost default-group race') return false;
        if (isUniqueViolation(e)) return false;
        throw e;
      });
    if (created) {
      this.changes.securityGroup(id);
      return id;
    }
    return this.defaultSgId(projectId);
  }

  async createSecurityGroup(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'security_group', [
      'name',
      'description',
      'stateful',
      'project_id',
      'tenant_id',
      'tags',
    ]);
    const projectId = this.owner(c, b);
    const target = { ...b, project_id: projectId, tenant_id: projectId };
    this.enforce(c, 'create_security_group', target);
    this.enforceAttrs(c, 'create', 'security_group', b, target);
    const name = b.name === undefined ? '' : v.str('name', b.name);
    await this.ensureDefaultSg(projectId);
    if (name === 'default')
      throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.checkQuota(projectId, 'security_group', trx);
      await this.store.insert(
        'net_security_groups',
        {
          id,
          project_id: projectId,
          name,
          stateful: int(b.stateful === undefined ? true : v.bool('stateful', b.stateful)),
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      for (const ethertype of ['IPv4', 'IPv6'])
        await this.store.insert(
          'net_security_group_rules',
          {
            id: randomUUID(),
            project_id: projectId,
            security_group_id: id,
            direction: 'egress',
            ethertype,
            description: '',
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          },
          trx,
        );
      await this.store.setTags('security_group', id, tags, trx);
    });
    this.changes.securityGroup(id);
    return this.viewOf(c, 'security_group', id);
  }

  async updateSecurityGroup(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'security_group',
      ['name', 'description', 'stateful'],
      ['id', 'tenant_id', 'project_id'],
    );
    const { row } = await this.forChange(c, 'security_group', 'update', id, ifMatch, b);
    const isDefault = await this.isDefaultSg(id);
    const patch: Row = {};
    if (b.name !== undefined) {
      const name = v.str('name', b.name);
      if (isDefault && name !== 'default')
        throw conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      if (!isDefault && name === 'default')
        throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      patch.name = name;
    }
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.stateful !== undefined) {
      const st = v.bool('stateful', b.stateful);
      if (st !== bool(row.stateful)) {
        const inUse = await this.store.count('net_port_security_groups', [
          { eq: 'security_group_id', values: [id] },
        ]);
        if (inUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      }
      patch.stateful = int(st);
    }
    await this.bump('net_security_groups', id, patch, this.store.db);
    this.changes.securityGroup(id);
    return this.viewOf(c, 'security_group', id);
  }

  private async isDefaultSg(id: string, ex: Exec = this.store.db): Promise<boolean> {
    return (
      (await this.store.count(
        'net_default_security_groups',
        [{ eq: 'security_group_id', values: [id] }],
        ex,
      )) > 0
    );
  }

  async deleteSecurityGroup(c: Caller, id: string, ifMatch?: string) {
    await this.forChange(c, 'security_group', 'delete', id, ifMatch);
    if ((await this.isDefaultSg(id)) && !c.isAdmin)
      throw conflict('SecurityGroupCannotRemoveDefault', 'Removing default security group not allowed.');
    await this.store.tx(async (trx) => {
      const inUse = await this.store.count(
        'net_port_security_groups',
        [{ eq: 'security_group_id', values: [id] }],
        trx,
      );
      if (inUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      const remoteUse = await this.store.count(
        'net_security_group_rules',
        [
          { eq: 'remote_group_id', values: [id] },
          { ne: 'security_group_id', value: id },
        ],
        trx,
      );
      if (remoteUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      await this.store.removeTag('security_group', id, undefined, trx);
      await this.store.delete('net_security_groups', [{ eq: 'id', values: [id] }], trx);
    });
    this.changes.securityGroup(id, true);
  }

  async createSecurityGroupRule(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'security_group_rule', [
      'security_group_id',
      'direction',
      'ethertype',
      'protocol',
      'port_range_min',
      'port_range_max',
      'remote_ip_prefix',
      'remote_group_id',
      'description',
      'project_id',
      'tenant_id',
    ]);
    if (b.security_group_id === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'security_group_id' not specified`);
    const sgId = v.str('security_group_id', b.security_group_id);
    const sg = await this.store.get('net_security_groups', sgId);
    if (!sg) throw NotFound.security_group(sgId);
    const projectId = this.owner(c, { project_id: b.project_id, tenant_id: b.tenant_id });
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      'security_group:project_id': sg.project_id,
      belongs_to_default_sg: await this.isDefaultSg(sgId),
    };
    if (!this.allowed(c, 'get_security_group', { ...sg, tenant_id: sg.project_id, shared: false }))
      throw NotFound.security_group(sgId);
    this.enforce(c, 'create_security_group_rule', target);
    const rule = await this.validateRule(b);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.checkQuota(sg.project_id, 'security_group_rule', trx);
      const existing = await this.store.list(
        'net_security_group_rules',
        { where: [{ eq: 'security_group_id', values: [sgId] }] },
        trx,
      );
      const key = ruleKey(rule);
      const dup = existing.find((e) => ruleKey(e) === key);
      if (dup)
        throw conflict(
          'SecurityGroupRuleExists',
          `Security group rule already exists. Rule id is ${dup.id}.`,
        );
      await this.store.insert(
        'net_security_group_rules',
        {
          id,
          project_id: sg.project_id,
          security_group_id: sgId,
          ...rule,
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      await this.bump('net_security_groups', sgId, {}, trx);
    });
    this.changes.securityGroup(sgId);
    return this.viewOf(c, 'security_group_rule', id);
  }

  /** neutron/db/securitygroups_db.py _validate_security_group_rule and friends. */
  private async validateRule(b: Row): Promise<Row> {
    if (b.direction === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'direction' not specified`);
    const direction = v.oneOf('direction', b.direction, ['ingress', 'egress']);
    const ethertype = b.ethertype === undefined || b.ethertype === null ? 'IPv4' : normEthertype(b.ethertype);
    let protocol: string | null = null;
    if (b.protocol !== undefined && b.protocol !== null && b.protocol !== '' && b.protocol !== 'any') {
      const p = String(b.protocol).toLowerCase();
      if (typeof b.protocol === 'number' || /^\d+$/.test(p)) {
        const n = Number(p);
        if (!Number.isInteger(n) || n < 0 || n > 255)
          throw new ApiError(
            400,
            `Security group rule protocol ${String(b.protocol)} not supported. Only protocol values [${Object.keys(IP_PROTOCOL_MAP).join(', ')}] and integer representations [0 to 255] are supported.`,
            'SecurityGroupRuleInvalidProtocol',
          );
        protocol = String(n);
      } else if (p in IP_PROTOCOL_MAP) protocol = p;
      else
        throw new ApiError(
          400,
          `Security group rule protocol ${String(b.protocol)} not supported. Only protocol values [${Object.keys(IP_PROTOCOL_MAP).join(', ')}] and integer representations [0 to 255] are supported.`,
          'SecurityGroupRuleInvalidProtocol',
        );
    }
    if (protocol && IPV6_ONLY_PROTOCOLS.includes(protocol) && ethertype === 'IPv4')
      throw new ApiError(
        400,
        `Ethertype IPv4 is not supported for protocol ${protocol}.`,
        'SecurityGroupEthertypeConflictWithProtocol',
      );
    const num = (k: string) => (b[k] === undefined || b[k] === null ? null : v.int(k, b[k]));
    const min = num('port_range_min');
    const max = num('port_range_max');
    if (min !== null || max !== null) {
      if (!protocol)
        throw new ApiError(
          400,
          'Must also specify protocol if port range is given.',
          'SecurityGroupProtocolRequiredWithPorts',
        );
      if (PORT_PROTOCOLS.includes(protocol)) {
        for (const val of [min, max])
          if (val !== null && (val < 1 || val > 65535))
            throw new ApiError(400, `Invalid value for port ${val}.`, 'SecurityGroupInvalidPortValue');
        if (min === null || max === null || min > max)
          throw new ApiError(
            400,
            'For TCP/UDP protocols, port_range_min must be <= port_range_max',
            'SecurityGroupInvalidPortRange',
          );
      } else if (ICMP_PROTOCOLS.includes(protocol)) {
        for (const [n, val] of [
          ['type', min],
          ['code', max],
        ] as const)
          if (val !== null && (val < 0 || val > 255))
            throw new ApiError(
              400,
              `Invalid value for ICMP ${n} (${n === 'type' ? 'port-range-min' : 'port-range-max'}): ${val}. It must be 0 to 255.`,
              'SecurityGroupInvalidIcmpValue',
            );
        if (min === null && max !== null)
          throw new ApiError(
            400,
            `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`,
            'SecurityGroupMissingIcmpType',
          );
      } else
        throw new ApiError(
          400,
          `Invalid protocol ${protocol} for port range, only supported for TCP, UDP, UDPLITE, SCTP and DCCP.`,
          'SecurityGroupInvalidProtocolForPortRange',
        );
    }
    let prefix: string | null = null;
    if (b.remote_ip_prefix !== undefined && b.remote_ip_prefix !== null) {
      const text = v.str('remote_ip_prefix', b.remote_ip_prefix);
      const cc = parseCidr(text);
      if (!cc) throw invalidAttr('remote_ip_prefix', `'${text}' is not a valid IP subnet`);
      const ver = cc.version === 4 ? 'IPv4' : 'IPv6';
      if (ver !== ethertype)
        throw new ApiError(
          400,
          `Conflicting value ethertype ${ethertype} for CIDR ${text}`,
          'SecurityGroupRuleParameterConflict',
        );
      prefix = formatCidr(cc);
    }
    let remoteGroup: string | null = null;
    if (b.remote_group_id !== undefined && b.remote_group_id !== null) {
      remoteGroup = v.str('remote_group_id', b.remote_group_id);
      const rg = await this.store.get('net_security_groups', remoteGroup);
      if (!rg) throw NotFound.security_group(remoteGroup);
    }
    if (prefix && remoteGroup)
      throw new ApiError(
        400,
        'Only remote_ip_prefix or remote_group_id may be provided.',
        'SecurityGroupRemoteGroupAndRemoteIpPrefix',
      );
    return {
      direction,
      ethertype,
      protocol,
      port_range_min: min,
      port_range_max: max,
      remote_ip_prefix: prefix,
      remote_group_id: remoteGroup,
    };
  }

  async deleteSecurityGroupRule(c: Caller, id: string) {
    const row = await this.visibleRow(c, 'security_group_rule', id);
    const target = await this.target(c, 'security_group_rule', row);
    target.belongs_to_default_sg = await this.isDefaultSg(row.security_group_id);
    this.enforce(c, 'delete_security_group_rule', target);
    await this.store.tx(async (trx) => {
      await this.store.delete('net_security_group_rules', [{ eq: 'id', values: [id] }], trx);
      await this.bump('net_security_groups', row.security_group_id, {}, trx);
    });
    this.changes.securityGroup(row.security_group_id);
  }

  // ------------------------------------------------------------------------------------------------
  // routers

  async createRouter(c: Caller, body: unknown) {
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
    const projectId = this.owner(c, b);
    const target = { ...b, project_id: projectId, tenant_id: projectId };
    this.enforce(c, 'create_router', target);
    this.enforceAttrs(c, 'create', 'router', b, target);
    if (b.distributed !== undefined && v.bool('distributed', b.distributed))
      throw badRequest('Distributed routers are not supported');
    if (b.ha !== undefined && v.bool('ha', b.ha)) throw badRequest('HA routers are not supported');
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.checkQuota(projectId, 'router', trx);
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
    return this.viewOf(c, 'router', id);
  }

  /** Set, change or clear (`{}`/null) a router's external gateway. */
  private async setGateway(c: Caller, routerId: string, info: unknown): Promise<void> {
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
    if (!net || !this.allowed(c, 'get_network', await this.target(c, 'network', net)))
      throw NotFound.network(netId);
    if (!(await this.externalFor(net, router.project_id)))
      throw new ApiError(
        400,
        `Bad router request: Network ${netId} is not an external network.`,
        'BadRequest',
      );
    const enableSnat = d.enable_snat === undefined ? true : v.bool('enable_snat', d.enable_snat);
    const fixed = d.external_fixed_ips === undefined ? undefined : this.parseFixedIps(d.external_fixed_ips);
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
      await this.allocateFixedIps(port, fixed, subnets, trx);
      await this.store.update(
        'net_routers',
        routerId,
        { gw_port_id: portId, gw_network_id: netId, enable_snat: int(enableSnat), updated_at: now() },
        trx,
      );
    });
    this.changes.port(portId, netId);
  }

  private async removeGateway(router: Row): Promise<void> {
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

  async updateRouter(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'router',
      ['name', 'admin_state_up', 'external_gateway_info', 'description', 'routes', 'distributed', 'ha'],
      ['id', 'tenant_id', 'project_id', 'status'],
    );
    await this.forChange(c, 'router', 'update', id, ifMatch, b);
    const patch: Row = {};
    if (b.name !== undefined) patch.name = v.str('name', b.name);
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.admin_state_up !== undefined)
      patch.admin_state_up = int(v.bool('admin_state_up', b.admin_state_up));
    if (b.routes !== undefined)
      patch.routes = JSON.stringify(await this.validateRoutes(id, b.routes === null ? [] : b.routes));
    if (b.external_gateway_info !== undefined) await this.setGateway(c, id, b.external_gateway_info);
    await this.bump('net_routers', id, patch, this.store.db);
    this.changes.router(id);
    return this.viewOf(c, 'router', id);
  }

  /** Static routes: nexthop must be in a subnet connected to the router (InvalidRoutes). */
  private async validateRoutes(
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
    const row = await this.visibleRow(c, 'router', id);
    this.enforce(c, add ? 'add_extraroutes' : 'remove_extraroutes', await this.target(c, 'router', row));
    const given = hostRoutes(b.routes ?? [], undefined, 'routes');
    const cur = json<{ destination: string; nexthop: string }[]>(row.routes, []);
    const key = (r: { destination: string; nexthop: string }) => `${r.destination}|${r.nexthop}`;
    let next: typeof cur;
    if (add) {
      await this.validateRoutes(id, given);
      next = [...cur, ...given.filter((g) => !cur.some((x) => key(x) === key(g)))];
    } else next = cur.filter((x) => !given.some((g) => key(g) === key(x)));
    await this.bump('net_routers', id, { routes: JSON.stringify(next) }, this.store.db);
    this.changes.router(id);
    return this.viewOf(c, 'router', id);
  }

  async deleteRouter(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.forChange(c, 'router', 'delete', id, ifMatch);
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
    const router = await this.visibleRow(c, 'router', id);
    const target = await this.target(c, 'router', router);
    this.enforce(c, 'add_router_interface', target);
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
      const port = await this.visibleRow(c, 'port', portId);
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
      const subnet = await this.visibleRow(c, 'subnet', subnetId);
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
        await this.allocateOn(subnet, port, subnet.gateway_ip, trx);
      });
    }
    await this.bump('net_routers', id, {}, this.store.db);
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

  private async checkSubnetFree(subnetId: string, routerAllocs: Row[]) {
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
  private async routerInterfacePorts(routerId: string) {
    const ports = await this.store.list('net_ports', {
      where: [
        { eq: 'device_id', values: [routerId] },
        { eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] },
      ],
    });
    return { ports, allocs: await this.store.allocationsFor(ports.map((p) => p.id)) };
  }

  async removeRouterInterface(c: Caller, id: string, body: unknown) {
    const router = await this.visibleRow(c, 'router', id);
    this.enforce(c, 'remove_router_interface', await this.target(c, 'router', router));
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
      await this.bump('net_routers', id, {}, trx);
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

  // ------------------------------------------------------------------------------------------------
  // floating IPs

  async createFloatingIp(c: Caller, body: unknown) {
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
    if (b.floating_network_id === undefined)
      throw badRequest(`Failed to parse request. Required attribute 'floating_network_id' not specified`);
    const netId = v.uuid('floating_network_id', b.floating_network_id);
    const projectId = this.owner(c, b);
    const target = { ...b, project_id: projectId, tenant_id: projectId };
    this.enforce(c, 'create_floatingip', target);
    this.enforceAttrs(c, 'create', 'floatingip', b, target);
    const net = await this.store.get('net_networks', netId);
    if (!net || !this.allowed(c, 'get_network', await this.target(c, 'network', net)))
      throw NotFound.network(netId);
    if (!(await this.externalFor(net, projectId)))
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
        await this.checkQuota(projectId, 'floatingip', trx);
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
        await this.allocateFixedIps(port, fixedReq, subnets, trx);
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
    return this.viewOf(c, 'floatingip', id);
  }

  /**
   * The port/fixed IP a floating IP may be associated with, and the router that reaches it: a router with a
   * gateway on the floating network and an interface on the fixed IP's subnet (else 404, as Neutron).
   */
  private async resolveAssociation(
    c: Caller,
    projectId: string,
    floatingNetId: string,
    portIdVal: unknown,
    fixedIpVal: unknown,
  ): Promise<{ portId: string; fixedIp: string; routerId: string }> {
    const portId = v.uuid('port_id', portIdVal);
    const port = await this.store.get('net_ports', portId);
    if (!port || !this.allowed(c, 'get_port', await this.target(c, 'port', port)))
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

  async updateFloatingIp(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'floatingip',
      ['port_id', 'fixed_ip_address', 'description'],
      ['id', 'floating_network_id', 'floating_ip_address', 'tenant_id', 'project_id', 'router_id', 'status'],
    );
    const { row } = await this.forChange(c, 'floatingip', 'update', id, ifMatch, b);
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
    await this.bump('net_floatingips', id, patch, this.store.db).catch((e) => {
      if (isUniqueViolation(e)) throw fipAlreadyAssociated(assoc);
      throw e;
    });
    if (row.router_id) this.changes.router(row.router_id);
    if (assoc && assoc.routerId !== row.router_id) this.changes.router(assoc.routerId);
    return this.viewOf(c, 'floatingip', id);
  }

  async deleteFloatingIp(c: Caller, id: string, ifMatch?: string) {
    const { row } = await this.forChange(c, 'floatingip', 'delete', id, ifMatch);
    await this.store.tx(async (trx) => {
      await this.store.removeTag('floatingip', id, undefined, trx);
      await this.store.delete('net_floatingips', [{ eq: 'id', values: [id] }], trx);
      await this.store.delete('net_ports', [{ eq: 'id', values: [row.floating_port_id] }], trx);
    });
    if (row.router_id) this.changes.router(row.router_id);
    this.changes.port(row.floating_port_id, row.floating_network_id, true);
  }

  // ------------------------------------------------------------------------------------------------
  // RBAC policies

  async createRbac(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'rbac_policy', [
      'object_type',
      'object_id',
      'target_tenant',
      'target_project',
      'action',
      'project_id',
      'tenant_id',
    ]);
    const projectId = this.owner(c, b);
    const objectType = v.oneOf('object_type', b.object_type, ['network']);
    const action = v.oneOf('action', b.action, ['access_as_shared', 'access_as_external']);
    const objectId = v.uuid('object_id', b.object_id);
    const targetProject = v.str('target_tenant', b.target_project ?? b.target_tenant);
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      target_tenant: targetProject,
      target_project: targetProject,
    };
    this.enforce(c, 'create_rbac_policy', target);
    this.enforceAttrs(c, 'create', 'rbac_policy', b, target);
    const net = await this.store.get('net_networks', objectId);
    if (!net || (!c.isAdmin && net.project_id !== c.projectId))
      throw new ApiError(404, `Network ${objectId} could not be found.`, 'NetworkNotFound');
    if (action === 'access_as_external' && !c.isAdmin)
      this.enforce(c, 'create_network:router:external', target);
    const id = randomUUID();
    await this.store.tx(async (trx) => {
      await this.checkQuota(projectId, 'rbac_policy', trx);
      const ok = await this.store.insertIfAbsent(
        'net_rbac_policies',
        {
          id,
          project_id: projectId,
          object_type: objectType,
          object_id: objectId,
          target_project: targetProject,
          action,
        },
        trx,
      );
      if (!ok) throw conflict('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
      if (targetProject === '*')
        await this.store.update(
          'net_networks',
          objectId,
          action === 'access_as_shared' ? { shared: 1 } : { external: 1 },
          trx,
        );
    });
    this.changes.network(objectId);
    return this.viewOf(c, 'rbac_policy', id);
  }

  async updateRbac(c: Caller, id: string, body: unknown) {
    const b = v.resourceBody(
      body,
      'rbac_policy',
      ['target_tenant', 'target_project'],
      ['id', 'object_type', 'object_id', 'action', 'project_id', 'tenant_id'],
    );
    const { row } = await this.forChange(c, 'rbac_policy', 'update', id, undefined, b);
    const tp = v.str('target_tenant', b.target_project ?? b.target_tenant ?? row.target_project);
    await this.store.setColumns('net_rbac_policies', [{ eq: 'id', values: [id] }], { target_project: tp });
    return this.viewOf(c, 'rbac_policy', id);
  }

  async deleteRbac(c: Caller, id: string) {
    const { row } = await this.forChange(c, 'rbac_policy', 'delete', id);
    const inUse =
      row.target_project === '*'
        ? await this.store.count('net_ports', [
            { eq: 'network_id', values: [row.object_id] },
            { ne: 'project_id', value: row.project_id },
            { ne: 'project_id', value: '' },
          ])
        : await this.store.count('net_ports', [
            { eq: 'network_id', values: [row.object_id] },
            { eq: 'project_id', values: [row.target_project] },
          ]);
    if (inUse && row.action === 'access_as_shared')
      throw conflict(
        'RbacPolicyInUse',
        `RBAC policy on object ${row.object_id} cannot be removed because other objects depend on it.`,
      );
    await this.store.tx(async (trx) => {
      await this.store.delete('net_rbac_policies', [{ eq: 'id', values: [id] }], trx);
      if (row.target_project === '*')
        await this.store.update(
          'net_networks',
          row.object_id,
          row.action === 'access_as_shared' ? { shared: 0 } : { external: 0 },
          trx,
        );
    });
    this.changes.network(row.object_id);
  }

  // ------------------------------------------------------------------------------------------------
  // tags

  async tagTarget(c: Caller, resource: string, id: string, action: 'get' | 'update') {
    const kind = TAGGABLE[resource];
    if (!kind) throw new ApiError(404, 'The resource could not be found.', 'HTTPNotFound');
    const row = await this.visibleRow(c, kind, id);
    const member = DEFS[kind]!.member;
    if (action === 'update') this.enforce(c, `update_${member}`, await this.target(c, kind, row));
    return { kind, row, tagType: DEFS[kind]!.tagType! };
  }

  async getTags(c: Caller, resource: string, id: string): Promise<string[]> {
    const t = await this.tagTarget(c, resource, id, 'get');
    return (await this.store.tagsFor(t.tagType, [id])).get(id) ?? [];
  }

  async replaceTags(c: Caller, resource: string, id: string, body: unknown): Promise<string[]> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Row) : undefined;
    if (!b || b.tags === undefined) throw badRequest(`Invalid input for tags. Reason: 'None' is not a list.`);
    const tags = v.tags(b.tags);
    await this.store.tx(async (trx) => {
      await this.store.setTags(t.tagType, id, tags, trx);
      await this.bump(DEFS[t.kind]!.table, id, {}, trx);
    });
    return [...tags].sort();
  }

  async addTag(c: Caller, resource: string, id: string, tag: string): Promise<void> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const value = v.tag(tag);
    await this.store.tx(async (trx) => {
      await this.store.addTag(t.tagType, id, value, trx);
      await this.bump(DEFS[t.kind]!.table, id, {}, trx);
    });
  }

  async removeTag(c: Caller, resource: string, id: string, tag: string | undefined): Promise<void> {
    const t = await this.tagTarget(c, resource, id, 'update');
    const n = await this.store.removeTag(t.tagType, id, tag);
    if (tag !== undefined && n === 0)
      throw new ApiError(404, `Tag ${tag} could not be found.`, 'TagNotFound');
    await this.bump(DEFS[t.kind]!.table, id, {}, this.store.db);
  }

  async hasTag(c: Caller, resource: string, id: string, tag: string): Promise<void> {
    const tags = await this.getTags(c, resource, id);
    if (!tags.includes(tag)) throw new ApiError(404, `Tag ${tag} could not be found.`, 'TagNotFound');
  }

  // ------------------------------------------------------------------------------------------------
  // network IP availability

  async ipAvailability(c: Caller, q: Query, networkId?: string) {
    this.enforce(c, 'get_network_ip_availability', {});
    const conds: Cond[] = networkId ? [{ eq: 'id', values: [networkId] }] : [];
    for (const k of ['network_id', 'network_name', 'project_id', 'tenant_id', 'ip_version']) {
      const val = q[k];
      if (val === undefined) continue;
      const vals = Array.isArray(val) ? val : [val];
      if (k === 'network_id') conds.push({ eq: 'id', values: vals });
      if (k === 'network_name') conds.push({ eq: 'name', values: vals });
      if (k === 'project_id' || k === 'tenant_id') conds.push({ eq: 'project_id', values: vals });
    }
    const nets = await this.store.list('net_networks', { where: conds, sort: [{ col: 'id', dir: 'asc' }] });
    if (networkId && nets.length === 0) throw NotFound.network(networkId);
    const ipv =
      q.ip_version === undefined
        ? undefined
        : Number(Array.isArray(q.ip_version) ? q.ip_version[0] : q.ip_version);
    const out = [];
    for (const n of nets) {
      let subnets = await this.store.list('net_subnets', { where: [{ eq: 'network_id', values: [n.id] }] });
      if (ipv) subnets = subnets.filter((s) => Number(s.ip_version) === ipv);
      const per = [];
      let total = 0n;
      let used = 0;
      for (const s of subnets) {
        const t = poolsSize(json<IpRange[]>(s.allocation_pools, []));
        const u = await this.store.count('net_ipallocations', [{ eq: 'subnet_id', values: [s.id] }]);
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

  // ------------------------------------------------------------------------------------------------
  // wiring: the status the agent reports

  async setStatus(
    kind: 'port' | 'floatingip' | 'router' | 'network',
    id: string,
    status: string,
  ): Promise<void> {
    const table: Table =
      kind === 'port'
        ? 'net_ports'
        : kind === 'floatingip'
          ? 'net_floatingips'
          : kind === 'router'
            ? 'net_routers'
            : 'net_networks';
    const where: Cond[] = [{ eq: 'id', values: [id] }];
    if (kind === 'floatingip') where.push({ ne: 'fixed_port_id', value: '' });
    await this.store.setColumns(table, where, { status });
  }
}

// ---- helpers

function groupBy(rows: Row[], key: string): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const k = r[key] as string;
    const l = m.get(k);
    if (l) l.push(r);
    else m.set(k, [r]);
  }
  return m;
}

function selectFields(view: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields) return view;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in view) out[f] = view[f];
  return out;
}

function ruleView(r: Row, belongsToDefault: boolean): Record<string, unknown> {
  const prefix = r.remote_ip_prefix ?? null;
  const view = sgRuleView(r, prefix ? formatCidr(parseCidr(prefix)!) : null);
  return { ...view, remote_address_group_id: null, belongs_to_default_sg: belongsToDefault };
}

function ruleKey(r: Row): string {
  const proto =
    r.protocol === null || r.protocol === undefined ? '' : String(IP_PROTOCOL_MAP[r.protocol] ?? r.protocol);
  return [
    r.direction,
    r.ethertype,
    proto,
    r.port_range_min ?? '',
    r.port_range_max ?? '',
    r.remote_ip_prefix ?? '',
    r.remote_group_id ?? '',
  ].join('|');
}

function normEthertype(val: unknown): 'IPv4' | 'IPv6' {
  const s = String(val).toLowerCase();
  if (s === 'ipv4') return 'IPv4';
  if (s === 'ipv6') return 'IPv6';
  throw invalidAttr('ethertype', `${v.repr(val)} is not in ['IPv4', 'IPv6']`);
}

function azList(val: unknown): string[] {
  const l = v.list('availability_zone_hints', val).map((x) => v.str('availability_zone_hints', x));
  for (const az of l)
    if (az !== 'nova')
      throw new ApiError(404, `AvailabilityZone ${az} could not be found.`, 'AvailabilityZoneNotFound');
  return l;
}

function nameservers(val: unknown): string[] {
  const l = v.list('dns_nameservers', val).map((x) => v.ip('dns_nameservers', x));
  if (new Set(l).size !== l.length)
    throw invalidAttr('dns_nameservers', `Duplicate nameserver '${l.find((x, i) => l.indexOf(x) !== i)}'`);
  if (l.length > 5)
    throw new ApiError(
      400,
      `Number of DNS nameservers exceeds the limit 5 for subnet`,
      'DNSNameServersExhausted',
    );
  return l;
}

function hostRoutes(
  val: unknown,
  ipVersion: number | undefined,
  attr = 'host_routes',
): { destination: string; nexthop: string }[] {
  const l = v.list(attr, val).map((x) => {
    const d = v.dict(attr, x);
    const bad = Object.keys(d).filter((k) => k !== 'destination' && k !== 'nexthop');
    if (bad.length || d.destination === undefined || d.nexthop === undefined)
      throw invalidAttr(
        attr,
        `Validation of dictionary's keys failed. Expected keys: {'destination', 'nexthop'} Provided keys: {${Object.keys(
          d,
        )
          .map((k) => `'${k}'`)
          .join(', ')}}`,
      );
    const dest = parseCidr(d.destination);
    if (!dest || !String(d.destination).includes('/'))
      throw invalidAttr(attr, `'${v.repr(d.destination)}' is not a valid IP subnet`);
    const nexthop = v.ip(attr, d.nexthop);
    if (ipVersion !== undefined && (dest.version !== ipVersion || parseIp(nexthop)!.version !== ipVersion))
      throw invalidInput(
        `Host route ${formatCidr(dest)} via ${nexthop} does not match ip_version ${ipVersion}`,
      );
    return { destination: formatCidr(dest), nexthop };
  });
  const keys = l.map((r) => `${r.destination}|${r.nexthop}`);
  if (new Set(keys).size !== keys.length)
    throw invalidAttr(attr, `Duplicate hostroute '${keys.find((k, i) => keys.indexOf(k) !== i)}'`);
  if (l.length > 20)
    throw new ApiError(400, 'Number of host routes exceeds the limit 20 for subnet', 'HostRoutesExhausted');
  return l;
}

function fipAlreadyAssociated(assoc: { portId: string; fixedIp: string } | undefined): ApiError {
  return new ApiError(
    409,
    `Cannot associate floating IP with port ${assoc?.portId} using fixed IP ${assoc?.fixedIp}, as that fixed IP already has a floating IP on external network.`,
    'FloatingIPPortAlreadyAssociated',
  );
}
