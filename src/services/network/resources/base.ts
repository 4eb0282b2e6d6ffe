/**
 * What every Neutron resource shares: policy enforcement (with Neutron's per-attribute rules), quotas, the
 * revision/If-Match check, transactions retried on unique conflicts, and the generic list / show / render
 * that dispatch to each resource's definition, visibility, policy target and view (resources/<kind>.ts).
 */
import type { Transaction } from 'kysely';
import type { Caller } from '../../../core/auth/caller.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { isUniqueViolation } from '../../../core/db/index.js';
import { splitPage } from '../../../core/http/collection.js';
import { ApiError } from '../../../core/errors.js';
import { NotFound, badRequest, conflict } from '../errors.js';
import {
  columnConds,
  pageLinks,
  parseListParams,
  type CollectionDef,
  type ListParams,
  type Query,
} from '../query.js';
import type { Cond, Exec, NetworkStore, Row, Table } from '../store.js';
import * as v from '../validate.js';
import type { NetworkManager } from '../manager.js';

export type { Caller };

/** What changed, for the wiring layer (agent documents are rebuilt from the database, coalesced). */
export interface ChangeSink {
  network(id: string): void;
  /** A port changed; `groups` are security groups it left (their member address sets change). */
  port(id: string, networkId: string, deleted?: boolean, groups?: string[]): void;
  router(id: string, deleted?: boolean): void;
  securityGroup(id: string, deleted?: boolean): void;
}

export const OWNER_DHCP = 'network:dhcp';
export const OWNER_ROUTER_INTERFACE = 'network:router_interface';
export const OWNER_ROUTER_GATEWAY = 'network:router_gateway';
export const OWNER_FLOATINGIP = 'network:floatingip';

export const DEFAULT_QUOTAS: Record<string, number> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  security_group: 10,
  security_group_rule: 100,
  rbac_policy: 10,
};
const QUOTA_TABLE: Record<string, Table> = {
  network: 'net_networks',
  subnet: 'net_subnets',
  port: 'net_ports',
  router: 'net_routers',
  floatingip: 'net_floatingips',
  security_group: 'net_security_groups',
  security_group_rule: 'net_security_group_rules',
  rbac_policy: 'net_rbac_policies',
};

export const now = () => new Date().toISOString();
export const uniq = <T>(a: T[]) => [...new Set(a)];

// ---- collection definitions (filterable / sortable attributes)
export const S = (col: string) => ({ col, type: 'string' as const });
export const B = (col: string) => ({ col, type: 'bool' as const });
export const I = (col: string) => ({ col, type: 'int' as const });
/** Neutron's standard attributes. */
export const STD = {
  id: S('id'),
  project_id: S('project_id'),
  description: S('description'),
  revision_number: I('revision_number'),
  created_at: S('created_at'),
  updated_at: S('updated_at'),
};

/** A resource's collection: URL segment, manager kind, JSON keys, table, filterable / sortable columns. */
export type ResourceDef = CollectionDef & { kind: string; path: string; table: Table };

export interface ListResult {
  items: Record<string, unknown>[];
  links: { rel: string; href: string }[];
}

/** A view and the policy target it is checked against (get_<member>, attribute rules). */
export interface Rendered {
  view: Record<string, unknown>;
  target: Row;
}

/** The caller's own project, as a condition. */
export const ownProject = (c: Caller): Cond => ({ eq: 'project_id', values: [c.projectId] });

/**
 * One Neutron resource: its collection definition, who sees which rows, its policy target, its view, and (in
 * the subclasses) its CRUD. `m` is the manager: the shared logic below and the other resources.
 */
export abstract class Resource {
  abstract readonly def: ResourceDef;
  /** List filters that are not columns (handled by `filterConds`). */
  readonly specialFilters: string[] = [];

  constructor(protected readonly m: NetworkManager) {}

  protected get store(): NetworkStore {
    return this.m.store;
  }
  protected get changes(): ChangeSink {
    return this.m.changes;
  }

  /** SQL conditions restricting what a non-admin caller lists (rows are then checked one by one). */
  visibility(c: Caller): Cond[] {
    return [ownProject(c)];
  }

  /** Conditions for the special filters. */
  filterConds(_params: ListParams): Cond[] {
    return [];
  }

  /** Work a list does first (security groups: the caller's default group). */
  async beforeList(_c: Caller, _params: ListParams): Promise<void> {}

