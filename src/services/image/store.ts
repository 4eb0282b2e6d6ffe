/** The only code that touches the image tables. Rows in, rows out; no policy, no HTTP. */
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import { sql, type Database } from '../../core/db/index.js';

export interface ImageRow {
  id: string;
  name: string | null;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  status: string;
  visibility: string;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  owner: string | null;
  protected: number;
  os_hidden: number;
  location: string | null;
  created_at: string;
  updated_at: string;
}
export interface PropertyRow {
  image_id: string;
  name: string;
  value: string | null;
}
export interface TagRow {
  image_id: string;
  value: string;
}
export interface MemberRow {
  image_id: string;
  member: string;
  status: string;
  created_at: string;
  updated_at: string;
}
interface Tables {
  image: ImageRow;
  image_property: PropertyRow;
  image_tag: TagRow;
  image_member: MemberRow;
}

/** An image row with its custom properties and tags. */
export interface Image extends ImageRow {
  properties: Record<string, string>;
  tags: string[];
}

/** Who is asking, for the database-level visibility rules (glance/db/sqlalchemy/api.py). */
export interface Viewer {
  isAdmin: boolean;
  /** The caller's project (Glance's context.owner). */
  project?: string;
}

export type SortDir = 'asc' | 'desc';
export const INT_COLUMNS = ['size', 'virtual_size', 'min_disk', 'min_ram'] as const;
const IMAGE_COLUMNS = new Set([
  'id',
  'name',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'status',
  'visibility',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'min_disk',
  'min_ram',
  'owner',
  'protected',
  'os_hidden',
  'created_at',
  'updated_at',
]);
export const isImageColumn = (k: string) => IMAGE_COLUMNS.has(k);

/** One condition on the image table, built by the manager from Glance's list filters. */
export type Condition =
  | { kind: 'cmp'; column: string; op: '=' | '!=' | '<' | '<=' | '>' | '>='; value: string | number }
  | { kind: 'in'; column: string; values: string[] }
  | { kind: 'property'; name: string; value: string }
  | { kind: 'tag'; value: string };

export interface ListQuery {
  viewer: Viewer;
  conditions: Condition[];
  /** `undefined`: Glance's default (own community images only); 'all'; or one visibility. */
  visibility?: string;
  memberStatus: string;
  sort: { key: string; dir: SortDir }[];
  marker?: ImageRow;
  limit: number;
}

type EB = ExpressionBuilder<Tables, 'image'>;

export class ImageStore {
  private db: Kysely<Tables>;
  constructor(database: Database) {
    this.db = database.kysely as Kysely<Tables>;
  }

  async getRow(id: string): Promise<ImageRow | undefined> {
    if (id.length > 36) return undefined;
    return this.db.selectFrom('image').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async get(id: string): Promise<Image | undefined> {
    const row = await this.getRow(id);
    if (!row) return undefined;
    return (await this.hydrate([row]))[0];
  }

  async hydrate(rows: ImageRow[]): Promise<Image[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.id);
    const [props, tags] = await Promise.all([
      this.db.selectFrom('image_property').selectAll().where('image_id', 'in', ids).execute(),
      this.db.selectFrom('image_tag').selectAll().where('image_id', 'in', ids).orderBy('value').execute(),
    ]);
    const byId = new Map<string, Image>(
      rows.map((r) => [
        r.id,
        { ...r, size: num(r.size), virtual_size: num(r.virtual_size), properties: {}, tags: [] },
      ]),
    );
    for (const p of props) byId.get(p.image_id)!.properties[p.name] = p.value ?? '';
    for (const t of tags) byId.get(t.image_id)!.tags.push(t.value);
    return rows.map((r) => byId.get(r.id)!);
  }

