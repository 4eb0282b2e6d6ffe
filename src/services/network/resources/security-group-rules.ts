/** Security group rules: validation as neutron/db/securitygroups_db.py, no duplicates. */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../core/errors.js';
import { NotFound, conflict, invalidAttr } from '../errors.js';
import { IP_PROTOCOL_MAP } from '../../../agent/network/ip-protocols.js';
import { formatCidr, parseCidr } from '../ipam.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { sgRuleView } from '../views.js';
import { I, Resource, S, STD, now, uniq, type Caller, type Rendered, type ResourceDef } from './base.js';

export class SecurityGroupRules extends Resource {
  readonly def: ResourceDef = {
    kind: 'security_group_rule',
    path: 'security-group-rules',
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
  };

  override async target(_c: Caller, row: Row, ex: Exec): Promise<Row> {
    const sg = await this.store.get('net_security_groups', row.security_group_id, ex);
    return {
      ...row,
      tenant_id: row.project_id,
      'security_group:project_id': sg?.project_id ?? row.project_id,
      belongs_to_default_sg: false,
    };
  }

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const targets: Row[] = [];
    const groups = new Map(
      (await this.store.getMany('net_security_groups', uniq(rows.map((r) => r.security_group_id)), ex)).map(
        (g) => [g.id, g],
      ),
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
    const views: Record<string, unknown>[] = rows.map((r) => {
      targets.push({
        ...r,
        tenant_id: r.project_id,
        'security_group:project_id': groups.get(r.security_group_id)?.project_id,
        belongs_to_default_sg: defaults.has(r.security_group_id),
      });
      return ruleView(r, defaults.has(r.security_group_id));
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
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
    v.required(b, 'security_group_id');
    const sgId = v.str('security_group_id', b.security_group_id);
    const sg = await this.store.get('net_security_groups', sgId);
    if (!sg) throw NotFound.security_group(sgId);
    const projectId = this.m.owner(c, { project_id: b.project_id, tenant_id: b.tenant_id });
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      'security_group:project_id': sg.project_id,
      belongs_to_default_sg: await this.m.securityGroups.isDefaultSg(sgId),
    };
    if (!this.m.allowed(c, 'get_security_group', { ...sg, tenant_id: sg.project_id, shared: false }))
      throw NotFound.security_group(sgId);
    this.m.enforce(c, 'create_security_group_rule', target);
    const rule = await this.validateRule(b);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.m.checkQuota(sg.project_id, 'security_group_rule', trx);
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
      await this.m.bump('net_security_groups', sgId, {}, trx);
    });
    this.changes.securityGroup(sgId);
    return this.m.viewOf(c, 'security_group_rule', id);
  }

  /** neutron/db/securitygroups_db.py _validate_security_group_rule and friends. */
  async validateRule(b: Row): Promise<Row> {
    v.required(b, 'direction');
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

  override async delete(c: Caller, id: string) {
    const row = await this.m.visibleRow(c, 'security_group_rule', id);
    const target = await this.m.target(c, 'security_group_rule', row);
    target.belongs_to_default_sg = await this.m.securityGroups.isDefaultSg(row.security_group_id);
    this.m.enforce(c, 'delete_security_group_rule', target);
    await this.store.tx(async (trx) => {
      await this.store.delete('net_security_group_rules', [{ eq: 'id', values: [id] }], trx);
      await this.m.bump('net_security_groups', row.security_group_id, {}, trx);
    });
    this.changes.securityGroup(row.security_group_id);
  }
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

/** A rule's view (also embedded in its group's). */
export function ruleView(r: Row, belongsToDefault: boolean): Record<string, unknown> {
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