  /** Policy target of a row (its attributes plus the parent's, as Neutron builds it). */
  async target(_c: Caller, row: Row, _ex: Exec): Promise<Row> {
    return { ...row, tenant_id: row.project_id };
  }

  /** Views of rows (in order), each with the target it is checked against. */
  abstract views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]>;

  create?(c: Caller, body: unknown): Promise<Record<string, unknown>>;
  update?(c: Caller, id: string, body: unknown, ifMatch?: string): Promise<Record<string, unknown>>;
  delete?(c: Caller, id: string, ifMatch?: string): Promise<void>;
}

/** The shared part of the manager; the resources are added by NetworkManager (manager.ts). */
export abstract class NetworkCore {
  private policyNames: Set<string>;
  protected readonly kinds = new Map<string, Resource>();

  constructor(
    readonly store: NetworkStore,
    readonly policy: PolicyEngine,
    readonly changes: ChangeSink,
    policyRuleNames: string[],
  ) {
    this.policyNames = new Set(policyRuleNames);
  }

  /** The resource of a kind (`network`, `security_group_rule`, …). */
  resource(kind: string): Resource {
    const r = this.kinds.get(kind);
    if (!r) throw new Error(`unknown kind ${kind}`);
    return r;
  }

  /** Every resource with a collection, in the order of the API's resource list. */
  resources(): Resource[] {
    return [...this.kinds.values()];
  }

  // ------------------------------------------------------------------------------------------------
  // policy

  allowed(c: Caller, rule: string, target: Record<string, unknown>): boolean {
    if (c.isAdmin && !this.policyNames.has(rule)) return true;
    return this.policy.check(rule, target, c.creds);
  }

  enforce(c: Caller, rule: string, target: Record<string, unknown>): void {
    if (!this.allowed(c, rule, target))
      throw new ApiError(403, `(rule:${rule}) is disallowed by policy`, 'PolicyNotAuthorized');
  }

