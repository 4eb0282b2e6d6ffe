/** Domains and projects (Keystone keystone/resource/core.py): hierarchy, tags, cascading deletes. */
import { badRequest, conflict, forbidden } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import { bool, int, isUniqueViolation, json } from '../../../core/db/index.js';
import { ROOT_DOMAIN, type ProjectRow } from '../store.js';
import { ManagerBase, missing, validateTags, type ProjectInput } from './base.js';

export class ResourceManager extends ManagerBase {
  // ------------------------------------------------------------------ domains
  async getDomain(id: string): Promise<ProjectRow> {
    const d = await this.store.get('project', id);
    if (!d || !bool(d.is_domain)) throw missing('domain', id);
    return d;
  }

  async domainByName(name: string): Promise<ProjectRow> {
    const d = await this.store.projectByName(ROOT_DOMAIN, name);
    if (!d) throw missing('domain', name);
    return d;
  }

  async createDomain(
    input: Omit<ProjectInput, 'domain_id' | 'parent_id' | 'is_domain'>,
  ): Promise<ProjectRow> {
    return this.createProject({ ...input, is_domain: true });
  }

  async updateDomain(id: string, patch: Partial<ProjectInput>): Promise<ProjectRow> {
    await this.getDomain(id);
    return this.updateProject(id, patch);
  }

  async deleteDomain(id: string): Promise<void> {
    const d = await this.getDomain(id);
    if (bool(d.enabled)) {
      throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
    }
    await this.store.transaction(async (s) => {
      // Everything owned by the domain goes with it, as Keystone's domain delete cascades.
      for (const u of await s.listUsers({ domainId: id })) await this.deleteUserRows(s, u.id);
      for (const g of await s.listGroups({ domainId: id })) {
        await s.removeAssignmentsFor({ actorId: g.id });
        await s.remove('group', g.id);
      }
      for (const r of await s.listRoles({ domainId: id })) await s.remove('role', r.id);
      const projects = (await s.listProjects({ domainId: id })).filter((p) => p.id !== id);
      // children before parents
      const depth = (p: ProjectRow): number => {
        let n = 0;
        let cur: ProjectRow | undefined = p;
        while (cur && cur.parent_id && cur.parent_id !== id && n < 100) {
          cur = projects.find((x) => x.id === cur!.parent_id);
          n++;
        }
        return n;
      };
      for (const p of projects.sort((a, b) => depth(b) - depth(a))) {
        await s.removeAssignmentsFor({ targetId: p.id });
        await s.remove('project', p.id);
      }
      await s.removeAssignmentsFor({ targetId: id });
      await s.remove('project', id);
    });
    await this.revoke({ domainId: id });
  }

  // ------------------------------------------------------------------ projects
  async getProject(id: string): Promise<ProjectRow> {
    const p = await this.store.get('project', id);
    if (!p || bool(p.is_domain)) throw missing('project', id);
    return p;
  }

  /** A project or a domain acting as a project (is_domain); for grants on /v3/projects. */
  async getProjectOrDomain(id: string): Promise<ProjectRow> {
    const p = await this.store.get('project', id);
    if (!p) throw missing('project', id);
    return p;
  }

  async createProject(input: ProjectInput): Promise<ProjectRow> {
    const isDomain = input.is_domain === true;
    let domainId: string;
    let parentId: string | null;
    if (isDomain) {
      domainId = ROOT_DOMAIN;
      parentId = null;
      if (input.parent_id) throw badRequest('A domain cannot have a parent.');
    } else {
      if (input.parent_id) {
        const parent = await this.store.get('project', input.parent_id);
        if (!parent) throw missing('project', input.parent_id);
        const parentDomain = bool(parent.is_domain) ? parent.id : parent.domain_id;
        if (input.domain_id && input.domain_id !== parentDomain) {
          throw badRequest('Cannot create project, the parent and the project must be in the same domain.');
        }
        domainId = parentDomain;
        parentId = parent.id;
      } else {
        domainId = input.domain_id ?? 'default';
        parentId = domainId;
      }
      const dom = await this.store.get('project', domainId);
      if (!dom || !bool(dom.is_domain)) throw missing('domain', domainId);
    }
    validateTags(input.tags);
    const row: ProjectRow = {
      id: input.id ?? hexId(),
      name: input.name,
      domain_id: domainId,
      parent_id: parentId,
      is_domain: int(isDomain),
      enabled: int(input.enabled ?? true),
      description: input.description ?? (isDomain ? '' : ''),
      extra: JSON.stringify(input.extra ?? {}),
      options: JSON.stringify(input.options ?? {}),
    };
    try {
      await this.store.transaction(async (s) => {
        await s.insert('project', row);
        if (input.tags) await s.setProjectTags(row.id, input.tags);
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          isDomain
            ? `Conflict occurred attempting to store domain - Duplicate entry found with name ${input.name}.`
            : `Conflict occurred attempting to store project - it is not permitted to have two projects with the same name in the same domain : ${input.name}.`,
        );
      }
      throw e;
    }
    this.changed();
    return row;
  }

