/**
 * Volume transfers (cinder/transfer/api.py): the owner offers a volume (it becomes `awaiting-transfer`) and gets
 * an auth key once; any project that has the transfer id and the key accepts it, within its own quotas.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Caller } from '../../../core/auth/caller.js';
import { bool, int } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { TransferRow } from '../store.js';
import {
  authorize,
  badRequest,
  cinderTime,
  invalidVolume,
  notFound,
  target,
  visible,
  type Deps,
} from './common.js';
import type { Quotas } from './quotas.js';
import type { Volumes } from './volumes.js';

const transferNotFound = (id: string) => notFound(`Transfer ${id.slice(0, 64)} could not be found.`);
const hash = (salt: string, key: string) =>
  createHash('sha256')
    .update(salt + key)
    .digest('hex');

export class Transfers {
  constructor(
    private readonly d: Deps,
    private readonly volumes: Volumes,
    private readonly quotas: Quotas,
  ) {}

  async find(c: Caller, id: string): Promise<TransferRow> {
    const t = await this.d.store.transfer(id);
    if (!t || t.accepted || !visible(c, t)) throw transferNotFound(id);
    return t;
  }

  async list(c: Caller, allTenants: boolean): Promise<TransferRow[]> {
    authorize(this.d, c, 'volume:get_all_transfers', { project_id: c.projectId });
    return this.d.store.listTransfers(c.isAdmin && allTenants ? undefined : c.projectId);
  }

  async get(c: Caller, id: string): Promise<TransferRow> {
    const t = await this.find(c, id);
    authorize(this.d, c, 'volume:get_transfer', target(t));
    return t;
  }

  async create(
    c: Caller,
    b: { volume_id: string; name?: string | null; no_snapshots?: boolean },
  ): Promise<{ row: TransferRow; authKey: string }> {
    const v = await this.volumes.find(c, b.volume_id);
    authorize(this.d, c, 'volume:create_transfer', target(v));
    const authKey = randomBytes(8).toString('hex');
    const salt = randomBytes(8).toString('hex');
    const now = cinderTime();
    const row: TransferRow = {
      id: uuid(),
      volume_id: v.id,
      project_id: v.project_id,
      name: b.name ?? null,
      salt,
      crypt_hash: hash(salt, authKey),
      no_snapshots: int(!!b.no_snapshots),
      accepted: 0,
      source_project_id: v.project_id,
      destination_project_id: null,
      created_at: now,
      updated_at: null,
    };
    await this.d.store.locked([`volume:${v.id}`], async (trx) => {
      if (
        !(await this.d.store.updateVolume(
          v.id,
          { status: 'awaiting-transfer', updated_at: now },
          ['available'],
          trx,
        ))
      )
        throw invalidVolume(`Status of volume must be available, but current status is: ${v.status}.`);
      await this.d.store.insertTransfer(row, trx);
    });
    return { row, authKey };
  }

  async accept(c: Caller, id: string, authKey: unknown): Promise<TransferRow> {
    authorize(this.d, c, 'volume:accept_transfer', { project_id: c.projectId });
    const t = await this.d.store.transfer(id);
    if (!t || t.accepted) throw transferNotFound(id);
    const given = Buffer.from(hash(t.salt, String(authKey ?? '')));
    if (typeof authKey !== 'string' || !timingSafeEqual(given, Buffer.from(t.crypt_hash)))
      throw badRequest(`Invalid auth key: Attempt to transfer ${id} with invalid auth key.`);
    const v = await this.d.store.volume(t.volume_id);
    if (!v || v.status !== 'awaiting-transfer')
      throw invalidVolume(
        `Status of volume must be awaiting-transfer, but current status is: ${v?.status ?? 'deleted'}.`,
      );
    const type = (await this.d.store.type(v.volume_type_id))!;
    const snaps = bool(t.no_snapshots) ? [] : await this.d.store.snapshotsOf(v.id);
    await this.d.store.locked([`quota:${c.projectId}`, `volume:${v.id}`], async (trx) => {
      await this.quotas.check(trx, c.projectId, {
        volumes: 1,
        snapshots: snaps.length,
        gigabytes: v.size + snaps.reduce((n, s) => n + s.size, 0),
        typeName: type.name,
        typeId: type.id,
      });
      const now = cinderTime();
      if (
        !(await this.d.store.updateVolume(
          v.id,
          { status: 'available', project_id: c.projectId, user_id: c.userId, updated_at: now },
          ['awaiting-transfer'],
          trx,
        ))
      )
        throw invalidVolume('The volume changed while being transferred.');
      if (!bool(t.no_snapshots)) await this.d.store.moveSnapshots(v.id, c.projectId, c.userId, trx);
      await this.d.store.deleteTransfer(t.id, trx);
    });
    return t;
  }

  async delete(c: Caller, id: string): Promise<void> {
    const t = await this.find(c, id);
    authorize(this.d, c, 'volume:delete_transfer', target(t));
    await this.d.store.locked([`volume:${t.volume_id}`], async (trx) => {
      await this.d.store.deleteTransfer(t.id, trx);
      await this.d.store.updateVolume(
        t.volume_id,
        { status: 'available', updated_at: cinderTime() },
        ['awaiting-transfer'],
        trx,
      );
    });
  }
}
