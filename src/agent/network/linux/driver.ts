/**
 * The Linux network driver: tenant networks, DHCP, routers, SNAT, floating IPs, security groups and metadata
 * on namespaces, veth pairs, Linux bridges, nftables and dnsmasq (../shared/research/dataplane.md).
 *
 *   network  → namespace `<prefix>n-<id>` with bridge br0; flat networks get an uplink (veth `phy0`) to
 *              the physical bridge their physical network is mapped to; DHCP is dnsmasq on br0 (the DHCP
 *              port's addresses); metadata is 169.254.169.254 on br0, answered by this process.
 *   port     → the VM's tap (QEMU creates it; plugVif moves it into the namespace and onto br0); its
 *              anti-spoofing and security groups are the namespace's nftables tables (nft.ts).
 *   router   → namespace `<prefix>r-<id>`: `qr-` veths into each subnet's network namespace, a `qg-` veth
 *              into the external network's namespace carrying the gateway and floating IPs, static routes,
 *              SNAT and 1:1 floating-IP NAT (nft), forwarding on.
 *
 * Everything is level-triggered and idempotent: each call makes the host match the document it is given,
 * so applying the full desired state after a restart changes nothing that is already right (no traffic is
 * interrupted), and `reconcile` removes what the database no longer wants. The documents the driver was
 * given are kept under its state directory, so after a restart it still knows every port of a network
 * before all of them have been sent again.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkDriver, NetworkSpec, PortSpec, RouterSpec, VifPlug, WiringStatus } from '../driver.js';
import { ensureDhcp, stopDhcp } from './dhcp.js';
import { KeyedMutex, inNs, ip, ipQuiet, links, namespaces, run, type Link } from './exec.js';
import { MetadataProxy, listenInNamespace, type MetadataUpstream } from './metadata-proxy.js';
import {
  BRIDGE,
  METADATA_IP,
  UPLINK,
  networkNs,
  physPeerName,
  qgName,
  qrName,
  routerNs,
  tapName,
} from './names.js';
import { filtered, networkRuleset, portAddresses, routerRuleset } from './nft.js';
import { ensureRoutes, routerLeg } from './router.js';
import { readJson, writeAtomic } from './state.js';

/** Where a physical network (provider:physical_network) meets the host: a bridge, optionally in a namespace. */
export interface PhysicalNetwork {
  bridge: string;
  /** The namespace holding the bridge; the host's own namespace when absent. */
  netns?: string;
  /** Create the bridge (in the host namespace) with this address, e.g. 172.24.4.1/24, isolated from routing. */
  address?: string;
}

export interface LinuxNetworkDriverOptions {
  stateDir: string;
  /** Namespace prefix of this installation (names.ts nsPrefix). */
  prefix: string;
  physicalNetworks: Record<string, PhysicalNetwork>;
  metadata?: MetadataUpstream;
  log?: { info(o: unknown, m?: string): void; warn(o: unknown, m?: string): void };
}

const prefixLen = (cidr: string) => Number(cidr.split('/')[1]);

export class LinuxNetworkDriver implements NetworkDriver {
  readonly name = 'linux';
  onStatus?: (kind: 'port', id: string, status: WiringStatus) => void;
  private ports = new Map<string, PortSpec>();
  private sets = new Map<string, string[]>();
  private networks = new Map<string, NetworkSpec>();
  private routers = new Map<string, RouterSpec>();
  private proxies = new Map<string, MetadataProxy>();
  private lock = new KeyedMutex();
  private refreshQueued = new Map<string, Promise<void>>();
  private applied = new Map<string, string>();

  constructor(private readonly o: LinuxNetworkDriverOptions) {}

  private dir(...p: string[]) {
    return join(this.o.stateDir, ...p);
  }

  /** Load the documents kept from the last run and prepare the physical bridges Stackbox owns. */
  async init(): Promise<void> {
    for (const d of ['ports', 'sets', 'networks', 'routers']) mkdirSync(this.dir(d), { recursive: true });
    for (const f of readdirSync(this.dir('ports'))) {
      const p = readJson<PortSpec>(this.dir('ports', f));
      if (p) this.ports.set(p.id, p);
    }
    for (const f of readdirSync(this.dir('sets'))) {
      const s = readJson<{ id: string; addresses: string[] }>(this.dir('sets', f));
      if (s) this.sets.set(s.id, s.addresses);
    }
    for (const id of readdirSync(this.dir('networks'))) {
      const n = readJson<NetworkSpec>(this.dir('networks', id, 'spec.json'));
      if (n) this.networks.set(n.id, n);
    }
    for (const f of readdirSync(this.dir('routers'))) {
      const r = readJson<RouterSpec>(this.dir('routers', f));
      if (r) this.routers.set(r.id, r);
    }
    for (const [name, p] of Object.entries(this.o.physicalNetworks))
      if (p.address) await this.ensureHostBridge(name, p);
  }

