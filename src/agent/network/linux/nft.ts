/**
 * nftables rulesets of the Linux network driver, as text for `nft -f` (pure functions: unit-tested).
 *
 * Why this shape (see docs/dataplane.md, "Security groups on this kernel"): the nftables *bridge* family
 * has no conntrack here (CONFIG_NF_CONNTRACK_BRIDGE is off), but br_netfilter is built in. So, inside each
 * network's namespace, with `net.bridge.bridge-nf-call-iptables=1`, bridged IP traffic also passes the
 * *inet* hooks, where conntrack works: security groups are an inet `forward` chain keyed by the port's
 * addresses (which anti-spoofing makes trustworthy). Anti-spoofing itself (MAC, IP, ARP, rogue DHCP) is a
 * bridge-family chain keyed by the VM's tap, the one place where the ingress device is the port.
 *
 * Ports whose groups are all stateless (`stateful: false`) are not tracked (a `raw` prerouting chain), so their
 * rules see every packet, replies included, as Neutron's stateless groups.
 *
 * Every ruleset replaces its table in one transaction (`add table; delete table; table {...}`), so a
 * change never opens a window where a port is unfiltered.
 */
import type { FirewallRule, PortSpec, RouterSpec } from '../driver.js';
import { tapName } from './names.js';
import { IP_PROTOCOL_MAP } from '../ip-protocols.js';

const hex = (id: string) => id.replace(/-/g, '').toLowerCase();
export const setName = (groupId: string, v6: boolean) => `sg${v6 ? 6 : 4}_${hex(groupId)}`;
const isV6 = (a: string) => a.includes(':');

/** A protocol as its number, or null for "any"; undefined when unknown (the rule is skipped). */
export function protocolNumber(p: string | null, v6: boolean): number | null | undefined {
  if (p === null || p === '' || p === 'any') return null;
  if (/^\d+$/.test(p)) {
    const n = Number(p);
    if (n > 255) return undefined;
    return n === 1 && v6 ? 58 : n;
  }
  const n = IP_PROTOCOL_MAP[p.toLowerCase()];
  return n === 1 && v6 ? 58 : n;
}

/** One security-group rule as an nft match (without verdict); null when it can never match this family. */
export function ruleMatch(r: FirewallRule): string | null {
  const v6 = r.ethertype === 'IPv6';
  const fam = v6 ? 'ip6' : 'ip';
  const parts = [`meta nfproto ${v6 ? 'ipv6' : 'ipv4'}`];
  const remote = r.direction === 'ingress' ? 'saddr' : 'daddr';
  if (r.remoteIpPrefix) {
    if (isV6(r.remoteIpPrefix) !== v6) return null;
    if (!/^(0\.0\.0\.0|::)\/0$/.test(r.remoteIpPrefix)) parts.push(`${fam} ${remote} ${r.remoteIpPrefix}`);
  } else if (r.remoteGroupId) parts.push(`${fam} ${remote} @${setName(r.remoteGroupId, v6)}`);
  const n = protocolNumber(r.protocol, v6);
  if (n === undefined) return null;
  if (n !== null) {
    parts.push(`meta l4proto ${n}`);
    const name = n === 6 ? 'tcp' : n === 17 ? 'udp' : n === 132 ? 'sctp' : n === 33 ? 'dccp' : null;
    if (name && r.portRangeMin !== null) {
      const max = r.portRangeMax ?? r.portRangeMin;
      parts.push(`${name} dport ${max === r.portRangeMin ? r.portRangeMin : `${r.portRangeMin}-${max}`}`);
    } else if (n === 1 || n === 58) {
      const icmp = n === 1 ? 'icmp' : 'icmpv6';
      if (r.portRangeMin !== null) parts.push(`${icmp} type ${r.portRangeMin}`);
      if (r.portRangeMin !== null && r.portRangeMax !== null) parts.push(`${icmp} code ${r.portRangeMax}`);
    }
  }
  return parts.join(' ');
}

