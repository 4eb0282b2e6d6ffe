/**
 * From database changes to agent documents. The manager reports what changed (ChangeSink); changes are
 * coalesced for a few milliseconds, then each touched resource's complete desired state is read from the
 * database and published on the bus (src/agent/network/agent.ts applies it with the driver). Statuses the agent reports
 * come back on the bus and are written without bumping revision numbers (as Neutron's status updates).
 */
import type { Bus } from '../../core/bus/index.js';
import { bool, json } from '../../core/db/index.js';
import {
  RESYNC_SUBJECT,
  STATUS_SUBJECT,
  WIRING_SUBJECT,
  type StatusMessage,
  type WiringMessage,
} from '../../agent/network/protocol.js';
import type {
  FirewallRule,
  NetworkSpec,
  PortSpec,
  RouterSpec,
  SubnetSpec,
} from '../../agent/network/driver.js';
import { parseCidr, parseIp } from './ipam.js';
import type { NetworkManager } from './manager.js';
import {
  OWNER_DHCP,
  OWNER_ROUTER_GATEWAY,
  OWNER_ROUTER_INTERFACE,
  type ChangeSink,
} from './resources/base.js';
import type { NetworkStore, Row } from './store.js';

/** Coalescing window: a burst of changes to one network or group becomes one document. */
const DELAY_MS = 20;

/** addressset: a group's rules changed (its ports and members are sent); members: only its members changed. */
/** Address sets (every member of a group) are rebuilt at most this often. */
const SET_DELAY_MS = 250;

type Kind = 'network' | 'port' | 'router' | 'addressset' | 'members';

export class Wiring implements ChangeSink {
  private dirty = new Map<string, { kind: Kind; id: string; networkId?: string; deleted?: boolean }>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  private pendingStatus = new Set<Promise<void>>();
  private unsubscribe?: () => void;
  private unsubscribeResync?: () => void;
  private resyncing?: Promise<void>;
  private stopped = false;
  private dirtySets = new Set<string>();
  private setTimer?: NodeJS.Timeout;
  private flushingSets?: Promise<void>;
  manager?: NetworkManager;

  constructor(
    private readonly store: NetworkStore,
    private readonly bus: Bus,
    private readonly log?: { warn(o: unknown, m?: string): void },
  ) {}

  start(): void {
    this.unsubscribe = this.bus.subscribe(STATUS_SUBJECT, (m) => {
      const s = m as StatusMessage;
      if (this.stopped) return;
      const p = (this.manager?.setStatus(s.kind, s.id, s.status) ?? Promise.resolve())
        .catch((err) => this.log?.warn({ err }, 'network status update failed'))
        .finally(() => this.pendingStatus.delete(p));
      this.pendingStatus.add(p);
    });
    this.unsubscribeResync = this.bus.subscribe(RESYNC_SUBJECT, () => {
      if (this.stopped) return;
      this.resyncing = this.resync()
        .catch((err) => this.log?.warn({ err }, 'network resync failed'))
        .finally(() => (this.resyncing = undefined));
    });
  }

  /**
   * An agent started: send it the whole desired state, then the list of every id so that it removes what
   * is no longer wanted (level-triggered reconciliation).
   */
  async resync(): Promise<void> {
    const ids = async (table: 'net_networks' | 'net_routers' | 'net_ports' | 'net_security_groups') =>
      (await this.store.list(table)).map((r) => r.id as string);
    const networks = await ids('net_networks');
    const routers = await ids('net_routers');
    const ports = await this.store.list('net_ports');
    for (const id of networks) this.mark({ kind: 'network', id });
    for (const p of ports) this.mark({ kind: 'port', id: p.id, networkId: p.network_id });
    for (const id of routers) this.mark({ kind: 'router', id });
    for (const id of await ids('net_security_groups')) this.dirtySets.add(id);
    await this.flush();
    await this.flushSets();
    if (this.stopped) return;
    this.bus.publish(WIRING_SUBJECT, {
      kind: 'sync',
      id: 'all',
      spec: { networks, routers, ports: ports.map((p) => p.id as string) },
    } satisfies WiringMessage);
  }

