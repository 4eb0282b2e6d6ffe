/** Rows → Glance JSON (glance/api/v2/images.py ResponseSerializer._format_image, image_members.py). */
import { bool } from '../../core/db/index.js';
import type { Image, MemberRow } from './store.js';

/** Properties Glance never shows (ResponseSerializer._hidden_properties). */
const HIDDEN = new Set(['os_glance_stage_host', 'os_glance_hash_op_host']);

export function imageView(img: Image, opts: { showLocations: boolean; storeId: string }) {
  const view: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(img.properties)) if (!HIDDEN.has(k)) view[k] = v;
  Object.assign(view, {
    name: img.name,
    disk_format: img.disk_format,
    container_format: img.container_format,
    visibility: img.visibility,
    size: img.size,
    virtual_size: img.virtual_size,
    status: img.status,
    checksum: img.checksum,
    protected: bool(img.protected),
    min_ram: img.min_ram,
    min_disk: img.min_disk,
    owner: img.owner,
    os_hidden: bool(img.os_hidden),
    os_hash_algo: img.os_hash_algo,
    os_hash_value: img.os_hash_value,
    id: img.id,
    created_at: img.created_at,
    updated_at: img.updated_at,
  });
  if (opts.showLocations) {
    view.locations = img.location ? [{ url: img.location, metadata: { store: opts.storeId } }] : [];
    if (img.location) view.direct_url = img.location;
  }
  view.tags = [...img.tags];
  view.self = `/v2/images/${img.id}`;
  view.file = `/v2/images/${img.id}/file`;
  view.schema = '/v2/schemas/image';
  if (img.location) view.stores = opts.storeId;
  return view;
}

export function memberView(m: MemberRow) {
  return {
    member_id: m.member,
    image_id: m.image_id,
    status: m.status,
    created_at: m.created_at,
    updated_at: m.updated_at,
    schema: '/v2/schemas/member',
  };
}
