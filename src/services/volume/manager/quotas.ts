/**
 * Cinder's quotas: per project (`os-quota-sets`), defaults from the `default` quota class (`os-quota-class-sets`)
 * over the configured defaults, per-type resources (`volumes_<type>`, `gigabytes_<type>`, `snapshots_<type>`),
 * and absolute limits. Usage is counted from the rows inside the same serialized transaction that inserts the
 * new row, so concurrent creates against a quota are exact (no counters to drift or leak).
 */
import type { Caller } from '../../../core/auth/caller.js';
import { ApiError } from '../../../core/errors.js';
import type { Trx, Usage } from '../store.js';
import { authorize, badRequest, type Deps } from './common.js';

export const DEFAULT_QUOTAS: Record<string, number> = {
  volumes: 10,
  snapshots: 10,
  gigabytes: 1000,
  backups: 10,
  backup_gigabytes: 1000,
  groups: 10,
  per_volume_gigabytes: -1,
};
const PER_TYPE = ['volumes', 'snapshots', 'gigabytes'] as const;

export interface Delta {
  volumes?: number;
  snapshots?: number;
  gigabytes?: number;
  /** Name of the volume type the delta is for (per-type quotas). */
  typeName: string;
  typeId: string;
}

export class Quotas {
  constructor(private readonly d: Deps) {}

  /** Defaults: configured values under the `default` quota class; per-type resources default to -1. */
  async defaults(trx?: Trx): Promise<Record<string, number>> {
    const out = { ...DEFAULT_QUOTAS, ...(await this.d.store.quotaClass('default', trx)) };
    for (const t of await this.d.store.listTypes({}, trx))
      for (const r of PER_TYPE) out[`${r}_${t.name}`] ??= -1;
    return out;
  }

  async limits(projectId: string, trx?: Trx): Promise<Record<string, number>> {
    return { ...(await this.defaults(trx)), ...(await this.d.store.quotas(projectId, trx)) };
  }

  /** Usage by quota resource name (per-type keys included). */
  async usageByResource(projectId: string, usage?: Usage, trx?: Trx): Promise<Record<string, number>> {
    const u = usage ?? (await this.d.store.usage(projectId, trx));
    const out: Record<string, number> = {
      volumes: u.volumes,
      snapshots: u.snapshots,
      gigabytes: u.gigabytes,
    };
    const types = await this.d.store.typesByIds(Object.keys(u.perType), trx);
    for (const t of types) for (const r of PER_TYPE) out[`${r}_${t.name}`] = u.perType[t.id]![r];
    return out;
  }

  /**
   * Inside a locked transaction: fail with Cinder's 413 when `delta` would pass a limit. Size per volume is
   * checked too (`per_volume_gigabytes`).
   */
  async check(trx: Trx, projectId: string, delta: Delta, sizeGb?: number): Promise<void> {
    // Every query here runs on the transaction (SQLite has one connection: another query would wait for ever).
    const limits = await this.limits(projectId, trx);
    if (sizeGb !== undefined) {
      const per = limits.per_volume_gigabytes ?? -1;
      if (per >= 0 && sizeGb > per)
        throw new ApiError(
          413,
          `VolumeSizeExceedsLimit: Requested volume size ${sizeGb}G is larger than maximum allowed limit ${per}G.`,
          'overLimit',
        );
    }
    const u = await this.d.store.usage(projectId, trx);
    const used = await this.usageByResource(projectId, u, trx);
    for (const r of PER_TYPE) {
      const n = delta[r] ?? 0;
      if (n <= 0) continue;
      for (const key of [r, `${r}_${delta.typeName}`]) {
        const limit = limits[key] ?? -1;
        const inUse = used[key] ?? 0;
        if (limit >= 0 && inUse + n > limit) throw over(r, key, limit, inUse, n);
      }
    }
  }

