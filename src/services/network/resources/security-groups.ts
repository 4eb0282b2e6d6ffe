/** Security groups (their rules are resources/security-group-rules.ts); each project has a `default` group. */
import { randomUUID } from 'node:crypto';
import { bool, int, isUniqueViolation } from '../../../core/db/index.js';
import { NotFound, conflict } from '../errors.js';
import type { ListParams } from '../query.js';
import type { Exec, Row } from '../store.js';
import * as v from '../validate.js';
import { sgView } from '../views.js';
import { B, Resource, S, STD, now, type Caller, type Rendered, type ResourceDef } from './base.js';
import { ruleView } from './security-group-rules.js';

export class SecurityGroups extends Resource {
  readonly def: ResourceDef = {
    kind: 'security_group',
    path: 'security-groups',
    collection: 'security_groups',
    member: 'security_group',
    table: 'net_security_groups',
    tagType: 'security_group',
    columns: { ...STD, name: S('name'), stateful: B('stateful') },
    others: ['security_group_rules', 'shared'],
  };

  override async beforeList(c: Caller, params: ListParams): Promise<void> {
    // Like Neutron, listing groups is a "first use" that creates the caller's default group.
    if (c.projectId) await this.ensureDefaultSg(c.projectId);
    if (c.isAdmin && params.filters.project_id)
      for (const p of params.filters.project_id) await this.ensureDefaultSg(p);
  }

  override async target(_c: Caller, row: Row): Promise<Row> {
    return { ...row, tenant_id: row.project_id, shared: false };
  }

  async views(c: Caller, rows: Row[], tags: Map<string, string[]>, ex: Exec): Promise<Rendered[]> {
    const ids = rows.map((r) => r.id as string);
    const targets: Row[] = [];
    const rules = await this.store.list(
      'net_security_group_rules',
      { where: [{ eq: 'security_group_id', values: ids }], sort: [{ col: 'created_at', dir: 'asc' }] },
      ex,
    );
    const defaults = new Set(
      (
        await this.store.list(
          'net_default_security_groups',
          { where: [{ eq: 'security_group_id', values: ids }] },
          ex,
        )
      ).map((d) => d.security_group_id),
    );
    const views: Record<string, unknown>[] = rows.map((r) => {
      targets.push({ ...r, tenant_id: r.project_id, shared: false });
      return sgView(
        r,
        rules.filter((x) => x.security_group_id === r.id).map((x) => ruleView(x, defaults.has(r.id))),
        tags.get(r.id),
      );
    });
    return views.map((view, i) => ({ view, target: targets[i]! }));
  }

  async defaultSgId(projectId: string, ex: Exec = this.store.db): Promise<string> {
    const row = (
      await this.store.list(
        'net_default_security_groups',
        { where: [{ eq: 'project_id', values: [projectId] }] },
        ex,
      )
    )[0];
    if (!row) throw NotFound.security_group('default');
    return row.security_group_id;
  }

  /** Create the project's `default` group with Neutron's default rules, once (safe under concurrency). */
  async ensureDefaultSg(projectId: string): Promise<string> {
    const found = (
      await this.store.list('net_default_security_groups', {
        where: [{ eq: 'project_id', values: [projectId] }],
      })
    )[0];
    if (found) return found.security_group_id;
    const id = randomUUID();
    const ts = now();
    const created = await this.store
      .tx(async (trx) => {
        await this.store.insert(
          'net_security_groups',
          {
            id,
            project_id: projectId,
            name: 'default',
            stateful: 1,
            description: 'Default security group',
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          },
          trx,
        );
        if (
          !(await this.store.insertIfAbsent(
            'net_default_security_groups',
            { project_id: projectId, security_group_id: id },
            trx,
          ))
        )
          throw new Error('lost default-group race');
        for (const ethertype of ['IPv4', 'IPv6']) {
          for (const [direction, remote] of [
            ['egress', null],
            ['ingress', id],
          ] as const)
            await this.store.insert(
              'net_security_group_rules',
              {
                id: randomUUID(),
                project_id: projectId,
                security_group_id: id,
                direction,
                ethertype,
                protocol: null,
                port_range_min: null,
                port_range_max: null,
                remote_ip_prefix: null,
                remote_group_id: remote,
                description: '',
                revision_number: 0,
                created_at: ts,
                updated_at: ts,
              },
              trx,
            );
        }
        return true;
      })
      .catch((e) => {
        if (e instanceof Error && e.message === 'lost default-group race') return false;
        if (isUniqueViolation(e)) return false;
        throw e;
      });
    if (created) {
      this.changes.securityGroup(id);
      return id;
    }
    return this.defaultSgId(projectId);
  }