  async updateProject(id: string, patch: Partial<ProjectInput>): Promise<ProjectRow> {
    const p = await this.getProjectOrDomain(id);
    if (patch.domain_id !== undefined && patch.domain_id !== p.domain_id) {
      throw badRequest('Update of `domain_id` is not allowed.');
    }
    if (patch.parent_id !== undefined && patch.parent_id !== p.parent_id) {
      throw forbidden('Update of `parent_id` is not allowed.');
    }
    if (patch.is_domain !== undefined && patch.is_domain !== bool(p.is_domain)) {
      throw badRequest('Update of `is_domain` is not allowed.');
    }
    validateTags(patch.tags);
    const disabling = patch.enabled === false && bool(p.enabled);
    if (disabling && !bool(p.is_domain)) {
      const children = await this.store.listProjects({ parentId: id, enabled: true });
      if (children.length > 0) {
        throw forbidden(`Cannot disable project ${id} since its subtree contains enabled projects.`);
      }
    }
    const upd: Partial<ProjectRow> = {};
    if (patch.name !== undefined) upd.name = patch.name;
    if (patch.description !== undefined) upd.description = patch.description;
    if (patch.enabled !== undefined) upd.enabled = int(patch.enabled);
    if (patch.options !== undefined)
      upd.options = JSON.stringify({ ...json(p.options, {}), ...patch.options });
    if (patch.extra !== undefined) upd.extra = JSON.stringify({ ...json(p.extra, {}), ...patch.extra });
    try {
      await this.store.transaction(async (s) => {
        await s.update('project', id, upd);
        if (patch.tags !== undefined) await s.setProjectTags(id, patch.tags);
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        throw conflict(
          `Conflict occurred attempting to store project - Duplicate entry found with name ${patch.name}.`,
        );
      }
      throw e;
    }
    if (disabling) await this.revoke(bool(p.is_domain) ? { domainId: id } : { projectId: id });
    this.changed();
    return (await this.store.get('project', id))!;
  }

  async deleteProject(id: string): Promise<void> {
    await this.getProject(id);
    const children = await this.store.listProjects({ parentId: id });
    if (children.length > 0) {
      throw forbidden(`Cannot delete the project ${id} since it is not a leaf in the hierarchy.`);
    }
    await this.store.transaction(async (s) => {
      await s.removeAssignmentsFor({ targetId: id });
      await s.remove('project', id);
    });
    await this.revoke({ projectId: id });
  }

  async ancestors(p: ProjectRow): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let cur = p;
    for (let i = 0; i < 64 && cur.parent_id; i++) {
      const parent = await this.store.get('project', cur.parent_id);
      if (!parent || bool(parent.is_domain)) break;
      out.push(parent);
      cur = parent;
    }
    return out;
  }

  async subtree(id: string): Promise<ProjectRow[]> {
    const out: ProjectRow[] = [];
    let frontier = [id];
    for (let i = 0; i < 64 && frontier.length; i++) {
      const next: ProjectRow[] = [];
      for (const pid of frontier)
        next.push(...(await this.store.listProjects({ parentId: pid, isDomain: false })));
      out.push(...next);
      frontier = next.map((p) => p.id);
    }
    return out;
  }
}
