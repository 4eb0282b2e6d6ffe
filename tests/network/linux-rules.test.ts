/**
 * The Linux network driver's generated configuration: nftables rulesets (checked by `nft -c` in a scratch
 * namespace when root and nft are available), dnsmasq's arguments, hosts and options, and the physical
 * network map.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  networkRuleset,
  protocolNumber,
  routerRuleset,
  ruleMatch,
} from '../../src/agent/network/linux/nft.js';
import { dhcpHosts, dhcpOpts, dnsmasqArgs } from '../../src/agent/network/linux/dnsmasq.js';
import { nsPrefix, tapName } from '../../src/agent/network/linux/names.js';
import { parsePhysicalNetworks, loadConfig } from '../../src/core/config.js';
import type { FirewallRule, NetworkSpec, PortSpec } from '../../src/agent/network/driver.js';

const rule = (o: Partial<FirewallRule>): FirewallRule => ({
  direction: 'ingress',
  ethertype: 'IPv4',
  protocol: null,
  portRangeMin: null,
  portRangeMax: null,
  remoteIpPrefix: null,
  remoteGroupId: null,
  ...o,
});

const GROUP = '11111111-2222-3333-4444-555555555555';
const port = (id: string, ip: string, o: Partial<PortSpec> = {}): PortSpec => ({
  id,
  networkId: 'net-1',
  mac: 'FA:16:3E:00:00:01',
  fixedIps: [{ subnetId: 'sub-1', ipAddress: ip }],
  adminStateUp: true,
  deviceId: 'vm',
  deviceOwner: 'compute:nova',
  hostId: 'host',
  mtu: 1450,
  portSecurity: true,
  dhcp: true,
  stateful: true,
  securityGroupIds: [GROUP],
  firewall: [
    rule({ direction: 'egress' }),
    rule({ remoteGroupId: GROUP }),
    rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' }),
  ],
  allowedAddressPairs: [],
  ...o,
});

const canCheck =
  process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v nft && command -v ip']).status === 0;

/** Load a ruleset with `nft -c` (check only) inside a throwaway namespace. */
function nftCheck(text: string): { status: number | null; stderr: string } {
  const ns = `sbt-nft-${process.pid}`;
  spawnSync('ip', ['netns', 'add', ns]);
  try {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-c', '-f', '-'], {
      input: text,
      encoding: 'utf8',
    });
    return { status: r.status, stderr: r.stderr };
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

