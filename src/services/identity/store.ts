/** The only code that touches the identity tables. Rows in, rows out; no policy, no HTTP. */
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../core/db/index.js';

export const ROOT_DOMAIN = '<<keystone.domain.root>>';
export const GLOBAL_ROLE_DOMAIN = '<<null>>';

export interface ProjectRow {
  id: string;
  name: string;
  domain_id: string;
  parent_id: string | null;
  is_domain: number;
  enabled: number;
  description: string | null;
  extra: string | null;
  options: string | null;
}
export interface UserRow {
  id: string;
  name: string;
  domain_id: string;
  enabled: number;
  default_project_id: string | null;
  description: string | null;
  email: string | null;
  extra: string | null;
  options: string | null;
  created_at: string;
  last_active_at: string | null;
  failed_auth_count: number;
  failed_auth_at: string | null;
}
export interface PasswordRow {
  id: string;
  user_id: string;
  hash: string;
  created_at: string;
  expires_at: string | null;
  self_service: number;
}
export interface GroupRow {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  extra: string | null;
}
export interface RoleRow {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  options: string | null;
  extra: string | null;
}
export type AssignmentType =
  'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';
export interface AssignmentRow {
  type: AssignmentType;
  actor_id: string;
  target_id: string;
  role_id: string;
  inherited: number;
}
export interface RegionRow {
  id: string;
  description: string | null;
  parent_region_id: string | null;
  extra: string | null;
}
export interface ServiceRow {
  id: string;
  type: string;
  name: string | null;
  description: string | null;
  enabled: number;
  extra: string | null;
}
export interface EndpointRow {
  id: string;
  service_id: string;
  interface: string;
  url: string;
  region_id: string | null;
  enabled: number;
  extra: string | null;
}
export interface AppCredRow {
  id: string;
  name: string;
  user_id: string;
  project_id: string | null;
  system: string | null;
  secret_hash: string;
  description: string | null;
  expires_at: string | null;
  unrestricted: number;
  roles: string;
  created_at: string;
}
export interface CredentialRow {
  id: string;
  user_id: string;
  project_id: string | null;
  type: string;
  blob: string;
  extra: string | null;
}
export interface RevocationRow {
  id: string;
  seq: number;
  domain_id: string | null;
  project_id: string | null;
  user_id: string | null;
  role_id: string | null;
  audit_id: string | null;
  audit_chain_id: string | null;
  issued_before: string;
  revoked_at: string;
  expires_at: string | null;
}

export interface Tables {
  project: ProjectRow;
  project_tag: { project_id: string; name: string };
  user: UserRow;
  password: PasswordRow;
  group: GroupRow;
  user_group_membership: { user_id: string; group_id: string };
  role: RoleRow;
  implied_role: { prior_role_id: string; implied_role_id: string };
  assignment: AssignmentRow;
  region: RegionRow;
  service: ServiceRow;
  endpoint: EndpointRow;
  application_credential: AppCredRow;
  credential: CredentialRow;
  revocation_event: RevocationRow;
  identity_meta: { key: string; value: string };
}

type Simple =
  | 'project'
  | 'user'
  | 'group'
  | 'role'
  | 'region'
  | 'service'
  | 'endpoint'
  | 'application_credential'
  | 'credential';

export class IdentityStore {
  readonly db: Kysely<Tables>;
  constructor(database: Database) {
    this.db = database.kysely as Kysely<Tables>;
  }

  transaction<T>(fn: (store: IdentityStore) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(async (trx) => {
      const s = Object.create(IdentityStore.prototype) as IdentityStore;
      (s as { db: Kysely<Tables> }).db = trx;
      return fn(s);
    });
  }

