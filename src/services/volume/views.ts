/** Cinder's response dictionaries (cinder/api/v3/views/*.py), by microversion and by who asks. */
import type { Caller } from '../../core/auth/caller.js';
import { bool, json } from '../../core/db/index.js';
import type { ApiVersion } from '../../core/http/microversion.js';
import type { AttachmentRow, SnapshotRow, TransferRow, TypeRow, VolumeRow } from './store.js';

export interface ViewCtx {
  caller: Caller;
  mv: ApiVersion;
  /** Base URL of the API (`http://host/volume/v3`), for links. */
  base: string;
  /** Extra attributes the caller's policy shows. */
  show: { host: boolean; tenant: boolean; migration: boolean; imageMetadata: boolean };
}

const links = (ctx: ViewCtx, kind: string, id: string, projectId: string) => [
  { rel: 'self', href: `${ctx.base}/${projectId}/${kind}/${id}` },
  { rel: 'bookmark', href: `${ctx.base.replace(/\/v3$/, '')}/${projectId}/${kind}/${id}` },
];

export function volumeSummaryView(ctx: ViewCtx, v: VolumeRow) {
  return { id: v.id, name: v.name, links: links(ctx, 'volumes', v.id, v.project_id) };
}

export function volumeView(
  ctx: ViewCtx,
  v: VolumeRow,
  o: { metadata: Record<string, string>; attachments: AttachmentRow[]; type?: TypeRow },
) {
  const admin = ctx.caller.isAdmin || ctx.caller.roles.includes('service');
  const out: Record<string, unknown> = {
    id: v.id,
    status: v.status,
    size: v.size,
    availability_zone: v.availability_zone,
    created_at: v.created_at,
    updated_at: v.updated_at,
    name: v.name,
    description: v.description,
    volume_type: ctx.mv.ge(63) ? (o.type?.name ?? null) : (o.type?.name ?? v.volume_type_id),
    snapshot_id: v.snapshot_id,
    source_volid: v.source_volid,
    metadata: o.metadata,
    links: links(ctx, 'volumes', v.id, v.project_id),
    user_id: v.user_id,
    bootable: bool(v.bootable) ? 'true' : 'false',
    encrypted: false,
    replication_status: null,
    consistencygroup_id: null,
    multiattach: bool(v.multiattach),
    attachments: o.attachments
      .filter((a) => a.attach_status === 'attached')
      .map((a) => ({
        id: a.volume_id,
        attachment_id: a.id,
        volume_id: a.volume_id,
        server_id: a.instance_uuid,
        host_name: admin ? a.attached_host : null,
        device: a.mountpoint,
        attached_at: a.attach_time,
      })),
  };
  if (ctx.caller.isAdmin) out.migration_status = v.migration_status;
  if (ctx.show.host) out['os-vol-host-attr:host'] = v.host;
  if (ctx.show.migration) {
    out['os-vol-mig-status-attr:migstat'] = v.migration_status;
    out['os-vol-mig-status-attr:name_id'] = null;
  }
  if (ctx.show.tenant) out['os-vol-tenant-attr:tenant_id'] = v.project_id;
  const im = json<Record<string, string>>(v.image_metadata, {});
  if (ctx.show.imageMetadata && Object.keys(im).length) out.volume_image_metadata = im;
  if (ctx.mv.ge(13)) out.group_id = null;
  if (ctx.mv.ge(21) && ctx.caller.isAdmin) out.provider_id = null;
  if (ctx.mv.ge(48)) {
    out.shared_targets = ctx.mv.ge(69) ? null : false;
    if (ctx.caller.isAdmin) out.service_uuid = null;
  }
  if (ctx.mv.ge(61) && ctx.caller.isAdmin) out.cluster_name = null;
  if (ctx.mv.ge(63)) out.volume_type_id = v.volume_type_id;
  if (ctx.mv.ge(65)) out.consumes_quota = true;
  return out;
}

export function snapshotView(ctx: ViewCtx, s: SnapshotRow) {
  const out: Record<string, unknown> = {
    id: s.id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    name: s.name,
    description: s.description,
    volume_id: s.volume_id,
    status: s.status,
    size: s.size,
    metadata: json<Record<string, string>>(s.metadata, {}),
    'os-extended-snapshot-attributes:progress': s.progress,
    'os-extended-snapshot-attributes:project_id': s.project_id,
  };
  if (ctx.mv.ge(14)) out.group_snapshot_id = null;
  if (ctx.mv.ge(41)) out.user_id = s.user_id;
  if (ctx.mv.ge(65)) out.consumes_quota = true;
  return out;
}

export function typeView(ctx: ViewCtx, t: TypeRow, o: { extraSpecs: boolean; qos: boolean }) {
  const out: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    description: t.description,
    is_public: bool(t.is_public),
    'os-volume-type-access:is_public': bool(t.is_public),
  };
  if (o.extraSpecs) out.extra_specs = json<Record<string, string>>(t.extra_specs, {});
  if (o.qos) out.qos_specs_id = null;
  return out;
}

export function attachmentView(a: AttachmentRow, detail: boolean) {
  const out: Record<string, unknown> = {
    id: a.id,
    status: a.attach_status,
    instance: a.instance_uuid,
    volume_id: a.volume_id,
  };
  if (!detail) return out;
  return {
    ...out,
    attached_at: a.attach_time,
    detached_at: a.detach_time,
    attach_mode: a.attach_mode,
    connection_info: json<Record<string, unknown> | null>(a.connection_info, null),
  };
}

export function transferView(ctx: ViewCtx, t: TransferRow, detail: boolean, authKey?: string) {
  const out: Record<string, unknown> = {
    id: t.id,
    name: t.name,
    volume_id: t.volume_id,
    links: links(ctx, 'os-volume-transfer', t.id, t.project_id),
  };
  if (detail) out.created_at = t.created_at;
  if (authKey) out.auth_key = authKey;
  if (ctx.mv.ge(57)) {
    out.no_snapshots = bool(t.no_snapshots);
    out.destination_project_id = t.destination_project_id;
    out.source_project_id = t.source_project_id;
    out.accepted = bool(t.accepted);
  }
  return out;
}
