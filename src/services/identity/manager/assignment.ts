/** Roles, implied roles, grants and effective roles (Keystone keystone/assignment/core.py). */
import { ApiError, badRequest, conflict, forbidden, notFound } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import { bool, isUniqueViolation, json } from '../../../core/db/index.js';
import { GLOBAL_ROLE_DOMAIN, type AssignmentRow, type AssignmentType, type RoleRow } from '../store.js';
import { IdentityBackend } from './identity.js';
import { missing, type Extra } from './base.js';

/** One role assignment as GET /v3/role_assignments lists it (ids only; the route renders names and links). */
export interface AssignmentOut {
  role: string;
  user?: string;
  group?: string;
  project?: string;
  domain?: string;
  system?: boolean;
  inherited: boolean;
  viaGroup?: string;
  prior?: string;
}

/** Filters of GET /v3/role_assignments. */
export interface AssignmentFilter {
  effective: boolean;
  userId?: string;
  groupId?: string;
  roleId?: string;
  projectId?: string;
  domainId?: string;
  system: boolean;
  inheritedOnly: boolean;
  includeSubtree: boolean;
}

export class AssignmentManager extends IdentityBackend {
  // ------------------------------------------------------------------ roles
  async getRole(id: string): Promise<RoleRow> {
    const r = await this.store.get('role', id);
    if (!r) throw missing('role', id);
    return r;
  }

