/** Grants on projects, domains (inherited too) and the system (Keystone keystone/api/projects.py, domains.py, system.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bool } from '../../../core/db/index.js';
import {
  GLOBAL_ROLE_DOMAIN,
  type AssignmentRow,
  type AssignmentType,
  type RoleRow,
  type IdentityManager,
} from '../manager.js';
import { listLinks, roleView } from '../views.js';
import { noContent, params } from './common.js';

export function grantRoutes(app: FastifyInstance, mgr: IdentityManager) {
  const store = mgr.store;
  const grantRoutesFor = (
    targetKind: 'projects' | 'domains',
    actorKind: 'users' | 'groups',
    inherited: boolean,
  ) => {
    const type =
      `${actorKind === 'users' ? 'User' : 'Group'}${targetKind === 'projects' ? 'Project' : 'Domain'}` as AssignmentType;
    const prefix = inherited ? '/v3/OS-INHERIT' : '/v3';
    const base = `${prefix}/${targetKind}/:target_id/${actorKind}/:actor_id/roles`;
    const suffix = inherited ? '/inherited_to_projects' : '';
    const target = async (req: FastifyRequest, role?: RoleRow) => {
      const p = params(req);
      const t: Record<string, unknown> = {};
      if (targetKind === 'projects') {
        const proj = await mgr.getProjectOrDomain(p.target_id!);
        t.project = { id: proj.id, domain_id: bool(proj.is_domain) ? proj.id : proj.domain_id };
      } else t.domain = { id: (await mgr.getDomain(p.target_id!)).id };
      if (actorKind === 'users') {
        const u = await mgr.getUser(p.actor_id!);
        t.user = { id: u.id, domain_id: u.domain_id };
      } else {
        const g = await mgr.getGroup(p.actor_id!);
        t.group = { id: g.id, domain_id: g.domain_id };
      }
      if (role)
        t.role = {
          id: role.id,
          name: role.name,
          domain_id: role.domain_id === GLOBAL_ROLE_DOMAIN ? null : role.domain_id,
        };
      return { target: t };
    };
    const row = (req: FastifyRequest): AssignmentRow => ({
      type,
      actor_id: params(req).actor_id!,
      target_id: params(req).target_id!,
      role_id: params(req).role_id!,
      inherited: inherited ? 1 : 0,
    });
    app.get(`${base}${suffix}`, { config: { policy: 'identity:list_grants' } }, async (req) => {
      req.authorize(await target(req));
      const rows = await store.assignments({
        types: [type],
        actorIds: [params(req).actor_id!],
        targetIds: [params(req).target_id!],
        inherited,
      });
      const roles = await store.listRoles({ ids: rows.map((r) => r.role_id) });
      return { roles: roles.map((r) => roleView(req, r)), links: listLinks(req) };
    });
    app.put(
      `${base}/:role_id${suffix}`,
      { config: { policy: 'identity:create_grant' } },
      async (req, reply) => {
        const role = await mgr.getRole(params(req).role_id!);
        req.authorize(await target(req, role));
        await mgr.grant(row(req));
        return noContent(reply);
      },
    );
    {
      app.route({
        method: ['GET', 'HEAD'],
        url: `${base}/:role_id${suffix}`,
        config: { policy: 'identity:check_grant' },
        handler: async (req, reply) => {
          const role = await mgr.getRole(params(req).role_id!);
          req.authorize(await target(req, role));
          await mgr.checkGrant(row(req));
          return noContent(reply);
        },
      });
    }
    app.delete(
      `${base}/:role_id${suffix}`,
      { config: { policy: 'identity:revoke_grant' } },
      async (req, reply) => {
        const role = await mgr.getRole(params(req).role_id!);
        req.authorize(await target(req, role));
        await mgr.revokeGrant(row(req));
        return noContent(reply);
      },
    );
  };
  for (const t of ['projects', 'domains'] as const)
    for (const a of ['users', 'groups'] as const) grantRoutesFor(t, a, false);
  grantRoutesFor('domains', 'users', true);
  grantRoutesFor('domains', 'groups', true);
  grantRoutesFor('projects', 'users', true);
  grantRoutesFor('projects', 'groups', true);

  // system grants
  for (const actorKind of ['users', 'groups'] as const) {
    const type = (actorKind === 'users' ? 'UserSystem' : 'GroupSystem') as AssignmentType;
    const k = actorKind === 'users' ? 'user' : 'group';
    const actor = async (req: FastifyRequest) =>
      actorKind === 'users' ? mgr.getUser(params(req).actor_id!) : mgr.getGroup(params(req).actor_id!);
    app.get(
      `/v3/system/${actorKind}/:actor_id/roles`,
      { config: { policy: `identity:list_system_grants_for_${k}` } },
      async (req) => {
        await actor(req);
        req.authorize();
        const rows = await store.assignments({
          types: [type],
          actorIds: [params(req).actor_id!],
          targetIds: ['system'],
        });
        return {
          roles: (await store.listRoles({ ids: rows.map((r) => r.role_id) })).map((r) => roleView(req, r)),
          links: listLinks(req),
        };
      },
    );
    const sysRow = (req: FastifyRequest): AssignmentRow => ({
      type,
      actor_id: params(req).actor_id!,
      target_id: 'system',
      role_id: params(req).role_id!,
      inherited: 0,
    });
    app.put(
      `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
      { config: { policy: `identity:create_system_grant_for_${k}` } },
      async (req, reply) => {
        await actor(req);
        req.authorize();
        await mgr.grant(sysRow(req));
        return noContent(reply);
      },
    );
    {
      app.route({
        method: ['GET', 'HEAD'],
        url: `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
        config: { policy: `identity:check_system_grant_for_${k}` },
        handler: async (req, reply) => {
          await actor(req);
          req.authorize();
          await mgr.checkGrant(sysRow(req));
          return noContent(reply);
        },
      });
    }
    app.delete(
      `/v3/system/${actorKind}/:actor_id/roles/:role_id`,
      { config: { policy: `identity:revoke_system_grant_for_${k}` } },
      async (req, reply) => {
        await actor(req);
        req.authorize();
        await mgr.revokeGrant(sysRow(req));
        return noContent(reply);
      },
    );
  }
}
