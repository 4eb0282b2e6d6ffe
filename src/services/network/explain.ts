/**
 * "Why can't I reach my VM?" — explain a flow from the database state (GET /v2.0/stackbox/explain).
 *
 * A flow goes `from` one end `to` the other with a protocol and a port: each end is `external` (the external
 * network side, optionally `external:<ip>`), `server:<name|id>`, `port:<id>` or `ip:<address>` (a fixed IP of a
 * port, a floating IP — then the flow goes through it — or else an external address). The walk checks, in order,
 * the ends (server ACTIVE, port admin up and ACTIVE, network admin up, the fixed IP's subnet) and then the path:
 * the source port's egress rules, then L2 (same subnet), a router joining both subnets, a floating IP and its
 * router (gateway on the floating IP's network, interface on the port's subnet), or SNAT on the way out, and
 * last the destination port's ingress rules. It stops at the first hop that drops the flow and names the rule
 * or the missing piece. Nothing is sent on any wire: this is Neutron's model read back, so it explains what the
 * configuration says (a driver problem would show as a port not ACTIVE, not as a rule).
 *
 * Visibility: the ends are looked up as the caller (get_port, get_floatingip; servers through the compute
 * facade's `findServers`, the rule of GET /servers/{id}), so another project's server is a 404 like any other
 * lookup. The path (routers, groups of the ends' ports) is read from the store; resources on it that the caller
 * may not see are named by id only.
 *
 * When a server has several ports (or addresses), every pair of candidate addresses is walked and the first one
 * that passes is reported, else the one that went furthest; `from_network` / `to_network` (name or id) pin it.
 */
import type { PolicyRule } from '../../core/auth/policy.js';
import type { Credentials } from '../../core/auth/policy.js';
import { bool } from '../../core/db/index.js';
import { ApiError } from '../../core/errors.js';
import { badRequest, invalidAttr } from './errors.js';
import { cidrContains, formatIp, parseCidr, parseIp, type Ip } from './ipam.js';
import type { Caller } from '../../core/auth/caller.js';
import type { NetworkManager } from './manager.js';
import { OWNER_ROUTER_INTERFACE } from './resources/base.js';
import type { Query } from './query.js';
import type { Row } from './store.js';

export const EXPLAIN_RULE = 'stackbox:explain';

/** Not one of Neutron's rules: who may ask (every resource named is still looked up with the caller's rights). */
export const explainPolicy: PolicyRule = {
  name: EXPLAIN_RULE,
  check: '(rule:admin_only) or (role:reader and project_id:%(project_id)s)',
  scopeTypes: ['project'],
  description:
    "Explain whether a flow reaches a server or port, and where it is dropped (Stackbox's own API)",
  operations: [{ method: 'GET', path: '/v2.0/stackbox/explain' }],
};

/** A server as the compute facade reports it (ComputeFacade.findServers). */
export interface ServerSummary {
  id: string;
  name: string;
  status: string;
  project_id: string;
}

/** What explain uses of ctx.services.compute (optional: without compute, servers are known by their ports). */
export interface ServerLookup {
  findServers(creds: Credentials, ref: string): Promise<ServerSummary[]>;
}

export type Protocol = 'icmp' | 'tcp' | 'udp' | 'any';

export interface Hop {
  step: string;
  /** true: passes; false: the flow is dropped here; null: cannot tell from the configuration. */
  ok: boolean | null;
  detail: string;
  resource: { type: string; id: string } | null;
}

export interface Explanation {
  verdict: 'allowed' | 'dropped' | 'unknown';
  from: Record<string, unknown>;
  to: Record<string, unknown>;
  protocol: Protocol;
  port: number | null;
  hops: Hop[];
  blocked_at: string | null;
  reason: string | null;
}

