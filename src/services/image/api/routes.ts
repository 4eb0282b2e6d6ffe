/** Glance v2 routes (glance/api/v2/router.py): parse, call the manager, render Glance's views. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { callerOf, type Caller } from '../../../core/auth/caller.js';
import { ApiError, badRequest } from '../../../core/errors.js';
import type { PolicyEngine } from '../../../core/auth/policy.js';
import { validateCreateBody, type ImageManager } from '../manager.js';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from '../schemas.js';
import { imageView, memberView } from '../views.js';
import { checkPatchContentType, parsePatch } from './patch.js';
import { encodeParams, parseListQuery, queryPairs } from './query.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes image data: the body is handed over as a raw stream, never buffered. */
    imageData?: boolean;
  }
}

/** The rule for documents Glance serves to any authenticated user (schemas, info). */
export const DISCOVERY_RULE = 'image:discovery';
/** Import methods offered (web-download needs allowed hosts, none are configured). */
export const IMPORT_METHODS = ['glance-direct'];
const JSON_LIMIT = 1 << 20;

type P = Record<string, string>;
const params = (req: FastifyRequest) => req.params as P;

function versionDoc(req: FastifyRequest) {
  const href = `${req.protocol}://${req.host}/image/v2/`;
  const v = (id: string, status: string) => ({ id: `v${id}`, status, links: [{ rel: 'self', href }] });
  // Glance without image cache and with enabled_backends (one `file` store): versions.py Controller.index
  return {
    versions: [
      v('2.15', 'SUPPORTED'),
      ...['2.13', '2.12', '2.11', '2.10', '2.9', '2.8'].map((x) => v(x, 'SUPPORTED')),
      v('2.17', 'CURRENT'),
      ...['2.7', '2.6', '2.5', '2.4', '2.3', '2.2', '2.1', '2.0'].map((x) => v(x, 'SUPPORTED')),
    ],
  };
}

