/**
 * The only code that touches the network tables. Rows in, rows out; no policy, no HTTP.
 * Every method takes an optional executor so the manager can run several of them in one transaction.
 */
import {
  sql,
  type Expression,
  type Kysely,
  type SqlBool,
  type Transaction,
  type ExpressionBuilder,
} from 'kysely';
import type { Database } from '../../core/db/index.js';
import type { AllocationStore } from './ipam.js';

export type Row = Record<string, any>;
export type Exec = Kysely<any> | Transaction<any>;

export type Table =
  | 'net_networks'
  | 'net_segments'
  | 'net_subnets'
  | 'net_ports'
  | 'net_ipallocations'
  | 'net_security_groups'
  | 'net_default_security_groups'
  | 'net_security_group_rules'
  | 'net_port_security_groups'
  | 'net_routers'
  | 'net_floatingips'
  | 'net_rbac_policies'
  | 'net_quotas'
  | 'net_tags';

/** A condition on a table's rows, built by the manager and translated to SQL here. */
export type Cond =
  | { eq: string; values: readonly (string | number | null)[] }
  | { ne: string; value: string | number }
  | { like: string; pattern: string }
  | {
      in: string;
      table: Table;
      select: string;
      where: Cond[];
      not?: boolean;
      /** Only values selected by at least this many distinct `col`s (e.g. a resource having all of n tags). */
      distinctAtLeast?: { col: string; n: number };
    }
  | { or: Cond[] }
  | { and: Cond[] }
  | { never: true };

export interface ListQuery {
  where?: Cond[];
  /** Sort keys (columns); when given, `id` is appended as the final tie-breaker. */
  sort?: { col: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  /** Values of the sort columns of the marker row: rows strictly after it are returned. */
  after?: Row;
}

export class NetworkStore {
  readonly db: Kysely<any>;
  constructor(readonly database: Database) {
    this.db = database.kysely;
  }

  get dialect() {
    return this.database.dialect;
  }