const QUERY_KEYS = ['from', 'to', 'protocol', 'port', 'from_network', 'to_network'];
const PROTOCOLS: Protocol[] = ['icmp', 'tcp', 'udp', 'any'];
/** Rule protocol names → IP protocol numbers (for the protocols a flow can have). */
const PROTO_NUMBERS: Record<string, number> = { tcp: 6, udp: 17, icmp: 1, 'ipv6-icmp': 58, icmpv6: 58 };
const TRANSITIONAL = [
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
const MAX_CANDIDATES = 16;

type EndSpec =
  | { kind: 'external'; input: string; ip?: Ip; address?: string }
  | { kind: 'server'; input: string; ref: string }
  | { kind: 'port'; input: string; id: string }
  | { kind: 'ip'; input: string; ip: Ip; address: string };

interface Fixed {
  subnet: Row;
  address: string;
  ip: Ip;
}

/** One address of one port of an end. */
interface Nic {
  port: Row;
  network: Row;
  fixed?: Fixed;
  groups: string[];
}

type End =
  | { kind: 'external'; input: string; ip?: Ip; address: string | null; note?: string }
  | {
      kind: 'nics';
      input: string;
      type: 'server' | 'port';
      /** undefined: not a server; null: a server the compute service could not be asked about. */
      server?: ServerSummary | null;
      /** The floating IP the end was named by (`ip:<floating ip>`). */
      fip?: Row;
      nics: Nic[];
    };

interface Remote {
  ip?: Ip;
  groups?: Set<string>;
  label: string;
}

interface Flow {
  protocol: Protocol;
  port: number | null;
}

class Walk {
  hops: Hop[] = [];
  blocked?: { step: string; reason: string };
  unsure?: { step: string; reason: string };

  ok(step: string, detail: string, resource: Hop['resource'] = null): true {
    this.hops.push({ step, ok: true, detail, resource });
    return true;
  }
  maybe(step: string, detail: string, reason: string, resource: Hop['resource'] = null): true {
    this.hops.push({ step, ok: null, detail, resource });
    this.unsure ??= { step, reason };
    return true;
  }
  fail(step: string, reason: string, resource: Hop['resource'] = null): false {
    this.hops.push({ step, ok: false, detail: reason, resource });
    this.blocked = { step, reason };
    return false;
  }
  /** How far the walk got (to pick the most telling candidate when none passes). */
  get score(): number {
    if (!this.blocked && !this.unsure) return Infinity;
    if (!this.blocked) return 1e6 + this.hops.length;
    return this.hops.filter((h) => h.ok !== false).length;
  }
}

const res = (type: string, id: string) => ({ type, id: String(id) });

export class Explainer {
  constructor(
    private readonly m: NetworkManager,
    private readonly compute: () => unknown,
  ) {}

  private get servers(): ServerLookup | undefined {
    const f = this.compute() as Partial<ServerLookup> | undefined;
    return f && typeof f.findServers === 'function' ? (f as ServerLookup) : undefined;
  }

  private get store() {
    return this.m.store;
  }

  async explain(c: Caller, q: Query): Promise<Explanation> {
    this.m.enforce(c, EXPLAIN_RULE, { project_id: c.projectId, tenant_id: c.projectId });
    const bad = Object.keys(q).filter((k) => !QUERY_KEYS.includes(k));
    if (bad.length)
      throw badRequest(
        `Unrecognized query parameter(s): ${bad.sort().join(', ')}. Expected: ${QUERY_KEYS.join(', ')}.`,
      );
    const one = (k: string): string | undefined => {
      const val = q[k];
      if (val === undefined) return undefined;
      if (typeof val !== 'string') throw invalidAttr(k, 'it must be given once');
      return val;
    };
    const fromText = one('from');
    const toText = one('to');
    if (!fromText)
      throw invalidAttr('from', 'it is required (external, server:<name|id>, port:<id>, ip:<address>)');
    if (!toText)
      throw invalidAttr('to', 'it is required (server:<name|id>, port:<id>, ip:<address>, external)');
    const fromSpec = parseEnd('from', fromText);
    const toSpec = parseEnd('to', toText);
    if (fromSpec.kind === 'external' && toSpec.kind === 'external')
      throw invalidAttr('to', 'one end of the flow must be a server, a port or an address in the cloud');
    const flow = parseFlow(one('protocol'), one('port'));
    const fromNet = one('from_network');
    const toNet = one('to_network');

    const from = await this.resolve(c, fromSpec, 'from', fromNet);
    const to = await this.resolve(c, toSpec, 'to', toNet);
    if (from.kind === 'external' && to.kind === 'external')
      throw invalidAttr('to', `neither ${fromText} nor ${toText} is an address of a port you can see`);

    // Candidate pairs of addresses; compatible IP versions first.
    const srcs: (Nic | undefined)[] = from.kind === 'nics' && from.nics.length ? from.nics : [undefined];
    const dsts: (Nic | undefined)[] = to.kind === 'nics' && to.nics.length ? to.nics : [undefined];
    const version = (e: End, n: Nic | undefined) =>
      e.kind === 'external' ? e.ip?.version : n?.fixed?.ip.version;
    let pairs: [Nic | undefined, Nic | undefined][] = [];
    for (const s of srcs) for (const d of dsts) pairs.push([s, d]);
    const compatible = pairs.filter(([s, d]) => {
      const a = version(from, s);
      const b = version(to, d);
      return a === undefined || b === undefined || a === b;
    });
    if (compatible.length) pairs = compatible;
    pairs = pairs.slice(0, MAX_CANDIDATES);

    let best: { walk: Walk; src?: Nic; dst?: Nic } | undefined;
    for (const [src, dst] of pairs) {
      const walk = await this.walk(c, flow, from, src, to, dst);
      if (!best || walk.score > best.walk.score) best = { walk, src, dst };
      if (walk.score === Infinity) break;
    }
    const w = best!.walk;
    const verdict = w.blocked ? 'dropped' : w.unsure ? 'unknown' : 'allowed';
    const stop = w.blocked ?? w.unsure;
    return {
      verdict,
      from: this.endView(from, best!.src),
      to: this.endView(to, best!.dst),
      protocol: flow.protocol,
      port: flow.port,
      hops: w.hops,
      blocked_at: stop?.step ?? null,
      reason: stop?.reason ?? null,
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // resolving the ends (as the caller)

  private async resolve(c: Caller, spec: EndSpec, attr: string, network?: string): Promise<End> {
    let end: End;
    switch (spec.kind) {
      case 'external':
        if (network) throw invalidAttr(`${attr}_network`, 'it applies to a server, a port or an ip end only');
        return { kind: 'external', input: spec.input, ip: spec.ip, address: spec.address ?? null };
      case 'port': {
        const port = await this.m.visibleRow(c, 'port', spec.id);
        end = { kind: 'nics', input: spec.input, type: 'port', nics: await this.nicsOf([port]) };
        break;
      }
      case 'server': {
        const { server, ports } = await this.findServer(c, spec.ref);
        end = { kind: 'nics', input: spec.input, type: 'server', server, nics: await this.nicsOf(ports) };
        break;
      }
      case 'ip': {
        const allocs = await this.store.list('net_ipallocations', {
          where: [{ eq: 'ip_address', values: [spec.address] }],
        });
        const ports = await this.visible(
          c,
          'port',
          await this.store.getMany(
            'net_ports',
            allocs.map((a) => a.port_id),
          ),
        );
        if (ports.length) {
          const nics = (await this.nicsOf(ports)).filter((n) => n.fixed?.address === spec.address);
          end = { kind: 'nics', input: spec.input, type: 'port', nics };
          break;
        }
        const fips = await this.visible(
          c,
          'floatingip',
          await this.store.list('net_floatingips', {
            where: [{ eq: 'floating_ip_address', values: [spec.address] }],
          }),
        );
        const fip = fips[0];
        if (fip) {
          const port = fip.fixed_port_id ? await this.store.get('net_ports', fip.fixed_port_id) : undefined;
          const nics = port
            ? (await this.nicsOf([port])).filter((n) => n.fixed?.address === fip.fixed_ip_address)
            : [];
          end = { kind: 'nics', input: spec.input, type: 'port', fip, nics };
          break;
        }
        if (network)
          throw invalidAttr(`${attr}_network`, `${spec.address} is not an address of a port you can see`);
        return {
          kind: 'external',
          input: spec.input,
          ip: spec.ip,
          address: spec.address,
          note: 'not an address of any port or floating IP you can see: taken as an external address',
        };
      }
    }
    if (network) {
      const nics = end.nics.filter((n) => n.network.id === network || n.network.name === network);
      if (!nics.length)
        throw invalidAttr(
          `${attr}_network`,
          `${spec.input} has no port on a network named or numbered ${network}`,
        );
      end.nics = nics;
    }
    return end;
  }

  private async findServer(c: Caller, ref: string): Promise<{ server: ServerSummary | null; ports: Row[] }> {
    const lookup = this.servers;
    const notFound = () => new ApiError(404, `Server ${ref} could not be found.`, 'HTTPNotFound');
    const portsOf = async (id: string) =>
      this.visible(
        c,
        'port',
        await this.store.list('net_ports', {
          where: [{ eq: 'device_id', values: [id] }],
          sort: [{ col: 'created_at', dir: 'asc' }],
        }),
      );
    if (!lookup) {
      // No compute service here: a server is what the ports say (device_id), by id only.
      const ports = await portsOf(ref);
      if (!ports.length) throw notFound();
      return { server: null, ports };
    }
    const found = await lookup.findServers(c.creds, ref);
    if (found.length === 0) throw notFound();
    if (found.length > 1)
      throw new ApiError(
        409,
        `More than one server is named ${ref} (${found.map((s) => s.id).join(', ')}): give its id.`,
        'HTTPConflict',
      );
    const server = found[0]!;
    return { server, ports: await portsOf(server.id) };
  }

  /** The rows the caller may see (get_<kind>), in order. */
  private async visible(c: Caller, kind: string, rows: Row[]): Promise<Row[]> {
    if (!rows.length) return [];
    const views = await this.m.render(c, kind, rows);
    return rows.filter((_, i) => views[i]!.visible);
  }

  private async nicsOf(ports: Row[]): Promise<Nic[]> {
    const out: Nic[] = [];
    for (const port of ports) {
      const network = (await this.store.get('net_networks', port.network_id))!;
      const groups = (await this.store.portSecurityGroups([port.id])).map(
        (g) => g.security_group_id as string,
      );
      const allocs = await this.store.allocationsFor([port.id]);
      const fixed: Fixed[] = [];
      for (const a of allocs) {
        const subnet = await this.store.get('net_subnets', a.subnet_id);
        const ip = parseIp(a.ip_address);
        if (subnet && ip) fixed.push({ subnet, address: a.ip_address, ip });
      }
      fixed.sort((a, b) => a.ip.version - b.ip.version);
      if (!fixed.length) out.push({ port, network, groups });
      for (const f of fixed) out.push({ port, network, groups, fixed: f });
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // the walk

  private async walk(c: Caller, flow: Flow, from: End, src: Nic | undefined, to: End, dst: Nic | undefined) {
    const w = new Walk();
    if (from.kind === 'external')
      w.ok('source', from.address ? `external address ${from.address}` : 'any external address');
    else if (!(await this.endHops(c, w, from, src, 'source_'))) return w;
    if (to.kind === 'nics') {
      const want = from.kind === 'external' ? from.ip?.version : src?.fixed?.ip.version;
      if (!(await this.endHops(c, w, to, dst, '', want))) return w;
    }
    if (from.kind === 'external') {
      await this.ingressFromExternal(
        c,
        w,
        flow,
        dst!,
        from.ip,
        from.address,
        to.kind === 'nics' ? to.fip : undefined,
      );
    } else if (to.kind === 'external') {
      const out = await this.egressToExternal(c, w, flow, src!, to.ip, to.address ?? 'any external address');
      if (out)
        w.ok(
          'destination',
          `${to.address ? `external address ${to.address}` : 'the external network'}, seen from ${out}`,
        );
    } else if (to.fip) {
      // To a floating IP: out of the source's network, then in through the floating IP.
      const fipAddr = to.fip.floating_ip_address as string;
      const out = await this.egressToExternal(c, w, flow, src!, parseIp(fipAddr), fipAddr);
      if (out) await this.ingressFromExternal(c, w, flow, dst!, parseIp(out), out, to.fip);
    } else await this.internal(c, w, flow, src!, dst!);
    return w;
  }

  /** Server, port, network, subnet of one end; false when the walk stops. */
  private async endHops(
    c: Caller,
    w: Walk,
    end: Extract<End, { kind: 'nics' }>,
    nic: Nic | undefined,
    prefix: string,
    wantVersion?: number,
  ): Promise<boolean> {
    if (end.type === 'server') {
      const s = end.server;
      const id = s?.id ?? String(nic?.port.device_id ?? '');
      const label = s ? `${s.name} (${s.id})` : id;
      if (!s)
        w.ok(
          `${prefix}server`,
          `server ${label} (status not checked: no compute service)`,
          res('server', id),
        );
      else if (s.status === 'ACTIVE') w.ok(`${prefix}server`, `server ${label} is ACTIVE`, res('server', id));
      else if (TRANSITIONAL.includes(s.status))
        w.maybe(
          `${prefix}server`,
          `server ${label} is ${s.status}`,
          `server ${s.name} is ${s.status}: it may not answer until it is ACTIVE again`,
          res('server', id),
        );
      else
        return w.fail(
          `${prefix}server`,
          `server ${s.name} is ${s.status}, not ACTIVE: nothing runs to answer`,
          res('server', id),
        );
    }
    if (end.fip && !nic) {
      const f = end.fip;
      return w.fail(
        `${prefix}floating_ip`,
        `floating IP ${f.floating_ip_address} (${f.id}) is not associated with any port`,
        res('floatingip', f.id),
      );
    }
    if (!nic)
      return w.fail(
        `${prefix}port`,
        `${end.server ? `server ${end.server.name}` : end.input} has no port you can see: it is not attached to any network`,
        end.server ? res('server', end.server.id) : null,
      );
    const p = nic.port;
    const pres = res('port', p.id);
    const plabel = `port ${p.name ? `${p.name} (${p.id})` : p.id}`;
    if (!bool(p.admin_state_up))
      return w.fail(`${prefix}port`, `${plabel} is administratively down (admin_state_up=false)`, pres);
    const bound = !!(p.binding_host_id || p.device_owner);
    if (p.status === 'ACTIVE') w.ok(`${prefix}port`, `${plabel} is ACTIVE (mac ${p.mac_address})`, pres);
    else if (p.status === 'ERROR')
      return w.fail(`${prefix}port`, `${plabel} is in ERROR: the network agent could not wire it`, pres);
    else if (!bound)
      return w.fail(
        `${prefix}port`,
        `${plabel} is ${p.status} and bound to nothing: no server uses it`,
        pres,
      );
    else
      w.maybe(
        `${prefix}port`,
        `${plabel} is ${p.status}`,
        `${plabel} is ${p.status}: the network agent has not reported it up (yet)`,
        pres,
      );
    const n = nic.network;
    const nres = res('network', n.id);
    const nlabel = `network ${n.name || n.id}`;
    if (!bool(n.admin_state_up))
      return w.fail(`${prefix}network`, `${nlabel} is administratively down (admin_state_up=false)`, nres);
    w.ok(
      `${prefix}network`,
      `${nlabel} (${n.id}) is up${bool(n.external) ? ' (external)' : ''}${n.network_type ? `, ${n.network_type}` : ''}`,
      nres,
    );
    if (!nic.fixed) return w.fail(`${prefix}subnet`, `${plabel} has no fixed IP address`, pres);
    const f = nic.fixed;
    if (wantVersion && f.ip.version !== wantVersion)
      return w.fail(
        `${prefix}subnet`,
        `${plabel} has no IPv${wantVersion} address (only ${f.address}) and the other end is IPv${wantVersion}`,
        pres,
      );
    w.ok(
      `${prefix}subnet`,
      `${f.address} in subnet ${subnetLabel(f.subnet)}, ${f.subnet.gateway_ip ? `gateway ${f.subnet.gateway_ip}` : 'no gateway'}`,
      res('subnet', f.subnet.id),
    );
    return true;
  }

  /** From the external network to a port: directly (port on the external network), routed (IPv6) or by a floating IP. */
  private async ingressFromExternal(
    c: Caller,
    w: Walk,
    flow: Flow,
    dst: Nic,
    srcIp: Ip | undefined,
    srcAddress: string | null,
    via?: Row,
  ): Promise<boolean> {
    const f = dst.fixed!;
    const remote: Remote = { ip: srcIp, label: srcAddress ? srcAddress : 'any external address' };
    if (bool(dst.network.external)) {
      w.ok('l2', `${f.address} is on the external network ${dst.network.name || dst.network.id}: no NAT`);
    } else if (f.ip.version === 6 && !via) {
      if (!(await this.routeOut(c, w, dst, 'in'))) return false;
    } else {
      let fip = via;
      if (!fip) {
        const fips = await this.store.list('net_floatingips', {
          where: [
            { eq: 'fixed_port_id', values: [dst.port.id] },
            { eq: 'fixed_ip_address', values: [f.address] },
          ],
          sort: [{ col: 'created_at', dir: 'asc' }],
        });
        fip = fips[0];
      }
      if (!fip)
        return w.fail(
          'floating_ip',
          `no floating IP is associated with ${f.address} (port ${dst.port.id}): a fixed address on ${dst.network.name || dst.network.id} cannot be reached from the external network`,
          res('port', dst.port.id),
        );
      if (!(await this.floatingIpHops(c, w, fip, dst, 'in'))) return false;
    }
    return this.security(c, w, flow, dst, 'ingress', remote);
  }

  /**
   * From a port to the external network: egress rules, then directly, routed (IPv6), through the port's
   * floating IP, or SNAT on a router. Returns the source address the outside sees, or false when dropped.
   */
  private async egressToExternal(
    c: Caller,
    w: Walk,
    flow: Flow,
    src: Nic,
    dstIp: Ip | undefined,
    dstLabel: string,
  ): Promise<string | false> {
    const f = src.fixed!;
    if (!(await this.security(c, w, flow, src, 'egress', { ip: dstIp, label: dstLabel }))) return false;
    if (bool(src.network.external)) {
      w.ok('l2', `${f.address} is on the external network ${src.network.name || src.network.id}: no NAT`);
      return f.address;
    }
    if (f.ip.version === 6) return (await this.routeOut(c, w, src, 'out')) ? f.address : false;
    const fip = (
      await this.store.list('net_floatingips', {
        where: [
          { eq: 'fixed_port_id', values: [src.port.id] },
          { eq: 'fixed_ip_address', values: [f.address] },
        ],
        sort: [{ col: 'created_at', dir: 'asc' }],
      })
    )[0];
    if (fip) return (await this.floatingIpHops(c, w, fip, src, 'out')) ? fip.floating_ip_address : false;
    const router = await this.routeOut(c, w, src, 'out');
    if (!router) return false;
    const label = await this.label(c, 'router', router);
    if (!bool(router.enable_snat))
      return w.fail(
        'snat',
        `router ${label} does not SNAT (enable_snat=false) and ${f.address} has no floating IP: replies cannot come back to a private address`,
        res('router', router.id),
      );
    const gw = router.gw_port_id ? await this.store.allocationsFor([router.gw_port_id]) : [];
    const gwIp = gw.find((a) => parseIp(a.ip_address)?.version === 4)?.ip_address as string | undefined;
    if (!gwIp)
      return w.fail(
        'snat',
        `router ${label}'s gateway has no IPv4 address to SNAT ${f.address} to`,
        res('router', router.id),
      );
    w.ok('snat', `${f.address} → ${gwIp} (SNAT on router ${label}'s gateway)`, res('router', router.id));
    return gwIp;
  }

  /** A floating IP and the router that carries it (gateway on its network, interface on the port's subnet). */
  private async floatingIpHops(c: Caller, w: Walk, fip: Row, nic: Nic, dir: 'in' | 'out'): Promise<boolean> {
    const f = nic.fixed!;
    const fres = res('floatingip', fip.id);
    const ext = await this.store.get('net_networks', fip.floating_network_id);
    const extLabel = ext ? ext.name || ext.id : fip.floating_network_id;
    if (ext && !bool(ext.admin_state_up))
      return w.fail('floating_ip', `external network ${extLabel} is administratively down`, fres);
    const status = fip.status && fip.status !== 'ACTIVE' ? `, status ${fip.status}` : '';
    w.ok(
      'floating_ip',
      dir === 'in'
        ? `${fip.floating_ip_address} → ${f.address} (floating IP ${fip.id} on ${extLabel}${status})`
        : `${f.address} → ${fip.floating_ip_address} (floating IP ${fip.id} on ${extLabel}${status}): the source address seen outside`,
      fres,
    );
    const router = fip.router_id ? await this.store.get('net_routers', fip.router_id) : undefined;
    if (!router)
      return w.fail(
        'router',
        `floating IP ${fip.floating_ip_address} has no router: nothing connects subnet ${subnetLabel(f.subnet)} to ${extLabel}`,
        fres,
      );
    const label = await this.label(c, 'router', router);
    const rres = res('router', router.id);
    if (!bool(router.admin_state_up))
      return w.fail('router', `router ${label} is administratively down (admin_state_up=false)`, rres);
    if (router.gw_network_id !== fip.floating_network_id)
      return w.fail(
        'router',
        `router ${label} has no gateway on ${extLabel} (the floating IP's network)${router.gw_network_id ? '' : ': it has no external gateway at all'}`,
        rres,
      );
    const iface = (await this.routersOn(f.subnet.id)).find((r) => r.router.id === router.id);
    if (!iface)
      return w.fail('router', `router ${label} has no interface on subnet ${subnetLabel(f.subnet)}`, rres);
    if (router.status === 'ERROR') return w.fail('router', `router ${label} is in ERROR`, rres);
    w.ok(
      'router',
      `router ${label}: gateway on ${extLabel}, interface ${iface.address} on subnet ${subnetLabel(f.subnet)}`,
      rres,
    );
    return true;
  }

  /** The router that takes a port's subnet to the external network (without NAT details); false: dropped. */
  private async routeOut(c: Caller, w: Walk, nic: Nic, dir: 'in' | 'out'): Promise<Row | false> {
    const f = nic.fixed!;
    const routers = await this.routersOn(f.subnet.id);
    if (!routers.length)
      return w.fail(
        'router',
        `no router has an interface on subnet ${subnetLabel(f.subnet)}: nothing routes ${dir === 'in' ? 'into' : 'out of'} ${nic.network.name || nic.network.id}`,
        res('subnet', f.subnet.id),
      );
    // The subnet's gateway first (where the guests send their traffic), then working routers.
    const rank = (x: { router: Row; address: string }) =>
      (x.address === f.subnet.gateway_ip ? 4 : 0) +
      (x.router.gw_network_id ? 2 : 0) +
      (bool(x.router.admin_state_up) ? 1 : 0);
    const { router, address } = [...routers].sort((a, b) => rank(b) - rank(a))[0]!;
    const label = await this.label(c, 'router', router);
    const rres = res('router', router.id);
    if (!bool(router.admin_state_up))
      return w.fail('router', `router ${label} is administratively down (admin_state_up=false)`, rres);
    if (!router.gw_network_id)
      return w.fail(
        'router',
        `router ${label} (interface ${address} on subnet ${subnetLabel(f.subnet)}) has no external gateway`,
        rres,
      );
    if (router.status === 'ERROR') return w.fail('router', `router ${label} is in ERROR`, rres);
    const ext = await this.store.get('net_networks', router.gw_network_id);
    w.ok(
      'router',
      `router ${label}: interface ${address} on subnet ${subnetLabel(f.subnet)}, gateway on ${ext?.name || router.gw_network_id}${f.ip.version === 6 ? ' (IPv6: routed, no NAT)' : ''}`,
      rres,
    );
    return router;
  }

  /** Port to port inside the cloud: egress rules, L2 or a router joining both subnets, ingress rules. */
  private async internal(c: Caller, w: Walk, flow: Flow, src: Nic, dst: Nic): Promise<boolean> {
    const s = src.fixed!;
    const d = dst.fixed!;
    const remoteOf = (n: Nic): Remote => ({
      ip: n.fixed!.ip,
      groups: new Set(n.groups),
      label: `${n.fixed!.address} (port ${n.port.id})`,
    });
    if (!(await this.security(c, w, flow, src, 'egress', remoteOf(dst)))) return false;
    if (s.subnet.id === d.subnet.id) {
      w.ok(
        'l2',
        `same subnet ${subnetLabel(s.subnet)} on network ${src.network.name || src.network.id}: no router needed`,
        res('subnet', s.subnet.id),
      );
    } else {
      const a = await this.routersOn(s.subnet.id);
      const b = await this.routersOn(d.subnet.id);
      const both = a.filter((x) => b.some((y) => y.router.id === x.router.id));
      if (!both.length) {
        let hint = '';
        const fip = (
          await this.store.list('net_floatingips', {
            where: [
              { eq: 'fixed_port_id', values: [dst.port.id] },
              { eq: 'fixed_ip_address', values: [d.address] },
            ],
          })
        )[0];
        if (fip)
          hint = `; ${d.address} has the floating IP ${fip.floating_ip_address}: explain to ip:${fip.floating_ip_address} for that path`;
        return w.fail(
          'router',
          `no router has interfaces on both subnet ${subnetLabel(s.subnet)} and subnet ${subnetLabel(d.subnet)}${hint}`,
          res('subnet', d.subnet.id),
        );
      }
      const pick = both.find((x) => x.address === s.subnet.gateway_ip) ?? both[0]!;
      const label = await this.label(c, 'router', pick.router);
      const rres = res('router', pick.router.id);
      if (!bool(pick.router.admin_state_up))
        return w.fail('router', `router ${label} is administratively down (admin_state_up=false)`, rres);
      if (pick.router.status === 'ERROR') return w.fail('router', `router ${label} is in ERROR`, rres);
      const there = b.find((y) => y.router.id === pick.router.id)!;
      w.ok(
        'router',
        `router ${label} joins ${s.subnet.cidr} (interface ${pick.address}) and ${d.subnet.cidr} (interface ${there.address})`,
        rres,
      );
    }
    return this.security(c, w, flow, dst, 'ingress', remoteOf(src));
  }

  /** Routers with an interface on a subnet, with the interface's address there. */
  private async routersOn(subnetId: string): Promise<{ router: Row; address: string }[]> {
    const allocs = await this.store.list('net_ipallocations', {
      where: [
        { eq: 'subnet_id', values: [subnetId] },
        {
          in: 'port_id',
          table: 'net_ports',
          select: 'id',
          where: [{ eq: 'device_owner', values: [OWNER_ROUTER_INTERFACE] }],
        },
      ],
    });
    if (!allocs.length) return [];
    const ports = await this.store.getMany(
      'net_ports',
      allocs.map((a) => a.port_id),
    );
    const routers = new Map(
      (
        await this.store.getMany(
          'net_routers',
          ports.map((p) => p.device_id),
        )
      ).map((r) => [r.id, r]),
    );
    const out: { router: Row; address: string }[] = [];
    for (const a of allocs) {
      const r = routers.get(ports.find((p) => p.id === a.port_id)?.device_id);
      if (r && !out.some((x) => x.router.id === r.id)) out.push({ router: r, address: a.ip_address });
    }
    return out;
  }

  /** Port security, then the security group rules of the port for one direction. */
  private async security(
    c: Caller,
    w: Walk,
    flow: Flow,
    nic: Nic,
    direction: 'ingress' | 'egress',
    remote: Remote,
  ): Promise<boolean> {
    const p = nic.port;
    const v = nic.fixed!.ip.version;
    const psStep = direction === 'ingress' ? 'port_security' : 'source_port_security';
    const sgStep = direction === 'ingress' ? 'security_group' : 'egress_security_group';
    const pres = res('port', p.id);
    if (!bool(p.port_security_enabled)) {
      w.ok(psStep, `port security is disabled on port ${p.id}: no ${direction} filtering`, pres);
      return true;
    }
    if (String(p.device_owner).startsWith('network:')) {
      w.ok(psStep, `port ${p.id} belongs to ${p.device_owner}: not filtered by security groups`, pres);
      return true;
    }
    w.ok(psStep, `port security is enabled on port ${p.id}: its security groups filter ${direction}`, pres);
    const what = `${flowText(flow, v)} ${direction === 'ingress' ? 'from' : 'to'} ${remote.label}`;
    if (!nic.groups.length)
      return w.fail(
        sgStep,
        `port ${p.id} has port security but no security group: every ${direction} packet is dropped (default deny), ${what} too`,
        pres,
      );
    const groups = await this.store.getMany('net_security_groups', nic.groups);
    const byId = new Map(groups.map((g) => [g.id as string, g]));
    const names = await Promise.all(
      nic.groups.map(async (id) => (byId.get(id) ? this.label(c, 'security_group', byId.get(id)!) : id)),
    );
    const rules = await this.store.list('net_security_group_rules', {
      where: [
        { eq: 'security_group_id', values: nic.groups },
        { eq: 'direction', values: [direction] },
      ],
      sort: [{ col: 'created_at', dir: 'asc' }],
    });
    const results = rules.map((r) => ({ r, m: matchRule(r, flow, v, remote) }));
    const yes = results.filter((x) => x.m === 'yes');
    const maybe = results.filter((x) => x.m === 'maybe');
    const groupName = (id: string) => names[nic.groups.indexOf(id)] ?? id;
    if (yes.length) {
      const r = yes[0]!.r;
      w.ok(
        sgStep,
        `rule ${r.id} of group ${groupName(r.security_group_id)} (${ruleText(r, byId, direction)}) allows ${what}${yes.length > 1 ? ` (and ${yes.length - 1} more rule${yes.length > 2 ? 's' : ''})` : ''}`,
        res('security_group_rule', r.id),
      );
      return true;
    }
    if (maybe.length) {
      const r = maybe[0]!.r;
      w.maybe(
        sgStep,
        `Rule ${r.id} of group ${groupName(r.security_group_id)} (${ruleText(r, byId, direction)}) allows ${flowText(flow, v)} from some addresses only`,
        `rule ${r.id} of group ${groupName(r.security_group_id)} allows ${flowText(flow, v)} only ${direction === 'ingress' ? 'from' : 'to'} ${r.remote_ip_prefix}: name the address (external:<ip>) to know`,
        res('security_group_rule', r.id),
      );
      return true;
    }
    return w.fail(
      sgStep,
      `no ${direction} rule of security groups [${names.join(', ')}] allows ${what} (default deny)`,
      res('security_group', nic.groups[0]!),
    );
  }

  /** A resource's name for the caller: name and id when visible, the id alone otherwise. */
  private async label(c: Caller, kind: string, row: Row): Promise<string> {
    const [v] = await this.m.render(c, kind, [row]);
    if (!v?.visible) return `${row.id} (another project's)`;
    return row.name ? `${row.name} (${row.id})` : String(row.id);
  }

  private endView(end: End, nic: Nic | undefined): Record<string, unknown> {
    if (end.kind === 'external')
      return {
        type: 'external',
        input: end.input,
        address: end.address,
        ...(end.note ? { note: end.note } : {}),
      };
    return {
      type: end.type,
      input: end.input,
      ...(end.type === 'server'
        ? {
            server: end.server
              ? { id: end.server.id, name: end.server.name, status: end.server.status }
              : { id: nic?.port.device_id ?? null, name: null, status: null },
          }
        : {}),
      port_id: nic?.port.id ?? null,
      device_id: nic?.port.device_id || null,
      network: nic ? { id: nic.network.id, name: nic.network.name } : null,
      address: nic?.fixed?.address ?? null,
      ...(end.fip ? { floating_ip: { id: end.fip.id, address: end.fip.floating_ip_address } } : {}),
    };
  }
}

// -------------------------------------------------------------------------------------------------------------
// parsing and matching (pure)

function parseEnd(attr: string, text: string): EndSpec {
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

function parseFlow(protocolText: string | undefined, portText: string | undefined): Flow {
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

function flowText(flow: Flow, v: number): string {
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
function ruleProto(r: Row): number | null | undefined {
  const p = r.protocol as string | null;
  if (p === null || p === undefined || p === '') return null;
  const n = /^\d+$/.test(p) ? Number(p) : PROTO_NUMBERS[p.toLowerCase()];
  return n === 1 && r.ethertype === 'IPv6' ? 58 : n;
}

/** Does a rule allow the flow to/from the remote? 'maybe': only for some of the addresses the remote stands for. */
function matchRule(r: Row, flow: Flow, v: number, remote: Remote): 'yes' | 'no' | 'maybe' {
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

function ruleText(r: Row, groups: Map<string, Row>, direction: string): string {
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

function subnetLabel(s: Row): string {
  return `${s.name ? `${s.name} ` : ''}${s.cidr} (${s.id})`;
}
