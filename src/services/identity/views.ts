/** Row → Keystone JSON. Links are built from the address the client used. */
import type { FastifyRequest } from 'fastify';
import { bool, json } from '../../core/db/index.js';
import { isoMicro } from '../../core/ids.js';
import {
  GLOBAL_ROLE_DOMAIN,
  type AppCredRow,
  type CredentialRow,
  type EndpointRow,
  type GroupRow,
  type ProjectRow,
  type RegionRow,
  type RoleRow,
  type ServiceRow,
  type UserRow,
} from './store.js';

export function v3Base(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}/identity/v3`;
}

export function listLinks(req: FastifyRequest) {
  return { self: `${req.protocol}://${req.host}${req.url}`, previous: null, next: null };
}

const keystoneTime = (iso: string | null): string | null => (iso ? isoMicro(new Date(iso)) : null);

export function projectView(req: FastifyRequest, p: ProjectRow, tags: string[] = []) {
  return {
    id: p.id,
    name: p.name,
    domain_id: bool(p.is_domain) ? null : p.domain_id,
    description: p.description ?? '',
    enabled: bool(p.enabled),
    parent_id: p.parent_id,
    is_domain: bool(p.is_domain),
    tags,
    options: json(p.options, {}),
    ...json<Record<string, unknown>>(p.extra, {}),
    links: { self: `${v3Base(req)}/projects/${p.id}` },
  };
}

export function domainView(req: FastifyRequest, d: ProjectRow, tags: string[] = []) {
  return {
    id: d.id,
    name: d.name,
    description: d.description ?? '',
    enabled: bool(d.enabled),
    tags,
    options: json(d.options, {}),
    ...json<Record<string, unknown>>(d.extra, {}),
    links: { self: `${v3Base(req)}/domains/${d.id}` },
  };
}

export function userView(req: FastifyRequest, u: UserRow, passwordExpiresAt: string | null) {
  const extra = json<Record<string, unknown>>(u.extra, {});
  return {
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: bool(u.enabled),
    password_expires_at: passwordExpiresAt ? keystoneTime(passwordExpiresAt)!.replace(/Z$/, '') : null,
    options: json(u.options, {}),
    ...(u.default_project_id ? { default_project_id: u.default_project_id } : {}),
    ...(u.description !== null ? { description: u.description } : {}),
    ...(u.email !== null ? { email: u.email } : {}),
    ...extra,
    links: { self: `${v3Base(req)}/users/${u.id}` },
  };
}

export function groupView(req: FastifyRequest, g: GroupRow) {
  return {
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description ?? '',
    ...json<Record<string, unknown>>(g.extra, {}),
    links: { self: `${v3Base(req)}/groups/${g.id}` },
  };
}

export function roleView(req: FastifyRequest, r: RoleRow) {
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id === GLOBAL_ROLE_DOMAIN ? null : r.domain_id,
    description: r.description ?? null,
    options: json(r.options, {}),
    ...json<Record<string, unknown>>(r.extra, {}),
    links: { self: `${v3Base(req)}/roles/${r.id}` },
  };
}

export const roleRef = (req: FastifyRequest, r: RoleRow) => ({
  id: r.id,
  name: r.name,
  links: { self: `${v3Base(req)}/roles/${r.id}` },
});

export function regionView(req: FastifyRequest, r: RegionRow) {
  return {
    id: r.id,
    description: r.description ?? '',
    parent_region_id: r.parent_region_id,
    ...json<Record<string, unknown>>(r.extra, {}),
    links: { self: `${v3Base(req)}/regions/${r.id}` },
  };
}

export function serviceView(req: FastifyRequest, s: ServiceRow) {
  return {
    id: s.id,
    type: s.type,
    name: s.name ?? '',
    description: s.description ?? '',
    enabled: bool(s.enabled),
    ...json<Record<string, unknown>>(s.extra, {}),
    links: { self: `${v3Base(req)}/services/${s.id}` },
  };
}

export function endpointView(req: FastifyRequest, e: EndpointRow) {
  return {
    id: e.id,
    service_id: e.service_id,
    interface: e.interface,
    url: e.url,
    region_id: e.region_id,
    region: e.region_id,
    enabled: bool(e.enabled),
    ...json<Record<string, unknown>>(e.extra, {}),
    links: { self: `${v3Base(req)}/endpoints/${e.id}` },
  };
}

export function appCredView(
  req: FastifyRequest,
  a: AppCredRow,
  roles: { id: string; name: string; domain_id: string | null }[],
) {
  return {
    id: a.id,
    name: a.name,
    description: a.description ?? null,
    user_id: a.user_id,
    project_id: a.project_id,
    system: a.system,
    expires_at: keystoneTime(a.expires_at),
    unrestricted: bool(a.unrestricted),
    roles,
    access_rules: [],
    links: { self: `${v3Base(req)}/users/${a.user_id}/application_credentials/${a.id}` },
  };
}

export function credentialView(req: FastifyRequest, c: CredentialRow) {
  return {
    id: c.id,
    user_id: c.user_id,
    project_id: c.project_id,
    type: c.type,
    blob: c.blob,
    ...json<Record<string, unknown>>(c.extra, {}),
    links: { self: `${v3Base(req)}/credentials/${c.id}` },
  };
}
