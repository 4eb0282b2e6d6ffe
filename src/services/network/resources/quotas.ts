/** Quotas (quotas, quota_details): per-project limits over DEFAULT_QUOTAS; usage is counted from the rows. */
import * as v from '../validate.js';
import { DEFAULT_QUOTAS, type Caller } from './base.js';
import type { NetworkManager } from '../manager.js';

/** The policy target of a project's quota. */
const quotaTarget = (projectId: string) => ({ project_id: projectId, tenant_id: projectId });

export class Quotas {
  constructor(private readonly m: NetworkManager) {}

  /** Every project with a limit set that the caller may read, with its limits. */
  async list(c: Caller): Promise<Record<string, unknown>[]> {
    const rows = await this.m.store.allQuotas();
    const projects = [...new Set(rows.map((r) => r.project_id as string))].filter((p) =>
      this.m.allowed(c, 'get_quota', quotaTarget(p)),
    );
    const quotas = [];
    for (const p of projects) quotas.push({ ...(await this.m.quotaLimits(p)), project_id: p, tenant_id: p });
    return quotas;
  }

  async show(c: Caller, projectId: string): Promise<Record<string, number>> {
    this.m.enforce(c, 'get_quota', quotaTarget(projectId));
    return this.m.quotaLimits(projectId);
  }

  defaults(c: Caller, projectId: string): Record<string, number> {
    this.m.enforce(c, 'get_quota', quotaTarget(projectId));
    return { ...DEFAULT_QUOTAS };
  }

  async details(c: Caller, projectId: string) {
    this.m.enforce(c, 'get_quota', quotaTarget(projectId));
    return this.m.quotaUsage(projectId);
  }

  async update(c: Caller, projectId: string, body: unknown): Promise<Record<string, number>> {
    this.m.enforce(c, 'update_quota', quotaTarget(projectId));
    const b = v.resourceBody(body, 'quota', [...Object.keys(DEFAULT_QUOTAS), 'force', 'check_limit']);
    for (const [k, val] of Object.entries(b)) {
      if (k === 'force' || k === 'check_limit') continue;
      const n = v.int(k, val, -1, 2 ** 31 - 1);
      await this.m.store.setQuota(projectId, k, n);
    }
    return this.m.quotaLimits(projectId);
  }

  async delete(c: Caller, projectId: string): Promise<void> {
    this.m.enforce(c, 'delete_quota', quotaTarget(projectId));
    await this.m.store.deleteQuotas(projectId);
  }
}