  async createRole(input: {
    id?: string;
    name: string;
    domain_id?: string | null;
    description?: string | null;
    options?: Extra;
    extra?: Extra;
  }) {
    if (input.domain_id) await this.getDomain(input.domain_id);
    const row: RoleRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: input.domain_id ?? GLOBAL_ROLE_DOMAIN,
      description: input.description ?? null,
      options: JSON.stringify(input.options ?? {}),
      extra: JSON.stringify(input.extra ?? {}),
    };
    try {
      await this.store.insert('role', row);
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store role - Duplicate entry found with name ${input.name}.`,
        );
      }
      throw e;
    }
    return row;
  }

  async updateRole(
    id: string,
    patch: {
      name?: string;
      description?: string | null;
      domain_id?: string | null;
      options?: Extra;
      extra?: Extra;
    },
  ) {
    const r = await this.getRole(id);
    const cur = r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id;
    if (patch.domain_id !== undefined && patch.domain_id !== cur)
      throw badRequest('Update of `domain_id` is not allowed.');
    if (
      json<Extra>(r.options, {}).immutable === true &&
      !(patch.options && patch.options.immutable === false)
    ) {
      throw forbidden(`Role ${id} is immutable.`);
    }
    const upd: Partial<RoleRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.options !== undefined)
      upd.options = JSON.stringify({ ...json(r.options, {}), ...patch.options });
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(r.extra, {}), ...patch.extra });
    try {
      await this.store.update('role', id, upd);
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(
          `Conflict occurred attempting to store role - Duplicate entry found with name ${patch.name}.`,
        );
      throw e;
    }
    this.changed();
    return (await this.store.get('role', id))!;
  }

  async deleteRole(id: string): Promise<void> {
    const r = await this.getRole(id);
    if (json<Extra>(r.options, {}).immutable === true) throw forbidden(`Role ${id} is immutable.`);
    const affected = await this.store.assignments({ roleIds: [id] });
    await this.store.transaction(async (s) => {
      await s.db.deleteFrom('assignment').where('role_id', '=', id).execute();
      await s.db
        .deleteFrom('implied_role')
        .where((eb) => eb.or([eb('prior_role_id', '=', id), eb('implied_role_id', '=', id)]))
        .execute();
      await s.remove('role', id);
    });
    for (const a of affected) if (a.type.startsWith('User')) await this.revoke({ userId: a.actor_id });
    this.changed();
  }

  async createImpliedRole(prior: string, implied: string): Promise<void> {
    const p = await this.getRole(prior);
    const i = await this.getRole(implied);
    if (i.name === 'admin' && i.domain_id === GLOBAL_ROLE_DOMAIN) {
      throw forbidden('admin role may not be implied by another role.');
    }
    if (p.domain_id !== GLOBAL_ROLE_DOMAIN && i.domain_id === GLOBAL_ROLE_DOMAIN) {
      // Keystone allows a domain-specific role to imply a global one, not the reverse.
    } else if (p.domain_id === GLOBAL_ROLE_DOMAIN && i.domain_id !== GLOBAL_ROLE_DOMAIN) {
      throw forbidden('A global role may not imply a domain-specific role.');
    }
    // Refuse cycles.
    const rules = await this.store.impliedRules();
    const reach = new Set<string>([implied]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of rules) {
        if (reach.has(r.prior_role_id) && !reach.has(r.implied_role_id)) {
          reach.add(r.implied_role_id);
          grew = true;
        }
      }
    }
    if (reach.has(prior) || prior === implied) throw forbidden('Implied role would create a cycle.');
    await this.store.addImplied(prior, implied);
    this.changed();
  }

  async deleteImpliedRole(prior: string, implied: string): Promise<void> {
    await this.getRole(prior);
    await this.getRole(implied);
    if ((await this.store.removeImplied(prior, implied)) === 0) {
      throw notFound(`${prior} does not imply ${implied}.`, 'ImpliedRoleNotFound');
    }
    this.changed();
  }

  async checkImpliedRole(prior: string, implied: string): Promise<void> {
    await this.getRole(prior);
    await this.getRole(implied);
    const rules = await this.store.impliedRules();
    if (!rules.some((r) => r.prior_role_id === prior && r.implied_role_id === implied)) {
      throw notFound(`${prior} does not imply ${implied}.`, 'ImpliedRoleNotFound');
    }
  }

  /** Expand role ids with every role they imply (transitively). */
  async expandImplied(roleIds: Iterable<string>): Promise<Set<string>> {
    const out = new Set(roleIds);
    const rules = await this.store.impliedRules();
    let grew = true;
    while (grew) {
      grew = false;
      for (const r of rules) {
        if (out.has(r.prior_role_id) && !out.has(r.implied_role_id)) {
          out.add(r.implied_role_id);
          grew = true;
        }
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ grants
  async grant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    await this.store.addAssignment(a);
    this.changed();
  }

  async checkGrant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    const found = await this.store.assignments({
      types: [a.type],
      actorIds: [a.actor_id],
      targetIds: [a.target_id],
      roleIds: [a.role_id],
      inherited: bool(a.inherited),
    });
    if (found.length === 0) throw this.assignmentMissing(a);
  }

  protected assignmentMissing(a: AssignmentRow): ApiError {
    const actor = a.type.startsWith('User') ? 'user' : 'group';
    const target = a.type.endsWith('Project') ? 'project' : a.type.endsWith('Domain') ? 'domain' : 'system';
    return notFound(
      `Could not find role assignment with role: ${a.role_id}, ${actor}: ${a.actor_id}, ${target}: ${a.target_id}.`,
      'RoleAssignmentNotFound',
    );
  }

  async revokeGrant(a: AssignmentRow): Promise<void> {
    await this.checkGrantParts(a);
    if ((await this.store.removeAssignment(a)) === 0) throw this.assignmentMissing(a);
    const users = a.type.startsWith('User') ? [a.actor_id] : await this.store.userIdsOfGroup(a.actor_id);
    for (const u of users) {
      if (a.type.endsWith('Project')) await this.revoke({ userId: u, projectId: a.target_id });
      else if (a.type.endsWith('Domain'))
        await this.revoke({ userId: u, domainId: bool(a.inherited) ? undefined : a.target_id });
      else await this.revoke({ userId: u });
    }
    this.changed();
  }

  protected async checkGrantParts(a: AssignmentRow): Promise<void> {
    const role = await this.getRole(a.role_id);
    if (a.type.startsWith('User')) await this.getUser(a.actor_id);
    else await this.getGroup(a.actor_id);
    let targetDomain: string | undefined;
    if (a.type.endsWith('Project')) {
      const p = await this.getProjectOrDomain(a.target_id);
      targetDomain = bool(p.is_domain) ? p.id : p.domain_id;
    } else if (a.type.endsWith('Domain')) {
      targetDomain = (await this.getDomain(a.target_id)).id;
    }
    if (role.domain_id !== GLOBAL_ROLE_DOMAIN && targetDomain && role.domain_id !== targetDomain) {
      throw forbidden(
        `Cannot assign domain-specific role ${role.id} from domain ${role.domain_id} to a target in domain ${targetDomain}.`,
      );
    }
  }

  async rolesOf(
    type: AssignmentType,
    actorId: string,
    targetId: string,
    inherited = false,
  ): Promise<RoleRow[]> {
    const rows = await this.store.assignments({
      types: [type],
      actorIds: [actorId],
      targetIds: [targetId],
      inherited,
    });
    return this.store.listRoles({ ids: rows.map((r) => r.role_id) });
  }

  /**
   * Effective role ids of a user on a scope: direct and group assignments, inherited assignments from
   * the project's ancestors and domain, expanded with implied roles.
   */
  async effectiveRoleIds(userId: string, scope: { projectId?: string; domainId?: string; system?: boolean }) {
    const groups = await this.store.groupIdsOfUser(userId);
    const actors = [userId, ...groups];
    const ids = new Set<string>();
    if (scope.system) {
      for (const a of await this.store.assignments({
        types: ['UserSystem', 'GroupSystem'],
        actorIds: actors,
        targetIds: ['system'],
      }))
        ids.add(a.role_id);
    } else if (scope.domainId) {
      for (const a of await this.store.assignments({
        types: ['UserDomain', 'GroupDomain'],
        actorIds: actors,
        targetIds: [scope.domainId],
        inherited: false,
      }))
        ids.add(a.role_id);
    } else if (scope.projectId) {
      const p = await this.store.get('project', scope.projectId);
      if (!p) return ids;
      for (const a of await this.store.assignments({
        types: ['UserProject', 'GroupProject'],
        actorIds: actors,
        targetIds: [p.id],
        inherited: false,
      }))
        ids.add(a.role_id);
      const inheritedFrom = [(await this.ancestors(p)).map((x) => x.id), p.domain_id].flat();
      for (const a of await this.store.assignments({
        types: ['UserProject', 'GroupProject', 'UserDomain', 'GroupDomain'],
        actorIds: actors,
        targetIds: inheritedFrom,
        inherited: true,
      }))
        ids.add(a.role_id);
    }
    return this.expandImplied(ids);
  }

  /**
   * Keystone's list_role_assignments: the stored assignments, or with `effective` what they amount to (groups
   * expanded into their members, inherited assignments onto the projects below, implied roles added), filtered.
   */
  async listRoleAssignments(f: AssignmentFilter): Promise<AssignmentOut[]> {
    const { effective, userId, groupId, roleId, projectId, domainId, system, inheritedOnly, includeSubtree } =
      f;
    const typeOf = (a: AssignmentRow) => ({
      actor: a.type.startsWith('User') ? 'user' : 'group',
      target: a.type.endsWith('Project') ? 'project' : a.type.endsWith('Domain') ? 'domain' : 'system',
    });
    const rows = await this.store.assignments({});
    let out: AssignmentOut[] = [];
    if (!effective) {
      for (const a of rows) {
        const t = typeOf(a);
        out.push({
          role: a.role_id,
          [t.actor]: a.actor_id,
          ...(t.target === 'system' ? { system: true } : { [t.target]: a.target_id }),
          inherited: bool(a.inherited),
        } as AssignmentOut);
      }
    } else {
      // Expand groups into their members, inherited assignments into the projects below, implied roles.
      const members = new Map<string, string[]>();
      for (const a of rows)
        if (a.type.startsWith('Group') && !members.has(a.actor_id))
          members.set(a.actor_id, await this.store.userIdsOfGroup(a.actor_id));
      const allProjects = await this.store.listProjects({ isDomain: false });
      for (const a of rows) {
        const t = typeOf(a);
        const users =
          t.actor === 'user'
            ? [{ u: a.actor_id }]
            : (members.get(a.actor_id) ?? []).map((u) => ({ u, via: a.actor_id }));
        let targets: { project?: string; domain?: string; system?: boolean }[];
        if (t.target === 'system') targets = [{ system: true }];
        else if (!bool(a.inherited)) targets = [{ [t.target]: a.target_id }];
        else if (t.target === 'domain')
          targets = allProjects.filter((p) => p.domain_id === a.target_id).map((p) => ({ project: p.id }));
        else targets = (await this.subtree(a.target_id)).map((p) => ({ project: p.id }));
        for (const { u, via } of users as { u: string; via?: string }[])
          for (const tg of targets)
            out.push({ role: a.role_id, user: u, ...tg, inherited: false, viaGroup: via });
      }
      const rules = await this.store.impliedRules();
      const expanded: AssignmentOut[] = [];
      for (const o of out) {
        expanded.push(o);
        const seen = new Set([o.role]);
        let frontier = [o.role];
        while (frontier.length) {
          const next: string[] = [];
          for (const r of rules)
            if (frontier.includes(r.prior_role_id) && !seen.has(r.implied_role_id)) {
              seen.add(r.implied_role_id);
              next.push(r.implied_role_id);
              expanded.push({ ...o, role: r.implied_role_id, prior: o.role });
            }
          frontier = next;
        }
      }
      out = expanded;
    }
    let projectIds: string[] | undefined;
    if (projectId)
      projectIds = includeSubtree
        ? [projectId, ...(await this.subtree(projectId)).map((p) => p.id)]
        : [projectId];
    out = out.filter(
      (o) =>
        (!userId || o.user === userId) &&
        (!groupId || o.group === groupId) &&
        (!roleId || o.role === roleId) &&
        (!projectIds || (o.project !== undefined && projectIds.includes(o.project))) &&
        (!domainId || o.domain === domainId) &&
        (!system || o.system) &&
        (!inheritedOnly || o.inherited),
    );
    return out;
  }
}