  /** Stop publishing; waits for a publish or status write in progress (the database closes next). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.setTimer);
    this.unsubscribe?.();
    this.unsubscribeResync?.();
    await this.resyncing;
    await this.flushing;
    await this.flushingSets;
    await Promise.all([...this.pendingStatus]);
  }

  // ---- ChangeSink

  network(id: string): void {
    this.mark({ kind: 'network', id });
  }
  port(id: string, networkId: string, deleted?: boolean, groups: string[] = []): void {
    this.mark({ kind: 'port', id, networkId, deleted });
    // Groups the port left (or was in, when deleted): their address sets change.
    for (const g of groups) this.mark({ kind: 'members', id: g });
    // The DHCP server and the groups' address sets follow the ports.
    this.mark({ kind: 'network', id: networkId });
  }
  router(id: string, deleted?: boolean): void {
    this.mark({ kind: 'router', id, deleted });
  }
  securityGroup(id: string, deleted?: boolean): void {
    this.mark({ kind: 'addressset', id, deleted });
  }

  private mark(m: { kind: Kind; id: string; networkId?: string; deleted?: boolean }) {
    const key = `${m.kind}:${m.id}`;
    const prev = this.dirty.get(key);
    this.dirty.set(key, { ...prev, ...m, deleted: m.deleted ?? prev?.deleted });
    if (this.stopped) return;
    this.timer ??= setTimeout(() => {
      this.flush().catch((err) => this.log?.warn({ err }, 'publishing network documents failed'));
    }, DELAY_MS);
  }

  /** Publish every pending document now. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    const batch = [...this.dirty.values()];
    this.dirty.clear();
    if (batch.length === 0 || this.stopped) return;
    this.flushing = this.publish(batch)
      .catch((err) => this.log?.warn({ err }, 'publishing network documents failed'))
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }

  /** Resolves when pending changes are published and the statuses reported so far are written. */
  async settle(agent: { whenIdle(): Promise<void> }): Promise<void> {
    await this.resyncing;
    for (let i = 0; i < 5; i++) {
      await this.flush();
      await this.flushSets();
      await new Promise((r) => setImmediate(r));
      await agent.whenIdle();
      await new Promise((r) => setImmediate(r));
      await Promise.all([...this.pendingStatus]);
      if (this.dirty.size === 0 && this.dirtySets.size === 0 && this.pendingStatus.size === 0) return;
    }
  }

  private async publish(
    batch: { kind: string; id: string; networkId?: string; deleted?: boolean }[],
  ): Promise<void> {
    // Ports whose groups changed need their rules again; groups whose ports changed need their members again.
    const groups = new Set(
      batch.filter((b) => b.kind === 'addressset' || b.kind === 'members').map((b) => b.id),
    );
    const ports = new Set(batch.filter((b) => b.kind === 'port').map((b) => b.id));
    const portSgs = await this.store.portSecurityGroups([...ports]);
    for (const r of portSgs) groups.add(r.security_group_id);
    for (const g of groups) {
      if (!batch.some((b) => b.kind === 'addressset' && b.id === g)) continue;
      const members = await this.store.list('net_port_security_groups', {
        where: [{ eq: 'security_group_id', values: [g] }],
      });
      for (const m of members) ports.add(m.port_id);
    }
    for (const b of batch) {
      try {
        let msg: WiringMessage | undefined;
        if (b.kind === 'network') msg = { kind: 'network', id: b.id, spec: await this.networkSpec(b.id) };
        else if (b.kind === 'router')
          msg = { kind: 'router', id: b.id, spec: b.deleted ? null : await this.routerSpec(b.id) };
        else if (b.kind === 'port') {
          const spec = b.deleted ? null : await this.portSpec(b.id);
          msg = { kind: 'port', id: b.id, spec, networkId: b.networkId };
          ports.delete(b.id);
        }
        if (msg) this.bus.publish(WIRING_SUBJECT, msg);
      } catch (err) {
        this.log?.warn({ err, kind: b.kind, id: b.id }, 'building network document failed');
      }
    }
    for (const p of ports) {
      const spec = await this.portSpec(p);
      if (spec) this.bus.publish(WIRING_SUBJECT, { kind: 'port', id: p, spec } satisfies WiringMessage);
    }
    // Address sets are read in full (all members of a group): coalesced over a longer window.
    for (const g of groups) this.dirtySets.add(g);
    if (this.dirtySets.size && !this.stopped)
      this.setTimer ??= setTimeout(() => {
        this.flushSets().catch((err) => this.log?.warn({ err }, 'publishing address sets failed'));
      }, SET_DELAY_MS);
  }

