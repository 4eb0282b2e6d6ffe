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
import type { PolicyRule } from '../../../core/auth/policy.js';
import type { Caller } from '../../../core/auth/caller.js';
import { badRequest, invalidAttr } from '../errors.js';
import type { NetworkManager } from '../manager.js';
import type { Query } from '../query.js';
import { Walk, type End, type Explanation, type Nic } from './types.js';
import { parseEnd, parseFlow } from './rules.js';
import { Ends } from './ends.js';
import { Walker } from './walk.js';

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

const QUERY_KEYS = ['from', 'to', 'protocol', 'port', 'from_network', 'to_network'];
const MAX_CANDIDATES = 16;

export class Explainer {
  private readonly ends: Ends;
  private readonly walker: Walker;

  constructor(
    private readonly m: NetworkManager,
    compute: () => unknown,
  ) {
    this.ends = new Ends(m, compute);
    this.walker = new Walker(m);
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

    const from = await this.ends.resolve(c, fromSpec, 'from', fromNet);
    const to = await this.ends.resolve(c, toSpec, 'to', toNet);
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
      const walk = await this.walker.walk(c, flow, from, src, to, dst);
      if (!best || walk.score > best.walk.score) best = { walk, src, dst };
      if (walk.score === Infinity) break;
    }
    const w = best!.walk;
    const verdict = w.blocked ? 'dropped' : w.unsure ? 'unknown' : 'allowed';
    const stop = w.blocked ?? w.unsure;
    return {
      verdict,
      from: this.ends.endView(from, best!.src),
      to: this.ends.endView(to, best!.dst),
      protocol: flow.protocol,
      port: flow.port,
      hops: w.hops,
      blocked_at: stop?.step ?? null,
      reason: stop?.reason ?? null,
    };
  }
}

export type { Explanation, Hop, Protocol, ServerLookup, ServerSummary } from './types.js';