  /** Run fn in a transaction; retried when PostgreSQL reports a deadlock or serialization failure. */
  async tx<T>(fn: (trx: Transaction<any>) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(fn);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code === '40P01' || code === '40001') && attempt < 5) continue;
        throw err;
      }
    }
  }

  private cond(eb: ExpressionBuilder<any, any>, c: Cond, prefix?: string): Expression<SqlBool> {
    const col = (n: string) => (prefix ? `${prefix}.${n}` : n);
    if ('eq' in c) {
      const vals = c.values.filter((v) => v !== null);
      const hasNull = c.values.length !== vals.length;
      const parts: Expression<SqlBool>[] = [];
      if (vals.length) parts.push(eb(col(c.eq), 'in', vals as any[]));
      if (hasNull) parts.push(eb(col(c.eq), 'is', null));
      if (parts.length === 0) return eb.lit(false) as any;
      return parts.length === 1 ? parts[0]! : eb.or(parts);
    }
    if ('ne' in c) return eb(col(c.ne), '!=', c.value);
    if ('like' in c) return eb(col(c.like), 'like', c.pattern);
    if ('or' in c)
      return c.or.length ? eb.or(c.or.map((x) => this.cond(eb, x, prefix))) : (eb.lit(false) as any);
    if ('and' in c)
      return c.and.length ? eb.and(c.and.map((x) => this.cond(eb, x, prefix))) : (eb.lit(true) as any);
    if ('never' in c) return eb.lit(false) as any;
    let sub = eb
      .selectFrom(`${c.table} as s`)
      .select(`s.${c.select}` as any)
      .where((e2) =>
        c.where.length ? e2.and(c.where.map((x) => this.cond(e2, x, 's'))) : (e2.lit(true) as any),
      );
    const d = c.distinctAtLeast;
    if (d)
      sub = sub
        .groupBy(`s.${c.select}` as any)
        .having(sql`count(distinct ${sql.ref(`s.${d.col}`)})`, '>=', d.n) as typeof sub;
    return eb(col(c.in), c.not ? 'not in' : 'in', sub as any);
  }

  where(eb: ExpressionBuilder<any, any>, conds: Cond[]): Expression<SqlBool> {
    return conds.length ? eb.and(conds.map((c) => this.cond(eb, c))) : (eb.lit(true) as any);
  }

  async list(table: Table, q: ListQuery = {}, ex: Exec = this.db): Promise<Row[]> {
    let qb = ex.selectFrom(table).selectAll();
    if (q.where?.length) qb = qb.where((eb) => this.where(eb, q.where!));
    const sort = [...(q.sort ?? [])];
    if (q.sort && !sort.some((s) => s.col === 'id')) sort.push({ col: 'id', dir: sort[0]?.dir ?? 'asc' });
    if (q.after) {
      const after = q.after;
      // (k1, k2, ...) strictly after the marker in the sort order.
      qb = qb.where((eb) =>
        eb.or(
          sort.map((s, i) =>
            eb.and([
              ...sort.slice(0, i).map((p) => eb(p.col, '=', after[p.col])),
              eb(s.col, s.dir === 'asc' ? '>' : '<', after[s.col]),
            ]),
          ),
        ),
      );
    }
    for (const s of sort) qb = qb.orderBy(s.col, s.dir);
    if (q.limit !== undefined) qb = qb.limit(q.limit);
    return qb.execute();
  }

  async count(table: Table, where: Cond[], ex: Exec = this.db): Promise<number> {
    const r = await ex
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where((eb) => this.where(eb, where))
      .executeTakeFirst();
    return Number((r as Row | undefined)?.n ?? 0);
  }

  async get(table: Table, id: string, ex: Exec = this.db): Promise<Row | undefined> {
    return ex.selectFrom(table).selectAll().where('id', '=', id).executeTakeFirst();
  }

  async getMany(table: Table, ids: string[], ex: Exec = this.db): Promise<Row[]> {
    if (ids.length === 0) return [];
    return ex.selectFrom(table).selectAll().where('id', 'in', ids).execute();
  }

  async insert(table: Table, row: Row, ex: Exec = this.db): Promise<void> {
    await ex.insertInto(table).values(row).execute();
  }

  /** Insert unless the row conflicts with a unique key; true when inserted. */
  async insertIfAbsent(table: Table, row: Row, ex: Exec = this.db): Promise<boolean> {
    const r = await ex
      .insertInto(table)
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /** Update a resource and bump its revision; with `ifRevision`, only when the revision still matches. */
  async update(
    table: Table,
    id: string,
    patch: Row,
    ex: Exec = this.db,
    ifRevision?: number,
  ): Promise<boolean> {
    let qb = ex
      .updateTable(table)
      .set((eb: ExpressionBuilder<any, any>) => ({
        ...patch,
        revision_number: eb('revision_number', '+', 1),
      }))
      .where('id', '=', id);
    if (ifRevision !== undefined) qb = qb.where('revision_number', '=', ifRevision);
    const r = await qb.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Update without touching the revision (status reported by the driver). */
  async setColumns(table: Table, where: Cond[], patch: Row, ex: Exec = this.db): Promise<number> {
    const r = await ex
      .updateTable(table)
      .set(patch)
      .where((eb) => this.where(eb, where))
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async delete(table: Table, where: Cond[], ex: Exec = this.db): Promise<number> {
    const r = await ex
      .deleteFrom(table)
      .where((eb) => this.where(eb, where))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- ports: addresses, security groups

  async allocationsFor(portIds: string[], ex: Exec = this.db): Promise<Row[]> {
    if (portIds.length === 0) return [];
    const out: Row[] = [];
    for (let i = 0; i < portIds.length; i += 500) {
      out.push(
        ...(await ex
          .selectFrom('net_ipallocations')
          .selectAll()
          .where('port_id', 'in', portIds.slice(i, i + 500))
          .orderBy('seq')
          .execute()),
      );
    }
    return out;
  }

  async portSecurityGroups(portIds: string[], ex: Exec = this.db): Promise<Row[]> {
    if (portIds.length === 0) return [];
    const out: Row[] = [];
    for (let i = 0; i < portIds.length; i += 500) {
      out.push(
        ...(await ex
          .selectFrom('net_port_security_groups')
          .selectAll()
          .where('port_id', 'in', portIds.slice(i, i + 500))
          .orderBy('security_group_id')
          .execute()),
      );
    }
    return out;
  }

  /** The allocator's view of net_ipallocations on one executor (connection or transaction). */
  allocationStore(ex: Exec = this.db): AllocationStore {
    let seq = 0;
    return {
      allocated: async (subnetId) =>
        (
          await ex
            .selectFrom('net_ipallocations')
            .select('ip_address')
            .where('subnet_id', '=', subnetId)
            .execute()
        ).map((r: Row) => String(r.ip_address)),
      tryInsert: async (a) =>
        this.insertIfAbsent(
          'net_ipallocations',
          {
            subnet_id: a.subnetId,
            ip_address: a.ipAddress,
            network_id: a.networkId,
            port_id: a.portId,
            seq: seq++,
          },
          ex,
        ),
      release: async (subnetId, ip) => {
        await ex
          .deleteFrom('net_ipallocations')
          .where('subnet_id', '=', subnetId)
          .where('ip_address', '=', ip)
          .execute();
      },
    };
  }

  // ---- tags

  async tagsFor(resourceType: string, ids: string[], ex: Exec = this.db): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    if (ids.length === 0) return m;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .selectFrom('net_tags')
        .selectAll()
        .where('resource_type', '=', resourceType)
        .where('resource_id', 'in', ids.slice(i, i + 500))
        .orderBy('tag')
        .execute();
      for (const r of rows as Row[]) {
        const l = m.get(r.resource_id) ?? [];
        l.push(r.tag);
        m.set(r.resource_id, l);
      }
    }
    return m;
  }

  async setTags(resourceType: string, id: string, tags: string[], ex: Exec = this.db): Promise<void> {
    await ex
      .deleteFrom('net_tags')
      .where('resource_type', '=', resourceType)
      .where('resource_id', '=', id)
      .execute();
    for (const tag of new Set(tags))
      await this.insertIfAbsent('net_tags', { resource_type: resourceType, resource_id: id, tag }, ex);
  }

  async addTag(resourceType: string, id: string, tag: string, ex: Exec = this.db): Promise<void> {
    await this.insertIfAbsent('net_tags', { resource_type: resourceType, resource_id: id, tag }, ex);
  }

  async removeTag(
    resourceType: string,
    id: string,
    tag: string | undefined,
    ex: Exec = this.db,
  ): Promise<number> {
    let qb = ex
      .deleteFrom('net_tags')
      .where('resource_type', '=', resourceType)
      .where('resource_id', '=', id);
    if (tag !== undefined) qb = qb.where('tag', '=', tag);
    const r = await qb.executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- quotas

  async quotas(projectId: string): Promise<Row[]> {
    return this.db.selectFrom('net_quotas').selectAll().where('project_id', '=', projectId).execute();
  }

  async allQuotas(): Promise<Row[]> {
    return this.db.selectFrom('net_quotas').selectAll().execute();
  }

  async setQuota(projectId: string, resource: string, limit: number): Promise<void> {
    await this.db
      .insertInto('net_quotas')
      .values({ project_id: projectId, resource, limit })
      .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ limit }))
      .execute();
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.db.deleteFrom('net_quotas').where('project_id', '=', projectId).execute();
  }

  /** Count a project's resources per table (quota usage). */
  async usage(table: Table, projectId: string, ex: Exec = this.db): Promise<number> {
    return this.count(table, [{ eq: 'project_id', values: [projectId] }], ex);
  }
}