describe('security-group rules as nftables matches', () => {
  it('translates protocols, ports, ICMP type/code, prefixes and remote groups', () => {
    expect(ruleMatch(rule({ protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 }))).toBe(
      'meta nfproto ipv4 meta l4proto 6 tcp dport 22',
    );
    expect(ruleMatch(rule({ protocol: 'udp', portRangeMin: 1000, portRangeMax: 2000 }))).toBe(
      'meta nfproto ipv4 meta l4proto 17 udp dport 1000-2000',
    );
    expect(ruleMatch(rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 }))).toBe(
      'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0',
    );
    // "icmp" on IPv6 is ICMPv6, as in Neutron
    expect(ruleMatch(rule({ ethertype: 'IPv6', protocol: 'icmp' }))).toBe(
      'meta nfproto ipv6 meta l4proto 58',
    );
    expect(ruleMatch(rule({ remoteIpPrefix: '10.0.0.0/8', protocol: '47' }))).toBe(
      'meta nfproto ipv4 ip saddr 10.0.0.0/8 meta l4proto 47',
    );
    expect(ruleMatch(rule({ direction: 'egress', remoteIpPrefix: '192.0.2.0/24' }))).toBe(
      'meta nfproto ipv4 ip daddr 192.0.2.0/24',
    );
    expect(ruleMatch(rule({ remoteGroupId: GROUP }))).toBe(
      'meta nfproto ipv4 ip saddr @sg4_11111111222233334444555555555555',
    );
    // a v6 prefix on an IPv4 rule can never match; unknown protocols are skipped
    expect(ruleMatch(rule({ remoteIpPrefix: '2001:db8::/32' }))).toBeNull();
    expect(ruleMatch(rule({ protocol: 'nonsense' }))).toBeNull();
    expect(protocolNumber('any', false)).toBeNull();
    expect(protocolNumber('1', true)).toBe(58);
    expect(protocolNumber('300', false)).toBeUndefined();
  });

  it('builds per-port chains, anti-spoofing, sets and admin-down drops', () => {
    const a = port('aaaaaaaa-0000-0000-0000-000000000001', '10.0.0.5');
    const b = port('bbbbbbbb-0000-0000-0000-000000000002', '10.0.0.6', {
      allowedAddressPairs: [{ ipAddress: '10.9.0.0/24', macAddress: '' }],
    });
    const down = port('cccccccc-0000-0000-0000-000000000003', '10.0.0.7', { adminStateUp: false });
    const open = port('dddddddd-0000-0000-0000-000000000004', '10.0.0.8', { portSecurity: false });
    const text = networkRuleset([a, b, down, open], new Map([[GROUP, ['10.0.0.5', '10.0.0.6']]]));
    expect(text).toContain('ip saddr 10.0.0.5 jump eg_aaaaaaaa000000000000000000000001');
    expect(text).toContain('ip daddr { 10.0.0.6, 10.9.0.0/24 } jump in_bbbbbbbb000000000000000000000002');
    expect(text).toContain(`iifname "${tapName(a.id)}" jump as_aaaaaaaa000000000000000000000001`);
    expect(text).toContain('ether saddr != fa:16:3e:00:00:01 drop');
    expect(text).toContain('elements = { 10.0.0.5, 10.0.0.6 }');
    expect(text).toContain(`iifname "${tapName(down.id)}" drop`);
    // stateful by default: nothing is untracked
    expect(text).not.toContain('notrack');
    const stateless = networkRuleset(
      [port('eeeeeeee-0000-0000-0000-000000000005', '10.0.0.9', { stateful: false })],
      new Map(),
    );
    expect(stateless).toContain('ip saddr 10.0.0.9 notrack');
    expect(stateless).toContain('ip daddr 10.0.0.9 notrack');
    // port security off: no chain at all for that port
    expect(text).not.toContain('dddddddd00000000');
    // ingress chain: DHCP replies, the group and SSH rules, then drop
    const inA = text.slice(text.indexOf('chain in_aaaaaaaa'));
    expect(inA.slice(0, inA.indexOf('\n  }'))).toMatch(/tcp dport 22 accept\n\s+drop/);
  });

  it('builds router NAT: floating IPs 1:1 and SNAT behind the gateway', () => {
    const text = routerRuleset(
      {
        id: 'r',
        adminStateUp: true,
        interfaces: [],
        gateway: null,
        snat: [{ sourceCidr: '10.0.0.0/24', toAddress: '172.24.4.10' }],
        floatingIps: [
          { id: 'f', floatingIpAddress: '172.24.4.20', fixedIpAddress: '10.0.0.5', fixedPortId: 'p' },
        ],
        routes: [],
      },
      'qg-1',
    );
    expect(text).toContain('ip daddr 172.24.4.20 dnat to 10.0.0.5');
    expect(text).toContain('ip saddr 10.0.0.5 oifname "qg-1" snat to 172.24.4.20');
    expect(text.indexOf('snat to 172.24.4.20')).toBeLessThan(text.indexOf('snat to 172.24.4.10'));
    // hairpin SNAT only with a gateway address
    expect(text).not.toContain('ct status dnat');
    const withGw = routerRuleset(
      {
        id: 'r',
        adminStateUp: true,
        interfaces: [],
        gateway: {
          portId: 'g',
          mac: 'fa:16:3e:00:00:01',
          networkId: 'e',
          fixedIps: [
            { subnetId: 's', ipAddress: '172.24.4.10', cidr: '172.24.4.0/24', gatewayIp: '172.24.4.1' },
          ],
          enableSnat: true,
        },
        snat: [],
        floatingIps: [
          { id: 'f', floatingIpAddress: '172.24.4.20', fixedIpAddress: '10.0.0.5', fixedPortId: 'p' },
        ],
        routes: [],
      },
      'qg-1',
    );
    expect(withGw).toContain('iifname != "qg-1" oifname != "qg-1" ct status dnat snat to 172.24.4.10');
    if (canCheck) expect(nftCheck(withGw).status).toBe(0);
    // no gateway: no NAT at all
    expect(
      routerRuleset(
        { id: 'r', adminStateUp: true, interfaces: [], gateway: null, snat: [], floatingIps: [], routes: [] },
        null,
      ),
    ).not.toContain('snat');
  });

  it.skipIf(!canCheck)('generates rulesets nft accepts', () => {
    const a = port('aaaaaaaa-0000-0000-0000-000000000001', '10.0.0.5', {
      allowedAddressPairs: [{ ipAddress: 'fd00::5', macAddress: 'fa:16:3e:00:00:09' }],
      firewall: [
        rule({ direction: 'egress' }),
        rule({ ethertype: 'IPv6', remoteGroupId: GROUP }),
        rule({ protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 }),
        rule({ protocol: 'sctp', portRangeMin: 5000, portRangeMax: 5001 }),
        rule({ protocol: 'vrrp' }),
      ],
    });
    const stateless = port('eeeeeeee-0000-0000-0000-000000000005', '10.0.0.9', { stateful: false });
    const r1 = nftCheck(networkRuleset([a, stateless], new Map([[GROUP, ['10.0.0.5', 'fd00::5']]])));
    expect(r1.status, r1.stderr).toBe(0);
    const r2 = nftCheck(
      routerRuleset(
        {
          id: 'r',
          adminStateUp: true,
          interfaces: [],
          gateway: null,
          snat: [{ sourceCidr: '10.0.0.0/24', toAddress: '172.24.4.10' }],
          floatingIps: [
            { id: 'f', floatingIpAddress: '172.24.4.20', fixedIpAddress: '10.0.0.5', fixedPortId: 'p' },
          ],
          routes: [],
        },
        'qg-1',
      ),
    );
    expect(r2.status, r2.stderr).toBe(0);
    // and a broken one is refused (the check itself can fail)
    expect(nftCheck('table inet x { chain y { ip saddr nonsense drop } }').status).not.toBe(0);
  });
});

