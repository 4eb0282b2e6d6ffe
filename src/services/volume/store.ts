/** The only code that touches the block-storage tables (Kysely; the same queries on SQLite and PostgreSQL). */
import type { Expression, Kysely, SqlBool, Transaction } from 'kysely';
import { lockedTransaction, sql, type Database } from '../../core/db/index.js';

export interface VolumeRow {
  id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  attach_status: string;
  migration_status: string | null;
  availability_zone: string;
  volume_type_id: string;
  snapshot_id: string | null;
  source_volid: string | null;
  image_id: string | null;
  bootable: number;
  readonly: number;
  multiattach: number;
  host: string | null;
  image_metadata: string;
  error: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface AttachmentRow {
  id: string;
  volume_id: string;
  project_id: string;
  instance_uuid: string | null;
  attached_host: string | null;
  mountpoint: string | null;
  attach_mode: string;
  attach_status: string;
  connector: string | null;
  connection_info: string | null;
  attach_time: string | null;
  detach_time: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface SnapshotRow {
  id: string;
  volume_id: string;
  project_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  size: number;
  status: string;
  progress: string;
  volume_type_id: string;
  metadata: string;
  error: string | null;
  created_at: string;
  updated_at: string | null;
}

export interface TypeRow {
  id: string;
  name: string;
  description: string | null;
  is_public: number;
  extra_specs: string;
  created_at: string;
  updated_at: string | null;
}

export interface TransferRow {
  id: string;
  volume_id: string;
  project_id: string;
  name: string | null;
  salt: string;
  crypt_hash: string;
  no_snapshots: number;
  accepted: number;
  source_project_id: string | null;
  destination_project_id: string | null;
  created_at: string;
  updated_at: string | null;
}

interface Tables {
  volume: VolumeRow;
  volume_metadata: { volume_id: string; key: string; value: string };
  volume_attachment: AttachmentRow;
  volume_snapshot: SnapshotRow;
  volume_type: TypeRow;
  volume_type_access: { volume_type_id: string; project_id: string };
  volume_transfer: TransferRow;
  volume_quota: { project_id: string; resource: string; hard_limit: number };
  volume_quota_class: { class_name: string; resource: string; hard_limit: number };
  volume_lock: { name: string };
}

type Db = Kysely<Tables>;
export type Trx = Transaction<Tables>;

/** A list query: equality filters, `like` filters, metadata, sort keys (id is always the last tie-breaker). */
export interface ListQuery {
  projectId?: string;
  eq: Record<string, string | number>;
  like: Record<string, string>;
  metadata: Record<string, string>;
  sort: { key: string; dir: 'asc' | 'desc' }[];
  limit?: number;
  offset?: number;
  /** The marker row, already looked up (keyset paging continues after it). */
  marker?: object;
}

/** Usage counted from the rows: the quota engine's only source. */
export interface Usage {
  volumes: number;
  gigabytes: number;
  snapshots: number;
  perType: Record<string, { volumes: number; gigabytes: number; snapshots: number }>;
}

export class VolumeStore {
  readonly k: Db;
  constructor(private readonly db: Database) {
    this.k = db.kysely as Db;
  }

  /**
   * Run `fn` in a transaction serialized on `locks`: PostgreSQL takes rows of volume_lock FOR UPDATE; SQLite's
   * single connection already serializes transactions.
   */
  async locked<T>(locks: string[], fn: (trx: Trx) => Promise<T>): Promise<T> {
    return lockedTransaction(this.db, 'volume_lock', locks, fn as (trx: Transaction<any>) => Promise<T>);
  }

  // ------------------------------------------------------------------ volumes
  async volume(id: string, trx: Db = this.k): Promise<VolumeRow | undefined> {
    return trx.selectFrom('volume').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async volumesByIds(ids: string[]): Promise<VolumeRow[]> {
    if (ids.length === 0) return [];
    return this.k.selectFrom('volume').selectAll().where('id', 'in', ids).execute();
  }

  async listVolumes(q: ListQuery): Promise<VolumeRow[]> {
    let s = this.k.selectFrom('volume').selectAll();
    s = s.where((eb) => {
      const conds: Expression<SqlBool>[] = [];
      if (q.projectId !== undefined) conds.push(eb('project_id', '=', q.projectId));
      for (const [k, v] of Object.entries(q.eq)) conds.push(eb(eb.ref(k as 'id'), '=', v as string));
      for (const [k, v] of Object.entries(q.like))
        conds.push(eb(eb.ref(k as 'id'), 'like', `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
      for (const [k, v] of Object.entries(q.metadata))
        conds.push(
          eb.exists(
            eb
              .selectFrom('volume_metadata as m')
              .select('m.key')
              .whereRef('m.volume_id', '=', 'volume.id')
              .where('m.key', '=', k)
              .where('m.value', '=', v),
          ),
        );
      if (q.marker) conds.push(keyset(eb, q.sort, q.marker));
      return eb.and(conds);
    });
    for (const o of q.sort) s = s.orderBy(sortExpr(o.key) as never, o.dir);
    s = s.orderBy('id', q.sort[0]?.dir ?? 'desc');
    if (q.limit !== undefined) s = s.limit(q.limit);
    if (q.offset) s = s.offset(q.offset);
    return s.execute();
  }

  async volumeSummary(projectId: string | undefined): Promise<{ count: number; size: number }> {
    let s = this.k
      .selectFrom('volume')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.sum<number>('size').as('s')]);
    if (projectId !== undefined) s = s.where('project_id', '=', projectId);
    const r = await s.executeTakeFirstOrThrow();
    return { count: Number(r.n), size: Number(r.s ?? 0) };
  }

  async insertVolume(row: VolumeRow, metadata: Record<string, string>, trx: Db = this.k): Promise<void> {
    await trx.insertInto('volume').values(row).execute();
    await this.replaceMetadata(row.id, metadata, trx);
  }

  /** Update a volume; with `fromStatus`, only when its status is one of them (compare-and-set). True if done. */
  async updateVolume(
    id: string,
    patch: Partial<VolumeRow>,
    fromStatus?: string[],
    trx: Db = this.k,
  ): Promise<boolean> {
    let u = trx.updateTable('volume').set(patch).where('id', '=', id);
    if (fromStatus) u = u.where('status', 'in', fromStatus);
    const r = await u.executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async deleteVolumeRow(id: string): Promise<void> {
    await this.k.deleteFrom('volume').where('id', '=', id).execute();
  }

  async metadata(volumeId: string): Promise<Record<string, string>> {
    const rows = await this.k
      .selectFrom('volume_metadata')
      .selectAll()
      .where('volume_id', '=', volumeId)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.key, r.value]));
  }

  async metadataFor(ids: string[]): Promise<Map<string, Record<string, string>>> {
    const out = new Map<string, Record<string, string>>(ids.map((i) => [i, {}]));
    if (ids.length === 0) return out;
    for (const r of await this.k
      .selectFrom('volume_metadata')
      .selectAll()
      .where('volume_id', 'in', ids)
      .execute())
      out.get(r.volume_id)![r.key] = r.value;
    return out;
  }

  async distinctMetadata(projectId: string | undefined): Promise<Record<string, string[]>> {
    let s = this.k
      .selectFrom('volume_metadata as m')
      .innerJoin('volume as v', 'v.id', 'm.volume_id')
      .select(['m.key', 'm.value'])
      .distinct();
    if (projectId !== undefined) s = s.where('v.project_id', '=', projectId);
    const out: Record<string, string[]> = {};
    for (const r of await s.execute()) (out[r.key] ??= []).push(r.value);
    return out;
  }

  async replaceMetadata(volumeId: string, md: Record<string, string>, trx: Db = this.k): Promise<void> {
    await trx.deleteFrom('volume_metadata').where('volume_id', '=', volumeId).execute();
    const rows = Object.entries(md).map(([key, value]) => ({ volume_id: volumeId, key, value }));
    if (rows.length) await trx.insertInto('volume_metadata').values(rows).execute();
  }

  async upsertMetadata(volumeId: string, md: Record<string, string>): Promise<void> {
    await this.k.transaction().execute(async (trx) => {
      const keys = Object.keys(md);
      if (keys.length)
        await trx
          .deleteFrom('volume_metadata')
          .where('volume_id', '=', volumeId)
          .where('key', 'in', keys)
          .execute();
      const rows = Object.entries(md).map(([key, value]) => ({ volume_id: volumeId, key, value }));
      if (rows.length) await trx.insertInto('volume_metadata').values(rows).execute();
    });
  }

  async deleteMetadataKey(volumeId: string, key: string): Promise<boolean> {
    const r = await this.k
      .deleteFrom('volume_metadata')
      .where('volume_id', '=', volumeId)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /** Volumes in a transient state (reconciliation at start). */
  async volumesInStatus(statuses: string[]): Promise<VolumeRow[]> {
    return this.k.selectFrom('volume').selectAll().where('status', 'in', statuses).execute();
  }

  async allVolumeIds(): Promise<string[]> {
    return (await this.k.selectFrom('volume').select('id').execute()).map((r) => r.id);
  }

  // ------------------------------------------------------------------ attachments
  async attachments(volumeIds: string[]): Promise<AttachmentRow[]> {
    if (volumeIds.length === 0) return [];
    return this.k
      .selectFrom('volume_attachment')
      .selectAll()
      .where('volume_id', 'in', volumeIds)
      .orderBy('created_at')
      .execute();
  }

  async attachment(id: string): Promise<AttachmentRow | undefined> {
    return this.k.selectFrom('volume_attachment').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listAttachments(q: {
    projectId?: string;
    volumeId?: string;
    instanceId?: string;
    status?: string;
    limit?: number;
    marker?: AttachmentRow;
  }): Promise<AttachmentRow[]> {
    let s = this.k.selectFrom('volume_attachment').selectAll();
    if (q.projectId !== undefined) s = s.where('project_id', '=', q.projectId);
    if (q.volumeId) s = s.where('volume_id', '=', q.volumeId);
    if (q.instanceId) s = s.where('instance_uuid', '=', q.instanceId);
    if (q.status) s = s.where('attach_status', '=', q.status);
    if (q.marker) {
      const m = q.marker;
      s = s.where((eb) =>
        eb.or([
          eb('created_at', '<', m.created_at),
          eb.and([eb('created_at', '=', m.created_at), eb('id', '<', m.id)]),
        ]),
      );
    }
    s = s.orderBy('created_at', 'desc').orderBy('id', 'desc');
    if (q.limit !== undefined) s = s.limit(q.limit);
    return s.execute();
  }

  async insertAttachment(row: AttachmentRow, trx: Db = this.k): Promise<void> {
    await trx.insertInto('volume_attachment').values(row).execute();
  }

  async updateAttachment(id: string, patch: Partial<AttachmentRow>, trx: Db = this.k): Promise<void> {
    await trx.updateTable('volume_attachment').set(patch).where('id', '=', id).execute();
  }

  async deleteAttachment(id: string, trx: Db = this.k): Promise<void> {
    await trx.deleteFrom('volume_attachment').where('id', '=', id).execute();
  }

  // ------------------------------------------------------------------ snapshots
  async snapshot(id: string, trx: Db = this.k): Promise<SnapshotRow | undefined> {
    return trx.selectFrom('volume_snapshot').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listSnapshots(q: ListQuery): Promise<SnapshotRow[]> {
    let s = this.k.selectFrom('volume_snapshot').selectAll();
    s = s.where((eb) => {
      const conds: Expression<SqlBool>[] = [];
      if (q.projectId !== undefined) conds.push(eb('project_id', '=', q.projectId));
      for (const [k, v] of Object.entries(q.eq)) conds.push(eb(eb.ref(k as 'id'), '=', v as string));
      for (const [k, v] of Object.entries(q.like))
        conds.push(eb(eb.ref(k as 'id'), 'like', `%${v.replace(/[\\%_]/g, (c) => `\\${c}`)}%`));
      if (q.marker) conds.push(keyset(eb, q.sort, q.marker));
      return eb.and(conds);
    });
    for (const o of q.sort) s = s.orderBy(sortExpr(o.key) as never, o.dir);
    s = s.orderBy('id', q.sort[0]?.dir ?? 'desc');
    if (q.limit !== undefined) s = s.limit(q.limit);
    if (q.offset) s = s.offset(q.offset);
    const rows = await s.execute();
    const md = Object.entries(q.metadata);
    return md.length === 0
      ? rows
      : rows.filter((r) => {
          const m = JSON.parse(r.metadata) as Record<string, string>;
          return md.every(([k, v]) => m[k] === v);
        });
  }

  async snapshotsOf(volumeId: string, trx: Db = this.k): Promise<SnapshotRow[]> {
    return trx
      .selectFrom('volume_snapshot')
      .selectAll()
      .where('volume_id', '=', volumeId)
      .orderBy('created_at', 'desc')
      .execute();
  }

  async insertSnapshot(row: SnapshotRow, trx: Db = this.k): Promise<void> {
    await trx.insertInto('volume_snapshot').values(row).execute();
  }

  async updateSnapshot(
    id: string,
    patch: Partial<SnapshotRow>,
    fromStatus?: string[],
    trx: Db = this.k,
  ): Promise<boolean> {
    let u = trx.updateTable('volume_snapshot').set(patch).where('id', '=', id);
    if (fromStatus) u = u.where('status', 'in', fromStatus);
    return Number((await u.executeTakeFirst()).numUpdatedRows) > 0;
  }

  async deleteSnapshotRow(id: string): Promise<void> {
    await this.k.deleteFrom('volume_snapshot').where('id', '=', id).execute();
  }

  async snapshotsInStatus(statuses: string[]): Promise<SnapshotRow[]> {
    return this.k.selectFrom('volume_snapshot').selectAll().where('status', 'in', statuses).execute();
  }

  async allSnapshotIds(): Promise<string[]> {
    return (await this.k.selectFrom('volume_snapshot').select('id').execute()).map((r) => r.id);
  }

  // ------------------------------------------------------------------ types
  async type(id: string): Promise<TypeRow | undefined> {
    return this.k.selectFrom('volume_type').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async typeByName(name: string): Promise<TypeRow | undefined> {
    return this.k.selectFrom('volume_type').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async typesByIds(ids: string[], trx: Db = this.k): Promise<TypeRow[]> {
    if (ids.length === 0) return [];
    return trx
      .selectFrom('volume_type')
      .selectAll()
      .where('id', 'in', [...new Set(ids)])
      .execute();
  }

  /** Types: `isPublic` true/false filters, undefined = all; `projectId` adds private types shared with it. */
  async listTypes(q: { isPublic?: boolean; projectId?: string }, trx: Db = this.k): Promise<TypeRow[]> {
    let s = trx.selectFrom('volume_type').selectAll();
    s = s.where((eb) => {
      const pub = eb('is_public', '=', 1);
      const shared = q.projectId
        ? eb.exists(
            eb
              .selectFrom('volume_type_access as a')
              .select('a.project_id')
              .whereRef('a.volume_type_id', '=', 'volume_type.id')
              .where('a.project_id', '=', q.projectId),
          )
        : undefined;
      if (q.isPublic === true) return shared ? eb.or([pub, shared]) : pub;
      if (q.isPublic === false)
        return shared ? eb.and([eb('is_public', '=', 0), shared]) : eb('is_public', '=', 0);
      return sql<SqlBool>`1 = 1`;
    });
    return s.orderBy('name').execute();
  }

  async insertType(row: TypeRow): Promise<void> {
    await this.k.insertInto('volume_type').values(row).execute();
  }

  async updateType(id: string, patch: Partial<TypeRow>): Promise<void> {
    await this.k.updateTable('volume_type').set(patch).where('id', '=', id).execute();
  }

  async deleteType(id: string): Promise<void> {
    await this.k.deleteFrom('volume_type').where('id', '=', id).execute();
  }

  async typeInUse(id: string): Promise<boolean> {
    const v = await this.k
      .selectFrom('volume')
      .select('id')
      .where('volume_type_id', '=', id)
      .limit(1)
      .executeTakeFirst();
    const s = await this.k
      .selectFrom('volume_snapshot')
      .select('id')
      .where('volume_type_id', '=', id)
      .limit(1)
      .executeTakeFirst();
    return !!(v || s);
  }

  async typeAccess(typeId: string): Promise<string[]> {
    return (
      await this.k
        .selectFrom('volume_type_access')
        .select('project_id')
        .where('volume_type_id', '=', typeId)
        .execute()
    ).map((r) => r.project_id);
  }

  async addTypeAccess(typeId: string, projectId: string): Promise<boolean> {
    const r = await this.k
      .insertInto('volume_type_access')
      .values({ volume_type_id: typeId, project_id: projectId })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async removeTypeAccess(typeId: string, projectId: string): Promise<boolean> {
    const r = await this.k
      .deleteFrom('volume_type_access')
      .where('volume_type_id', '=', typeId)
      .where('project_id', '=', projectId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ------------------------------------------------------------------ transfers
  async transfer(id: string, trx: Db = this.k): Promise<TransferRow | undefined> {
    return trx.selectFrom('volume_transfer').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async listTransfers(projectId: string | undefined): Promise<TransferRow[]> {
    let s = this.k.selectFrom('volume_transfer').selectAll().where('accepted', '=', 0);
    if (projectId !== undefined) s = s.where('project_id', '=', projectId);
    return s.orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  }

  async insertTransfer(row: TransferRow, trx: Db = this.k): Promise<void> {
    await trx.insertInto('volume_transfer').values(row).execute();
  }

  async deleteTransfer(id: string, trx: Db = this.k): Promise<void> {
    await trx.deleteFrom('volume_transfer').where('id', '=', id).execute();
  }

  async deleteTransfersOf(volumeId: string, trx: Db = this.k): Promise<void> {
    await trx.deleteFrom('volume_transfer').where('volume_id', '=', volumeId).execute();
  }

  async moveSnapshots(volumeId: string, projectId: string, userId: string, trx: Db = this.k): Promise<void> {
    await trx
      .updateTable('volume_snapshot')
      .set({ project_id: projectId, user_id: userId })
      .where('volume_id', '=', volumeId)
      .execute();
  }

  // ------------------------------------------------------------------ quotas
  async quotas(projectId: string, trx: Db = this.k): Promise<Record<string, number>> {
    const rows = await trx
      .selectFrom('volume_quota')
      .selectAll()
      .where('project_id', '=', projectId)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
  }

  async setQuota(projectId: string, resource: string, limit: number): Promise<void> {
    await this.k
      .insertInto('volume_quota')
      .values({ project_id: projectId, resource, hard_limit: limit })
      .onConflict((oc) => oc.columns(['project_id', 'resource']).doUpdateSet({ hard_limit: limit }))
      .execute();
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.k.deleteFrom('volume_quota').where('project_id', '=', projectId).execute();
  }

  async quotaClass(name: string, trx: Db = this.k): Promise<Record<string, number>> {
    const rows = await trx
      .selectFrom('volume_quota_class')
      .selectAll()
      .where('class_name', '=', name)
      .execute();
    return Object.fromEntries(rows.map((r) => [r.resource, r.hard_limit]));
  }

  async setQuotaClass(name: string, resource: string, limit: number): Promise<void> {
    await this.k
      .insertInto('volume_quota_class')
      .values({ class_name: name, resource, hard_limit: limit })
      .onConflict((oc) => oc.columns(['class_name', 'resource']).doUpdateSet({ hard_limit: limit }))
      .execute();
  }

  /** Usage of a project, counted from its rows (inside the caller's transaction when given). */
  async usage(projectId: string, trx: Db = this.k): Promise<Usage> {
    const vols = await trx
      .selectFrom('volume')
      .select((eb) => [
        'volume_type_id',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('size').as('gb'),
      ])
      .where('project_id', '=', projectId)
      .groupBy('volume_type_id')
      .execute();
    const snaps = await trx
      .selectFrom('volume_snapshot')
      .select((eb) => [
        'volume_type_id',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('size').as('gb'),
      ])
      .where('project_id', '=', projectId)
      .groupBy('volume_type_id')
      .execute();
    const u: Usage = { volumes: 0, gigabytes: 0, snapshots: 0, perType: {} };
    const t = (id: string) => (u.perType[id] ??= { volumes: 0, gigabytes: 0, snapshots: 0 });
    for (const r of vols) {
      u.volumes += Number(r.n);
      u.gigabytes += Number(r.gb ?? 0);
      t(r.volume_type_id).volumes += Number(r.n);
      t(r.volume_type_id).gigabytes += Number(r.gb ?? 0);
    }
    for (const r of snaps) {
      u.snapshots += Number(r.n);
      u.gigabytes += Number(r.gb ?? 0);
      t(r.volume_type_id).snapshots += Number(r.n);
      t(r.volume_type_id).gigabytes += Number(r.gb ?? 0);
    }
    return u;
  }
}

/** Sort expressions: text columns that may be null sort as '' so keyset comparisons stay total. */
const NULLABLE_TEXT = new Set(['name', 'description', 'snapshot_id', 'source_volid', 'image_id', 'host']);
function sortExpr(key: string) {
  return NULLABLE_TEXT.has(key) ? sql`coalesce(${sql.ref(key)}, '')` : sql.ref(key);
}

/** Rows strictly after the marker in (sort keys…, id) order. */
function keyset(eb: any, sort: { key: string; dir: 'asc' | 'desc' }[], marker: object): Expression<SqlBool> {
  const keys = [...sort, { key: 'id', dir: sort[0]?.dir ?? 'desc' }];
  const m = marker as Record<string, unknown>;
  const val = (k: string) => (NULLABLE_TEXT.has(k) ? (m[k] ?? '') : m[k]);
  const ors: Expression<SqlBool>[] = [];
  for (let i = 0; i < keys.length; i++) {
    const ands: Expression<SqlBool>[] = [];
    for (let j = 0; j < i; j++) ands.push(eb(sortExpr(keys[j]!.key), '=', val(keys[j]!.key)));
    ands.push(eb(sortExpr(keys[i]!.key), keys[i]!.dir === 'asc' ? '>' : '<', val(keys[i]!.key)));
    ors.push(eb.and(ands));
  }
  return eb.or(ors);
}