  /** A host bridge Stackbox owns (the default external network): the address, up, and no routing through it. */
  private async ensureHostBridge(name: string, p: PhysicalNetwork): Promise<void> {
    const l = (await links(null)).find((x) => x.ifname === p.bridge);
    if (!l) await ip(null, 'link', 'add', p.bridge, 'type', 'bridge');
    if (p.address && !l?.addr_info?.some((a) => `${a.local}/${a.prefixlen}` === p.address))
      await ip(null, 'addr', 'replace', p.address, 'dev', p.bridge);
    await ip(null, 'link', 'set', p.bridge, 'up');
    // Traffic may reach the floating IPs from this host, but is never routed between the external
    // network and the host's other interfaces: nothing leaves the machine.
    const t = `stackbox_${p.bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
    await run('nft', ['-f', '-'], {
      input: [
        `add table inet ${t}`,
        `delete table inet ${t}`,
        `table inet ${t} {`,
        '  chain forward {',
        '    type filter hook forward priority 0; policy accept;',
        `    iifname "${p.bridge}" oifname != "${p.bridge}" drop`,
        `    oifname "${p.bridge}" iifname != "${p.bridge}" drop`,
        '  }',
        '}',
        '',
      ].join('\n'),
    });
    this.o.log?.info(
      { physicalNetwork: name, bridge: p.bridge, address: p.address },
      'external bridge ready',
    );
  }

  // ------------------------------------------------------------------ networks

  private nsOf(networkId: string) {
    return networkNs(this.o.prefix, networkId);
  }

  private async ensureNamespace(ns: string, forwarding: boolean): Promise<void> {
    if (!(await namespaces()).includes(ns)) {
      await ip(null, 'netns', 'add', ns).catch(async (e: unknown) => {
        if (!(await namespaces()).includes(ns)) throw e;
      });
      await ip(ns, 'link', 'set', 'lo', 'up');
    }
    const sysctls = forwarding
      ? ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']
      : ['net.bridge.bridge-nf-call-iptables=1', 'net.bridge.bridge-nf-call-ip6tables=1'];
    await inNs(ns, 'sysctl', ['-qw', ...sysctls]);
  }

  /** The L2 segment of a network: namespace, bridge and (flat networks) the uplink. */
  private async ensureSegment(networkId: string, spec?: NetworkSpec): Promise<void> {
    const ns = this.nsOf(networkId);
    await this.ensureNamespace(ns, false);
    const ls = await links(ns);
    const br = ls.find((l) => l.ifname === BRIDGE);
    if (!br) await ip(ns, 'link', 'add', BRIDGE, 'type', 'bridge');
    if (spec) {
      if (br?.mtu !== spec.mtu) await ip(ns, 'link', 'set', BRIDGE, 'mtu', String(spec.mtu));
      if (spec.dhcpPort && br?.address !== spec.dhcpPort.mac.toLowerCase())
        await ip(ns, 'link', 'set', BRIDGE, 'address', spec.dhcpPort.mac.toLowerCase());
      await ip(ns, 'link', 'set', BRIDGE, spec.adminStateUp ? 'up' : 'down');
      await this.ensureUplink(spec, ls);
    } else if (!br) await ip(ns, 'link', 'set', BRIDGE, 'up');
  }

  private async ensureUplink(spec: NetworkSpec, ls: Link[]): Promise<void> {
    const ns = this.nsOf(spec.id);
    const phys =
      (spec.networkType === 'flat' || spec.networkType === 'vlan') && spec.physicalNetwork
        ? this.o.physicalNetworks[spec.physicalNetwork]
        : undefined;
    const has = ls.some((l) => l.ifname === UPLINK);
    if (!phys) {
      if (has) await ipQuiet(ns, 'link', 'del', UPLINK);
      if (spec.physicalNetwork && !this.o.physicalNetworks[spec.physicalNetwork])
        this.o.log?.warn(
          { network: spec.id, physicalNetwork: spec.physicalNetwork },
          'physical network is not mapped to a bridge on this host (STACKBOX_PHYSICAL_NETWORKS): the network stays isolated',
        );
      return;
    }
    const peer = physPeerName(spec.id);
    if (!has) {
      await ip(
        null,
        'link',
        'add',
        UPLINK,
        'netns',
        ns,
        'mtu',
        String(spec.mtu),
        'type',
        'veth',
        'peer',
        'name',
        peer,
        ...(phys.netns ? ['netns', phys.netns] : []),
      );
    }
    await ip(phys.netns ?? null, 'link', 'set', peer, 'master', phys.bridge, 'up');
    await ip(ns, 'link', 'set', UPLINK, 'master', BRIDGE, 'up');
  }

  /** A network's segment when something attaches to it before its own document arrived. */
  private async segment(networkId: string): Promise<void> {
    if ((await namespaces()).includes(this.nsOf(networkId))) return;
    await this.lock.run(`net:${networkId}`, () => this.ensureSegment(networkId));
  }

  async ensureNetwork(spec: NetworkSpec): Promise<WiringStatus> {
    return this.lock.run(`net:${spec.id}`, async () => {
      mkdirSync(this.dir('networks', spec.id), { recursive: true });
      writeAtomic(this.dir('networks', spec.id, 'spec.json'), JSON.stringify(spec));
      this.networks.set(spec.id, spec);
      await this.ensureSegment(spec.id, spec);
      await this.ensureAddresses(spec);
      await this.refreshNow(spec.id);
      // Without metadata the network still works (DHCP, routing); the next document retries it.
      await this.ensureMetadata(spec).catch((err: unknown) =>
        this.o.log?.warn({ err, network: spec.id }, 'metadata proxy not started'),
      );
      return spec.adminStateUp ? 'ACTIVE' : 'DOWN';
    });
  }

  /** br0 carries the DHCP port's addresses (and the metadata address), nothing else. */
  private async ensureAddresses(spec: NetworkSpec): Promise<void> {
    const ns = this.nsOf(spec.id);
    const want = new Set<string>();
    const subnets = new Map(spec.subnets.map((s) => [s.id, s]));
    for (const f of spec.dhcpPort?.fixedIps ?? []) {
      const s = subnets.get(f.subnetId);
      if (s && s.enableDhcp) want.add(`${f.ipAddress}/${prefixLen(s.cidr)}`);
    }
    if (this.wantsMetadata(spec)) want.add(`${METADATA_IP}/32`);
    const br = (await links(ns)).find((l) => l.ifname === BRIDGE);
    const have = new Set(
      (br?.addr_info ?? [])
        .filter((a) => !(a.family === 'inet6' && a.local.startsWith('fe80:')))
        .map((a) => `${a.local}/${a.prefixlen}`),
    );
    for (const a of have) if (!want.has(a)) await ipQuiet(ns, 'addr', 'del', a, 'dev', BRIDGE);
    for (const a of want) if (!have.has(a)) await ip(ns, 'addr', 'add', a, 'dev', BRIDGE, 'nodad');
  }

  private wantsMetadata(spec: NetworkSpec): boolean {
    return (
      !!this.o.metadata &&
      spec.metadata &&
      spec.adminStateUp &&
      !!spec.dhcpPort?.fixedIps.some((f) => !f.ipAddress.includes(':'))
    );
  }

  private async ensureMetadata(spec: NetworkSpec): Promise<void> {
    const have = this.proxies.get(spec.id);
    if (!this.wantsMetadata(spec)) {
      have?.close();
      this.proxies.delete(spec.id);
      return;
    }
    if (have) return;
    const listener = await listenInNamespace(this.nsOf(spec.id), METADATA_IP, 80);
    this.proxies.set(spec.id, new MetadataProxy(listener, spec.id, this.o.metadata!));
  }

  async deleteNetwork(networkId: string): Promise<void> {
    await this.lock.run(`net:${networkId}`, async () => {
      this.proxies.get(networkId)?.close();
      this.proxies.delete(networkId);
      await stopDhcp(this.dir('networks', networkId));
      if ((await namespaces()).includes(this.nsOf(networkId)))
        await ip(null, 'netns', 'del', this.nsOf(networkId));
      rmSync(this.dir('networks', networkId), { recursive: true, force: true });
      this.networks.delete(networkId);
      // Its ports went with it (the DHCP port's deletion is not always sent on its own).
      for (const p of [...this.ports.values()])
        if (p.networkId === networkId) {
          this.ports.delete(p.id);
          rmSync(this.dir('ports', `${p.id}.json`), { force: true });
        }
      for (const k of [...this.applied.keys()]) if (k.endsWith(`:${networkId}`)) this.applied.delete(k);
    });
  }

  // ------------------------------------------------------------------ ports

  async plugPort(spec: PortSpec): Promise<WiringStatus> {
    const prev = this.ports.get(spec.id);
    writeAtomic(this.dir('ports', `${spec.id}.json`), JSON.stringify(spec));
    this.ports.set(spec.id, spec);
    if (prev && prev.networkId !== spec.networkId) await this.refresh(prev.networkId);
    const plugged = await this.lock.run(`port:${spec.id}`, () =>
      this.attachTap(spec.id, spec.networkId, spec.mtu),
    );
    await this.refresh(spec.networkId);
    if (prev && firewallKey(prev) !== firewallKey(spec)) await this.forgetConnections(prev);
    return this.portStatus(spec, plugged);
  }

  /**
   * A VM's port is ACTIVE once its NIC is on the network (as Neutron's agents report it); router, DHCP
   * and floating-IP ports when bound to their device; unbound ports stay DOWN.
   */
  private portStatus(p: PortSpec, plugged: boolean): WiringStatus {
    if (!p.adminStateUp) return 'DOWN';
    if (p.deviceOwner.startsWith('compute:')) return plugged ? 'ACTIVE' : 'DOWN';
    return p.hostId !== '' || p.deviceOwner !== '' ? 'ACTIVE' : 'DOWN';
  }

  async unplugPort(portId: string, networkId: string): Promise<void> {
    const prev = this.ports.get(portId);
    rmSync(this.dir('ports', `${portId}.json`), { force: true });
    this.ports.delete(portId);
    const net = networkId || prev?.networkId;
    if (!net) return;
    await this.lock.run(`port:${portId}`, async () => {
      await ipQuiet(this.nsOf(net), 'link', 'del', tapName(portId));
    });
    await this.refresh(net);
    if (prev) await this.forgetConnections(prev);
  }

  /** QEMU started (or hot-plugged) a NIC: move its tap into the network and onto the bridge. */
  async plugVif(v: VifPlug): Promise<void> {
    const mtu = this.networks.get(v.networkId)?.mtu ?? this.ports.get(v.portId)?.mtu;
    await this.segment(v.networkId);
    const plugged = await this.lock.run(`port:${v.portId}`, () => this.attachTap(v.portId, v.networkId, mtu));
    const spec = this.ports.get(v.portId);
    if (spec) this.onStatus?.('port', v.portId, this.portStatus(spec, plugged));
  }

  /** Wherever the tap is (host namespace after QEMU's start, or already in the network), wire it. */
  private async attachTap(portId: string, networkId: string, mtu?: number): Promise<boolean> {
    const tap = tapName(portId);
    const ns = this.nsOf(networkId);
    if ((await links(null)).some((l) => l.ifname === tap)) {
      if (!(await namespaces()).includes(ns)) return false; // the network comes first; plugPort/plugVif retry
      await ip(null, 'link', 'set', tap, 'netns', ns);
    }
    const l = (await links(ns)).find((x) => x.ifname === tap);
    if (!l) return false;
    if (mtu && l.mtu !== mtu) await ip(ns, 'link', 'set', tap, 'mtu', String(mtu));
    if (l.master !== BRIDGE) await ip(ns, 'link', 'set', tap, 'master', BRIDGE);
    await ip(ns, 'link', 'set', tap, 'up');
    return true;
  }

  /**
   * After a port's rules change, established connections must be judged again (Neutron deletes their
   * conntrack entries too): removing the ICMP rule stops a running ping. TCP flows that the new rules
   * still allow carry on (conntrack picks them up again).
   */
  private async forgetConnections(p: PortSpec): Promise<void> {
    const ns = this.nsOf(p.networkId);
    if (!(await namespaces()).includes(ns)) return;
    for (const a of p.fixedIps.map((f) => f.ipAddress))
      for (const dir of ['-d', '-s'])
        await inNs(ns, 'conntrack', ['-D', dir, a], { ok: [1] }).catch(() => undefined);
  }

  /**
   * Bring a network's firewall and DHCP host entries up to date with the ports known for it. Calls made
   * while one is queued share it, so a burst of port changes costs one `nft -f`.
   */
  private refresh(networkId: string): Promise<void> {
    const q = this.refreshQueued.get(networkId);
    if (q) return q;
    const p = this.lock.run(`net:${networkId}`, () => {
      this.refreshQueued.delete(networkId);
      return this.refreshNow(networkId);
    });
    this.refreshQueued.set(networkId, p);
    return p;
  }

  private async refreshNow(networkId: string): Promise<void> {
    const ns = this.nsOf(networkId);
    if (!(await namespaces()).includes(ns)) return;
    const ports = [...this.ports.values()].filter((p) => p.networkId === networkId);
    const rules = networkRuleset(ports, this.relevantSets(ports));
    if (this.applied.get(`fw:${networkId}`) !== rules) {
      await inNs(ns, 'nft', ['-f', '-'], { input: rules });
      this.applied.set(`fw:${networkId}`, rules);
    }
    const spec = this.networks.get(networkId);
    if (spec) await ensureDhcp(spec, ports, this.dir('networks', spec.id), this.nsOf(spec.id));
  }

  private relevantSets(ports: PortSpec[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const p of ports)
      for (const r of p.firewall)
        if (r.remoteGroupId) out.set(r.remoteGroupId, this.sets.get(r.remoteGroupId) ?? []);
    return out;
  }

  async ensureAddressSet(groupId: string, addresses: string[]): Promise<void> {
    const sorted = [...addresses].sort();
    if (JSON.stringify(this.sets.get(groupId)) === JSON.stringify(sorted)) return;
    writeAtomic(this.dir('sets', `${groupId}.json`), JSON.stringify({ id: groupId, addresses: sorted }));
    this.sets.set(groupId, sorted);
    await this.refreshUsers(groupId);
  }

  async deleteAddressSet(groupId: string): Promise<void> {
    rmSync(this.dir('sets', `${groupId}.json`), { force: true });
    if (this.sets.delete(groupId)) await this.refreshUsers(groupId);
  }

  private async refreshUsers(groupId: string): Promise<void> {
    const nets = new Set<string>();
    for (const p of this.ports.values())
      if (filtered(p) && p.firewall.some((r) => r.remoteGroupId === groupId)) nets.add(p.networkId);
    await Promise.all([...nets].map((n) => this.refresh(n)));
  }

  // ------------------------------------------------------------------ routers

  async ensureRouter(
    spec: RouterSpec,
  ): Promise<{ status: WiringStatus; floatingIps: Record<string, WiringStatus> }> {
    return this.lock.run(`router:${spec.id}`, async () => {
      const prev = this.routers.get(spec.id);
      const ns = routerNs(this.o.prefix, spec.id);
      await this.ensureNamespace(ns, true);
      const up = spec.adminStateUp ? 'up' : 'down';
      // NAT first: a floating IP's address must never be up on the gateway without its DNAT, or the
      // router itself would answer for it (pings to a VM that is not there yet would succeed).
      const nat = routerRuleset(spec, spec.gateway ? qgName(spec.gateway.portId) : null);
      await inNs(ns, 'nft', ['-f', '-'], { input: nat });
      // Interfaces: one qr- per router port, with every address the port has.
      const byPort = new Map<string, RouterSpec['interfaces']>();
      for (const i of spec.interfaces) byPort.set(i.portId, [...(byPort.get(i.portId) ?? []), i]);
      const wanted = new Set<string>();
      for (const [portId, ifs] of byPort) {
        const name = qrName(portId);
        wanted.add(name);
        const mtu = this.networks.get(ifs[0]!.networkId)?.mtu;
        await this.segment(ifs[0]!.networkId);
        await routerLeg(
          ns,
          name,
          this.nsOf(ifs[0]!.networkId),
          ifs[0]!.mac,
          mtu,
          ifs.map((i) => `${i.ipAddress}/${prefixLen(i.cidr)}`),
          up,
        );
      }
      const gw = spec.gateway;
      let gwDev: string | null = null;
      if (gw) {
        gwDev = qgName(gw.portId);
        wanted.add(gwDev);
        const addrs = [
          ...gw.fixedIps.map((f) => `${f.ipAddress}/${prefixLen(f.cidr)}`),
          ...spec.floatingIps.map((f) => `${f.floatingIpAddress}/32`),
        ];
        await this.segment(gw.networkId);
        await routerLeg(
          ns,
          gwDev,
          this.nsOf(gw.networkId),
          gw.mac,
          this.networks.get(gw.networkId)?.mtu,
          addrs,
          up,
        );
      }
      for (const l of await links(ns))
        if ((l.ifname.startsWith('qr-') || l.ifname.startsWith('qg-')) && !wanted.has(l.ifname))
          await ipQuiet(ns, 'link', 'del', l.ifname);
      await ensureRoutes(ns, spec, gwDev, this.o.log);
      // Connections through floating IPs that went away (or moved) must not live on in conntrack.
      for (const f of prev?.floatingIps ?? []) {
        const now = spec.floatingIps.find((x) => x.id === f.id);
        if (
          !now ||
          now.fixedIpAddress !== f.fixedIpAddress ||
          now.floatingIpAddress !== f.floatingIpAddress
        ) {
          await inNs(ns, 'conntrack', ['-D', '-d', f.floatingIpAddress], { ok: [1] }).catch(() => undefined);
          await inNs(ns, 'conntrack', ['-D', '-s', f.fixedIpAddress], { ok: [1] }).catch(() => undefined);
        }
      }
      writeAtomic(this.dir('routers', `${spec.id}.json`), JSON.stringify(spec));
      this.routers.set(spec.id, spec);
      const st: WiringStatus = spec.adminStateUp ? 'ACTIVE' : 'DOWN';
      return {
        status: st,
        floatingIps: Object.fromEntries(spec.floatingIps.map((f) => [f.id, st])),
      };
    });
  }

  async deleteRouter(routerId: string): Promise<void> {
    await this.lock.run(`router:${routerId}`, async () => {
      const ns = routerNs(this.o.prefix, routerId);
      if ((await namespaces()).includes(ns)) await ip(null, 'netns', 'del', ns);
      rmSync(this.dir('routers', `${routerId}.json`), { force: true });
      this.routers.delete(routerId);
    });
  }

  // ------------------------------------------------------------------ reconciliation

  /**
   * After the control plane sent the whole desired state: remove what this installation created that is
   * no longer wanted (namespaces, their dnsmasq, kept documents).
   */
  async reconcile(wanted: { networks: string[]; routers: string[]; ports: string[] }): Promise<void> {
    const nets = new Set(wanted.networks);
    const rtrs = new Set(wanted.routers);
    const ports = new Set(wanted.ports);
    for (const id of [...this.ports.keys()])
      if (!ports.has(id)) await this.unplugPort(id, this.ports.get(id)!.networkId);
    for (const id of [...this.routers.keys()]) if (!rtrs.has(id)) await this.deleteRouter(id);
    for (const id of [...this.networks.keys()]) if (!nets.has(id)) await this.deleteNetwork(id);
    for (const ns of await namespaces()) {
      if (!ns.startsWith(this.o.prefix)) continue;
      const rest = ns.slice(this.o.prefix.length);
      const id = rest.slice(2);
      if (rest.startsWith('n-') && !nets.has(id)) await this.deleteNetwork(id);
      if (rest.startsWith('r-') && !rtrs.has(id)) await this.deleteRouter(id);
    }
    for (const id of readdirSync(this.dir('networks'))) if (!nets.has(id)) await this.deleteNetwork(id);
  }

  /** Remove everything this installation created (tests, `stackbox down --purge`). */
  async destroyAll(): Promise<void> {
    for (const p of this.proxies.values()) p.close();
    this.proxies.clear();
    for (const id of existsSync(this.dir('networks')) ? readdirSync(this.dir('networks')) : [])
      await stopDhcp(this.dir('networks', id));
    for (const ns of await namespaces())
      if (ns.startsWith(this.o.prefix)) await ipQuiet(null, 'netns', 'del', ns);
    for (const p of Object.values(this.o.physicalNetworks))
      if (p.address) {
        await ipQuiet(null, 'link', 'del', p.bridge);
        await run('nft', [
          'delete',
          'table',
          'inet',
          `stackbox_${p.bridge.replace(/[^A-Za-z0-9_]/g, '_')}`,
        ]).catch(() => undefined);
      }
    rmSync(this.o.stateDir, { recursive: true, force: true });
  }

  /** Stop serving metadata from this process (the rest keeps running without it). */
  close(): void {
    for (const p of this.proxies.values()) p.close();
    this.proxies.clear();
  }
}

/** What decides a port's filtering: when it changes, its tracked connections are judged again. */
function firewallKey(p: PortSpec): string {
  return JSON.stringify([p.adminStateUp, p.portSecurity, portAddresses(p), p.firewall]);
}