  async insert(img: Image): Promise<void> {
    const { properties, tags, ...row } = img;
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('image').values(row).execute();
      const props = Object.entries(properties).map(([name, value]) => ({ image_id: img.id, name, value }));
      if (props.length) await trx.insertInto('image_property').values(props).execute();
      if (tags.length)
        await trx
          .insertInto('image_tag')
          .values(tags.map((value) => ({ image_id: img.id, value })))
          .execute();
    });
  }

  /**
   * Update columns (and optionally replace properties and tags). With `fromStatus`, the update only
   * happens when the row is still in that status (Glance's `from_state`); returns whether a row changed.
   */
  async update(
    id: string,
    values: Partial<ImageRow>,
    opts: { fromStatus?: string | string[]; properties?: Record<string, string>; tags?: string[] } = {},
  ): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.updateTable('image').set(values).where('id', '=', id);
      if (opts.fromStatus !== undefined)
        q = Array.isArray(opts.fromStatus)
          ? q.where('status', 'in', opts.fromStatus)
          : q.where('status', '=', opts.fromStatus);
      const r = await q.executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      if (opts.properties) {
        await trx.deleteFrom('image_property').where('image_id', '=', id).execute();
        const props = Object.entries(opts.properties).map(([name, value]) => ({ image_id: id, name, value }));
        if (props.length) await trx.insertInto('image_property').values(props).execute();
      }
      if (opts.tags) {
        await trx.deleteFrom('image_tag').where('image_id', '=', id).execute();
        if (opts.tags.length)
          await trx
            .insertInto('image_tag')
            .values(opts.tags.map((value) => ({ image_id: id, value })))
            .execute();
      }
      return true;
    });
  }

  async setProperty(id: string, name: string, value: string | undefined): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('image_property').where('image_id', '=', id).where('name', '=', name).execute();
      if (value !== undefined)
        await trx.insertInto('image_property').values({ image_id: id, name, value }).execute();
    });
  }

  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('image_member').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_tag').where('image_id', '=', id).execute();
      await trx.deleteFrom('image_property').where('image_id', '=', id).execute();
      const r = await trx.deleteFrom('image').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  /** Every row (for the start-up consistency sweep). */
  async all(): Promise<ImageRow[]> {
    return this.db.selectFrom('image').selectAll().execute();
  }

  // ------------------------------------------------------------------ usage (quotas)
  async countByOwner(owner: string): Promise<number> {
    const r = await this.db
      .selectFrom('image')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('owner', '=', owner)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Bytes stored for an owner (Glance counts sizes of images not killed/deleted), excluding one image. */
  async bytesByOwner(owner: string, exceptId?: string): Promise<number> {
    let q = this.db
      .selectFrom('image')
      .select((eb) => eb.fn.sum<number>('size').as('n'))
      .where('owner', '=', owner)
      .where('size', '>', 0)
      .where('status', 'not in', ['killed', 'deleted', 'pending_delete']);
    if (exceptId) q = q.where('id', '!=', exceptId);
    const r = await q.executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  // ------------------------------------------------------------------ members
  async members(imageId: string, member?: string): Promise<MemberRow[]> {
    let q = this.db.selectFrom('image_member').selectAll().where('image_id', '=', imageId);
    if (member !== undefined) q = q.where('member', '=', member);
    return q.orderBy('created_at').orderBy('member').execute();
  }

  async memberCount(imageId: string): Promise<number> {
    const r = await this.db
      .selectFrom('image_member')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('image_id', '=', imageId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async addMember(m: MemberRow): Promise<void> {
    await this.db.insertInto('image_member').values(m).execute();
  }

  async updateMember(imageId: string, member: string, status: string, updatedAt: string): Promise<void> {
    await this.db
      .updateTable('image_member')
      .set({ status, updated_at: updatedAt })
      .where('image_id', '=', imageId)
      .where('member', '=', member)
      .execute();
  }

  async deleteMember(imageId: string, member: string): Promise<void> {
    await this.db
      .deleteFrom('image_member')
      .where('image_id', '=', imageId)
      .where('member', '=', member)
      .execute();
  }

  // ------------------------------------------------------------------ listing
  /** Glance's image_get_all: visibility union, filters, multi-key sort with marker, limit. */
  async list(q: ListQuery): Promise<Image[]> {
    let query = this.db.selectFrom('image').selectAll();
    const { viewer } = q;
    if (!viewer.isAdmin) {
      query = query.where((eb) => {
        const ors: Expression<SqlBool>[] = [eb('visibility', 'in', ['public', 'community'])];
        if (viewer.project !== undefined) {
          ors.push(eb('owner', '=', viewer.project));
          let member = eb
            .selectFrom('image_member as m')
            .select('m.image_id')
            .whereRef('m.image_id', '=', 'image.id')
            .where('m.member', '=', viewer.project);
          if (q.memberStatus !== 'all') member = member.where('m.status', '=', q.memberStatus);
          ors.push(eb.and([eb('visibility', '=', 'shared'), eb.exists(member)]));
        }
        return eb.or(ors);
      });
    }
    if (q.visibility !== undefined) {
      if (q.visibility !== 'all') query = query.where('visibility', '=', q.visibility);
    } else if (viewer.project === undefined) {
      query = query.where('visibility', '!=', 'community');
    } else {
      const project = viewer.project;
      query = query.where((eb) => eb.or([eb('owner', '=', project), eb('visibility', '!=', 'community')]));
    }
    for (const c of q.conditions) query = query.where((eb) => condition(eb, c));

    // Sort on coalesce(column, default) so NULLs order the same way in SQLite and PostgreSQL, and the
    // marker comparison (Glance's _paginate_query) uses the same values.
    const col = (key: string) => sql`coalesce(${sql.ref(`image.${key}`)}, ${defaultFor(key)})`;
    for (const s of q.sort) query = query.orderBy(col(s.key), s.dir);
    if (q.marker) {
      const marker = q.marker as unknown as Record<string, unknown>;
      const mv = (key: string) => marker[key] ?? defaultFor(key);
      query = query.where((eb) =>
        eb.or(
          q.sort.map((s, i) => {
            const parts: Expression<SqlBool>[] = [];
            for (let j = 0; j < i; j++) parts.push(eb(col(q.sort[j]!.key), '=', mv(q.sort[j]!.key)));
            parts.push(eb(col(s.key), s.dir === 'desc' ? '<' : '>', mv(s.key)));
            return eb.and(parts);
          }),
        ),
      );
    }
    const rows = await query.limit(q.limit).execute();
    return this.hydrate(rows);
  }
}

function defaultFor(key: string): string | number {
  return (INT_COLUMNS as readonly string[]).includes(key) ? 0 : '';
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function condition(eb: EB, c: Condition): Expression<SqlBool> {
  switch (c.kind) {
    case 'cmp':
      return eb(sql.ref(`image.${c.column}`), c.op, c.value);
    case 'in':
      return c.values.length === 0 ? sql<SqlBool>`1 = 0` : eb(sql.ref(`image.${c.column}`), 'in', c.values);
    case 'property':
      return eb.exists(
        eb
          .selectFrom('image_property as p')
          .select('p.image_id')
          .whereRef('p.image_id', '=', 'image.id')
          .where('p.name', '=', c.name)
          .where('p.value', '=', c.value),
      );
    case 'tag':
      return eb.exists(
        eb
          .selectFrom('image_tag as t')
          .select('t.image_id')
          .whereRef('t.image_id', '=', 'image.id')
          .where('t.value', '=', c.value),
      );
  }
}
