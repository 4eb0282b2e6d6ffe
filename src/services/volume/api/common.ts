/** What every block-storage route shares: the caller, the microversion, view context, list parameters. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { callerOf, type Caller } from '../../../core/auth/caller.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { ApiError } from '../../../core/errors.js';
import { lastParam, parseLimit, type Query } from '../../../core/http/collection.js';
import {
  parseApiVersion,
  versionHeaders,
  type ApiVersion,
  type VersionRange,
} from '../../../core/http/microversion.js';
import type { VolumeManager } from '../manager/index.js';
import type { ListQuery } from '../manager/common.js';
import type { ViewCtx } from '../views.js';
import type { VolumeDriver } from '../../../agent/volume/driver.js';
import type { VolumeOptions } from '../manager/common.js';

export const VERSIONS: VersionRange = { service: 'volume', major: 3, minMinor: 0, maxMinor: 70 };

/** What each route module gets. */
export interface Api {
  mgr: VolumeManager;
  policy: PolicyEngine;
  driver: VolumeDriver;
  opts: VolumeOptions;
}

export type P = Record<string, string>;
export const params = (req: FastifyRequest) => req.params as P;
export const query = (req: FastifyRequest) => req.query as Query;

const versions = new WeakMap<FastifyRequest, ApiVersion>();

/** Parse `OpenStack-API-Version: volume 3.x` on every request of the scope and echo it in the response. */
export function microversions(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    const v = parseApiVersion(req.headers, VERSIONS);
    versions.set(req, v);
    for (const [k, val] of Object.entries(versionHeaders('volume', v))) reply.header(k, val);
    // Cinder: a project id in the URL must be the token's (ProjectMapper + wsgi "Malformed request url").
    const pid = (req.params as P | undefined)?.project_id;
    if (pid !== undefined && req.auth?.projectId && pid !== req.auth.projectId)
      throw new ApiError(400, 'Malformed request url', 'badRequest');
  });
}

export function mv(req: FastifyRequest): ApiVersion {
  return versions.get(req) ?? parseApiVersion(req.headers, VERSIONS);
}

/** 404 for a resource that needs a later microversion than the request's (VersionNotFoundForAPIMethod). */
export function requireVersion(req: FastifyRequest, minor: number): void {
  if (mv(req).lt(minor))
    throw new ApiError(
      404,
      `API version ${mv(req).toString()} is not supported on this method.`,
      'itemNotFound',
    );
}

export function caller(req: FastifyRequest, policy: PolicyEngine): Caller {
  return callerOf(req.auth, policy, req.id);
}

export function viewCtx(req: FastifyRequest, api: Api, c: Caller = caller(req, api.policy)): ViewCtx {
  const t = { project_id: c.projectId };
  const check = (rule: string) => api.policy.check(rule, t, c.creds);
  return {
    caller: c,
    mv: mv(req),
    base: `${req.protocol}://${req.host}/volume/v3`,
    show: {
      host: check('volume_extension:volume_host_attribute'),
      tenant: check('volume_extension:volume_tenant_attribute'),
      migration: check('volume_extension:volume_mig_status_attribute'),
      imageMetadata: check('volume_extension:volume_image_metadata:show'),
    },
  };
}

/** The object under `key` in the body (400 in Cinder's words when it is missing). */
export function bodyOf(req: FastifyRequest, key: string): Record<string, any> {
  const b = req.body as Record<string, unknown> | undefined;
  const v = b?.[key];
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new ApiError(400, `Missing required element '${key}' in request body.`, 'badRequest');
  return v as Record<string, any>;
}

export const isTrue = (v: string | undefined) =>
  v !== undefined && ['1', 'true', 't', 'yes', 'y', 'on'].includes(v.toLowerCase());