/** The addresses a port may send from (fixed IPs and allowed address pairs), by family. */
export function portAddresses(p: PortSpec): { v4: string[]; v6: string[]; macs: string[] } {
  const all = [...p.fixedIps.map((f) => f.ipAddress), ...p.allowedAddressPairs.map((a) => a.ipAddress)];
  const macs = [
    ...new Set(
      [p.mac, ...p.allowedAddressPairs.map((a) => a.macAddress || p.mac)].map((m) => m.toLowerCase()),
    ),
  ];
  return {
    v4: [...new Set(all.filter((a) => !isV6(a)))],
    v6: [...new Set(all.filter(isV6))],
    macs,
  };
}

const set = (xs: string[]) => (xs.length === 1 ? xs[0]! : `{ ${xs.join(', ')} }`);

/** A filtered port: a VM's (or an unbound user port's) with port security on. */
export const filtered = (p: PortSpec) => p.portSecurity && !p.deviceOwner.startsWith('network:');

/**
 * The firewall of one network: anti-spoofing (bridge family) and security groups (inet family) of its
 * ports, with the address sets of the remote groups their rules name.
 */
export function networkRuleset(ports: PortSpec[], addressSets: Map<string, string[]>): string {
  const out: string[] = [
    'add table bridge sbx',
    'delete table bridge sbx',
    'add table inet sbx',
    'delete table inet sbx',
  ];
  // ---- bridge: anti-spoofing, admin-down ports
  const pre: string[] = [];
  const fwd: string[] = [];
  const chains: string[] = [];
  for (const p of ports) {
    const tap = tapName(p.id);
    if (!p.adminStateUp) {
      fwd.push(`iifname "${tap}" drop`, `oifname "${tap}" drop`);
      continue;
    }
    if (!filtered(p)) continue;
    const a = portAddresses(p);
    const c = `as_${hex(p.id)}`;
    pre.push(`iifname "${tap}" jump ${c}`);
    chains.push(
      `  chain ${c} {`,
      `    ether saddr != ${set(a.macs)} drop`,
      `    ether type arp arp saddr ether != ${set(a.macs)} drop`,
      `    ether type arp arp saddr ip != ${set(['0.0.0.0', ...a.v4])} drop`,
      `    ether type ip ip saddr 0.0.0.0 udp sport 68 udp dport 67 return`,
      `    ether type ip udp sport 67 drop`,
      a.v4.length ? `    ether type ip ip saddr != ${set(a.v4)} drop` : `    ether type ip drop`,
      `    ether type ip6 udp sport 547 drop`,
      `    ether type ip6 ip6 saddr != ${set(['::', 'fe80::/10', ...a.v6])} drop`,
      `  }`,
    );
  }
  out.push(
    'table bridge sbx {',
    '  chain pre {',
    '    type filter hook prerouting priority -200; policy accept;',
    ...pre.map((r) => `    ${r}`),
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    ...fwd.map((r) => `    ${r}`),
    '  }',
    ...chains,
    '}',
  );
  // ---- inet: security groups, stateful
  const groups = new Set<string>();
  const jumpsFwd: string[] = [];
  const jumpsIn: string[] = [];
  const pchains: string[] = [];
  const notrack: string[] = [];
  for (const p of ports.filter((x) => x.adminStateUp && filtered(x))) {
    const a = portAddresses(p);
    if (a.v4.length + a.v6.length === 0) continue;
    const eg = `eg_${hex(p.id)}`;
    const ing = `in_${hex(p.id)}`;
    for (const [fam, xs] of [
      ['ip', a.v4],
      ['ip6', a.v6],
    ] as const) {
      if (!xs.length) continue;
      // Stateless groups (stateful=False): untracked, so every packet, replies too, meets the rules.
      if (!p.stateful) notrack.push(`${fam} saddr ${set(xs)} notrack`, `${fam} daddr ${set(xs)} notrack`);
      jumpsFwd.push(`${fam} saddr ${set(xs)} jump ${eg}`, `${fam} daddr ${set(xs)} jump ${ing}`);
      jumpsIn.push(`${fam} saddr ${set(xs)} jump ${eg}`);
    }
    const egress: string[] = [];
    const ingress: string[] = [];
    for (const r of p.firewall) {
      const m = ruleMatch(r);
      if (m === null) continue;
      if (r.remoteGroupId) groups.add(r.remoteGroupId);
      (r.direction === 'egress' ? egress : ingress).push(m);
    }
    pchains.push(
      `  chain ${eg} {`,
      '    meta nfproto ipv4 udp sport 68 udp dport 67 return',
      '    meta nfproto ipv6 udp sport 546 udp dport 547 return',
      '    icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } return',
      ...egress.map((m) => `    ${m} return`),
      '    drop',
      '  }',
      `  chain ${ing} {`,
      '    meta nfproto ipv4 udp sport 67 udp dport 68 accept',
      '    meta nfproto ipv6 udp sport 547 udp dport 546 accept',
      '    icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept',
      ...ingress.map((m) => `    ${m} accept`),
      '    drop',
      '  }',
    );
  }
  const sets: string[] = [];
  for (const g of [...groups].sort()) {
    const members = addressSets.get(g) ?? [];
    for (const v6 of [false, true]) {
      const els = members.filter((x) => isV6(x) === v6);
      sets.push(
        `  set ${setName(g, v6)} {`,
        `    type ${v6 ? 'ipv6_addr' : 'ipv4_addr'}; flags interval; auto-merge;`,
        ...(els.length ? [`    elements = { ${els.join(', ')} }`] : []),
        '  }',
      );
    }
  }
  out.push(
    'table inet sbx {',
    ...sets,
    '  chain raw {',
    '    type filter hook prerouting priority raw; policy accept;',
    ...notrack.map((r) => `    ${r}`),
    '  }',
    '  chain forward {',
    '    type filter hook forward priority 0; policy accept;',
    '    ct state invalid drop',
    '    ct state established,related accept',
    ...jumpsFwd.map((r) => `    ${r}`),
    '  }',
    '  chain input {',
    '    type filter hook input priority 0; policy accept;',
    '    ct state established,related accept',
    ...jumpsIn.map((r) => `    ${r}`),
    '  }',
    ...pchains,
    '}',
  );
  return out.join('\n') + '\n';
}

