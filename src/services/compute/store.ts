/** The only code that touches the compute tables. */
import type { Generated, Kysely, Transaction } from 'kysely';
import { sql, type Database } from '../../core/db/index.js';

export interface FlavorRow {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  extra_specs: string;
  created_at: string;
}
export interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
}
export interface HostRow {
  name: string;
  id: number;
  service_uuid: string;
  hypervisor_uuid: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string;
  availability_zone: string | null;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  cpu_info: string;
  driver: string;
  capabilities: string;
  enabled: number;
  disabled_reason: string | null;
  forced_down: number;
  heartbeat_at: string | null;
  created_at: string;
  updated_at: string | null;
}
export interface ServerRow {
  id: string;
  seq: number;
  name: string;
  project_id: string;
  user_id: string;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  requested_az: string | null;
  flavor_id: string;
  flavor: string;
  old_flavor: string | null;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  image_ref: string | null;
  image_name: string | null;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  metadata: string;
  security_groups: string;
  requested_networks: string | null;
  addresses: string;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  description: string | null;
  hostname: string | null;
  config_drive: number;
  reservation_id: string;
  launch_index: number;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  server_group_id: string | null;
  shelved_image_id?: string | null;
  fault: string | null;
  progress: number;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  deleted: number;
  deleted_at: string | null;
}
export interface ActionRow {
  id: number;
  server_id: string;
  action: string;
  request_id: string;
  user_id: string | null;
  project_id: string | null;
  message: string | null;
  start_time: string;
  updated_at: string | null;
}
export interface EventRow {
  id: number;
  action_id: number;
  event: string;
  host: string | null;
  result: string | null;
  traceback: string | null;
  details: string | null;
  start_time: string;
  finish_time: string | null;
}
export interface GroupRow {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: string;
  rules: string;
  created_at: string;
}
export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  availability_zone: string | null;
  metadata: string;
  hosts: string;
  created_at: string;
  updated_at: string | null;
}
export interface MigrationRow {
  id: number;
  uuid: string;
  server_id: string;
  project_id: string;
  user_id: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  migration_type: string;
  status: string;
  created_at: string;
  updated_at: string | null;
}

export interface Tables {
  compute_flavor: FlavorRow;
  compute_flavor_access: { flavor_id: string; project_id: string };
  compute_keypair: Omit<KeypairRow, 'id'> & { id: Generated<number> };
  compute_host: HostRow;
  compute_server: ServerRow;
  compute_server_tag: { server_id: string; tag: string };
  compute_action: Omit<ActionRow, 'id'> & { id: Generated<number> };
  compute_action_event: Omit<EventRow, 'id'> & { id: Generated<number> };
  compute_quota: { scope: string; owner: string; resource: string; hard_limit: number };
  compute_lock: { name: string };
  compute_server_group: GroupRow;
  compute_aggregate: Omit<AggregateRow, 'id'> & { id: Generated<number> };
  compute_migration: Omit<MigrationRow, 'id'> & { id: Generated<number> };
  compute_seq: { name: string; value: number };
}

export type Db = Kysely<Tables>;

/** Per-host usage counted from the server rows that hold a claim (not deleted, not offloaded). */
export interface HostUsage {
  host: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  count: number;
}

export class ComputeStore {
  readonly k: Db;
  constructor(readonly db: Database) {
    this.k = db.kysely as Db;
  }

  /**
   * Run `fn` in a transaction serialized on `locks` (rows of compute_lock): PostgreSQL takes the rows
   * FOR UPDATE; SQLite's single connection already serializes transactions.
   */
  async locked<T>(locks: string[], fn: (trx: Transaction<Tables>) => Promise<T>): Promise<T> {
    return this.k.transaction().execute(async (trx) => {
      if (this.db.dialect === 'postgres') {
        const names = [...new Set(locks)].sort();
        for (const name of names)
          await trx
            .insertInto('compute_lock')
            .values({ name })
            .onConflict((oc) => oc.doNothing())
            .execute();
        await trx
          .selectFrom('compute_lock')
          .select('name')
          .where('name', 'in', names)
          .orderBy('name')
          .forUpdate()
          .execute();
      }
      return fn(trx);
    });
  }

  async nextSeq(trx: Kysely<Tables>, name: string, n = 1): Promise<number> {
    await trx
      .insertInto('compute_seq')
      .values({ name, value: 0 })
      .onConflict((oc) => oc.doNothing())
      .execute();
    await trx
      .updateTable('compute_seq')
      .set({ value: sql`value + ${n}` })
      .where('name', '=', name)
      .execute();
    const r = await trx
      .selectFrom('compute_seq')
      .select('value')
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    return Number(r.value) - n + 1;
  }