  private async flushSets(): Promise<void> {
    clearTimeout(this.setTimer);
    this.setTimer = undefined;
    while (this.flushingSets) await this.flushingSets;
    const groups = [...this.dirtySets];
    this.dirtySets.clear();
    if (groups.length === 0 || this.stopped) return;
    this.flushingSets = (async () => {
      for (const g of groups) {
        const sg = await this.store.get('net_security_groups', g);
        const addresses = sg ? await this.groupAddresses(g) : null;
        this.bus.publish(WIRING_SUBJECT, {
          kind: 'addressset',
          id: g,
          spec: addresses ? { addresses } : null,
        } satisfies WiringMessage);
      }
    })()
      .catch((err) => this.log?.warn({ err }, 'publishing address sets failed'))
      .finally(() => (this.flushingSets = undefined));
    await this.flushingSets;
  }

  /** The addresses of a group's member ports (one query: this runs for every burst of port changes). */
  private async groupAddresses(groupId: string): Promise<string[]> {
    const allocs = await this.store.list('net_ipallocations', {
      where: [
        {
          in: 'port_id',
          table: 'net_port_security_groups',
          select: 'port_id',
          where: [{ eq: 'security_group_id', values: [groupId] }],
        },
      ],
    });
    return [...new Set(allocs.map((a) => a.ip_address as string))].sort();
  }

  async networkSpec(id: string): Promise<NetworkSpec | null> {
    const n = await this.store.get('net_networks', id);
    if (!n) return null;
    const subnets = await this.store.list('net_subnets', {
      where: [{ eq: 'network_id', values: [id] }],
      sort: [{ col: 'created_at', dir: 'asc' }],
    });
    const dhcp = (
      await this.store.list('net_ports', {
        where: [
          { eq: 'network_id', values: [id] },
          { eq: 'device_owner', values: [OWNER_DHCP] },
        ],
      })
    )[0];
    const dhcpIps = dhcp ? await this.store.allocationsFor([dhcp.id]) : [];
    return {
      id,
      networkType: n.network_type ?? 'local',
      physicalNetwork: n.physical_network ?? null,
      segmentationId:
        n.segmentation_id === null || n.segmentation_id === undefined ? null : Number(n.segmentation_id),
      mtu: Number(n.mtu),
      adminStateUp: bool(n.admin_state_up),
      external: bool(n.external),
      subnets: subnets.map(subnetSpec),
      dhcpPort: dhcp
        ? {
            portId: dhcp.id,
            mac: dhcp.mac_address,
            fixedIps: dhcpIps.map((a) => ({ subnetId: a.subnet_id, ipAddress: a.ip_address })),
          }
        : null,
      metadata: subnets.some((s) => bool(s.enable_dhcp) && Number(s.ip_version) === 4),
    };
  }

  async portSpec(id: string): Promise<PortSpec | null> {
    const p = await this.store.get('net_ports', id);
    if (!p) return null;
    const net = await this.store.get('net_networks', p.network_id);
    const allocs = await this.store.allocationsFor([id]);
    const sgIds = (await this.store.portSecurityGroups([id])).map((r) => r.security_group_id as string);
    const groups = await this.store.getMany('net_security_groups', sgIds);
    const rules = sgIds.length
      ? await this.store.list('net_security_group_rules', {
          where: [{ eq: 'security_group_id', values: sgIds }],
        })
      : [];
    const subnets = await this.store.getMany('net_subnets', [
      ...new Set(allocs.map((a) => a.subnet_id as string)),
    ]);
    const portSecurity = bool(p.port_security_enabled);
    return {
      id,
      networkId: p.network_id,
      mac: p.mac_address,
      fixedIps: allocs.map((a) => ({ subnetId: a.subnet_id, ipAddress: a.ip_address })),
      adminStateUp: bool(p.admin_state_up),
      deviceId: p.device_id,
      deviceOwner: p.device_owner,
      hostId: p.binding_host_id,
      mtu: Number(net?.mtu ?? 1500),
      portSecurity,
      dhcp: subnets.some((s) => bool(s.enable_dhcp)) && !String(p.device_owner).startsWith('network:'),
      stateful: groups.length === 0 || groups.some((g) => bool(g.stateful)),
      securityGroupIds: sgIds,
      firewall: portSecurity ? rules.map(firewallRule) : [],
      allowedAddressPairs: json<{ ip_address: string; mac_address: string }[]>(
        p.allowed_address_pairs,
        [],
      ).map((x) => ({
        ipAddress: x.ip_address,
        macAddress: x.mac_address,
      })),
    };
  }