export function imageRoutes(app: FastifyInstance, mgr: ImageManager, policy: PolicyEngine): void {
  const caller = (req: FastifyRequest): Caller => callerOf(req.auth, policy, req.id);
  const view = (req: FastifyRequest, img: Parameters<typeof imageView>[0]) =>
    imageView(img, { showLocations: caller(req).isAdmin, storeId: mgr.driver.id });

  // Bodies: JSON whatever the content type (Glance's JSONRequestDeserializer ignores it), except on
  // data routes where the raw request stream goes to the handler untouched.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (req, payload, done) => {
    if (req.routeOptions.config?.imageData) return done(null, payload);
    const chunks: Buffer[] = [];
    let n = 0;
    let failed = false;
    payload.on('data', (c: Buffer) => {
      if (failed) return;
      n += c.length;
      if (n > JSON_LIMIT) {
        failed = true;
        done(new ApiError(413, 'Request is too large.'), undefined);
        return;
      }
      chunks.push(c);
    });
    payload.on('error', (e) => {
      if (!failed) done(e, undefined);
      failed = true;
    });
    payload.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        done(badRequest('Malformed JSON in request body.'), undefined);
      }
    });
  });
  // An early refusal on a data route must not make us read (or the client send) gigabytes.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.routeOptions.config?.imageData && reply.statusCode >= 400 && !req.raw.readableEnded)
      reply.header('connection', 'close');
    return payload;
  });

  const declaredSize = (req: FastifyRequest): number | undefined => {
    const h = req.headers['x-openstack-image-size'] ?? req.headers['content-length'];
    if (h === undefined) return undefined;
    if (typeof h !== 'string' || !/^\s*\d+\s*$/.test(h))
      throw badRequest('Invalid or missing image size in request headers.');
    return Number.parseInt(h, 10);
  };

  // ------------------------------------------------------------------ versions
  app.get('/', { config: { public: true } }, async (req, reply) => {
    reply.code(300);
    return versionDoc(req);
  });
  app.get('/versions', { config: { public: true } }, async (req) => versionDoc(req));

  // ------------------------------------------------------------------ schemas and info
  const doc = { config: { policy: DISCOVERY_RULE } };
  app.get('/v2/schemas/image', doc, async () => imageSchema());
  app.get('/v2/schemas/images', doc, async () => imagesSchema());
  app.get('/v2/schemas/member', doc, async () => memberSchema());
  app.get('/v2/schemas/members', doc, async () => membersSchema());
  app.get('/v2/info/import', doc, async () => ({
    'import-methods': { description: 'Import methods available.', type: 'array', value: IMPORT_METHODS },
  }));
  const storeInfo = () => ({ id: mgr.driver.id, description: mgr.driver.description, default: 'true' });
  app.get('/v2/info/stores', doc, async () => ({ stores: [storeInfo()] }));
  app.get('/v2/info/stores/detail', { config: { policy: 'stores_info_detail' } }, async (req) => {
    const c = caller(req);
    if (!policy.check('stores_info_detail', {}, c.creds))
      throw new ApiError(403, 'You are not authorized to complete stores_info_detail action.');
    return {
      stores: [{ ...storeInfo(), type: mgr.driver.type, properties: mgr.driver.properties(), weight: 0 }],
    };
  });

  // ------------------------------------------------------------------ images
  app.get('/v2/images', { config: { policy: 'get_images' } }, async (req) => {
    const q = parseListQuery(req.url);
    const { images, nextMarker } = await mgr.list(caller(req), q);
    const pairs = queryPairs(req.url);
    const first = new URLSearchParams(encodeParams(pairs, ['marker'])).toString();
    const body: Record<string, unknown> = {
      images: images.map((i) => view(req, i)),
      first: first ? `/v2/images?${first}` : '/v2/images',
      schema: '/v2/schemas/images',
    };
    if (nextMarker)
      body.next = `/v2/images?${new URLSearchParams([...encodeParams(pairs, ['marker']), ['marker', nextMarker]]).toString()}`;
    return body;
  });

  app.post('/v2/images', { config: { policy: 'add_image' } }, async (req, reply) => {
    const body = validateCreateBody(req.body);
    const img = await mgr.create(caller(req), body);
    reply.code(201);
    reply.header('location', `${req.protocol}://${req.host}/image/v2/images/${img.id}`);
    reply.header('openstack-image-import-methods', IMPORT_METHODS.join(','));
    reply.header('openstack-image-store-ids', mgr.driver.id);
    return view(req, img);
  });

  app.get('/v2/images/:image_id', { config: { policy: 'get_image' } }, async (req) => {
    const c = caller(req);
    const img = await mgr.lookup(params(req).image_id!, c);
    mgr.enforce('get_image', img, c);
    return view(req, img);
  });

  app.patch('/v2/images/:image_id', { config: { policy: 'modify_image' } }, async (req) => {
    const draft = checkPatchContentType(req.headers['content-type']);
    const changes = parsePatch(req.body, draft);
    return view(req, await mgr.update(caller(req), params(req).image_id!, changes));
  });

  app.delete('/v2/images/:image_id', { config: { policy: 'delete_image' } }, async (req, reply) => {
    await mgr.delete(caller(req), params(req).image_id!);
    return reply.code(204).send();
  });

  // ------------------------------------------------------------------ data
  app.put(
    '/v2/images/:image_id/file',
    { config: { policy: 'upload_image', imageData: true } },
    async (req, reply) => {
      const size = declaredSize(req);
      await mgr.upload(caller(req), params(req).image_id!, bodyStream(req), size);
      return reply.code(204).send();
    },
  );

  app.get('/v2/images/:image_id/file', { config: { policy: 'download_image' } }, async (req, reply) => {
    const range = req.headers.range;
    const r = await mgr.download(
      caller(req),
      params(req).image_id!,
      typeof range === 'string' ? range : undefined,
    );
    reply.code(r.status);
    for (const [k, v] of Object.entries(r.headers)) reply.header(k, v);
    if (!r.stream) return reply.send();
    return reply.send(r.stream);
  });

  app.put(
    '/v2/images/:image_id/stage',
    { config: { policy: 'modify_image', imageData: true } },
    async (req, reply) => {
      const size = declaredSize(req);
      await mgr.stage(caller(req), params(req).image_id!, bodyStream(req), size);
      return reply.code(204).send();
    },
  );

  app.post('/v2/images/:image_id/import', { config: { policy: 'modify_image' } }, async (req, reply) => {
    const body = req.body as Record<string, any> | undefined;
    if (body === undefined) throw badRequest('Body expected in request.');
    if (!body || typeof body !== 'object' || Array.isArray(body) || !('method' in body))
      throw badRequest("Import request requires a 'method' field.");
    const method = body.method;
    if (!method || typeof method !== 'object' || !('name' in method))
      throw badRequest("Import request requires a 'name' field.");
    if (method.name === 'web-download')
      throw badRequest(
        "Import method 'web-download' is not available at this site: no allowed hosts are configured for downloading images. Upload the data with the 'glance-direct' method (PUT /v2/images/{image_id}/stage) instead.",
      );
    if (!IMPORT_METHODS.includes(method.name))
      throw badRequest(`Unknown import method name '${String(method.name)}'.`);
    if ('all_stores_must_succeed' in body && typeof body.all_stores_must_succeed !== 'boolean')
      throw badRequest("'all_stores_must_succeed' must be boolean value only");
    if ('all_stores' in body && typeof body.all_stores !== 'boolean')
      throw badRequest("'all_stores' must be boolean value only");
    await mgr.importImage(caller(req), params(req).image_id!, body);
    return reply.code(202).send();
  });

  // ------------------------------------------------------------------ actions and tags
  for (const action of ['deactivate', 'reactivate'] as const)
    app.post(`/v2/images/:image_id/actions/${action}`, { config: { policy: action } }, async (req, reply) => {
      await mgr.setActive(caller(req), params(req).image_id!, action);
      return reply.code(204).send();
    });

  app.put(
    '/v2/images/:image_id/tags/:tag_value',
    { config: { policy: 'modify_image' } },
    async (req, reply) => {
      await mgr.addTag(caller(req), params(req).image_id!, params(req).tag_value!);
      return reply.code(204).send();
    },
  );
  app.delete(
    '/v2/images/:image_id/tags/:tag_value',
    { config: { policy: 'modify_image' } },
    async (req, reply) => {
      await mgr.deleteTag(caller(req), params(req).image_id!, params(req).tag_value!);
      return reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ members
  app.get('/v2/images/:image_id/members', { config: { policy: 'get_members' } }, async (req) => {
    const members = await mgr.listMembers(caller(req), params(req).image_id!);
    return { members: members.map(memberView), schema: '/v2/schemas/members' };
  });
  app.post('/v2/images/:image_id/members', { config: { policy: 'add_member' } }, async (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (body === undefined) throw badRequest('Body expected in request.');
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('Expected a member in the form: {"member": "image_id"}');
    if (!('member' in body)) throw badRequest('Member to be added not specified');
    if (!body.member) throw badRequest("Member can't be empty");
    if (typeof body.member !== 'string' || body.member.length > 255)
      throw badRequest('Expected a member in the form: {"member": "image_id"}');
    return memberView(await mgr.addMember(caller(req), params(req).image_id!, body.member));
  });
  app.get('/v2/images/:image_id/members/:member_id', { config: { policy: 'get_member' } }, async (req) =>
    memberView(await mgr.getMember(caller(req), params(req).image_id!, params(req).member_id!)),
  );
  app.put('/v2/images/:image_id/members/:member_id', { config: { policy: 'modify_member' } }, async (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (body === undefined) throw badRequest('Body expected in request.');
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('Expected a status in the form: {"status": "status"}');
    if (!('status' in body)) throw badRequest('Status not specified');
    return memberView(
      await mgr.updateMember(caller(req), params(req).image_id!, params(req).member_id!, body.status),
    );
  });
  app.delete(
    '/v2/images/:image_id/members/:member_id',
    { config: { policy: 'delete_member' } },
    async (req, reply) => {
      await mgr.deleteMember(caller(req), params(req).image_id!, params(req).member_id!);
      return reply.code(204).send();
    },
  );

  // ------------------------------------------------------------------ 405 for known paths (router.py reject)
  const ALL = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  const allowed: [string, string[]][] = [
    ['/v2/schemas/image', ['GET']],
    ['/v2/schemas/images', ['GET']],
    ['/v2/schemas/member', ['GET']],
    ['/v2/schemas/members', ['GET']],
    ['/v2/info/import', ['GET']],
    ['/v2/info/stores', ['GET']],
    ['/v2/info/stores/detail', ['GET']],
    ['/v2/images', ['GET', 'POST']],
    ['/v2/images/:image_id', ['GET', 'PATCH', 'DELETE']],
    ['/v2/images/:image_id/file', ['GET', 'PUT']],
    ['/v2/images/:image_id/stage', ['PUT']],
    ['/v2/images/:image_id/import', ['POST']],
    ['/v2/images/:image_id/actions/deactivate', ['POST']],
    ['/v2/images/:image_id/actions/reactivate', ['POST']],
    ['/v2/images/:image_id/tags/:tag_value', ['PUT', 'DELETE']],
    ['/v2/images/:image_id/members', ['GET', 'POST']],
    ['/v2/images/:image_id/members/:member_id', ['GET', 'PUT', 'DELETE']],
  ];
  for (const [url, methods] of allowed) {
    const others = ALL.filter((m) => !methods.includes(m) && !(m === 'HEAD' && methods.includes('GET')));
    app.route({
      method: [...others],
      url,
      config: { policy: DISCOVERY_RULE },
      handler: async (req: FastifyRequest, reply: FastifyReply) => {
        reply.header('allow', methods.join(', '));
        throw new ApiError(405, `The method ${req.method} is not allowed for this resource.`, undefined, {
          allow: methods.join(', '),
        });
      },
    });
  }
}

function bodyStream(req: FastifyRequest): Readable {
  const b = req.body as Readable | undefined;
  if (b && typeof (b as Readable).pipe === 'function') return b;
  // no body at all (no content-type, no length): an empty stream
  return req.raw;
}