  /** A transaction retried when it hits a unique constraint (a concurrent writer won), or that conflict. */
  async txRetry<T>(
    onConflict: (() => ApiError) | undefined,
    fn: (trx: Transaction<any>) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.store.tx(fn);
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        if (onConflict) throw onConflict();
        if (attempt >= 10) throw conflict('HTTPConflict', 'Concurrent update conflict; retry the request.');
      }
    }
  }

  /** Per-attribute rules (`create_port:binding:host_id`) for the attributes given. */
  enforceAttrs(c: Caller, action: string, member: string, body: Record<string, unknown>, target: Row) {
    for (const k of Object.keys(body)) {
      const rule = `${action}_${member}:${k}`;
      if (this.policyNames.has(rule)) this.enforce(c, rule, target);
      const val = body[k];
      const subs: Record<string, unknown>[] = Array.isArray(val)
        ? (val.filter((x) => x && typeof x === 'object') as Record<string, unknown>[])
        : val && typeof val === 'object'
          ? [val as Record<string, unknown>]
          : [];
      for (const s of subs)
        for (const sk of Object.keys(s)) {
          const r2 = `${rule}:${sk}`;
          if (this.policyNames.has(r2)) this.enforce(c, r2, target);
        }
    }
  }

  /** Drop attributes the caller may not read (`get_network:provider:network_type`). */
  private stripAttrs(c: Caller, member: string, view: Record<string, unknown>, target: Row) {
    if (c.isAdmin) return view;
    for (const k of Object.keys(view)) {
      const rule = `get_${member}:${k}`;
      if (k !== 'tags' && this.policyNames.has(rule) && !this.policy.check(rule, target, c.creds))
        delete view[k];
    }
    return view;
  }

  // ------------------------------------------------------------------------------------------------
  // quotas

  async quotaLimits(projectId: string, ex: Exec = this.store.db): Promise<Record<string, number>> {
    const out = { ...DEFAULT_QUOTAS };
    for (const r of await this.store.list(
      'net_quotas',
      { where: [{ eq: 'project_id', values: [projectId] }] },
      ex,
    ))
      out[r.resource] = Number(r.limit);
    return out;
  }

  async checkQuota(projectId: string, resource: string, ex: Exec, adding = 1): Promise<void> {
    const limits = await this.quotaLimits(projectId, ex);
    const limit = limits[resource] ?? -1;
    if (limit < 0) return;
    const used = await this.store.usage(QUOTA_TABLE[resource]!, projectId, ex);
    if (used + adding > limit)
      throw new ApiError(409, `Quota exceeded for resources: ['${resource}'].`, 'OverQuota');
  }

  async quotaUsage(
    projectId: string,
  ): Promise<Record<string, { limit: number; used: number; reserved: number }>> {
    const limits = await this.quotaLimits(projectId);
    const out: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const [k, limit] of Object.entries(limits)) {
      const t = QUOTA_TABLE[k];
      out[k] = { limit, used: t ? await this.store.usage(t, projectId) : 0, reserved: 0 };
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------------
  // generic list / get

  async list(c: Caller, kind: string, q: Query, baseUrl: string, extra: Cond[] = []): Promise<ListResult> {
    const r = this.resource(kind);
    const def = r.def;
    const params = parseListParams(q, def, r.specialFilters);
    const conds = [...(c.isAdmin ? [] : r.visibility(c)), ...columnConds(def, params), ...extra];
    conds.push(...r.filterConds(params));
    await r.beforeList(c, params);
    const sortDir = (d: 'asc' | 'desc') => (params.pageReverse ? (d === 'asc' ? 'desc' : 'asc') : d);
    let sort = params.sort.map((s) => ({ col: def.columns[s.key]!.col, dir: sortDir(s.dir) }));
    if (sort.length === 0 && (params.limit !== undefined || params.marker))
      sort = [{ col: 'id', dir: sortDir('asc') }];
    let after: Row | undefined;
    if (params.marker) {
      after = await this.store.get(def.table, params.marker);
      if (!after) throw notFound(kind)?.(params.marker) ?? badRequest('marker not found');
    }
    const rows = await this.store.list(def.table, {
      where: conds,
      sort: sort.length ? sort : undefined,
      limit: params.limit !== undefined ? params.limit + 1 : undefined,
      after,
    });
    const split = splitPage(rows, params.limit);
    const hasMore = split.hasMore;
    const page = params.pageReverse ? split.items.reverse() : split.items;
    const views = await this.render(c, kind, page);
    const items = views.filter((x) => x.visible).map((x) => selectFields(x.view, params.fields));
    return {
      items,
      links: pageLinks(
        baseUrl,
        q,
        def.collection,
        params,
        views.map((x) => x.view),
        hasMore,
      ),
    };
  }

  async show(c: Caller, kind: string, id: string, q: Query = {}): Promise<Record<string, unknown>> {
    const row = await this.visibleRow(c, kind, id);
    const [r] = await this.render(c, kind, [row]);
    const fields = parseListParams(
      Object.fromEntries(Object.entries(q).filter(([k]) => k === 'fields')),
      this.resource(kind).def,
    ).fields;
    return selectFields(r!.view, fields);
  }

  /** The row when the caller may see it (get_<kind>), else the resource's NotFound. */
  async visibleRow(c: Caller, kind: string, id: string, ex: Exec = this.store.db): Promise<Row> {
    const def = this.resource(kind).def;
    const nf = notFound(kind)!;
    const row = await this.store.get(def.table, id, ex);
    if (!row) throw nf(id);
    const target = await this.target(c, kind, row, ex);
    if (!this.allowed(c, `get_${def.member}`, target)) throw nf(id);
    return row;
  }

  /** Policy target of a resource (its attributes plus the parent's, as Neutron builds it). */
  target(c: Caller, kind: string, row: Row, ex: Exec = this.store.db): Promise<Row> {
    return this.resource(kind).target(c, row, ex);
  }

  /** Views for rows, with `visible` = the caller passes get_<kind> (and attributes stripped by policy). */
  async render(
    c: Caller,
    kind: string,
    rows: Row[],
    ex: Exec = this.store.db,
  ): Promise<{ view: Record<string, unknown>; visible: boolean }[]> {
    const r = this.resource(kind);
    const def = r.def;
    const ids = rows.map((x) => x.id as string);
    const tags = def.tagType ? await this.store.tagsFor(def.tagType, ids, ex) : new Map<string, string[]>();
    const rendered = await r.views(c, rows, tags, ex);
    return rendered.map(({ view, target }) => {
      const visible = this.allowed(c, `get_${def.member}`, target);
      return { view: this.stripAttrs(c, def.member, view, target), visible };
    });
  }

  async viewOf(c: Caller, kind: string, id: string, ex: Exec = this.store.db) {
    const row = await this.store.get(this.resource(kind).def.table, id, ex);
    if (!row) throw notFound(kind)!(id);
    return (await this.render(c, kind, [row], ex))[0]!.view;
  }

  // ------------------------------------------------------------------------------------------------
  // update helpers

  /** Check `If-Match: revision_number=N` against the row (412 RevisionNumberConstraintFailed). */
  checkRevision(row: Row, ifMatch: string | undefined): void {
    if (!ifMatch) return;
    for (const part of ifMatch.split(',')) {
      const m = /^\s*revision_number=(\d+)\s*$/.exec(part);
      if (!m) continue;
      const want = Number(m[1]);
      const cur = Number(row.revision_number);
      if (want !== cur)
        throw new ApiError(
          412,
          `Constrained to ${want}, but current revision is ${cur}`,
          'RevisionNumberConstraintFailed',
        );
    }
  }

  /** Update a row and its updated_at (the store bumps the revision). */
  async bump(table: Table, id: string, patch: Row, ex: Exec): Promise<void> {
    await this.store.update(table, id, { ...patch, updated_at: now() }, ex);
  }

  /** The row for an update/delete: 404 when invisible, 403 when not allowed, 412 on revision mismatch. */
  async forChange(
    c: Caller,
    kind: string,
    action: 'update' | 'delete',
    id: string,
    ifMatch?: string,
    body: Row = {},
    ex: Exec = this.store.db,
  ): Promise<{ row: Row; target: Row }> {
    const row = await this.visibleRow(c, kind, id, ex);
    const target = { ...(await this.target(c, kind, row, ex)), ...body };
    const member = this.resource(kind).def.member;
    this.enforce(c, `${action}_${member}`, target);
    if (action === 'update') this.enforceAttrs(c, 'update', member, body, target);
    this.checkRevision(row, ifMatch);
    return { row, target };
  }

  /**
   * Authorize a create: the owner (body's project, else the caller's), then create_<member> and the attribute
   * rules against the body plus `extra` (the parent's attributes). Returns the owner and the target.
   */
  authorizeCreate(c: Caller, member: string, b: Row, extra: Row = {}): { projectId: string; target: Row } {
    const projectId = this.owner(c, b);
    const target = { ...b, project_id: projectId, tenant_id: projectId, ...extra };
    this.enforce(c, `create_${member}`, target);
    this.enforceAttrs(c, 'create', member, b, target);
    return { projectId, target };
  }

  /** The project a created resource belongs to: the body's project_id / tenant_id, else the caller's. */
  owner(c: Caller, b: Row): string {
    const p = b.project_id ?? b.tenant_id;
    if (p !== undefined) {
      const s = v.str('project_id', p);
      if (b.project_id !== undefined && b.tenant_id !== undefined && b.project_id !== b.tenant_id)
        throw badRequest(`'project_id' and 'tenant_id' do not match`);
      return s;
    }
    return c.projectId;
  }

  // ------------------------------------------------------------------------------------------------
  // wiring: the status the agent reports

  async setStatus(
    kind: 'port' | 'floatingip' | 'router' | 'network',
    id: string,
    status: string,
  ): Promise<void> {
    const table: Table =
      kind === 'port'
        ? 'net_ports'
        : kind === 'floatingip'
          ? 'net_floatingips'
          : kind === 'router'
            ? 'net_routers'
            : 'net_networks';
    const where: Cond[] = [{ eq: 'id', values: [id] }];
    if (kind === 'floatingip') where.push({ ne: 'fixed_port_id', value: '' });
    await this.store.setColumns(table, where, { status });
  }
}

/** The resource's NotFound (NetworkNotFound, PortNotFound, …). */
function notFound(kind: string): ((id: string) => ApiError) | undefined {
  return (NotFound as Record<string, (id: string) => ApiError>)[kind];
}

export function selectFields(
  view: Record<string, unknown>,
  fields: string[] | undefined,
): Record<string, unknown> {
  if (!fields) return view;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in view) out[f] = view[f];
  return out;
}

export function groupBy(rows: Row[], key: string): Map<string, Row[]> {
  const m = new Map<string, Row[]>();
  for (const r of rows) {
    const k = r[key] as string;
    const l = m.get(k);
    if (l) l.push(r);
    else m.set(k, [r]);
  }
  return m;
}