  override async create(c: Caller, body: unknown) {
    const b = v.resourceBody(body, 'security_group', [
      'name',
      'description',
      'stateful',
      'project_id',
      'tenant_id',
      'tags',
    ]);
    const { projectId } = this.m.authorizeCreate(c, 'security_group', b);
    const name = b.name === undefined ? '' : v.str('name', b.name);
    await this.ensureDefaultSg(projectId);
    if (name === 'default')
      throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
    const tags = b.tags === undefined ? [] : v.tags(b.tags);
    const id = randomUUID();
    const ts = now();
    await this.store.tx(async (trx) => {
      await this.m.checkQuota(projectId, 'security_group', trx);
      await this.store.insert(
        'net_security_groups',
        {
          id,
          project_id: projectId,
          name,
          stateful: int(b.stateful === undefined ? true : v.bool('stateful', b.stateful)),
          description: b.description === undefined ? '' : v.str('description', b.description),
          revision_number: 0,
          created_at: ts,
          updated_at: ts,
        },
        trx,
      );
      for (const ethertype of ['IPv4', 'IPv6'])
        await this.store.insert(
          'net_security_group_rules',
          {
            id: randomUUID(),
            project_id: projectId,
            security_group_id: id,
            direction: 'egress',
            ethertype,
            description: '',
            revision_number: 0,
            created_at: ts,
            updated_at: ts,
          },
          trx,
        );
      await this.store.setTags('security_group', id, tags, trx);
    });
    this.changes.securityGroup(id);
    return this.m.viewOf(c, 'security_group', id);
  }

  override async update(c: Caller, id: string, body: unknown, ifMatch?: string) {
    const b = v.resourceBody(
      body,
      'security_group',
      ['name', 'description', 'stateful'],
      ['id', 'tenant_id', 'project_id'],
    );
    const { row } = await this.m.forChange(c, 'security_group', 'update', id, ifMatch, b);
    const isDefault = await this.isDefaultSg(id);
    const patch: Row = {};
    if (b.name !== undefined) {
      const name = v.str('name', b.name);
      if (isDefault && name !== 'default')
        throw conflict('SecurityGroupCannotUpdateDefault', 'Updating default security group not allowed.');
      if (!isDefault && name === 'default')
        throw conflict('SecurityGroupDefaultAlreadyExists', 'Default security group already exists.');
      patch.name = name;
    }
    if (b.description !== undefined) patch.description = v.str('description', b.description);
    if (b.stateful !== undefined) {
      const st = v.bool('stateful', b.stateful);
      if (st !== bool(row.stateful)) {
        const inUse = await this.store.count('net_port_security_groups', [
          { eq: 'security_group_id', values: [id] },
        ]);
        if (inUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      }
      patch.stateful = int(st);
    }
    await this.m.bump('net_security_groups', id, patch, this.store.db);
    this.changes.securityGroup(id);
    return this.m.viewOf(c, 'security_group', id);
  }

  async isDefaultSg(id: string, ex: Exec = this.store.db): Promise<boolean> {
    return (
      (await this.store.count(
        'net_default_security_groups',
        [{ eq: 'security_group_id', values: [id] }],
        ex,
      )) > 0
    );
  }

  override async delete(c: Caller, id: string, ifMatch?: string) {
    await this.m.forChange(c, 'security_group', 'delete', id, ifMatch);
    if ((await this.isDefaultSg(id)) && !c.isAdmin)
      throw conflict('SecurityGroupCannotRemoveDefault', 'Removing default security group not allowed.');
    await this.store.tx(async (trx) => {
      const inUse = await this.store.count(
        'net_port_security_groups',
        [{ eq: 'security_group_id', values: [id] }],
        trx,
      );
      if (inUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      const remoteUse = await this.store.count(
        'net_security_group_rules',
        [
          { eq: 'remote_group_id', values: [id] },
          { ne: 'security_group_id', value: id },
        ],
        trx,
      );
      if (remoteUse) throw conflict('SecurityGroupInUse', `Security Group ${id} in use.`);
      await this.store.removeTag('security_group', id, undefined, trx);
      await this.store.delete('net_security_groups', [{ eq: 'id', values: [id] }], trx);
    });
    this.changes.securityGroup(id, true);
  }
}
