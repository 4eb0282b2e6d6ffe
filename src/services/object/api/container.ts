/** Container: PUT (create/update), POST (metadata), DELETE (empty only), GET (list objects), HEAD. */
import { checkMetadata, CONSTRAINTS, utf8Length } from '../constraints.js';
import { swiftError, swiftText } from '../faults.js';
import { projectOfAccount } from '../domain/access.js';
import { cleanAcl } from '../domain/acl.js';
import { checkQuotaHeaders } from '../domain/quotas.js';
import { formPost, isFormPost } from './formpost.js';
import { extractArchive } from './extract.js';
import { CONTENT_TYPES, list, listingFormat, listParams, renderListing, textOf } from '../domain/listing.js';
import { isoDate, normal, timestamp, httpDate } from '../domain/time.js';
import type { ContainerRow } from '../rows.js';
import {
  accountAcl,
  empty,
  header,
  parseMeta,
  sendHeaders,
  updateMeta,
  type Services,
  type SwiftRequest,
} from './common.js';

export const POLICY_NAME = 'Policy-0';
/** Owner-only container headers (keystoneauth strips them for everyone else). */
const OWNER_ONLY = new Set([
  'x-container-read',
  'x-container-write',
  'x-container-sync-key',
  'x-container-sync-to',
]);

function containerHeaders(r: SwiftRequest, s: Services, c: ContainerRow) {
  const reply = r.reply;
  reply.header('X-Container-Object-Count', String(c.object_count));
  reply.header('X-Container-Bytes-Used', String(c.bytes_used));
  reply.header('X-Timestamp', normal(c.created_at));
  reply.header('X-Put-Timestamp', normal(c.put_timestamp));
  reply.header('Last-Modified', httpDate(c.put_timestamp));
  reply.header('X-Storage-Policy', c.storage_policy);
  reply.header('Accept-Ranges', 'bytes');
  const owner = s.access.isOwner(r.who, r.account);
  sendHeaders(
    reply,
    parseMeta(c.meta),
    (k) => owner || (!OWNER_ONLY.has(k) && !k.startsWith('x-container-meta-temp-url-key')),
  );
}

/** Headers a container PUT/POST stores beside X-Container-Meta-*, each with its validation. */
function storedHeaders(r: SwiftRequest, s: Services): Record<string, (v: string) => string> {
  const owner = s.access.isOwner(r.who, r.account);
  const h: Record<string, (v: string) => string> = {
    'x-versions-location': (v) => versionsLocation('X-Versions-Location', v),
    'x-history-location': (v) => versionsLocation('X-History-Location', v),
  };
  if (owner) {
    h['x-container-read'] = (v) => cleanAcl('X-Container-Read', v);
    h['x-container-write'] = (v) => cleanAcl('X-Container-Write', v);
  }
  return h;
}

function versionsLocation(name: string, v: string): string {
  const loc = decodeURIComponent(v.replace(/^\/+/, ''));
  if (!loc || loc.includes('/')) throw swiftText(412, `${name} header must be of the form <container name>`);
  return loc;
}

function checkContainerName(name: string) {
  const len = utf8Length(name);
  if (len > CONSTRAINTS.max_container_name_length)
    throw swiftText(
      400,
      `Container name length of ${len} longer than ${CONSTRAINTS.max_container_name_length}`,
    );
}

