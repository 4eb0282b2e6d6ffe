/** Glance's JSON-patch deserializer (images.py RequestDeserializer.update), both media types. */
import { ApiError, badRequest, forbidden } from '../../../core/errors.js';
import type { Change } from '../manager.js';
import { validateImage } from '../schemas.js';

export const PATCH_TYPES: Record<string, 4 | 10> = {
  'application/openstack-images-v2.0-json-patch': 4,
  'application/openstack-images-v2.1-json-patch': 10,
};
const OPS = ['add', 'remove', 'replace'] as const;
const READONLY = new Set([
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'id',
  'os_hash_algo',
  'os_hash_value',
  'stores',
]);
const RESERVED = new Set(['location', 'deleted', 'deleted_at']);
const DEPTH: Record<string, Record<string, number>> = { locations: { add: 2, remove: 2, replace: 1 } };

export function checkPatchContentType(contentType: string | undefined): 4 | 10 {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const draft = PATCH_TYPES[ct];
  if (draft) return draft;
  const allowed = Object.keys(PATCH_TYPES).sort().join(', ');
  throw new ApiError(415, `Image PATCH expects Content-Type one of: ${allowed}`, undefined, {
    'accept-patch': allowed,
  });
}

function decodePointer(pointer: unknown): string[] {
  if (typeof pointer !== 'string' || !pointer.startsWith('/'))
    throw badRequest(`Pointer \`${String(pointer)}\` does not start with "/".`);
  if (/\/\s*?\//.test(pointer.slice(1))) throw badRequest(`Pointer \`${pointer}\` contains adjacent "/".`);
  if (pointer.length > 1 && pointer.endsWith('/')) throw badRequest(`Pointer \`${pointer}\` end with "/".`);
  if (pointer.slice(1).trim() === '/')
    throw badRequest(`Pointer \`${pointer}\` does not contains valid token.`);
  if (/~[^01]/.test(pointer) || pointer.endsWith('~'))
    throw badRequest(`Pointer \`${pointer}\` contains "~" not part of a recognized escape sequence.`);
  return pointer
    .replace(/^\/+/, '')
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~').trim());
}

export function parsePatch(body: unknown, draft: 4 | 10): Change[] {
  if (body === undefined) throw badRequest('Body expected in request.');
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  const out: Change[] = [];
  for (const raw of body as unknown[]) {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw))
      throw badRequest('Operations must be JSON objects.');
    const r = raw as Record<string, unknown>;
    let op: Change['op'];
    let pointer: unknown;
    if (draft === 10) {
      if (r.op === undefined)
        throw badRequest(
          'Unable to find `op` in JSON Schema change. It must be one of the following: add, remove, replace.',
        );
      if (!OPS.includes(r.op as Change['op']))
        throw badRequest(
          `Invalid operation: \`${String(r.op)}\`. It must be one of the following: add, remove, replace.`,
        );
      op = r.op as Change['op'];
      if (!('path' in r)) throw badRequest("Unable to find 'path' in JSON Schema change");
      pointer = r.path;
    } else {
      const present = OPS.filter((k) => k in r);
      if (present.length > 1)
        throw badRequest(
          'Operation objects must contain only one member named "add", "remove", or "replace".',
        );
      if (present.length === 0)
        throw badRequest(
          'Operation objects must contain exactly one member named "add", "remove", or "replace".',
        );
      op = present[0]!;
      pointer = r[op];
    }
    const path = decodePointer(pointer);
    const root = path[0]!;
    if (path.length !== (DEPTH[root]?.[op] ?? 1))
      throw badRequest(`Invalid JSON pointer for this resource: '/${path.join('/')}'`);
    const change: Change = { op, path, draft };
    if (op !== 'remove') {
      if (!('value' in r)) throw badRequest(`Operation "${op}" requires a member named "value".`);
      change.value = r.value;
    }
    if (READONLY.has(root)) throw forbidden(`Attribute '${root}' is read-only.`);
    if (RESERVED.has(root) || root.startsWith('os_glance'))
      throw forbidden(`Attribute '${root}' is reserved.`);
    if (op !== 'remove' && path.length === 1) {
      const e = validateImage({ [root]: change.value });
      if (e) throw badRequest(`Provided object does not match schema 'image': ${e}`);
    }
    out.push(change);
  }
  return out;
}