/** `limit`, `marker`, `offset`, `sort` / `sort_key` + `sort_dir`, and filters (exact; `name~` like from 3.34). */
export function listQuery(
  req: FastifyRequest,
  o: { sortable: Set<string>; filters: Set<string>; rename?: Record<string, string>; maxLimit: number },
): { q: ListQuery; marker?: string; allTenants: boolean; withCount: boolean } {
  const qs = query(req);
  const limit = parseLimit(lastParam(qs, 'limit'), {
    max: o.maxLimit,
    invalid: () =>
      new ApiError(400, 'Invalid input received: limit must be a non-negative integer.', 'badRequest'),
  });
  const offRaw = lastParam(qs, 'offset');
  if (offRaw !== undefined && !/^\d{1,9}$/.test(offRaw))
    throw new ApiError(400, 'Invalid input received: offset must be a non-negative integer.', 'badRequest');
  const sort: ListQuery['sort'] = [];
  const sortParam = lastParam(qs, 'sort');
  const keyParam = lastParam(qs, 'sort_key');
  const dirParam = lastParam(qs, 'sort_dir');
  if (sortParam && (keyParam || dirParam))
    throw new ApiError(
      400,
      "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used with the 'sort' parameter.",
      'badRequest',
    );
  const pairs = sortParam
    ? sortParam.split(',').map((s) => s.trim().split(':') as [string, string?])
    : keyParam
      ? keyParam
          .split(',')
          .map((k, i) => [k.trim(), dirParam?.split(',')[i]?.trim() ?? dirParam] as [string, string?])
      : [['created_at', 'desc'] as [string, string?]];
  for (const [rawKey, rawDir] of pairs) {
    const key = o.rename?.[rawKey] ?? rawKey;
    if (!o.sortable.has(key))
      throw new ApiError(
        400,
        `Invalid input received: Invalid sort key ${rawKey.slice(0, 50)}`,
        'badRequest',
      );
    const dir = (rawDir ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc')
      throw new ApiError(
        400,
        `Invalid input received: Invalid sort direction ${dir.slice(0, 20)}`,
        'badRequest',
      );
    if (key !== 'id') sort.push({ key, dir });
  }
  const eq: Record<string, string | number> = {};
  const like: Record<string, string> = {};
  let metadata: Record<string, string> = {};
  const version = mv(req);
  for (const [k, v] of Object.entries(qs)) {
    if (
      [
        'limit',
        'marker',
        'offset',
        'sort',
        'sort_key',
        'sort_dir',
        'all_tenants',
        'with_count',
        'is_public',
      ].includes(k)
    )
      continue;
    const value = Array.isArray(v) ? v.at(-1)! : v!;
    if (k === 'metadata') {
      try {
        const parsed = JSON.parse(value.replace(/'/g, '"')) as unknown;
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
          metadata = Object.fromEntries(Object.entries(parsed).map(([a, b]) => [a, String(b)]));
      } catch {
        throw new ApiError(400, 'Invalid input received: metadata must be a JSON object.', 'badRequest');
      }
      continue;
    }
    const isLike = k.endsWith('~');
    const base = o.rename?.[isLike ? k.slice(0, -1) : k] ?? (isLike ? k.slice(0, -1) : k);
    if (!o.filters.has(base)) continue; // Cinder ignores filters it does not know (with a log line)
    if (isLike) {
      if (version.ge(34)) like[base] = value;
    } else if (base === 'bootable') eq[base] = isTrue(value) ? 1 : 0;
    else if (base === 'size') eq[base] = Number(value);
    else eq[base] = value;
  }
  return {
    q: { eq, like, metadata, sort, limit, offset: offRaw ? Number(offRaw) : undefined },
    marker: lastParam(qs, 'marker'),
    allTenants: isTrue(lastParam(qs, 'all_tenants')),
    withCount: version.ge(45) && isTrue(lastParam(qs, 'with_count')),
  };
}

/** What the metadata-item routes need of a resource's manager (volumes and snapshots alike). */
interface MetadataOwner {
  metadata(c: Caller, id: string): Promise<Record<string, string>>;
  setMetadata(c: Caller, id: string, md: Record<string, string>, replace: boolean): Promise<unknown>;
  deleteMetadata(c: Caller, id: string, key: string): Promise<void>;
}

/**
 * GET/PUT/DELETE `<collection>/:<param>/metadata/:key`, as Cinder serves them for volumes and snapshots.
 * `label` names the resource in the 404 ("Volume", "Snapshot"); `policy` the rule prefix's suffix.
 */
export function metadataItemRoutes(
  app: FastifyInstance,
  api: Api,
  o: {
    collection: string;
    param: string;
    label: string;
    owner: MetadataOwner;
    policies: { get: string; update: string; delete: string };
    itemBody: unknown;
  },
): void {
  const url = `/${o.collection}/:${o.param}/metadata/:key`;
  const id = (req: FastifyRequest) => params(req)[o.param]!;
  app.get(url, { config: { policy: o.policies.get } }, async (req) => {
    const md = await o.owner.metadata(caller(req, api.policy), id(req));
    const key = params(req).key!;
    if (!(key in md))
      throw new ApiError(
        404,
        `${o.label} ${id(req)} has no metadata with key ${key.slice(0, 255)}.`,
        'itemNotFound',
      );
    return { meta: { [key]: md[key] } };
  });
  app.put(
    url,
    { config: { policy: o.policies.update }, schema: { body: o.itemBody as object } },
    async (req) => {
      const key = params(req).key!;
      const meta = (req.body as { meta: Record<string, string> }).meta;
      if (!(key in meta)) throw new ApiError(400, 'Request body and URI mismatch', 'badRequest');
      await o.owner.setMetadata(caller(req, api.policy), id(req), { [key]: meta[key]! }, false);
      return { meta: { [key]: meta[key] } };
    },
  );
  app.delete(url, { config: { policy: o.policies.delete } }, async (req, reply) => {
    await o.owner.deleteMetadata(caller(req, api.policy), id(req), params(req).key!);
    return reply.code(200).send();
  });
}
