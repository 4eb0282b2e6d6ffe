/** Instance actions and their events (os-instance-actions). */
import type { ActionRow, EventRow } from '../rows.js';
import { ServerStore } from './servers.js';

export class ActionStore extends ServerStore {
  async startAction(
    a: Omit<ActionRow, 'id' | 'updated_at'>,
    event?: string,
    host?: string | null,
  ): Promise<void> {
    const r = await this.k
      .insertInto('compute_action')
      .values({ ...a, updated_at: a.start_time })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (event)
      await this.k
        .insertInto('compute_action_event')
        .values({
          action_id: r.id,
          event,
          host: host ?? null,
          start_time: a.start_time,
          result: null,
          traceback: null,
          details: null,
          finish_time: null,
        })
        .execute();
  }

  async finishEvent(
    serverId: string,
    requestId: string,
    event: string,
    host: string,
    result: 'Success' | 'Error',
    now: string,
    traceback?: string,
    details?: string,
    message?: string,
  ): Promise<void> {
    const a = await this.action(serverId, requestId);
    if (!a) return;
    const ev = await this.k
      .selectFrom('compute_action_event')
      .selectAll()
      .where('action_id', '=', a.id)
      .where('event', '=', event)
      .where('finish_time', 'is', null)
      .executeTakeFirst();
    if (ev)
      await this.k
        .updateTable('compute_action_event')
        .set({ result, finish_time: now, traceback: traceback ?? null, details: details ?? null, host })
        .where('id', '=', ev.id)
        .execute();
    else
      await this.k
        .insertInto('compute_action_event')
        .values({
          action_id: a.id,
          event,
          host,
          result,
          traceback: traceback ?? null,
          details: details ?? null,
          start_time: now,
          finish_time: now,
        })
        .execute();
    await this.k
      .updateTable('compute_action')
      .set({ updated_at: now, ...(result === 'Error' ? { message: message ?? 'Error' } : {}) })
      .where('id', '=', a.id)
      .execute();
  }

  /** The latest (or first) action of a server with this request id. */
  async action(serverId: string, requestId: string, latest = true): Promise<ActionRow | undefined> {
    return this.k
      .selectFrom('compute_action')
      .selectAll()
      .where('server_id', '=', serverId)
      .where('request_id', '=', requestId)
      .orderBy('id', latest ? 'desc' : 'asc')
      .executeTakeFirst();
  }

  /** The request id of a server's latest action. */
  async lastRequestId(serverId: string): Promise<string | undefined> {
    const a = await this.k
      .selectFrom('compute_action')
      .select('request_id')
      .where('server_id', '=', serverId)
      .orderBy('id', 'desc')
      .executeTakeFirst();
    return a?.request_id;
  }

  /** A server's actions, newest first; `before`: only actions older than that one (a marker). */
  async actions(serverId: string, o: { before?: number; limit?: number } = {}): Promise<ActionRow[]> {
    let q = this.k
      .selectFrom('compute_action')
      .selectAll()
      .where('server_id', '=', serverId)
      .orderBy('id', 'desc');
    if (o.before !== undefined) q = q.where('id', '<', o.before);
    if (o.limit !== undefined) q = q.limit(o.limit);
    return q.execute();
  }

  async events(actionId: number): Promise<EventRow[]> {
    return this.k
      .selectFrom('compute_action_event')
      .selectAll()
      .where('action_id', '=', actionId)
      .orderBy('id')
      .execute();
  }
}