  // ---------------------------------------------------------------- usage (quota and claims)
  /** Instances, cores and RAM in use by a project (optionally one user), counted from servers. */
  async projectUsage(trx: Kysely<Tables>, projectId: string, userId?: string) {
    let q = trx
      .selectFrom('compute_server')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('vcpus').as('c'),
        eb.fn.sum<number>('memory_mb').as('r'),
      ])
      .where('project_id', '=', projectId)
      .where('deleted', '=', 0);
    if (userId) q = q.where('user_id', '=', userId);
    const r = await q.executeTakeFirstOrThrow();
    return { instances: Number(r.n ?? 0), cores: Number(r.c ?? 0), ram: Number(r.r ?? 0) };
  }

  async hostUsage(trx: Kysely<Tables>): Promise<Map<string, HostUsage>> {
    const rows = await trx
      .selectFrom('compute_server')
      .select((eb) => [
        'host',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('vcpus').as('c'),
        eb.fn.sum<number>('memory_mb').as('r'),
        eb.fn.sum<number>('disk_gb').as('d'),
      ])
      .where('deleted', '=', 0)
      .where('host', 'is not', null)
      .where('vm_state', '!=', 'shelved_offloaded')
      .groupBy('host')
      .execute();
    return new Map(
      rows.map((r) => [
        r.host as string,
        {
          host: r.host as string,
          count: Number(r.n),
          vcpus: Number(r.c ?? 0),
          memory_mb: Number(r.r ?? 0),
          disk_gb: Number(r.d ?? 0),
        },
      ]),
    );
  }

  // ---------------------------------------------------------------- servers
  async server(id: string, opts: { deleted?: boolean } = {}): Promise<ServerRow | undefined> {
    let q = this.k.selectFrom('compute_server').selectAll().where('id', '=', id);
    if (!opts.deleted) q = q.where('deleted', '=', 0);
    return q.executeTakeFirst();
  }

  /** Live servers with exactly this name, in one project (or every project), oldest first; at most `limit`. */
  async serversNamed(name: string, projectId: string | undefined, limit = 20): Promise<ServerRow[]> {
    let q = this.k.selectFrom('compute_server').selectAll().where('name', '=', name).where('deleted', '=', 0);
    if (projectId !== undefined) q = q.where('project_id', '=', projectId);
    return q.orderBy('created_at').orderBy('id').limit(limit).execute();
  }

  async tags(ids: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.k
        .selectFrom('compute_server_tag')
        .selectAll()
        .where('server_id', 'in', ids.slice(i, i + 500))
        .orderBy('tag')
        .execute();
      for (const r of rows) out.set(r.server_id, [...(out.get(r.server_id) ?? []), r.tag]);
    }
    return out;
  }

  /**
   * Apply a state change only when the server is still in one of the expected task states (Nova's
   * `instance.save(expected_task_state=...)`). Returns whether it applied.
   */
  async saveState(
    id: string,
    values: Partial<ServerRow>,
    expectTaskState?: (string | null)[],
  ): Promise<boolean> {
    let q = this.k.updateTable('compute_server').set(values).where('id', '=', id).where('deleted', '=', 0);
    if (expectTaskState) {
      const nonNull = expectTaskState.filter((x): x is string => x !== null);
      const hasNull = expectTaskState.includes(null);
      q = q.where((eb) => {
        const parts = [];
        if (nonNull.length) parts.push(eb('task_state', 'in', nonNull));
        if (hasNull) parts.push(eb('task_state', 'is', null));
        return parts.length ? eb.or(parts) : (eb.val(false) as never);
      });
    }
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  // ---------------------------------------------------------------- hosts
  async hosts(): Promise<HostRow[]> {
    return this.k.selectFrom('compute_host').selectAll().orderBy('id').execute();
  }
  async host(name: string): Promise<HostRow | undefined> {
    return this.k.selectFrom('compute_host').selectAll().where('name', '=', name).executeTakeFirst();
  }

  // ---------------------------------------------------------------- actions
  async startAction(
    a: Omit<ActionRow, 'id' | 'updated_at'>,
    event?: string,
    host?: string | null,
  ): Promise<void> {
    const r = await this.k
      .insertInto('compute_action')
      .values({ ...a, updated_at: a.start_time })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (event)
      await this.k
        .insertInto('compute_action_event')
        .values({
          action_id: r.id,
          event,
          host: host ?? null,
          start_time: a.start_time,
          result: null,
          traceback: null,
          details: null,
          finish_time: null,
        })
        .execute();
  }

  async finishEvent(
    serverId: string,
    requestId: string,
    event: string,
    host: string,
    result: 'Success' | 'Error',
    now: string,
    traceback?: string,
    details?: string,
    message?: string,
  ): Promise<void> {
    const a = await this.k
      .selectFrom('compute_action')
      .selectAll()
      .where('server_id', '=', serverId)
      .where('request_id', '=', requestId)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    if (!a) return;
    const ev = await this.k
      .selectFrom('compute_action_event')
      .selectAll()
      .where('action_id', '=', a.id)
      .where('event', '=', event)
      .where('finish_time', 'is', null)
      .executeTakeFirst();
    if (ev)
      await this.k
        .updateTable('compute_action_event')
        .set({ result, finish_time: now, traceback: traceback ?? null, details: details ?? null, host })
        .where('id', '=', ev.id)
        .execute();
    else
      await this.k
        .insertInto('compute_action_event')
        .values({
          action_id: a.id,
          event,
          host,
          result,
          traceback: traceback ?? null,
          details: details ?? null,
          start_time: now,
          finish_time: now,
        })
        .execute();
    await this.k
      .updateTable('compute_action')
      .set({ updated_at: now, ...(result === 'Error' ? { message: message ?? 'Error' } : {}) })
      .where('id', '=', a.id)
      .execute();
  }
}
