/** Account: GET (list containers), HEAD, POST (metadata); PUT and DELETE are 405 (no account management). */
import { CONSTRAINTS } from '../constraints.js';
import { swiftError } from '../faults.js';
import { projectOfAccount } from '../domain/access.js';
import { CONTENT_TYPES, list, listingFormat, listParams, renderListing } from '../domain/listing.js';
import { isoDate, normal, timestamp } from '../domain/time.js';
import { checkMetadata } from '../constraints.js';
import { cleanAccountAcl } from '../domain/account-acl.js';
import { checkQuotaHeaders } from '../domain/quotas.js';
import { bulkDelete } from './bulk.js';
import { extractArchive } from './extract.js';
import {
  accountAcl,
  empty,
  parseMeta,
  sendHeaders,
  updateMeta,
  type Services,
  type SwiftRequest,
} from './common.js';
import type { AccountRow } from '../rows.js';

/** The account's row, or the empty account keystoneauth's autocreate shows until its first container. */
async function accountOf(s: Services, account: string): Promise<AccountRow> {
  return (
    (await s.mgr.account(account)) ?? {
      account,
      project_id: projectOfAccount(account) ?? '',
      created_at: timestamp(),
      put_timestamp: timestamp(),
      meta: '{}',
      container_count: 0,
      object_count: 0,
      bytes_used: 0,
    }
  );
}

function accountHeaders(r: SwiftRequest, s: Services, a: AccountRow) {
  const reply = r.reply;
  reply.header('X-Account-Container-Count', String(a.container_count));
  reply.header('X-Account-Object-Count', String(a.object_count));
  reply.header('X-Account-Bytes-Used', String(a.bytes_used));
  reply.header('X-Account-Storage-Policy-Policy-0-Container-Count', String(a.container_count));
  reply.header('X-Account-Storage-Policy-Policy-0-Object-Count', String(a.object_count));
  reply.header('X-Account-Storage-Policy-Policy-0-Bytes-Used', String(a.bytes_used));
  reply.header('X-Timestamp', normal(a.created_at));
  reply.header('X-Put-Timestamp', normal(a.put_timestamp));
  const owner = s.access.isOwner(r.who, r.account);
  // Temp-URL keys and the account ACL are for the owner's eyes only (keystoneauth swift_owner).
  sendHeaders(
    reply,
    parseMeta(a.meta),
    (k) => owner || (!k.startsWith('x-account-meta-temp-url-key') && k !== 'x-account-access-control'),
  );
  reply.header('Accept-Ranges', 'bytes');
}

export async function account(r: SwiftRequest, s: Services) {
  const { reply, method } = r;
  if ((method === 'POST' || method === 'DELETE') && r.query.has('bulk-delete')) return bulkDelete(r, s);
  if (method === 'PUT' && r.query.has('extract-archive')) return extractArchive(r, s);
  switch (method) {
    case 'HEAD': {
      await s.access.require(r.who, 'object-store:account:get', r.account, {
        accountAcl: accountAcl(s, r.account),
      });
      accountHeaders(r, s, await accountOf(s, r.account));
      return empty(reply, 204, 'text/plain; charset=utf-8');
    }
    case 'GET': {
      await s.access.require(r.who, 'object-store:account:get', r.account, {
        accountAcl: accountAcl(s, r.account),
      });
      const p = listParams(r.query, CONSTRAINTS.account_listing_limit);
      const fmt = listingFormat(r.query, r.req.headers.accept);
      const a = await accountOf(s, r.account);
      const entries = await list(p, (range) => s.mgr.listContainers(r.account, range));
      accountHeaders(r, s, a);
      reply.header('content-type', CONTENT_TYPES[fmt]);
      if (!entries.length && fmt === 'plain') return empty(reply, 204, CONTENT_TYPES.plain);
      return reply.code(200).send(
        renderListing(fmt, 'account', r.account, entries, (c) => [
          ['name', c.name],
          ['count', c.object_count],
          ['bytes', c.bytes_used],
          ['last_modified', isoDate(c.put_timestamp)],
        ]),
      );
    }
    case 'POST': {
      await s.access.require(r.who, 'object-store:account:post', r.account, {
        accountAcl: accountAcl(s, r.account),
      });
      checkMetadata(r.req.headers, 'account');
      checkQuotaHeaders(r.req.headers);
      // account_quotas: only a reseller admin sets an account's quota.
      if (
        ('x-account-meta-quota-bytes' in r.req.headers ||
          'x-remove-account-meta-quota-bytes' in r.req.headers) &&
        !s.access.allowed(r.who, 'object-store:reseller_admin', r.account)
      )
        throw swiftError(403);
      const acl = cleanAccountAcl(r.req.headers['x-account-access-control']);
      const project = projectOfAccount(r.account);
      if (!project) throw swiftError(404);
      await s.mgr.updateAccountMeta(r.account, project, timestamp(), (m) => {
        const next = updateMeta(r.req, parseMeta(m), 'account');
        if (acl !== undefined) {
          if (acl === '') delete next['x-account-access-control'];
          else next['x-account-access-control'] = acl;
        }
        return JSON.stringify(next);
      });
      return empty(reply, 204);
    }
    default:
      reply.header('Allow', 'HEAD, GET, POST');
      throw swiftError(405, { allow: 'HEAD, GET, POST' });
  }
}