  async routerSpec(id: string): Promise<RouterSpec | null> {
    const r = await this.store.get('net_routers', id);
    if (!r) return null;
    const ports = await this.store.list('net_ports', { where: [{ eq: 'device_id', values: [id] }] });
    const allocs = await this.store.allocationsFor(ports.map((p) => p.id));
    const subnets = new Map(
      (await this.store.getMany('net_subnets', [...new Set(allocs.map((a) => a.subnet_id as string))])).map(
        (s) => [s.id, s],
      ),
    );
    const ifaces = ports.filter((p) => p.device_owner === OWNER_ROUTER_INTERFACE);
    const gw = ports.find((p) => p.device_owner === OWNER_ROUTER_GATEWAY && p.id === r.gw_port_id);
    const gwIps = gw ? allocs.filter((a) => a.port_id === gw.id) : [];
    const fips = await this.store.list('net_floatingips', { where: [{ eq: 'router_id', values: [id] }] });
    const interfaces = ifaces.flatMap((p) =>
      allocs
        .filter((a) => a.port_id === p.id)
        .map((a) => ({
          portId: p.id as string,
          mac: p.mac_address as string,
          networkId: p.network_id as string,
          subnetId: a.subnet_id as string,
          ipAddress: a.ip_address as string,
          cidr: subnets.get(a.subnet_id)?.cidr as string,
        })),
    );
    const v4gw = gwIps.find((a) => parseIp(a.ip_address)?.version === 4);
    const enableSnat = bool(r.enable_snat);
    return {
      id,
      adminStateUp: bool(r.admin_state_up),
      interfaces,
      gateway: gw
        ? {
            portId: gw.id,
            mac: gw.mac_address,
            networkId: gw.network_id,
            fixedIps: gwIps.map((a) => ({
              subnetId: a.subnet_id,
              ipAddress: a.ip_address,
              cidr: subnets.get(a.subnet_id)?.cidr ?? '',
              gatewayIp: subnets.get(a.subnet_id)?.gateway_ip ?? null,
            })),
            enableSnat,
          }
        : null,
      snat:
        gw && enableSnat && v4gw
          ? interfaces
              .filter((i) => parseCidr(i.cidr)?.version === 4)
              .map((i) => ({ sourceCidr: i.cidr, toAddress: v4gw.ip_address as string }))
          : [],
      floatingIps: gw
        ? fips
            .filter((f) => f.fixed_port_id && f.fixed_ip_address)
            .map((f) => ({
              id: f.id as string,
              floatingIpAddress: f.floating_ip_address as string,
              fixedIpAddress: f.fixed_ip_address as string,
              fixedPortId: f.fixed_port_id as string,
            }))
        : [],
      routes: json(r.routes, []),
    };
  }
}

function subnetSpec(s: Row): SubnetSpec {
  return {
    id: s.id,
    cidr: s.cidr,
    ipVersion: Number(s.ip_version),
    gatewayIp: s.gateway_ip ?? null,
    enableDhcp: bool(s.enable_dhcp),
    dnsNameservers: json(s.dns_nameservers, []),
    hostRoutes: json(s.host_routes, []),
    ipv6AddressMode: s.ipv6_address_mode ?? null,
    ipv6RaMode: s.ipv6_ra_mode ?? null,
  };
}

function firewallRule(r: Row): FirewallRule {
  const n = (x: unknown) => (x === null || x === undefined ? null : Number(x));
  return {
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol ?? null,
    portRangeMin: n(r.port_range_min),
    portRangeMax: n(r.port_range_max),
    remoteIpPrefix: r.remote_ip_prefix ?? null,
    remoteGroupId: r.remote_group_id ?? null,
  };
}