/** A router's NAT: SNAT of the subnets behind it, and each floating IP as 1:1 DNAT/SNAT. */
export function routerRuleset(spec: RouterSpec, gatewayDevice: string | null): string {
  const pre: string[] = [];
  const post: string[] = [];
  if (gatewayDevice) {
    for (const f of spec.floatingIps) {
      pre.push(`ip daddr ${f.floatingIpAddress} dnat to ${f.fixedIpAddress}`);
      post.push(`ip saddr ${f.fixedIpAddress} oifname "${gatewayDevice}" snat to ${f.floatingIpAddress}`);
    }
    for (const s of spec.snat)
      post.push(`ip saddr ${s.sourceCidr} oifname "${gatewayDevice}" snat to ${s.toAddress}`);
    // Hairpin: a VM reaching a floating IP of a VM behind the same router is DNATed back inside; its
    // source becomes the gateway address so that the reply comes back through the router (Neutron's
    // "SNAT of DNATed traffic that did not come from the external network").
    const gw = spec.gateway?.fixedIps.find((f) => !f.ipAddress.includes(':'))?.ipAddress;
    if (gw && spec.floatingIps.length)
      post.push(`iifname != "${gatewayDevice}" oifname != "${gatewayDevice}" ct status dnat snat to ${gw}`);
  }
  return [
    'add table ip sbx',
    'delete table ip sbx',
    'table ip sbx {',
    '  chain pre {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...pre.map((r) => `    ${r}`),
    '  }',
    '  chain out {',
    '    type nat hook output priority -100; policy accept;',
    ...pre.map((r) => `    ${r}`),
    '  }',
    '  chain post {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    ...post.map((r) => `    ${r}`),
    '  }',
    '}',
    '',
  ].join('\n');
}
