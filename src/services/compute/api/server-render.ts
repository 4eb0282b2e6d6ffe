/** A server as the API renders it (show, update, rebuild): view context, tags, host status. */
import type { FastifyRequest } from 'fastify';
import type { Caller } from '../../../core/auth/caller.js';
import { bool } from '../../../core/db/index.js';
import type { ComputeManager } from '../manager/index.js';
import type { ServerRow } from '../rows.js';
import { serverView, type ViewCtx } from '../views.js';
import { callerOf, mv, viewCtx } from './common.js';

/** 2.16: the host status column, for callers the policy lets see it. */
export async function hostStatus(req: FastifyRequest, mgr: ComputeManager, v: ViewCtx, c: Caller) {
  if (!mv(req).ge(16) || !mgr.can('os_compute_api:servers:show:host_status', { project_id: c.projectId }, c))
    return;
  const hosts = new Map((await mgr.hosts()).map((h) => [h.name, h]));
  v.hostStatus = (name) => {
    const h = name ? hosts.get(name) : undefined;
    if (!h) return '';
    if (bool(h.forced_down)) return 'DOWN';
    if (!mgr.isUp(h)) return 'UNKNOWN';
    return h.enabled ? 'UP' : 'MAINTENANCE';
  };
}

/** One server, full view. */
export async function renderServer(
  req: FastifyRequest,
  mgr: ComputeManager,
  base: string,
  s: ServerRow,
  show = true,
  withHostStatus = true,
): Promise<Record<string, unknown>> {
  const c = callerOf(req, mgr);
  const v = viewCtx(req, mgr, base, c, { project_id: s.project_id });
  const tags = mv(req).ge(26) ? await mgr.tagsOf(s.id) : undefined;
  if (withHostStatus) await hostStatus(req, mgr, v, c);
  const volumes = (await mgr.serverVolumes(s.id)).map((x) => x.volumeId);
  return serverView(s, v, { tags, groups: s.server_group_id ? [s.server_group_id] : [], show, volumes });
}
