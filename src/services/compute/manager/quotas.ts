/** Quotas: limits (defaults, class, project) and usage counted from the rows. */
import type { Caller } from '../../../core/auth/caller.js';
import type { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import type { GroupRow, KeypairRow } from '../rows.js';
import { err } from './base.js';
import { InstanceActions } from './instance-actions.js';

export const QUOTA_DEFAULTS: Record<string, number> = {
  instances: 10,
  cores: 20,
  ram: 51200,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10240,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  fixed_ips: -1,
  floating_ips: 10,
  security_groups: 10,
  security_group_rules: 20,
  networks: -1,
};

export class Quotas extends InstanceActions {
  async quotaLimits(projectId: string): Promise<Record<string, number>> {
    const rows = await this.store.quotaRows(projectId);
    const out = { ...QUOTA_DEFAULTS };
    for (const r of rows.filter((x) => x.scope === 'class')) out[r.resource] = Number(r.hard_limit);
    for (const r of rows.filter((x) => x.scope === 'project')) out[r.resource] = Number(r.hard_limit);
    return out;
  }

  async classLimits(name: string): Promise<Record<string, number>> {
    const rows = await this.store.classQuotaRows(name);
    const out = { ...QUOTA_DEFAULTS };
    if (name === 'default' || rows.length) for (const r of rows) out[r.resource] = Number(r.hard_limit);
    return out;
  }

  async setQuota(scope: 'project' | 'class', owner: string, values: Record<string, number>): Promise<void> {
    await this.store.setQuota(scope, owner, values);
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.store.deleteQuotas(projectId);
  }

  /** What a project (and a user's key pairs) uses, per quota resource. */
  async usage(projectId: string, userId?: string): Promise<Record<string, number>> {
    const u = await this.store.projectUsage(projectId, userId);
    return {
      instances: u.instances,
      cores: u.cores,
      ram: u.ram,
      server_groups: await this.store.countServerGroups(projectId),
      key_pairs: userId ? await this.store.countKeypairs(userId) : 0,
    };
  }

  /** A server group, counted against the project's server_groups quota in its locked transaction. */
  async createServerGroup(
    c: Caller,
    o: { name: string; policy: string; rules: Record<string, unknown> },
  ): Promise<GroupRow> {
    const limits = await this.quotaLimits(c.projectId);
    const row: GroupRow = {
      id: uuid(),
      name: o.name,
      project_id: c.projectId,
      user_id: c.userId,
      policy: o.policy,
      rules: JSON.stringify(o.rules),
      created_at: new Date().toISOString(),
    };
    await this.store.locked([`quota:${c.projectId}`], async (trx) => {
      const n = await this.store.countServerGroups(c.projectId, trx);
      if (limits.server_groups! >= 0 && n + 1 > limits.server_groups!)
        throw err(403, 'Quota exceeded, too many server groups.', 'forbidden');
      await this.store.insertGroup(row, trx);
    });
    return (await this.store.group(row.id))!;
  }

  /** A key pair, counted against the key_pairs quota (of the caller's project) in a locked transaction. */
  async createKeypair(c: Caller, row: Omit<KeypairRow, 'id'>): Promise<KeypairRow> {
    const limits = await this.quotaLimits(c.projectId);
    return this.store.locked([`keypair:${row.user_id}`], async (trx) => {
      const n = await this.store.countKeypairs(row.user_id, trx);
      if (limits.key_pairs! >= 0 && n + 1 > limits.key_pairs!)
        throw err(403, 'Quota exceeded, too many key pairs.', 'forbidden');
      if (await this.store.keypair(row.user_id, row.name, trx))
        throw err(409, `Key pair '${row.name}' already exists.`, 'conflictingRequest');
      const id = await this.store.insertKeypair(row, trx);
      return { ...row, id };
    });
  }

  quotaExceeded(resource: string, requested: number, used: number, allowed: number): ApiError {
    return err(
      403,
      `Quota exceeded for ${resource}: Requested ${requested}, but already used ${used} of ${allowed} ${resource}`,
      'forbidden',
    );
  }

  checkMetadataQuota(limits: Record<string, number>, md: Record<string, string>): void {
    const max = limits.metadata_items ?? 128;
    if (max >= 0 && Object.keys(md).length > max)
      throw err(
        403,
        `Quota exceeded for metadata_items: Requested ${Object.keys(md).length}, but already used 0 of ${max} metadata_items`,
        'forbidden',
      );
  }
}
