/**
 * Attaching (cinder/volume/api.py attachment_* and the legacy os-reserve … os-detach actions). States:
 * volume `available → reserved (attachments API) / attaching (os-reserve) → in-use → detaching → available`;
 * an attachment `reserved → attaching → attached`, deleted at detach. Each transition is a compare-and-set
 * on the volume's status, so two attaches racing for one volume cannot both win.
 */
import type { Caller } from '../../../core/auth/caller.js';
import { bool, json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { ConnectionInfo, Connector } from '../../../agent/volume/driver.js';
import type { AttachmentRow, VolumeRow } from '../store.js';
import {
  authorize,
  cinderTime,
  invalidInput,
  invalidVolume,
  notFound,
  target,
  visible,
  type Deps,
} from './common.js';
import type { Volumes } from './volumes.js';

const attachmentNotFound = (id: string) =>
  notFound(`Volume attachment could not be found with filter: attachment_id = ${id.slice(0, 64)}.`);

export class Attachments {
  constructor(
    private readonly d: Deps,
    private readonly volumes: Volumes,
  ) {}

  async find(c: Caller, id: string): Promise<AttachmentRow> {
    const a = await this.d.store.attachment(id);
    if (!a || !visible(c, a)) throw attachmentNotFound(id);
    return a;
  }

  private attachable(v: VolumeRow): string[] {
    return bool(v.multiattach) ? ['available', 'in-use', 'reserved'] : ['available'];
  }

  /** After an attachment went away: the volume is in-use while any attachment is attached, else available. */
  private async settle(volumeId: string): Promise<void> {
    const left = await this.d.store.attachments([volumeId]);
    const attached = left.some((a) => a.attach_status === 'attached');
    await this.d.store.updateVolume(volumeId, {
      status: attached ? 'in-use' : left.length ? 'reserved' : 'available',
      attach_status: attached ? 'attached' : 'detached',
      updated_at: cinderTime(),
    });
  }

  // ------------------------------------------------------------------ attachments API (3.27+)
  async create(
    c: Caller,
    b: { volume_uuid: string; instance_uuid?: string | null; connector?: Connector | null; mode?: string },
  ): Promise<AttachmentRow> {
    const v = await this.volumes.find(c, b.volume_uuid);
    authorize(this.d, c, 'volume:attachment_create', target(v));
    const mode = b.mode ?? 'rw';
    if (!['rw', 'ro'].includes(mode))
      throw invalidInput(`Invalid attach mode ${mode.slice(0, 20)}: must be rw or ro.`);
    if (bool(v.readonly) && mode === 'rw')
      throw invalidVolume('Volume is read-only: attach it with mode ro.');
    if (
      b.instance_uuid &&
      (await this.d.store.attachments([v.id])).some((a) => a.instance_uuid === b.instance_uuid)
    )
      throw invalidVolume(`Volume ${v.id} is already attached to server ${b.instance_uuid}.`);
    const now = cinderTime();
    const row: AttachmentRow = {
      id: uuid(),
      volume_id: v.id,
      project_id: v.project_id,
      instance_uuid: b.instance_uuid ?? null,
      attached_host: null,
      mountpoint: null,
      attach_mode: mode,
      attach_status: 'reserved',
      connector: null,
      connection_info: null,
      attach_time: null,
      detach_time: null,
      created_at: now,
      updated_at: now,
    };
    await this.d.store.locked([`volume:${v.id}`], async (trx) => {
      const cur = (await this.d.store.volume(v.id, trx))!;
      const next = cur.status === 'in-use' ? 'in-use' : 'reserved';
      if (
        !(await this.d.store.updateVolume(v.id, { status: next, updated_at: now }, this.attachable(cur), trx))
      )
        throw invalidVolume(
          `Volume ${v.id} status must be available${bool(cur.multiattach) ? ' or in-use' : ''} to reserve, but the status is ${cur.status}.`,
        );
      await this.d.store.insertAttachment(row, trx);
    });
    if (b.connector) return this.update(c, row.id, b.connector);
    return row;
  }

  /** Give the attachment a connector: the backend exports the volume to that host; returns connection_info. */
  async update(c: Caller, id: string, connector: Connector): Promise<AttachmentRow> {
    const a = await this.find(c, id);
    const v = await this.volumes.find(c, a.volume_id);
    authorize(this.d, c, 'volume:attachment_update', target(v));
    if (!connector || typeof connector !== 'object') throw invalidInput('A connector is required.');
    const info = await this.connect(v, connector, a.attach_mode);
    await this.d.store.updateAttachment(a.id, {
      connector: JSON.stringify(connector),
      connection_info: JSON.stringify(info),
      attached_host: typeof connector.host === 'string' ? connector.host : null,
      mountpoint: typeof connector.mountpoint === 'string' ? connector.mountpoint : a.mountpoint,
      attach_status: a.attach_status === 'attached' ? 'attached' : 'attaching',
      updated_at: cinderTime(),
    });
    if (v.status === 'reserved')
      await this.d.store.updateVolume(v.id, { status: 'attaching', updated_at: cinderTime() }, ['reserved']);
    return (await this.d.store.attachment(a.id))!;
  }

  private async connect(v: VolumeRow, connector: Connector, mode: string): Promise<ConnectionInfo> {
    const info = await this.d.driver.initializeConnection(v.id, connector);
    info.data = {
      ...info.data,
      access_mode: mode,
      serial: v.id,
      encrypted: false,
      qos_specs: null,
      discard: info.data.discard ?? false,
    };
    return info;
  }

  /** `os-complete`: the host attached it; the volume is in-use. */
  async complete(c: Caller, id: string): Promise<void> {
    const a = await this.find(c, id);
    const v = await this.volumes.find(c, a.volume_id);
    authorize(this.d, c, 'volume:attachment_complete', target(v));
    const now = cinderTime();
    await this.d.store.updateAttachment(a.id, {
      attach_status: 'attached',
      attach_time: a.attach_time ?? now,
      updated_at: now,
    });
    await this.d.store.updateVolume(v.id, { status: 'in-use', attach_status: 'attached', updated_at: now });
  }

  /** Remove an attachment: the backend forgets the host's export; the volume settles. */
  async delete(c: Caller, id: string): Promise<void> {
    const a = await this.find(c, id);
    const v = await this.volumes.find(c, a.volume_id);
    authorize(this.d, c, 'volume:attachment_delete', target(v));
    if (a.connector) await this.d.driver.terminateConnection(v.id, json<Connector>(a.connector, {}));
    await this.d.store.locked([`volume:${v.id}`], async (trx) => {
      await this.d.store.deleteAttachment(a.id, trx);
    });
    await this.settle(v.id);
  }

  async list(
    c: Caller,
    q: {
      allTenants: boolean;
      volumeId?: string;
      instanceId?: string;
      status?: string;
      limit?: number;
      marker?: string;
    },
  ): Promise<AttachmentRow[]> {
    authorize(this.d, c, 'volume:get_all', { project_id: c.projectId });
    const marker = q.marker ? await this.find(c, q.marker) : undefined;
    return this.d.store.listAttachments({
      projectId: c.isAdmin && q.allTenants ? undefined : c.projectId,
      volumeId: q.volumeId,
      instanceId: q.instanceId,
      status: q.status,
      limit: q.limit,
      marker,
    });
  }

  // ------------------------------------------------------------------ legacy actions
  async reserve(c: Caller, id: string): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:reserve');
    const to = v.status === 'in-use' ? 'in-use' : 'attaching';
    if (
      !(await this.d.store.updateVolume(v.id, { status: to, updated_at: cinderTime() }, this.attachable(v)))
    )
      throw invalidVolume(`Volume status must be available to reserve, but the status is ${v.status}.`);
  }

  async unreserve(c: Caller, id: string): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:unreserve');
    if (v.status === 'attaching') await this.settle(v.id);
  }

  async beginDetaching(c: Caller, id: string): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:begin_detaching');
    if (
      !(await this.d.store.updateVolume(v.id, { status: 'detaching', updated_at: cinderTime() }, ['in-use']))
    )
      throw invalidVolume(`Volume status must be in-use to begin detaching, but the status is ${v.status}.`);
  }

  async rollDetaching(c: Caller, id: string): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:roll_detaching');
    await this.d.store.updateVolume(v.id, { status: 'in-use', updated_at: cinderTime() }, ['detaching']);
  }

  async initializeConnection(c: Caller, id: string, connector: unknown): Promise<ConnectionInfo> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:initialize_connection');
    if (!connector || typeof connector !== 'object' || Array.isArray(connector))
      throw invalidInput('Must specify connector.');
    if (['error', 'creating', 'deleting', 'error_deleting'].includes(v.status))
      throw invalidVolume(
        `Volume status must be available, attaching or in-use, but the status is ${v.status}.`,
      );
    return this.connect(v, connector as Connector, bool(v.readonly) ? 'ro' : 'rw');
  }

  async terminateConnection(c: Caller, id: string, connector: unknown): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:terminate_connection');
    if (!connector || typeof connector !== 'object') throw invalidInput('Must specify connector.');
    await this.d.driver.terminateConnection(v.id, connector as Connector);
  }

  async attach(
    c: Caller,
    id: string,
    b: { instance_uuid?: string; host_name?: string; mountpoint?: string; mode?: string },
  ): Promise<void> {
    const v = await this.volumes.authorized(c, id, 'volume_extension:volume_actions:attach');
    if (!b.instance_uuid && !b.host_name)
      throw invalidInput('Invalid request to attach volume to an invalid target');
    if (!b.mountpoint) throw invalidInput('Must specify mountpoint');
    const mode = b.mode ?? 'rw';
    if (!['rw', 'ro'].includes(mode)) throw invalidInput('Invalid attaching mode: must be rw or ro.');
    if (bool(v.readonly) && mode === 'rw')
      throw invalidVolume('Volume is read-only: attach it with mode ro.');
    if (
      !['attaching', 'available', 'reserved'].includes(v.status) &&
      !(bool(v.multiattach) && v.status === 'in-use')
    )
      throw invalidVolume(
        `Volume status must be attaching or available to attach, but the status is ${v.status}.`,
      );
    const now = cinderTime();
    await this.d.store.insertAttachment({
      id: uuid(),
      volume_id: v.id,
      project_id: v.project_id,
      instance_uuid: b.instance_uuid ?? null,
      attached_host: b.host_name ?? null,
      mountpoint: b.mountpoint,
      attach_mode: mode,
      attach_status: 'attached',
      connector: null,
      connection_info: null,
      attach_time: now,
      detach_time: null,
      created_at: now,
      updated_at: now,
    });
    await this.d.store.updateVolume(v.id, { status: 'in-use', attach_status: 'attached', updated_at: now });
  }

  async detach(c: Caller, id: string, attachmentId: unknown, force = false): Promise<void> {
    const v = await this.volumes.authorized(
      c,
      id,
      force ? 'volume_extension:volume_admin_actions:force_detach' : 'volume_extension:volume_actions:detach',
    );
    const all = await this.d.store.attachments([v.id]);
    let gone: AttachmentRow[];
    if (typeof attachmentId === 'string' && attachmentId) {
      gone = all.filter((a) => a.id === attachmentId);
      if (gone.length === 0) throw attachmentNotFound(attachmentId);
    } else if (all.length <= 1 || force) gone = all;
    else throw invalidVolume('Volume has several attachments: give the attachment_id to detach.');
    for (const a of gone) {
      if (a.connector) await this.d.driver.terminateConnection(v.id, json<Connector>(a.connector, {}));
      await this.d.store.deleteAttachment(a.id);
    }
    await this.settle(v.id);
  }
}
