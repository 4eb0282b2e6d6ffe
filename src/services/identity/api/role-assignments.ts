/** Role assignments (Keystone keystone/api/role_assignments.py). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest } from '../../../core/errors.js';
import { GLOBAL_ROLE_DOMAIN, type ProjectRow, type IdentityManager } from '../manager.js';
import { listLinks, v3Base } from '../views.js';
import { boolQuery, forcedDomain, one, q } from './common.js';

export function roleAssignmentRoutes(app: FastifyInstance, mgr: IdentityManager) {
  app.get('/v3/role_assignments', { config: { policy: 'identity:list_role_assignments' } }, async (req) => {
    const query = q(req);
    const forced = forcedDomain(req);
    req.authorize({ target: forced ? { domain_id: forced } : {} });
    const includeSubtree = boolQuery(query, 'include_subtree') ?? false;
    if (includeSubtree) {
      const pid = one(query, 'scope.project.id');
      if (!pid)
        throw badRequest('scope.project.id needs to be specified if include_subtree is also specified.');
      const p = await mgr.getProject(pid);
      req.authorize(
        { target: { project: { domain_id: p.domain_id } } },
        'identity:list_role_assignments_for_tree',
      );
    }
    return {
      role_assignments: await listAssignments(mgr, req, query, includeSubtree),
      links: listLinks(req),
    };
  });
}

/** GET /v3/role_assignments with Keystone's filters, `effective`, `include_names` and `include_subtree`. */
async function listAssignments(
  mgr: IdentityManager,
  req: FastifyRequest,
  query: Record<string, any>,
  includeSubtree: boolean,
) {
  const effective = boolQuery(query, 'effective') ?? false;
  const includeNames = boolQuery(query, 'include_names') ?? false;
  const userId = one(query, 'user.id');
  const groupId = one(query, 'group.id');
  const roleId = one(query, 'role.id');
  const projectId = one(query, 'scope.project.id');
  const domainId = one(query, 'scope.domain.id');
  const system = one(query, 'scope.system');
  const inheritedOnly = one(query, 'scope.OS-INHERIT:inherited_to') === 'projects';
  if (effective && groupId)
    throw badRequest('Combining effective and group filter will always result in an empty list.');
  if ((projectId || domainId) && system)
    throw badRequest('Specify a project, a domain or the system, not both.');

  const out = await mgr.listRoleAssignments({
    effective,
    userId,
    groupId,
    roleId,
    projectId,
    domainId,
    system: !!system,
    inheritedOnly,
    includeSubtree,
  });
  const base = v3Base(req);
  const names = includeNames ? await nameMaps(mgr) : undefined;
  const ref = (kind: 'user' | 'group' | 'project' | 'domain' | 'role', id: string) => {
    if (!names) return { id };
    const n = names[kind].get(id);
    if (!n) return { id };
    return n.domain ? { id, name: n.name, domain: n.domain } : { id, name: n.name };
  };
  return out.map((o) => {
    const scope = o.system
      ? { system: { all: true } }
      : o.project
        ? { project: ref('project', o.project) }
        : { domain: ref('domain', o.domain!) };
    if (o.inherited) (scope as Record<string, unknown>)['OS-INHERIT:inherited_to'] = 'projects';
    const scopePath = o.system ? 'system' : o.project ? `projects/${o.project}` : `domains/${o.domain}`;
    const actorPath = o.user && !o.viaGroup ? `users/${o.user}` : `groups/${o.group ?? o.viaGroup}`;
    const links: Record<string, string> = {
      assignment: `${base}/${o.inherited ? 'OS-INHERIT/' : ''}${scopePath}/${actorPath}/roles/${o.prior ?? o.role}${o.inherited ? '/inherited_to_projects' : ''}`,
    };
    if (o.viaGroup) links.membership = `${base}/groups/${o.viaGroup}/users/${o.user}`;
    if (o.prior) links.prior_role = `${base}/roles/${o.prior}`;
    return {
      role: ref('role', o.role),
      ...(o.user ? { user: ref('user', o.user) } : { group: ref('group', o.group!) }),
      scope,
      links,
    };
  });
}

async function nameMaps(mgr: IdentityManager) {
  const s = mgr.store;
  const domains = new Map((await s.listProjects({ isDomain: true })).map((d) => [d.id, d]));
  const dref = (id: string) => ({ id, name: domains.get(id)?.name ?? id });
  type N = Map<string, { name: string; domain?: { id: string; name: string } }>;
  const project: N = new Map(
    (await s.listProjects({ isDomain: false })).map((p: ProjectRow) => [
      p.id,
      { name: p.name, domain: dref(p.domain_id) },
    ]),
  );
  const domain: N = new Map([...domains.values()].map((d) => [d.id, { name: d.name }]));
  const user: N = new Map(
    (await s.listUsers({})).map((u) => [u.id, { name: u.name, domain: dref(u.domain_id) }]),
  );
  const group: N = new Map(
    (await s.listGroups({})).map((g) => [g.id, { name: g.name, domain: dref(g.domain_id) }]),
  );
  const role: N = new Map(
    (await s.listRoles()).map((r) => [
      r.id,
      r.domain_id === GLOBAL_ROLE_DOMAIN ? { name: r.name } : { name: r.name, domain: dref(r.domain_id) },
    ]),
  );
  return { project, domain, user, group, role };
}
