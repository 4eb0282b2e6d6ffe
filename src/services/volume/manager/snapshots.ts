/** Snapshots (cinder/volume/api.py create_snapshot …): independent copies, also of in-use volumes with force. */
import type { Caller } from '../../../core/auth/caller.js';
import { json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { ListQuery, SnapshotRow } from '../store.js';
import {
  authorize,
  badRequest,
  cinderTime,
  invalidInput,
  invalidVolume,
  notFound,
  parseBool,
  target,
  visible,
  type Deps,
} from './common.js';
import type { Quotas } from './quotas.js';
import type { Volumes } from './volumes.js';

export const SNAPSHOT_STATUSES = [
  'creating',
  'available',
  'deleting',
  'error',
  'error_deleting',
  'restoring',
  'backing-up',
  'unmanaging',
];
export const snapshotNotFound = (id: string) => notFound(`Snapshot ${id.slice(0, 64)} could not be found.`);

export class Snapshots {
  constructor(
    private readonly d: Deps,
    private readonly volumes: Volumes,
    private readonly quotas: Quotas,
  ) {}

  async find(c: Caller, id: string): Promise<SnapshotRow> {
    const s = await this.d.store.snapshot(id);
    if (!s || !visible(c, s)) throw snapshotNotFound(id);
    return s;
  }

  async authorized(c: Caller, id: string, rule: string): Promise<SnapshotRow> {
    const s = await this.find(c, id);
    authorize(this.d, c, rule, target(s));
    return s;
  }

  async list(c: Caller, q: ListQuery, allTenants: boolean): Promise<SnapshotRow[]> {
    authorize(this.d, c, 'volume:get_all_snapshots', { project_id: c.projectId });
    const query = { ...q };
    if (!(c.isAdmin && allTenants)) query.projectId = c.projectId;
    else if (typeof q.eq.project_id === 'string') query.projectId = q.eq.project_id;
    delete query.eq.project_id;
    return this.d.store.listSnapshots(query);
  }

  async markerRow(c: Caller, marker: string): Promise<SnapshotRow> {
    const s = await this.d.store.snapshot(marker);
    if (!s || !visible(c, s)) throw notFound(`Marker ${marker.slice(0, 64)} could not be found.`);
    return s;
  }

  async create(
    c: Caller,
    b: {
      volume_id: string;
      force?: unknown;
      name?: string | null;
      description?: string | null;
      metadata?: Record<string, string> | null;
    },
  ): Promise<SnapshotRow> {
    const v = await this.volumes.find(c, b.volume_id);
    authorize(this.d, c, 'volume:create_snapshot', target(v));
    const force = b.force === undefined || b.force === null ? false : parseBool(b.force, 'force');
    const allowed = force ? ['available', 'in-use'] : ['available'];
    const type = (await this.d.store.type(v.volume_type_id))!;
    const now = cinderTime();
    const row: SnapshotRow = {
      id: uuid(),
      volume_id: v.id,
      project_id: v.project_id,
      user_id: c.userId,
      name: b.name ?? null,
      description: b.description ?? null,
      size: v.size,
      status: 'creating',
      progress: '0%',
      volume_type_id: v.volume_type_id,
      metadata: JSON.stringify(b.metadata ?? {}),
      error: null,
      created_at: now,
      updated_at: now,
    };
    await this.d.store.locked([`quota:${v.project_id}`, `volume:${v.id}`], async (trx) => {
      const cur = await this.d.store.volume(v.id, trx);
      if (!cur || !allowed.includes(cur.status))
        throw invalidVolume(
          `Volume ${v.id} status must be ${allowed.join(' or ')}, but current status is: ${cur?.status ?? 'deleted'}.`,
        );
      await this.quotas.check(trx, v.project_id, {
        snapshots: 1,
        gigabytes: v.size,
        typeName: type.name,
        typeId: type.id,
      });
      await this.d.store.insertSnapshot(row, trx);
    });
    this.d.worker.run(
      `create snapshot ${row.id}`,
      async () => {
        await this.d.driver.createSnapshot(row.id, v.id);
        const done = await this.d.store.updateSnapshot(
          row.id,
          { status: 'available', progress: '100%', updated_at: cinderTime() },
          ['creating'],
        );
        if (!done && !(await this.d.store.snapshot(row.id))) await this.d.driver.deleteSnapshot(row.id);
      },
      async (e) => {
        await this.d.store.updateSnapshot(
          row.id,
          { status: 'error', error: e.message.slice(0, 1000), updated_at: cinderTime() },
          ['creating'],
        );
      },
    );
    return row;
  }

  async update(
    c: Caller,
    id: string,
    b: { name?: string | null; description?: string | null },
  ): Promise<SnapshotRow> {
    const s = await this.authorized(c, id, 'volume:update_snapshot');
    const patch: Partial<SnapshotRow> = { updated_at: cinderTime() };
    if (b.name !== undefined) patch.name = b.name;
    if (b.description !== undefined) patch.description = b.description;
    await this.d.store.updateSnapshot(s.id, patch);
    return (await this.d.store.snapshot(s.id))!;
  }

  async delete(c: Caller, id: string, force = false): Promise<void> {
    const s = await this.find(c, id);
    authorize(
      this.d,
      c,
      force ? 'volume_extension:snapshot_admin_actions:force_delete' : 'volume:delete_snapshot',
      target(s),
    );
    const from = force
      ? SNAPSHOT_STATUSES.filter((x) => x !== 'deleting')
      : ['available', 'error', 'error_deleting'];
    if (!(await this.d.store.updateSnapshot(s.id, { status: 'deleting', updated_at: cinderTime() }, from)))
      throw badRequest('Invalid snapshot: Volume Snapshot status must be available or error.');
    this.d.worker.run(
      `delete snapshot ${s.id}`,
      async () => {
        await this.d.driver.deleteSnapshot(s.id);
        await this.d.store.deleteSnapshotRow(s.id);
      },
      async (e) => {
        await this.d.store.updateSnapshot(s.id, {
          status: 'error_deleting',
          error: e.message.slice(0, 1000),
        });
      },
    );
  }

  async resetStatus(c: Caller, id: string, status: unknown): Promise<void> {
    const s = await this.authorized(c, id, 'volume_extension:snapshot_admin_actions:reset_status');
    const st = String(status ?? '').toLowerCase();
    if (!SNAPSHOT_STATUSES.includes(st))
      throw invalidInput(`'${st.slice(0, 50)}' is not a valid snapshot status.`);
    await this.d.store.updateSnapshot(s.id, { status: st, updated_at: cinderTime() });
  }

  async metadata(c: Caller, id: string): Promise<Record<string, string>> {
    const s = await this.authorized(c, id, 'volume:get_snapshot_metadata');
    return json<Record<string, string>>(s.metadata, {});
  }

  async setMetadata(
    c: Caller,
    id: string,
    md: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const s = await this.authorized(c, id, 'volume:update_snapshot_metadata');
    const next = replace ? md : { ...json<Record<string, string>>(s.metadata, {}), ...md };
    await this.d.store.updateSnapshot(s.id, { metadata: JSON.stringify(next), updated_at: cinderTime() });
    return next;
  }

  async deleteMetadata(c: Caller, id: string, key: string): Promise<void> {
    const s = await this.authorized(c, id, 'volume:delete_snapshot_metadata');
    const md = json<Record<string, string>>(s.metadata, {});
    if (!(key in md)) throw notFound(`Snapshot ${id} has no metadata with key ${key.slice(0, 255)}.`);
    delete md[key];
    await this.d.store.updateSnapshot(s.id, { metadata: JSON.stringify(md), updated_at: cinderTime() });
  }
}
