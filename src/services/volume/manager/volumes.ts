/**
 * Volumes (cinder/volume/api.py): create (blank, from an image, a snapshot or another volume), list, show,
 * update, delete, metadata, and the volume actions that are not about attaching (extend, bootable, readonly,
 * reset-status, force-delete, retype, revert, upload to image, image metadata).
 */
import type { Caller } from '../../../core/auth/caller.js';
import { bool, int, json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { uuid } from '../../../core/ids.js';
import { GiB } from '../../../agent/volume/driver.js';
import type { ListQuery, SnapshotRow, TypeRow, VolumeRow } from '../store.js';
import {
  authorize,
  badRequest,
  cinderTime,
  invalidInput,
  invalidVolume,
  notFound,
  target,
  visible,
  type Deps,
} from './common.js';
import type { Quotas } from './quotas.js';
import type { Types } from './types.js';

export const VOLUME_STATUSES = [
  'creating',
  'available',
  'reserved',
  'attaching',
  'detaching',
  'in-use',
  'maintenance',
  'deleting',
  'awaiting-transfer',
  'error',
  'error_deleting',
  'backing-up',
  'restoring-backup',
  'error_backing-up',
  'error_restoring',
  'error_extending',
  'downloading',
  'uploading',
  'retyping',
  'extending',
  'reverting',
];
const DELETABLE = ['available', 'error', 'error_restoring', 'error_extending', 'error_managing'];

export interface CreateVolume {
  size?: number | null;
  name?: string | null;
  description?: string | null;
  volume_type?: string | null;
  availability_zone?: string | null;
  snapshot_id?: string | null;
  source_volid?: string | null;
  imageRef?: string | null;
  metadata?: Record<string, string> | null;
  multiattach?: boolean | null;
}

/** Hook the compute side registers for online extend (QMP block_resize in the guests using the volume). */
export type AttachedExtendHook = (volumeId: string, newSizeGb: number, serverIds: string[]) => Promise<void>;

export const volumeNotFound = (id: string) => notFound(`Volume ${id} could not be found.`);

export class Volumes {
  extendHook?: AttachedExtendHook;

  constructor(
    private readonly d: Deps,
    private readonly types: Types,
    private readonly quotas: Quotas,
  ) {}

  /** A volume the caller can see (another project's is the same 404 as a missing one). */
  async find(c: Caller, id: string): Promise<VolumeRow> {
    const v = await this.d.store.volume(id);
    if (!v || !visible(c, v)) throw volumeNotFound(id);
    return v;
  }

  /** `find` + the rule on the volume as target (403 when visible but not allowed). */
  async authorized(c: Caller, id: string, rule: string): Promise<VolumeRow> {
    const v = await this.find(c, id);
    authorize(this.d, c, rule, target(v));
    return v;
  }

  async list(c: Caller, q: ListQuery, allTenants: boolean): Promise<VolumeRow[]> {
    authorize(this.d, c, 'volume:get_all', { project_id: c.projectId });
    const query = { ...q };
    if (!(c.isAdmin && allTenants)) query.projectId = c.projectId;
    else if (typeof q.eq.project_id === 'string') query.projectId = q.eq.project_id;
    delete query.eq.project_id;
    return this.d.store.listVolumes(query);
  }

  async summary(c: Caller, allTenants: boolean) {
    authorize(this.d, c, 'volume:get_all', { project_id: c.projectId });
    const p = c.isAdmin && allTenants ? undefined : c.projectId;
    return { ...(await this.d.store.volumeSummary(p)), metadata: await this.d.store.distinctMetadata(p) };
  }

  async markerRow(c: Caller, marker: string): Promise<VolumeRow> {
    const v = await this.d.store.volume(marker);
    if (!v || !visible(c, v)) throw notFound(`Marker ${marker.slice(0, 64)} could not be found.`);
    return v;
  }

  // ------------------------------------------------------------------ create
  async create(c: Caller, b: CreateVolume): Promise<VolumeRow> {
    const t = { project_id: c.projectId, user_id: c.userId };
    authorize(this.d, c, 'volume:create', t);
    let size = b.size ?? undefined;
    let snap: SnapshotRow | undefined;
    let src: VolumeRow | undefined;
    if (b.snapshot_id) {
      snap = await this.d.store.snapshot(b.snapshot_id);
      if (!snap || !visible(c, snap)) throw notFound(`Snapshot ${b.snapshot_id} could not be found.`);
      if (snap.status !== 'available')
        throw badRequest(`Invalid snapshot: Originating snapshot status must be one of 'available' values`);
      size ??= snap.size;
      if (size < snap.size)
        throw invalidInput(
          `Volume size '${size}'GB cannot be smaller than the snapshot size ${snap.size}GB. They must be >= original snapshot size.`,
        );
    }
    if (b.source_volid) {
      src = await this.d.store.volume(b.source_volid);
      if (!src || !visible(c, src)) throw volumeNotFound(b.source_volid);
      if (!['available', 'in-use'].includes(src.status))
        throw invalidVolume(
          `Unable to clone volumes that are in an error state or not available (status ${src.status}).`,
        );
      size ??= src.size;
      if (size < src.size)
        throw invalidInput(
          `Volume size '${size}'GB cannot be smaller than original volume size ${src.size}GB. They must be >= original volume size.`,
        );
    }
    let image: Awaited<ReturnType<Deps['images']['get']>>;
    if (b.imageRef) {
      authorize(this.d, c, 'volume:create_from_image', t);
      image = await this.d.images.get(c, b.imageRef);
      if (!image) throw badRequest(`Invalid image identifier or unable to access requested image.`);
      if (image.status !== 'active')
        throw badRequest(`Invalid image: Image ${image.id} is not active (status ${image.status}).`);
      const bytes = image.virtual_size ?? image.size ?? 0;
      const imageGb = Math.ceil(bytes / GiB);
      if (size === undefined) throw invalidInput('A size is required to create a volume from an image.');
      if (imageGb > size)
        throw invalidInput(`Size of specified image ${imageGb}GB is larger than volume size ${size}GB.`);
      if (image.min_disk > size)
        throw invalidInput(
          `Volume size ${size}GB cannot be smaller than the image minDisk size ${image.min_disk}GB.`,
        );
    }
    if (size === undefined)
      throw invalidInput('Invalid input for field/attribute size. Value: None. None is not of type integer');
    if (!Number.isInteger(size) || size < 1)
      throw invalidInput(
        `Invalid input for field/attribute size. Value: ${size}. ${size} is less than the minimum of 1`,
      );
    if (size > 2147483647)
      throw invalidInput(`Invalid input for field/attribute size. Value: ${size}. Too large.`);
    const az = b.availability_zone ?? this.d.opts.availabilityZone;
    if (az !== this.d.opts.availabilityZone)
      throw invalidInput(`Availability zone '${az.slice(0, 255)}' is invalid.`);
    if (b.multiattach) authorize(this.d, c, 'volume:multiattach', t);
    let type: TypeRow;
    if (b.volume_type) type = await this.types.find(c, b.volume_type);
    else if (snap) type = (await this.d.store.type(snap.volume_type_id)) ?? (await this.types.defaultType());
    else if (src) type = (await this.d.store.type(src.volume_type_id)) ?? (await this.types.defaultType());
    else type = await this.types.defaultType();
    const specs = this.types.extraSpecs(type);
    const multiattach = !!b.multiattach || specs.multiattach === '<is> True';
    const now = cinderTime();
    const imageMeta = image
      ? {
          image_id: image.id,
          image_name: image.name ?? '',
          checksum: image.checksum ?? '',
          container_format: image.container_format ?? '',
          disk_format: image.disk_format ?? '',
          min_disk: String(image.min_disk),
          min_ram: String(image.min_ram),
          size: String(image.size ?? 0),
          ...image.properties,
        }
      : src
        ? json<Record<string, string>>(src.image_metadata, {})
        : {};
    const row: VolumeRow = {
      id: uuid(),
      project_id: c.projectId,
      user_id: c.userId,
      name: b.name ?? null,
      description: b.description ?? null,
      size,
      status: 'creating',
      attach_status: 'detached',
      migration_status: null,
      availability_zone: az,
      volume_type_id: type.id,
      snapshot_id: snap?.id ?? null,
      source_volid: src?.id ?? null,
      image_id: image?.id ?? null,
      bootable: int(!!image || (src ? bool(src.bootable) : false)),
      readonly: 0,
      multiattach: int(multiattach),
      host: this.d.opts.host,
      image_metadata: JSON.stringify(imageMeta),
      error: null,
      created_at: now,
      updated_at: now,
    };
    await this.d.store.locked([`quota:${c.projectId}`], async (trx) => {
      await this.quotas.check(
        trx,
        c.projectId,
        { volumes: 1, gigabytes: size, typeName: type.name, typeId: type.id },
        size,
      );
      await this.d.store.insertVolume(row, b.metadata ?? {}, trx);
    });
    const drv = this.d.driver;
    const imageFormat = image?.disk_format ?? 'raw';
    const imageSize = image?.size ?? undefined;
    this.d.worker.run(
      `create volume ${row.id}`,
      async () => {
        if (snap) await drv.createFromSnapshot(row.id, size, snap.id);
        else if (src) await drv.cloneVolume(row.id, size, src.id);
        else if (image)
          await drv.createFromImage(row.id, size, {
            stream: await this.d.images.download(c, image.id),
            diskFormat: imageFormat,
            size: imageSize,
          });
        else await drv.createVolume(row.id, size);
        const done = await this.d.store.updateVolume(
          row.id,
          { status: 'available', updated_at: cinderTime() },
          ['creating'],
        );
        // Deleted (or reset) while it was being made: remove what was made.
        if (!done && !(await this.d.store.volume(row.id))) await drv.deleteVolume(row.id);
      },
      async (e) => {
        await this.d.store.updateVolume(
          row.id,
          { status: 'error', error: e.message.slice(0, 1000), updated_at: cinderTime() },
          ['creating'],
        );
      },
    );
    return row;
  }

  // ------------------------------------------------------------------ update, delete
  async update(
    c: Caller,
    id: string,
    b: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
  ): Promise<VolumeRow> {
    const v = await this.authorized(c, id, 'volume:update');
    const patch: Partial<VolumeRow> = { updated_at: cinderTime() };
    if (b.name !== undefined) patch.name = b.name;
    if (b.description !== undefined) patch.description = b.description;
    await this.d.store.updateVolume(v.id, patch);
    if (b.metadata) await this.d.store.replaceMetadata(v.id, b.metadata);
    return (await this.d.store.volume(v.id))!;
  }

  async delete(c: Caller, id: string, o: { cascade?: boolean; force?: boolean } = {}): Promise<void> {
    const v = await this.find(c, id);
    authorize(
      this.d,
      c,
      o.force ? 'volume_extension:volume_admin_actions:force_delete' : 'volume:delete',
      target(v),
    );
    if (v.attach_status === 'attached' || (await this.d.store.attachments([v.id])).length > 0)
      throw invalidVolume('Volume cannot be deleted while in attached state');
    const snaps = await this.d.store.snapshotsOf(v.id);
    if (snaps.length && !o.cascade)
      throw invalidVolume(`Volume still has ${snaps.length} dependent snapshots.`);
    if (o.cascade && snaps.some((s) => !['available', 'error'].includes(s.status)))
      throw invalidVolume(
        'Snapshot of the volume must be available or error to delete the volume with cascade.',
      );
    const from = o.force
      ? VOLUME_STATUSES.filter((s) => !['in-use', 'attaching', 'detaching', 'reserved'].includes(s))
      : DELETABLE;
    const ok = await this.d.store.updateVolume(v.id, { status: 'deleting', updated_at: cinderTime() }, from);
    if (!ok)
      throw invalidVolume(
        'Volume status must be available or error or error_restoring or error_extending or error_managing and must not be migrating, attached, belong to a group, have snapshots, awaiting a transfer, or be disassociated from snapshots after volume transfer.',
      );
    for (const s of snaps)
      await this.d.store.updateSnapshot(s.id, { status: 'deleting', updated_at: cinderTime() });
    this.d.worker.run(
      `delete volume ${v.id}`,
      async () => {
        for (const s of snaps) {
          await this.d.driver.deleteSnapshot(s.id);
          await this.d.store.deleteSnapshotRow(s.id);
        }
        await this.d.driver.deleteVolume(v.id);
        await this.d.store.deleteTransfersOf(v.id);
        await this.d.store.deleteVolumeRow(v.id);
      },
      async (e) => {
        await this.d.store.updateVolume(v.id, {
          status: 'error_deleting',
          error: e.message.slice(0, 1000),
          updated_at: cinderTime(),
        });
      },
    );
  }

  // ------------------------------------------------------------------ metadata
  async metadata(c: Caller, id: string): Promise<Record<string, string>> {
    const v = await this.authorized(c, id, 'volume:get_volume_metadata');
    return this.d.store.metadata(v.id);
  }

  async setMetadata(
    c: Caller,
    id: string,
    md: Record<string, string>,
    replace: boolean,
  ): Promise<Record<string, string>> {
    const v = await this.authorized(
      c,
      id,
      replace ? 'volume:update_volume_metadata' : 'volume:create_volume_metadata',
    );
    if (v.status === 'maintenance') throw invalidVolume('Volume is in maintenance.');
    if (replace) await this.d.store.replaceMetadata(v.id, md);
    else await this.d.store.upsertMetadata(v.id, md);
    await this.d.store.updateVolume(v.id, { updated_at: cinderTime() });
    return this.d.store.metadata(v.id);
  }

  async deleteMetadata(c: Caller, id: string, key: string): Promise<void> {
    const v = await this.authorized(c, id, 'volume:delete_volume_metadata');
    if (!(await this.d.store.deleteMetadataKey(v.id, key)))
      throw notFound(`Volume ${id} has no metadata with key ${key.slice(0, 255)}.`);
  }

  // ------------------------------------------------------------------ actions
  async extend(c: Caller, id: string, newSize: unknown, attachedAllowed: boolean): Promise<void> {
    const v = await this.find(c, id);
    const attached = v.status === 'in-use';
    authorize(this.d, c, attached ? 'volume:extend_attached_volume' : 'volume:extend', target(v));
    if (typeof newSize !== 'number' || !Number.isInteger(newSize))
      throw invalidInput(
        `Invalid input for field/attribute new_size. Value: ${String(newSize).slice(0, 50)}.`,
      );
    if (attached && !attachedAllowed)
      throw invalidVolume(`Volume status must be 'available' to extend, but current status is: ${v.status}.`);
    if (attached && !this.extendHook)
      throw invalidVolume(
        'Extending an attached volume needs the compute service to resize the guest disk, which this cloud cannot do yet.',
      );
    if (!['available', 'in-use'].includes(v.status))
      throw invalidVolume(`Volume status must be 'available' to extend, but current status is: ${v.status}.`);
    if (newSize <= v.size)
      throw invalidInput(
        `New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
      );
    const type = (await this.d.store.type(v.volume_type_id))!;
    await this.d.store.locked([`quota:${v.project_id}`], async (trx) => {
      await this.quotas.check(
        trx,
        v.project_id,
        { gigabytes: newSize - v.size, typeName: type.name, typeId: type.id },
        newSize,
      );
      if (
        !(await this.d.store.updateVolume(
          v.id,
          { status: 'extending', updated_at: cinderTime() },
          [v.status],
          trx,
        ))
      )
        throw invalidVolume(`Volume status changed while extending: try again.`);
    });
    const back = v.status;
    this.d.worker.run(
      `extend volume ${v.id}`,
      async () => {
        if (attached) {
          const servers = (await this.d.store.attachments([v.id]))
            .map((a) => a.instance_uuid)
            .filter((s): s is string => !!s);
          await this.extendHook!(v.id, newSize, servers);
        } else await this.d.driver.extendVolume(v.id, newSize);
        await this.d.store.updateVolume(v.id, { status: back, size: newSize, updated_at: cinderTime() }, [
          'extending',
        ]);
      },
      async (e) => {
        await this.d.store.updateVolume(
          v.id,
          { status: 'error_extending', error: e.message.slice(0, 1000), updated_at: cinderTime() },
          ['extending'],
        );
      },
    );
  }

  async setBootable(c: Caller, id: string, bootable: boolean): Promise<void> {
    const v = await this.authorized(c, id, 'volume:update');
    await this.d.store.updateVolume(v.id, { bootable: int(bootable), updated_at: cinderTime() });
  }

  async setReadonly(c: Caller, id: string, readonly: boolean): Promise<void> {
    const v = await this.authorized(c, id, 'volume:update_readonly_flag');
    if (!['available', 'in-use'].includes(v.status))
      throw invalidVolume(`Volume status must be available/in-use, but current status is: ${v.status}.`);
    await this.d.store.updateVolume(v.id, { readonly: int(readonly), updated_at: cinderTime() });
  }

  async resetStatus(
    c: Caller,
    id: string,
    b: { status?: string; attach_status?: string; migration_status?: string },
  ): Promise<void> {
    const v = await this.authorized(c, id, 'volume_extension:volume_admin_actions:reset_status');
    const patch: Partial<VolumeRow> = { updated_at: cinderTime() };
    if (b.status !== undefined) {
      if (!VOLUME_STATUSES.includes(String(b.status).toLowerCase()))
        throw invalidInput(`'${String(b.status).slice(0, 50)}' is not a valid volume status.`);
      patch.status = String(b.status).toLowerCase();
    }
    if (b.attach_status !== undefined) {
      if (!['attached', 'detached'].includes(String(b.attach_status)))
        throw invalidInput(`'${String(b.attach_status).slice(0, 50)}' is not a valid attach status.`);
      patch.attach_status = String(b.attach_status);
    }
    if (b.migration_status !== undefined)
      patch.migration_status = b.migration_status === 'none' ? null : String(b.migration_status);
    if (Object.keys(patch).length === 1)
      throw invalidInput('Must specify status, attach_status or migration_status.');
    await this.d.store.updateVolume(v.id, patch);
  }

  async retype(c: Caller, id: string, newType: unknown): Promise<void> {
    const v = await this.authorized(c, id, 'volume:retype');
    if (typeof newType !== 'string' || !newType) throw invalidInput('New volume type must be specified.');
    const t = await this.types.find(c, newType);
    if (t.id === v.volume_type_id)
      throw invalidInput(`New volume_type same as original: ${newType.slice(0, 255)}.`);
    if (!['available', 'in-use'].includes(v.status))
      throw invalidVolume(`Volume status must be available or in-use, but current status is: ${v.status}.`);
    await this.d.store.locked([`quota:${v.project_id}`], async (trx) => {
      await this.quotas.check(trx, v.project_id, {
        volumes: 1,
        gigabytes: v.size,
        typeName: t.name,
        typeId: t.id,
      });
      await this.d.store.updateVolume(
        v.id,
        { volume_type_id: t.id, updated_at: cinderTime() },
        [v.status],
        trx,
      );
    });
  }

  async revert(c: Caller, id: string, snapshotId: unknown): Promise<void> {
    const v = await this.authorized(c, id, 'volume:revert_to_snapshot');
    if (typeof snapshotId !== 'string') throw invalidInput('snapshot_id is required.');
    const snaps = await this.d.store.snapshotsOf(v.id);
    const snap = snaps.find((s) => s.id === snapshotId);
    if (!snap) throw notFound(`Snapshot ${snapshotId.slice(0, 64)} could not be found.`);
    if (snaps[0]?.id !== snap.id)
      throw badRequest('Invalid snapshot: Snapshot is not the latest one of the volume.');
    if (snap.status !== 'available') throw badRequest('Invalid snapshot: Snapshot status must be available.');
    if (snap.size !== v.size)
      throw invalidVolume('Volume size and snapshot size must be the same to revert.');
    if (
      !(await this.d.store.updateVolume(v.id, { status: 'reverting', updated_at: cinderTime() }, [
        'available',
      ]))
    )
      throw invalidVolume(`Volume status must be available, but current status is: ${v.status}.`);
    await this.d.store.updateSnapshot(snap.id, { status: 'restoring' });
    this.d.worker.run(
      `revert volume ${v.id}`,
      async () => {
        await this.d.driver.revertToSnapshot(v.id, snap.id, v.size);
        await this.d.store.updateVolume(v.id, { status: 'available', updated_at: cinderTime() }, [
          'reverting',
        ]);
        await this.d.store.updateSnapshot(snap.id, { status: 'available' }, ['restoring']);
      },
      async (e) => {
        await this.d.store.updateVolume(v.id, { status: 'error', error: e.message.slice(0, 1000) }, [
          'reverting',
        ]);
        await this.d.store.updateSnapshot(snap.id, { status: 'available' }, ['restoring']);
      },
    );
  }

  async uploadToImage(c: Caller, id: string, b: Record<string, unknown>): Promise<Record<string, unknown>> {
    const v = await this.authorized(c, id, 'volume_extension:volume_actions:upload_image');
    const name = b.image_name;
    if (typeof name !== 'string' || !name) throw badRequest('No image_name was specified in request.');
    const diskFormat = String(b.disk_format ?? 'raw');
    if (!['raw', 'qcow2', 'vmdk', 'vdi', 'vhd', 'vhdx'].includes(diskFormat))
      throw badRequest('Invalid disk-format. Must be one of raw, qcow2, vmdk, vdi, vhd, vhdx.');
    const visibility = String(b.visibility ?? 'private');
    if (visibility === 'public')
      authorize(this.d, c, 'volume_extension:volume_actions:upload_public', target(v));
    const force = b.force !== undefined && String(b.force).toLowerCase() === 'true';
    if (v.status !== 'available' && !(force && v.status === 'in-use'))
      throw invalidVolume(`Volume status must be available/in-use, but current status is: ${v.status}.`);
    const image = await this.d.images.create(c, {
      name,
      disk_format: diskFormat,
      container_format: String(b.container_format ?? 'bare'),
      visibility,
      protected: b.protected === true || String(b.protected) === 'true',
      min_disk: v.size,
    });
    const back = v.status;
    if (!(await this.d.store.updateVolume(v.id, { status: 'uploading', updated_at: cinderTime() }, [back])))
      throw invalidVolume('Volume status changed: try again.');
    this.d.worker.run(
      `upload volume ${v.id} to image ${image.id}`,
      async () => {
        const out = await this.d.driver.exportVolume(v.id, diskFormat);
        try {
          await this.d.images.upload(c, image.id, out.stream, out.size);
        } finally {
          await out.cleanup();
        }
        await this.d.store.updateVolume(v.id, { status: back, updated_at: cinderTime() }, ['uploading']);
      },
      async (e) => {
        await this.d.store.updateVolume(v.id, { status: back, error: e.message.slice(0, 1000) }, [
          'uploading',
        ]);
      },
    );
    const type = await this.d.store.type(v.volume_type_id);
    return {
      id: v.id,
      updated_at: cinderTime(),
      status: 'uploading',
      display_description: v.description,
      size: v.size,
      volume_type: type
        ? { id: type.id, name: type.name, description: type.description, is_public: bool(type.is_public) }
        : null,
      image_id: image.id,
      container_format: image.container_format,
      disk_format: image.disk_format,
      image_name: image.name,
      protected: !!image.protected,
      visibility: image.visibility,
    };
  }

  async imageMetadata(c: Caller, id: string): Promise<Record<string, string>> {
    const v = await this.authorized(c, id, 'volume:get_volume_metadata');
    return json<Record<string, string>>(v.image_metadata, {});
  }

  async setImageMetadata(c: Caller, id: string, md: unknown): Promise<Record<string, string>> {
    const v = await this.authorized(c, id, 'volume_extension:volume_image_metadata:set');
    if (!md || typeof md !== 'object' || Array.isArray(md)) throw invalidInput('Malformed image metadata.');
    const cur = json<Record<string, string>>(v.image_metadata, {});
    for (const [k, val] of Object.entries(md as Record<string, unknown>)) cur[k] = String(val);
    await this.d.store.updateVolume(v.id, { image_metadata: JSON.stringify(cur), updated_at: cinderTime() });
    return cur;
  }

  async unsetImageMetadata(c: Caller, id: string, key: unknown): Promise<void> {
    const v = await this.authorized(c, id, 'volume_extension:volume_image_metadata:remove');
    const cur = json<Record<string, string>>(v.image_metadata, {});
    if (typeof key !== 'string' || !(key in cur))
      throw notFound(
        `Glance metadata for volume ${v.id} cannot be found with key ${String(key).slice(0, 255)}.`,
      );
    delete cur[key];
    await this.d.store.updateVolume(v.id, { image_metadata: JSON.stringify(cur), updated_at: cinderTime() });
  }

  /** What a volume's view needs beside its row: metadata, attachments, type (one query each for a page). */
  async related(rows: VolumeRow[]) {
    const ids = rows.map((r) => r.id);
    const [metadata, attachments, types] = await Promise.all([
      this.d.store.metadataFor(ids),
      this.d.store.attachments(ids),
      this.d.store.typesByIds(rows.map((r) => r.volume_type_id)),
    ]);
    return { metadata, attachments, types };
  }

  /** Wait until a volume leaves `creating`/`extending`/…; resolves with its row (facade for boot from volume). */
  async waitSettled(
    id: string,
    timeoutMs: number,
    transient = ['creating', 'extending', 'downloading', 'deleting'],
  ): Promise<VolumeRow | undefined> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await this.d.store.volume(id);
      if (!v || !transient.includes(v.status)) return v;
      if (Date.now() > end) throw new ApiError(504, `Volume ${id} is still ${v.status}.`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
