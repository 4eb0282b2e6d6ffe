/** Usage counted from the rows (quotas and claims) and the quota limits. */
import type { HostUsage } from '../rows.js';
import { StoreBase, type Q } from './base.js';

export class UsageStore extends StoreBase {
  /** Instances, cores and RAM in use by a project (optionally one user), counted from servers. */
  async projectUsage(projectId: string, userId?: string, trx: Q = this.k) {
    let q = trx
      .selectFrom('compute_server')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('vcpus').as('c'),
        eb.fn.sum<number>('memory_mb').as('r'),
      ])
      .where('project_id', '=', projectId)
      .where('deleted', '=', 0);
    if (userId) q = q.where('user_id', '=', userId);
    const r = await q.executeTakeFirstOrThrow();
    return { instances: Number(r.n ?? 0), cores: Number(r.c ?? 0), ram: Number(r.r ?? 0) };
  }

  async hostUsage(trx: Q = this.k): Promise<Map<string, HostUsage>> {
    const rows = await trx
      .selectFrom('compute_server')
      .select((eb) => [
        'host',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>('vcpus').as('c'),
        eb.fn.sum<number>('memory_mb').as('r'),
        eb.fn.sum<number>('disk_gb').as('d'),
      ])
      .where('deleted', '=', 0)
      .where('host', 'is not', null)
      .where('vm_state', '!=', 'shelved_offloaded')
      .groupBy('host')
      .execute();
    return new Map(
      rows.map((r) => [
        r.host as string,
        {
          host: r.host as string,
          count: Number(r.n),
          vcpus: Number(r.c ?? 0),
          memory_mb: Number(r.r ?? 0),
          disk_gb: Number(r.d ?? 0),
        },
      ]),
    );
  }

  /** Server groups a project owns. */
  async countServerGroups(projectId: string, trx: Q = this.k): Promise<number> {
    const r = await trx
      .selectFrom('compute_server_group')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Key pairs a user owns. */
  async countKeypairs(userId: string, trx: Q = this.k): Promise<number> {
    const r = await trx
      .selectFrom('compute_keypair')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  // ---------------------------------------------------------------- quota limits
  /** The limits set for the default class and for one project. */
  async quotaRows(projectId: string) {
    return this.k
      .selectFrom('compute_quota')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('scope', '=', 'class'), eb('owner', '=', 'default')]),
          eb.and([eb('scope', '=', 'project'), eb('owner', '=', projectId)]),
        ]),
      )
      .execute();
  }

  async classQuotaRows(name: string) {
    return this.k
      .selectFrom('compute_quota')
      .selectAll()
      .where('scope', '=', 'class')
      .where('owner', '=', name)
      .execute();
  }

  async setQuota(scope: 'project' | 'class', owner: string, values: Record<string, number>): Promise<void> {
    for (const [resource, hard] of Object.entries(values))
      await this.k
        .insertInto('compute_quota')
        .values({ scope, owner, resource, hard_limit: hard })
        .onConflict((oc) => oc.columns(['scope', 'owner', 'resource']).doUpdateSet({ hard_limit: hard }))
        .execute();
  }

  async deleteQuotas(projectId: string): Promise<void> {
    await this.k
      .deleteFrom('compute_quota')
      .where('scope', '=', 'project')
      .where('owner', '=', projectId)
      .execute();
  }
}