describe('dnsmasq configuration', () => {
  const spec: NetworkSpec = {
    id: 'net-1',
    networkType: 'vxlan',
    physicalNetwork: null,
    segmentationId: 5,
    mtu: 1450,
    adminStateUp: true,
    external: false,
    subnets: [
      {
        id: 'sub-1',
        cidr: '10.0.0.0/24',
        ipVersion: 4,
        gatewayIp: '10.0.0.1',
        enableDhcp: true,
        dnsNameservers: ['192.0.2.53'],
        hostRoutes: [{ destination: '192.168.5.0/24', nexthop: '10.0.0.254' }],
        ipv6AddressMode: null,
        ipv6RaMode: null,
      },
      {
        id: 'sub-2',
        cidr: '10.1.0.0/24',
        ipVersion: 4,
        gatewayIp: null,
        enableDhcp: false,
        dnsNameservers: [],
        hostRoutes: [],
        ipv6AddressMode: null,
        ipv6RaMode: null,
      },
    ],
    dhcpPort: {
      portId: 'dhcp',
      mac: 'fa:16:3e:aa:aa:aa',
      fixedIps: [{ subnetId: 'sub-1', ipAddress: '10.0.0.2' }],
    },
    metadata: true,
  };
  const files = { pidFile: '/d/pid', hostsFile: '/d/hosts', optsFile: '/d/opts', leaseFile: '/d/leases' };

  it('serves static leases on DHCP subnets only, without DNS', () => {
    const args = dnsmasqArgs(spec, files);
    expect(args).toContain('--dhcp-range=set:s0,10.0.0.0,static,255.255.255.0,86400s');
    expect(args.filter((a) => a.startsWith('--dhcp-range'))).toHaveLength(1);
    expect(args).toContain('--port=0');
    expect(args).toContain('--dhcp-hostsfile=/d/hosts');
  });

  it('lists each port once per DHCP address; admin-down and router ports get nothing', () => {
    const hosts = dhcpHosts(spec, [
      port('p1', '10.0.0.5', { mac: 'FA:16:3E:00:00:05' }),
      port('p2', '10.1.0.5', { fixedIps: [{ subnetId: 'sub-2', ipAddress: '10.1.0.5' }] }),
      port('p3', '10.0.0.7', { adminStateUp: false }),
      port('p4', '10.0.0.1', { dhcp: false, deviceOwner: 'network:router_interface' }),
    ]);
    expect(hosts).toBe('fa:16:3e:00:00:05,host-10-0-0-5,10.0.0.5\n');
  });

  it('gives router, DNS, classless routes (host routes, metadata, default) and MTU', () => {
    const opts = dhcpOpts(spec);
    expect(opts).toContain('tag:s0,option:router,10.0.0.1');
    expect(opts).toContain('tag:s0,option:dns-server,192.0.2.53');
    expect(opts).toContain(
      'tag:s0,option:classless-static-route,192.168.5.0/24,10.0.0.254,169.254.169.254/32,10.0.0.2,0.0.0.0/0,10.0.0.1',
    );
    expect(opts).toContain('tag:s0,option:mtu,1450');
  });
});

describe('configuration of the host side', () => {
  it('parses physical networks', () => {
    expect(parsePhysicalNetworks('extnet:br-ex, lab:br-lab@labns')).toEqual({
      extnet: { bridge: 'br-ex' },
      lab: { bridge: 'br-lab', netns: 'labns' },
    });
    expect(() => parsePhysicalNetworks('extnet')).toThrow(/bad physical network/);
    expect(() => parsePhysicalNetworks('x:name-longer-than-15')).toThrow(/bad physical network/);
  });

  it('has a default public network that can be switched off or moved', () => {
    expect(loadConfig({}, {}).publicNetwork).toEqual({ cidr: '172.24.4.0/24', bridge: 'br-stackbox' });
    expect(loadConfig({ publicNetwork: false }, {}).publicNetwork).toBeNull();
    expect(loadConfig({}, { STACKBOX_PUBLIC_NETWORK: '198.51.100.0/24' }).publicNetwork?.cidr).toBe(
      '198.51.100.0/24',
    );
    expect(() => loadConfig({}, { STACKBOX_PUBLIC_NETWORK: '300.1.1.0/24' })).toThrow(/bad public network/);
    expect(() => loadConfig({}, { STACKBOX_NETWORK_DRIVER: 'ovs' })).toThrow(/unknown network driver/);
  });

  it('prefixes namespaces per data directory', () => {
    expect(nsPrefix('/a')).toMatch(/^sbx[0-9a-f]{6}-$/);
    expect(nsPrefix('/a')).not.toBe(nsPrefix('/b'));
  });
});