  // ---- generic helpers for tables keyed by id
  async get<T extends Simple>(table: T, id: string): Promise<Tables[T] | undefined> {
    return (await this.db
      .selectFrom(table as any)
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as Tables[T] | undefined;
  }
  async insert<T extends Simple>(table: T, row: Tables[T]): Promise<void> {
    await this.db
      .insertInto(table as any)
      .values(row as any)
      .execute();
  }
  async update<T extends Simple>(table: T, id: string, patch: Partial<Tables[T]>): Promise<void> {
    if (Object.keys(patch).length === 0) return;
    await this.db
      .updateTable(table as any)
      .set(patch as any)
      .where('id', '=', id)
      .execute();
  }
  async remove(table: Simple, id: string): Promise<number> {
    const r = await this.db
      .deleteFrom(table as any)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Rows matching every defined equality filter (booleans as integers) and, if given, one of `ids`; by name. */
  private async list<T extends Simple>(
    table: T,
    eq: Record<string, string | number | boolean | undefined>,
    ids?: string[],
  ): Promise<Tables[T][]> {
    if (ids !== undefined && ids.length === 0) return [];
    let q = this.db.selectFrom(table as any).selectAll();
    for (const [col, v] of Object.entries(eq)) {
      if (v !== undefined) q = q.where(col as any, '=', typeof v === 'boolean' ? (v ? 1 : 0) : v);
    }
    if (ids !== undefined) q = q.where('id', 'in', ids);
    return (await q
      .orderBy('name' as any)
      .orderBy('id')
      .execute()) as Tables[T][];
  }
  /** The row named `name` in a domain (names are unique per domain). */
  private async byName<T extends 'project' | 'user' | 'group'>(table: T, domainId: string, name: string) {
    return (await this.db
      .selectFrom(table as any)
      .selectAll()
      .where('domain_id', '=', domainId)
      .where('name', '=', name)
      .executeTakeFirst()) as Tables[T] | undefined;
  }

  // ---- projects and domains
  projectByName(domainId: string, name: string): Promise<ProjectRow | undefined> {
    return this.byName('project', domainId, name);
  }
  listProjects(f: {
    isDomain?: boolean;
    domainId?: string;
    name?: string;
    enabled?: boolean;
    parentId?: string;
    ids?: string[];
  }): Promise<ProjectRow[]> {
    return this.list(
      'project',
      {
        is_domain: f.isDomain,
        domain_id: f.domainId,
        name: f.name,
        enabled: f.enabled,
        parent_id: f.parentId,
      },
      f.ids,
    );
  }
  async projectTags(projectIds: string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (projectIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('project_tag')
      .selectAll()
      .where('project_id', 'in', projectIds)
      .orderBy('name')
      .execute();
    for (const r of rows) out.set(r.project_id, [...(out.get(r.project_id) ?? []), r.name]);
    return out;
  }
  async setProjectTags(projectId: string, tags: string[]): Promise<void> {
    await this.db.deleteFrom('project_tag').where('project_id', '=', projectId).execute();
    if (tags.length) {
      await this.db
        .insertInto('project_tag')
        .values([...new Set(tags)].map((name) => ({ project_id: projectId, name })))
        .execute();
    }
  }
  async projectsWithTags(
    all: string[],
    any: string[],
    notAll: string[],
    notAny: string[],
  ): Promise<Set<string>> {
    const rows = await this.db.selectFrom('project_tag').selectAll().execute();
    const byProject = new Map<string, Set<string>>();
    for (const r of rows) byProject.set(r.project_id, (byProject.get(r.project_id) ?? new Set()).add(r.name));
    const ids = new Set<string>();
    const projects = await this.db.selectFrom('project').select('id').execute();
    for (const { id } of projects) {
      const t = byProject.get(id) ?? new Set<string>();
      if (all.length && !all.every((x) => t.has(x))) continue;
      if (any.length && !any.some((x) => t.has(x))) continue;
      if (notAll.length && notAll.every((x) => t.has(x))) continue;
      if (notAny.length && notAny.some((x) => t.has(x))) continue;
      ids.add(id);
    }
    return ids;
  }

  // ---- users and passwords
  userByName(domainId: string, name: string): Promise<UserRow | undefined> {
    return this.byName('user', domainId, name);
  }
  listUsers(f: { domainId?: string; name?: string; enabled?: boolean; ids?: string[] }): Promise<UserRow[]> {
    return this.list('user', { domain_id: f.domainId, name: f.name, enabled: f.enabled }, f.ids);
  }
  /** Passwords of a user, newest first. */
  async passwords(userId: string): Promise<PasswordRow[]> {
    return this.db
      .selectFrom('password')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }
  async addPassword(row: PasswordRow): Promise<void> {
    await this.db.insertInto('password').values(row).execute();
  }
  async prunePasswords(userId: string, keep: number): Promise<void> {
    const rows = await this.passwords(userId);
    const drop = rows.slice(Math.max(1, keep)).map((r) => r.id);
    if (drop.length) await this.db.deleteFrom('password').where('id', 'in', drop).execute();
  }

  // ---- groups
  groupByName(domainId: string, name: string): Promise<GroupRow | undefined> {
    return this.byName('group', domainId, name);
  }
  listGroups(f: { domainId?: string; name?: string; ids?: string[] }): Promise<GroupRow[]> {
    return this.list('group', { domain_id: f.domainId, name: f.name }, f.ids);
  }
  async groupIdsOfUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('user_group_membership')
      .select('group_id')
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.group_id);
  }
  async userIdsOfGroup(groupId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('user_group_membership')
      .select('user_id')
      .where('group_id', '=', groupId)
      .execute();
    return rows.map((r) => r.user_id);
  }
  async addMember(userId: string, groupId: string): Promise<void> {
    await this.db
      .insertInto('user_group_membership')
      .values({ user_id: userId, group_id: groupId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  async removeMember(userId: string, groupId: string): Promise<number> {
    const r = await this.db
      .deleteFrom('user_group_membership')
      .where('user_id', '=', userId)
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- roles
  async roleByName(name: string, domainId: string = GLOBAL_ROLE_DOMAIN): Promise<RoleRow | undefined> {
    return this.db
      .selectFrom('role')
      .selectAll()
      .where('name', '=', name)
      .where('domain_id', '=', domainId)
      .executeTakeFirst();
  }
  listRoles(f: { domainId?: string; name?: string; ids?: string[] } = {}): Promise<RoleRow[]> {
    return this.list('role', { domain_id: f.domainId, name: f.name }, f.ids);
  }
  async impliedRules(): Promise<{ prior_role_id: string; implied_role_id: string }[]> {
    return this.db.selectFrom('implied_role').selectAll().execute();
  }
  async addImplied(prior: string, implied: string): Promise<void> {
    await this.db
      .insertInto('implied_role')
      .values({ prior_role_id: prior, implied_role_id: implied })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  async removeImplied(prior: string, implied: string): Promise<number> {
    const r = await this.db
      .deleteFrom('implied_role')
      .where('prior_role_id', '=', prior)
      .where('implied_role_id', '=', implied)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  // ---- assignments
  async assignments(f: {
    types?: AssignmentType[];
    actorIds?: string[];
    targetIds?: string[];
    roleIds?: string[];
    inherited?: boolean;
  }): Promise<AssignmentRow[]> {
    let q = this.db.selectFrom('assignment').selectAll();
    for (const [col, vals] of [
      ['type', f.types],
      ['actor_id', f.actorIds],
      ['target_id', f.targetIds],
      ['role_id', f.roleIds],
    ] as const) {
      if (vals !== undefined) {
        if (vals.length === 0) return [];
        q = q.where(col, 'in', vals as string[]);
      }
    }
    if (f.inherited !== undefined) q = q.where('inherited', '=', f.inherited ? 1 : 0);
    return q.execute();
  }
  async addAssignment(a: AssignmentRow): Promise<void> {
    await this.db
      .insertInto('assignment')
      .values(a)
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
  async removeAssignment(a: AssignmentRow): Promise<number> {
    const r = await this.db
      .deleteFrom('assignment')
      .where('type', '=', a.type)
      .where('actor_id', '=', a.actor_id)
      .where('target_id', '=', a.target_id)
      .where('role_id', '=', a.role_id)
      .where('inherited', '=', a.inherited)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }
  async removeAssignmentsFor(f: { actorId?: string; targetId?: string }): Promise<void> {
    if (f.actorId) await this.db.deleteFrom('assignment').where('actor_id', '=', f.actorId).execute();
    if (f.targetId) await this.db.deleteFrom('assignment').where('target_id', '=', f.targetId).execute();
  }

  // ---- catalog
  async listRegions(): Promise<RegionRow[]> {
    return this.db.selectFrom('region').selectAll().orderBy('id').execute();
  }
  async listServices(f: { type?: string; name?: string } = {}): Promise<ServiceRow[]> {
    let q = this.db.selectFrom('service').selectAll();
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    if (f.name !== undefined) q = q.where('name', '=', f.name);
    return q.orderBy('type').orderBy('id').execute();
  }
  async listEndpoints(
    f: { serviceId?: string; interface?: string; regionId?: string } = {},
  ): Promise<EndpointRow[]> {
    let q = this.db.selectFrom('endpoint').selectAll();
    if (f.serviceId !== undefined) q = q.where('service_id', '=', f.serviceId);
    if (f.interface !== undefined) q = q.where('interface', '=', f.interface);
    if (f.regionId !== undefined) q = q.where('region_id', '=', f.regionId);
    return q.orderBy('id').execute();
  }

  /** A service and its endpoints, in one transaction. */
  async removeServiceWithEndpoints(id: string): Promise<void> {
    await this.transaction(async (t) => {
      await t.db.deleteFrom('endpoint').where('service_id', '=', id).execute();
      await t.remove('service', id);
    });
  }

  // ---- application credentials and credentials
  async listAppCreds(userId: string, name?: string): Promise<AppCredRow[]> {
    let q = this.db.selectFrom('application_credential').selectAll().where('user_id', '=', userId);
    if (name !== undefined) q = q.where('name', '=', name);
    return q.orderBy('name').execute();
  }
  async appCredByName(userId: string, name: string): Promise<AppCredRow | undefined> {
    return this.db
      .selectFrom('application_credential')
      .selectAll()
      .where('user_id', '=', userId)
      .where('name', '=', name)
      .executeTakeFirst();
  }
  async listCredentials(f: { userId?: string; type?: string } = {}): Promise<CredentialRow[]> {
    let q = this.db.selectFrom('credential').selectAll();
    if (f.userId !== undefined) q = q.where('user_id', '=', f.userId);
    if (f.type !== undefined) q = q.where('type', '=', f.type);
    return q.orderBy('id').execute();
  }
  async removeCredentialsOf(userId: string): Promise<void> {
    await this.db.deleteFrom('credential').where('user_id', '=', userId).execute();
  }

  // ---- revocation events
  async addRevocation(row: RevocationRow): Promise<void> {
    await this.db.insertInto('revocation_event').values(row).execute();
  }
  async maxRevocationSeq(): Promise<number> {
    const r = await this.db
      .selectFrom('revocation_event')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    return Number(r?.m ?? 0);
  }
  async revocationsSince(seq: number): Promise<RevocationRow[]> {
    return this.db.selectFrom('revocation_event').selectAll().where('seq', '>', seq).orderBy('seq').execute();
  }
  async pruneRevocations(beforeIso: string): Promise<void> {
    await this.db.deleteFrom('revocation_event').where('expires_at', '<', beforeIso).execute();
  }

  // ---- meta
  async getMeta(key: string): Promise<string | undefined> {
    const r = await this.db
      .selectFrom('identity_meta')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return r?.value;
  }
  async setMeta(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('identity_meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  /**
   * Count one failed authentication atomically (concurrent failures each count) and return the new count;
   * a failure after the lockout window has passed starts counting again from one.
   */
  async recordAuthFailure(id: string, windowStartIso: string): Promise<number> {
    const now = new Date().toISOString();
    await this.db
      .updateTable('user')
      .set({
        failed_auth_count: sql<number>`CASE WHEN failed_auth_at IS NULL OR failed_auth_at < ${windowStartIso} THEN 1 ELSE failed_auth_count + 1 END`,
        failed_auth_at: now,
      })
      .where('id', '=', id)
      .execute();
    const row = await this.db
      .selectFrom('user')
      .select('failed_auth_count')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(row?.failed_auth_count ?? 0);
  }
}
