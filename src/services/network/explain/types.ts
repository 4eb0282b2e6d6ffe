/** The shapes explain works with: ends, NICs, flows, hops and the walk that records them. */
import type { Credentials } from '../../../core/auth/policy.js';
import { type Ip } from '../ipam.js';
import type { Row } from '../store.js';

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

export type EndSpec =
  | { kind: 'external'; input: string; ip?: Ip; address?: string }
  | { kind: 'server'; input: string; ref: string }
  | { kind: 'port'; input: string; id: string }
  | { kind: 'ip'; input: string; ip: Ip; address: string };

export interface Fixed {
  subnet: Row;
  address: string;
  ip: Ip;
}

/** One address of one port of an end. */
export interface Nic {
  port: Row;
  network: Row;
  fixed?: Fixed;
  groups: string[];
}

export type End =
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

export interface Remote {
  ip?: Ip;
  groups?: Set<string>;
  label: string;
}

export interface Flow {
  protocol: Protocol;
  port: number | null;
}

/** The hops of one walk, and where it stopped or was unsure. */
export class Walk {
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

/** A hop's resource reference. */
export const res = (type: string, id: string) => ({ type, id: String(id) });
