/** Parsing a flow and its ends, and matching security group rules against it (pure). */
import { invalidAttr } from '../errors.js';
import { cidrContains, formatIp, parseCidr, parseIp } from '../ipam.js';
import type { Row } from '../store.js';
import { type EndSpec, type Flow, type Protocol, type Remote } from './types.js';

export const PROTOCOLS: Protocol[] = ['icmp', 'tcp', 'udp', 'any'];
/** Rule protocol names → IP protocol numbers (for the protocols a flow can have). */
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, icmpv6: 58 };
/** Server states a flow may see interrupted. */
export const TRANSITIONAL = [
  'REBOOT',
  'HARD_REBOOT',
  'MIGRATING',
  'RESIZE',
  'VERIFY_RESIZE',
  'REVERT_RESIZE',
  'PASSWORD',
  'REBUILD',
];
/** At most this many (source, destination) address pairs are walked. */

export function parseEnd(attr: string, text: string): EndSpec {
  const i = text.indexOf(':');
  const kind = (i < 0 ? text : text.slice(0, i)).toLowerCase();
  const val = i < 0 ? '' : text.slice(i + 1);
  const ipOf = (s: string) => {
    const ip = parseIp(s);
    if (!ip) throw invalidAttr(attr, `'${s}' is not a valid IP address`);
    return { ip, address: formatIp(ip.version, ip.value) };
  };
  switch (kind) {
    case 'external':
      return val ? { kind, input: text, ...ipOf(val) } : { kind, input: text };
    case 'server':
    case 'port':
      if (!val)
        throw invalidAttr(
          attr,
          `'${text}' names no ${kind} (${kind}:<${kind === 'server' ? 'name|id' : 'id'}>)`,
        );
      return kind === 'server' ? { kind, input: text, ref: val } : { kind, input: text, id: val };
    case 'ip':
      return { kind, input: text, ...ipOf(val) };
    default:
      throw invalidAttr(
        attr,
        `'${text}' is not one of external, external:<ip>, server:<name|id>, port:<id>, ip:<address>`,
      );
  }
}

export function parseFlow(protocolText: string | undefined, portText: string | undefined): Flow {
  const protocol = (protocolText ?? (portText !== undefined ? 'tcp' : 'any')).toLowerCase() as Protocol;
  if (!PROTOCOLS.includes(protocol))
    throw invalidAttr('protocol', `'${protocolText}' is not one of ${PROTOCOLS.join(', ')}`);
  if (portText === undefined || portText === '') return { protocol, port: null };
  if (protocol === 'any')
    throw invalidAttr('port', 'a port needs a protocol (tcp, udp, or icmp for an ICMP type)');
  const [min, max] = protocol === 'icmp' ? [0, 255] : [1, 65535];
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < min || Number(portText) > max)
    throw invalidAttr(
      'port',
      `'${portText}' is not ${protocol === 'icmp' ? 'an ICMP type (0 to 255)' : 'a port number (1 to 65535)'}`,
    );
  return { protocol, port: Number(portText) };
}

export function flowText(flow: Flow, v: number): string {
  switch (flow.protocol) {
    case 'tcp':
    case 'udp':
      return flow.port === null ? `${flow.protocol} (every port)` : `${flow.protocol}/${flow.port}`;
    case 'icmp':
      return flow.port === null ? `icmp${v === 6 ? 'v6' : ''} echo request` : `icmp type ${flow.port}`;
    default:
      return 'any protocol';
  }
}

/** Protocol number of a rule (null: any), with `icmp` (or 1) read as ICMPv6 in an IPv6 rule, as the driver does. */
export function ruleProto(r: Row): number | null | undefined {
  const p = r.protocol as string | null;
  if (p === null || p === undefined || p === '') return null;
  const n = /^\d+$/.test(p) ? Number(p) : PROTO_NUMBERS[p.toLowerCase()];
  return n === 1 && r.ethertype === 'IPv6' ? 58 : n;
}

/** Does a rule allow the flow to/from the remote? 'maybe': only for some of the addresses the remote stands for. */
export function matchRule(r: Row, flow: Flow, v: number, remote: Remote): 'yes' | 'no' | 'maybe' {
  if (r.ethertype !== (v === 6 ? 'IPv6' : 'IPv4')) return 'no';
  const proto = ruleProto(r);
  const min = r.port_range_min === null || r.port_range_min === undefined ? null : Number(r.port_range_min);
  const max = r.port_range_max === null || r.port_range_max === undefined ? null : Number(r.port_range_max);
  if (proto !== null) {
    const want =
      flow.protocol === 'any'
        ? -1
        : flow.protocol === 'icmp'
          ? v === 6
            ? 58
            : 1
          : PROTO_NUMBERS[flow.protocol];
    if (proto !== want) return 'no';
    if (flow.protocol === 'icmp') {
      const type = flow.port ?? (v === 6 ? 128 : 8);
      if (min !== null && min !== type) return 'no';
      if (max !== null && max !== 0) return 'no';
    } else if (min !== null || max !== null) {
      if (flow.port === null) {
        if ((min ?? 1) > 1 || (max ?? 65535) < 65535) return 'no';
      } else if (flow.port < (min ?? 1) || flow.port > (max ?? min ?? 65535)) return 'no';
    }
  }
  if (r.remote_group_id) return remote.groups?.has(r.remote_group_id) ? 'yes' : 'no';
  if (r.remote_ip_prefix) {
    const cidr = parseCidr(r.remote_ip_prefix);
    if (!cidr) return 'no';
    if (remote.ip) return cidrContains(cidr, remote.ip) ? 'yes' : 'no';
    return cidr.prefixlen === 0 ? 'yes' : 'maybe';
  }
  return 'yes';
}

export function ruleText(r: Row, groups: Map<string, Row>, direction: string): string {
  const proto = r.protocol ?? 'any protocol';
  let ports = '';
  if (r.port_range_min !== null && r.port_range_min !== undefined) {
    const icmp = ['icmp', 'ipv6-icmp', 'icmpv6', '1', '58'].includes(String(r.protocol));
    ports = icmp
      ? ` type ${r.port_range_min}${r.port_range_max !== null && r.port_range_max !== undefined ? ` code ${r.port_range_max}` : ''}`
      : r.port_range_min === r.port_range_max
        ? ` ${r.port_range_min}`
        : ` ${r.port_range_min}-${r.port_range_max}`;
  }
  const dir = direction === 'ingress' ? 'from' : 'to';
  const remote = r.remote_group_id
    ? `members of group ${groups.get(r.remote_group_id)?.name || r.remote_group_id}`
    : (r.remote_ip_prefix ?? 'anywhere');
  return `${r.direction} ${r.ethertype} ${proto}${ports} ${dir} ${remote}`;
}

export function subnetLabel(s: Row): string {
  return `${s.name ? `${s.name} ` : ''}${s.cidr} (${s.id})`;
}
