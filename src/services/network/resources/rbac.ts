/** RBAC policies: a network shared with (access_as_shared) or external for (access_as_external) projects. */
import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../core/errors.js';
import { conflict } from '../errors.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { rbacView } from '../views.js';
import { Resource, S, type Caller, type Rendered, type ResourceDef } from './base.js';

export class RbacPolicies extends Resource {
  readonly def: ResourceDef = {
    kind: 'rbac_policy',
    path: 'rbac-policies',
    collection: 'rbac_policies',
    member: 'rbac_policy',
    table: 'net_rbac_policies',
    columns: {
      id: S('id'),
      project_id: S('project_id'),
      object_type: S('object_type'),
      object_id: S('object_id'),
      action: S('action'),
      target_tenant: S('target_project'),
      target_project: S('target_project'),
    },
    others: [],
  };

  async views(c: Caller, rows: Row[], _tags: Map<string, string[]>, _ex: Exec): Promise<Rendered[]> {
    const targets: Row[] = [];
    const views: Record<string, unknown>[] = rows.map((r) => {
      targets.push({ ...r, tenant_id: r.project_id, target_tenant: r.target_project });
      return rbacView(r);
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'rbac_policy', [
      'object_type',
      'object_id',
      'target_tenant',
      'target_project',
      'action',
      'project_id',
      'tenant_id',
    ]);
    const projectId = this.m.owner(c, b);
    const objectType = v.oneOf('object_type', b.object_type, ['network']);
    const action = v.oneOf('action', b.action, ['access_as_shared', 'access_as_external']);
    const objectId = v.uuid('object_id', b.object_id);
    const targetProject = v.str('target_tenant', b.target_project ?? b.target_tenant);
    const target = {
      ...b,
      project_id: projectId,
      tenant_id: projectId,
      target_tenant: targetProject,
      target_project: targetProject,
    };
    this.m.enforce(c, 'create_rbac_policy', target);
    this.m.enforceAttrs(c, 'create', 'rbac_policy', b, target);
    const net = await this.store.get('net_networks', objectId);
    if (!net || (!c.isAdmin && net.project_id !== c.projectId))
      throw new ApiError(404, `Network ${objectId} could not be found.`, 'NetworkNotFound');
    if (action === 'access_as_external' && !c.isAdmin)
      this.m.enforce(c, 'create_network:router:external', target);
    const id = randomUUID();
    await this.store.tx(async (trx) => {
      await this.m.checkQuota(projectId, 'rbac_policy', trx);
      const ok = await this.store.insertIfAbsent(
        'net_rbac_policies',
        {
          id,
          project_id: projectId,
          object_type: objectType,
          object_id: objectId,
          target_project: targetProject,
          action,
        },
        trx,
      );
      if (!ok) throw conflict('DuplicateRbacPolicy', 'An RBAC policy already exists with those values.');
      if (targetProject === '*')
        await this.store.update(
          'net_networks',
          objectId,
          action === 'access_as_shared' ? { shared: 1 } : { external: 1 },
          trx,
        );
    });
    this.changes.network(objectId);
    return this.m.viewOf(c, 'rbac_policy', id);
  }

  override async update(c: Caller, id: string, body: unknown) {
    const b = v.resourceBody(
      body,
      'rbac_policy',
      ['target_tenant', 'target_project'],
      ['id', 'object_type', 'object_id', 'action', 'project_id', 'tenant_id'],
    );
    const { row } = await this.m.forChange(c, 'rbac_policy', 'update', id, undefined, b);
    const tp = v.str('target_tenant', b.target_project ?? b.target_tenant ?? row.target_project);
    await this.store.setColumns('net_rbac_policies', [{ eq: 'id', values: [id] }], { target_project: tp });
    return this.m.viewOf(c, 'rbac_policy', id);
  }

  override async delete(c: Caller, id: string) {
    const { row } = await this.m.forChange(c, 'rbac_policy', 'delete', id);
    const inUse =
      row.target_project === '*'
        ? await this.store.count('net_ports', [
            { eq: 'network_id', values: [row.object_id] },
            { ne: 'project_id', value: row.project_id },
            { ne: 'project_id', value: '' },
          ])
        : await this.store.count('net_ports', [
            { eq: 'network_id', values: [row.object_id] },
            { eq: 'project_id', values: [row.target_project] },
          ]);
    if (inUse && row.action === 'access_as_shared')
      throw conflict(
        'RbacPolicyInUse',
        `RBAC policy on object ${row.object_id} cannot be removed because other objects depend on it.`,
      );
    await this.store.tx(async (trx) => {
      await this.store.delete('net_rbac_policies', [{ eq: 'id', values: [id] }], trx);
      if (row.target_project === '*')
        await this.store.update(
          'net_networks',
          row.object_id,
          row.action === 'access_as_shared' ? { shared: 0 } : { external: 0 },
          trx,
        );
    });
    this.changes.network(row.object_id);
  }
}
