/**
 * DHCP for a network: one dnsmasq in the network's namespace, answering only the ports the database knows
 * (static ranges, one host entry per port, as Neutron's DHCP agent), with the gateway, DNS servers, host
 * routes, the metadata route and the MTU as options. Host entries and options live in files that a SIGHUP
 * re-reads; only a change of subnets restarts the process. DNS is off (`--port=0`): names are the
 * subnet's DNS servers' business, and a resolver inside a tenant network would forward to the host's.
 */
import type { NetworkSpec, PortSpec } from '../driver.js';
import { BRIDGE, METADATA_IP } from './names.js';

export interface DhcpFiles {
  pidFile: string;
  hostsFile: string;
  optsFile: string;
  leaseFile: string;
}

const LEASE_SECONDS = 86400;

function v4Netmask(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The DHCP-enabled IPv4 subnets of a network (DHCPv6 is not served yet: SLAAC and static configuration work). */
export function dhcpSubnets(spec: NetworkSpec) {
  return spec.subnets.filter((s) => s.enableDhcp && s.ipVersion === 4);
}

/** dnsmasq's command line (without the binary). Its text decides whether a running dnsmasq must restart. */
export function dnsmasqArgs(spec: NetworkSpec, f: DhcpFiles): string[] {
  const args = [
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--user=root',
    '--group=root',
    `--interface=${BRIDGE}`,
    '--except-interface=lo',
    '--bind-interfaces',
    `--pid-file=${f.pidFile}`,
    `--dhcp-hostsfile=${f.hostsFile}`,
    `--dhcp-optsfile=${f.optsFile}`,
    `--dhcp-leasefile=${f.leaseFile}`,
    '--dhcp-authoritative',
    '--dhcp-lease-max=16777216',
  ];
  dhcpSubnets(spec).forEach((s, i) => {
    const [net, len] = s.cidr.split('/');
    args.push(`--dhcp-range=set:s${i},${net},static,${v4Netmask(Number(len))},${LEASE_SECONDS}s`);
  });
  return args;
}

/** The host entries: MAC → fixed IPv4 addresses on DHCP subnets, named as Neutron names them. */
export function dhcpHosts(spec: NetworkSpec, ports: PortSpec[]): string {
  const subnets = new Set(dhcpSubnets(spec).map((s) => s.id));
  const lines: string[] = [];
  for (const p of [...ports].sort((a, b) => a.id.localeCompare(b.id))) {
    if (!p.dhcp || !p.adminStateUp) continue;
    for (const f of p.fixedIps) {
      if (!subnets.has(f.subnetId)) continue;
      lines.push(`${p.mac.toLowerCase()},host-${f.ipAddress.replace(/[.:]/g, '-')},${f.ipAddress}`);
    }
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** Options per subnet: router, DNS servers, classless routes (host routes, metadata, default), MTU. */
export function dhcpOpts(spec: NetworkSpec): string {
  const lines: string[] = [];
  dhcpSubnets(spec).forEach((s, i) => {
    const tag = `tag:s${i}`;
    const dhcpIp = spec.dhcpPort?.fixedIps.find((f) => f.subnetId === s.id)?.ipAddress;
    lines.push(s.gatewayIp ? `${tag},option:router,${s.gatewayIp}` : `${tag},option:router`);
    if (s.dnsNameservers.length) lines.push(`${tag},option:dns-server,${s.dnsNameservers.join(',')}`);
    // Option 121 replaces option 3 for clients that ask for it, so the default route goes in it too.
    const routes: string[] = s.hostRoutes
      .filter((r) => !r.destination.includes(':'))
      .map((r) => `${r.destination},${r.nexthop}`);
    if (spec.metadata && dhcpIp) routes.push(`${METADATA_IP}/32,${dhcpIp}`);
    if (s.gatewayIp) routes.push(`0.0.0.0/0,${s.gatewayIp}`);
    if (routes.length) lines.push(`${tag},option:classless-static-route,${routes.join(',')}`);
    lines.push(`${tag},option:mtu,${spec.mtu}`);
  });
  return lines.join('\n') + (lines.length ? '\n' : '');
}