export async function container(r: SwiftRequest, s: Services) {
  const { reply, method, account } = r;
  const name = r.container!;
  const readAcl = (c: ContainerRow | undefined) => ({
    kind: 'read' as const,
    value: c && parseMeta(c.meta)['x-container-read'],
    listing: true,
  });
  const acctAcl = accountAcl(s, account);
  if (isFormPost(r)) return formPost(r, s);
  if (method === 'PUT' && r.query.has('extract-archive')) return extractArchive(r, s);
  switch (method) {
    case 'HEAD':
    case 'GET': {
      const c = await s.mgr.container(account, name);
      await s.access.require(r.who, 'object-store:container:get', account, {
        acl: readAcl(c),
        accountAcl: acctAcl,
      });
      if (!c) throw swiftError(404);
      if (method === 'HEAD') {
        containerHeaders(r, s, c);
        return empty(reply, 204, 'text/plain; charset=utf-8');
      }
      const p = listParams(r.query, CONSTRAINTS.container_listing_limit);
      const fmt = listingFormat(r.query, r.req.headers.accept);
      const now = Date.now() / 1000;
      const entries = await list(p, (range) => s.mgr.listObjects(account, name, range, now));
      containerHeaders(r, s, c);
      reply.header('content-type', CONTENT_TYPES[fmt]);
      if (!entries.length && fmt === 'plain') return empty(reply, 204, CONTENT_TYPES.plain);
      return reply.code(200).send(
        renderListing(fmt, 'container', name, entries, (o) => [
          ['name', o.name],
          ['hash', o.etag],
          ['bytes', o.size],
          ['content_type', textOf(o.content_type)],
          ['last_modified', isoDate(o.timestamp)],
          ...((): [string, string][] => {
            const slo = parseMeta(o.meta)['x-object-sysmeta-slo-etag'];
            return slo ? [['slo_etag', `"${slo}"`]] : [];
          })(),
        ]),
      );
    }
    case 'PUT': {
      await s.access.require(r.who, 'object-store:container:put', account, { accountAcl: acctAcl });
      checkContainerName(name);
      checkMetadata(r.req.headers, 'container');
      checkQuotaHeaders(r.req.headers);
      const project = projectOfAccount(account);
      if (!project) throw swiftError(404);
      const policy = header(r.req, 'x-storage-policy');
      if (policy !== undefined && policy.toLowerCase() !== POLICY_NAME.toLowerCase())
        throw swiftText(400, `Invalid X-Storage-Policy '${policy}'`);
      if (r.req.headers['x-versions-location'] && r.req.headers['x-history-location'])
        throw swiftText(400, 'Only one of X-Versions-Location or X-History-Location may be specified');
      const extra = storedHeaders(r, s);
      const ts = timestamp();
      const meta = updateMeta(r.req, {}, 'container', extra);
      const created = await s.mgr.putContainer(
        {
          account,
          name,
          created_at: ts,
          put_timestamp: ts,
          storage_policy: POLICY_NAME,
          meta: JSON.stringify(meta),
        },
        project,
        (existing) => ({
          meta: JSON.stringify(updateMeta(r.req, parseMeta(existing.meta), 'container', extra)),
          put_timestamp: ts,
        }),
      );
      return empty(reply, created ? 201 : 202);
    }
    case 'POST': {
      await s.access.require(r.who, 'object-store:container:post', account, { accountAcl: acctAcl });
      checkMetadata(r.req.headers, 'container');
      checkQuotaHeaders(r.req.headers);
      if (r.req.headers['x-versions-location'] && r.req.headers['x-history-location'])
        throw swiftText(400, 'Only one of X-Versions-Location or X-History-Location may be specified');
      const extra = storedHeaders(r, s);
      const c = await s.mgr.updateContainer(account, name, (existing) => ({
        meta: JSON.stringify(updateMeta(r.req, parseMeta(existing.meta), 'container', extra)),
      }));
      if (!c) throw swiftError(404);
      return empty(reply, 204);
    }
    case 'DELETE': {
      await s.access.require(r.who, 'object-store:container:delete', account, { accountAcl: acctAcl });
      const res = await s.mgr.deleteContainer(account, name);
      if (res === 'missing') throw swiftError(404);
      if (res === 'not-empty') throw swiftError(409);
      return empty(reply, 204);
    }
    default:
      throw swiftError(405, { allow: 'HEAD, GET, PUT, POST, DELETE' });
  }
}