  /** `os-quota-sets/{project}` body (optionally with usage). */
  async show(c: Caller, projectId: string, usage: boolean): Promise<Record<string, unknown>> {
    authorize(this.d, c, 'volume_extension:quotas:show', { project_id: projectId });
    const limits = await this.limits(projectId);
    if (!usage) return { id: projectId, ...limits };
    const used = await this.usageByResource(projectId);
    const out: Record<string, unknown> = { id: projectId };
    for (const [k, v] of Object.entries(limits))
      out[k] =
        k === 'per_volume_gigabytes' ? v : { limit: v, in_use: used[k] ?? 0, reserved: 0, allocated: 0 };
    return out;
  }

  async update(
    c: Caller,
    projectId: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    authorize(this.d, c, 'volume_extension:quotas:update', { project_id: projectId });
    const known = await this.defaults();
    const used = await this.usageByResource(projectId);
    const updates: [string, number][] = [];
    for (const [k, v] of Object.entries(body)) {
      if (k === 'tenant_id' || k === 'id' || k === 'skip_validation') continue;
      if (!(k in known)) throw badRequest(`Bad key(s) in quota set: ${k.slice(0, 100)}`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1 || n > 2147483647)
        throw badRequest(
          `Quota limit ${String(v).slice(0, 50)} for ${k} must be an integer from -1 to 2147483647.`,
        );
      if (body.skip_validation !== false && body.skip_validation !== 'false' && n >= 0 && (used[k] ?? 0) > n)
        throw badRequest(
          `Quota limit must be greater than or equal to the current usage (${used[k]}) for ${k}.`,
        );
      updates.push([k, n]);
    }
    for (const [k, n] of updates) await this.d.store.setQuota(projectId, k, n);
    return this.limits(projectId);
  }

  async reset(c: Caller, projectId: string): Promise<void> {
    authorize(this.d, c, 'volume_extension:quotas:delete', { project_id: projectId });
    await this.d.store.deleteQuotas(projectId);
  }

  async showClass(c: Caller, name: string): Promise<Record<string, unknown>> {
    authorize(this.d, c, 'volume_extension:quota_classes', {});
    const base =
      name === 'default'
        ? await this.defaults()
        : { ...(await this.defaults()), ...(await this.d.store.quotaClass(name)) };
    return { id: name, ...base };
  }

  async updateClass(
    c: Caller,
    name: string,
    body: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    authorize(this.d, c, 'volume_extension:quota_classes', {});
    const known = await this.defaults();
    for (const [k, v] of Object.entries(body)) {
      if (!(k in known)) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -1)
        throw badRequest(`Quota class limit for ${k} must be an integer of at least -1.`);
      await this.d.store.setQuotaClass(name, k, v);
    }
    const out = await this.showClass(c, name);
    delete out.id;
    return out;
  }

  /** GET /limits: absolute limits and usage of the caller's project. */
  async absolute(c: Caller): Promise<Record<string, number>> {
    const limits = await this.limits(c.projectId);
    const used = await this.usageByResource(c.projectId);
    return {
      maxTotalVolumes: limits.volumes!,
      maxTotalSnapshots: limits.snapshots!,
      maxTotalVolumeGigabytes: limits.gigabytes!,
      maxTotalBackups: limits.backups!,
      maxTotalBackupGigabytes: limits.backup_gigabytes!,
      totalVolumesUsed: used.volumes ?? 0,
      totalSnapshotsUsed: used.snapshots ?? 0,
      totalGigabytesUsed: used.gigabytes ?? 0,
      totalBackupsUsed: 0,
      totalBackupGigabytesUsed: 0,
    };
  }
}

function over(resource: string, key: string, limit: number, inUse: number, n: number): ApiError {
  if (resource === 'gigabytes')
    return new ApiError(
      413,
      `VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed ${key} quota. Requested ${n}G, quota is ${limit}G and ${inUse}G has been consumed.`,
      'overLimit',
    );
  if (resource === 'snapshots')
    return new ApiError(
      413,
      `SnapshotLimitExceeded: Maximum number of snapshots allowed (${limit}) exceeded for quota '${key}'.`,
      'overLimit',
    );
  return new ApiError(
    413,
    `VolumeLimitExceeded: Maximum number of volumes allowed (${limit}) exceeded for quota '${key}'.`,
    'overLimit',
  );
}
