/** Walking a flow hop by hop over the rows the wiring is built from; it stops at the first drop. */
import type { Caller } from '../../../core/auth/caller.js';
import { bool } from '../../../core/db/index.js';
import { parseIp, type Ip } from '../ipam.js';
import type { NetworkManager } from '../manager.js';
import { OWNER_ROUTER_INTERFACE } from '../resources/base.js';
import type { Row } from '../store.js';
import { Walk, res, type End, type Flow, type Nic, type Remote } from './types.js';
import { TRANSITIONAL, flowText, matchRule, ruleText, subnetLabel } from './rules.js';

/** The walk of one (source, destination) pair: ends, egress rules, the path, ingress rules. */
export class Walker {
  constructor(private readonly m: NetworkManager) {}

  private get store() {
    return this.m.store;
  }

  async walk(c: Caller, flow: Flow, from: End, src: Nic | undefined, to: End, dst: Nic | undefined) {
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
}
