/** A router namespace's interfaces (veths into the networks' bridges) and its static routes. */
import type { RouterSpec } from '../driver.js';
import { ip, ipQuiet, links } from './exec.js';
import { BRIDGE } from './names.js';

/** One router interface: a veth from the router namespace into a network's bridge. */
export async function routerLeg(
  ns: string,
  name: string,
  netNs: string,
  mac: string,
  mtu: number | undefined,
  addresses: string[],
  up: 'up' | 'down',
): Promise<void> {
  let l = (await links(ns)).find((x) => x.ifname === name);
  const peer = (await links(netNs)).find((x) => x.ifname === name);
  if (l && !peer) {
    await ipQuiet(ns, 'link', 'del', name);
    l = undefined;
  }
  if (!l) {
    await ipQuiet(netNs, 'link', 'del', name);
    await ip(null, 'link', 'add', name, 'netns', ns, 'type', 'veth', 'peer', 'name', name, 'netns', netNs);
  }
  if (l?.address !== mac.toLowerCase()) await ip(ns, 'link', 'set', name, 'address', mac.toLowerCase());
  if (mtu && l?.mtu !== mtu) {
    await ip(ns, 'link', 'set', name, 'mtu', String(mtu));
    await ip(netNs, 'link', 'set', name, 'mtu', String(mtu));
  }
  await ip(netNs, 'link', 'set', name, 'master', BRIDGE, 'up');
  const have = new Set(
    (l?.addr_info ?? []).filter((a) => !a.local.startsWith('fe80:')).map((a) => `${a.local}/${a.prefixlen}`),
  );
  for (const a of have) if (!addresses.includes(a)) await ipQuiet(ns, 'addr', 'del', a, 'dev', name);
  for (const a of addresses) if (!have.has(a)) await ip(ns, 'addr', 'add', a, 'dev', name, 'nodad');
  await ip(ns, 'link', 'set', name, up);
}

/** The router's static routes: its default route through the gateway and the routes of the router document. */
export async function ensureRoutes(
  ns: string,
  spec: RouterSpec,
  gwDev: string | null,
  log?: { warn(o: unknown, m?: string): void },
): Promise<void> {
  const want: string[][] = [];
  const v4gw = spec.gateway?.fixedIps.find((f) => f.gatewayIp && !f.gatewayIp.includes(':'))?.gatewayIp;
  if (gwDev && v4gw) want.push(['default', 'via', v4gw, 'dev', gwDev]);
  for (const r of spec.routes) want.push([r.destination, 'via', r.nexthop]);
  const have = JSON.parse((await ip(ns, '-j', 'route', 'show', 'proto', 'static')) || '[]') as {
    dst: string;
    gateway?: string;
  }[];
  const key = (dst: string, via: string) => `${dst === '0.0.0.0/0' ? 'default' : dst} ${via}`;
  const wantKeys = new Set(want.map((w) => key(w[0]!, w[2]!)));
  for (const h of have)
    if (!wantKeys.has(key(h.dst, h.gateway ?? '')))
      await ipQuiet(ns, 'route', 'del', h.dst, ...(h.gateway ? ['via', h.gateway] : []), 'proto', 'static');
  for (const w of want)
    await ip(ns, 'route', 'replace', ...w, 'proto', 'static').catch((err: unknown) =>
      log?.warn({ err, router: spec.id, route: w.join(' ') }, 'router route not installed'),
    );
}
