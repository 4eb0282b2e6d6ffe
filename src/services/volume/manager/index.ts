/** The block-storage managers, assembled once per service, and the reconciliation run at every start. */
import { cinderTime, type Deps } from './common.js';
import { Attachments } from './attachments.js';
import { Quotas } from './quotas.js';
import { Snapshots } from './snapshots.js';
import { Transfers } from './transfers.js';
import { Types } from './types.js';
import { Volumes } from './volumes.js';

export class VolumeManager {
  readonly quotas: Quotas;
  readonly types: Types;
  readonly volumes: Volumes;
  readonly attachments: Attachments;
  readonly snapshots: Snapshots;
  readonly transfers: Transfers;

  constructor(readonly deps: Deps) {
    this.quotas = new Quotas(deps);
    this.types = new Types(deps);
    this.volumes = new Volumes(deps, this.types, this.quotas);
    this.attachments = new Attachments(deps, this.volumes);
    this.snapshots = new Snapshots(deps, this.volumes, this.quotas);
    this.transfers = new Transfers(deps, this.volumes, this.quotas);
  }

  /**
   * After a crash: every transient state resolves to a true one, and the backend holds nothing the database
   * does not know (interrupted creations leave only temporary files, which the driver's init removed).
   */
  async reconcile(): Promise<void> {
    const { store, driver, log } = this.deps;
    const now = cinderTime();
    const onBackend = await driver.list();
    const has = new Set(onBackend.volumes);
    for (const v of await store.volumesInStatus([
      'creating',
      'deleting',
      'extending',
      'uploading',
      'reverting',
      'downloading',
    ])) {
      if (v.status === 'creating')
        await store.updateVolume(
          v.id,
          has.has(v.id)
            ? { status: 'available', updated_at: now }
            : { status: 'error', error: 'The creation was interrupted by a restart.', updated_at: now },
        );
      else if (v.status === 'deleting') {
        await driver.deleteVolume(v.id);
        for (const s of await store.snapshotsOf(v.id)) {
          await driver.deleteSnapshot(s.id);
          await store.deleteSnapshotRow(s.id);
        }
        await store.deleteTransfersOf(v.id);
        await store.deleteVolumeRow(v.id);
      } else if (v.status === 'reverting')
        await store.updateVolume(v.id, {
          status: 'error',
          error: 'The revert was interrupted by a restart.',
          updated_at: now,
        });
      else {
        const attached = (await store.attachments([v.id])).some((a) => a.attach_status === 'attached');
        await store.updateVolume(v.id, { status: attached ? 'in-use' : 'available', updated_at: now });
      }
    }
    const snapsOnBackend = new Set(onBackend.snapshots);
    for (const s of await store.snapshotsInStatus(['creating', 'deleting', 'restoring'])) {
      if (s.status === 'deleting') {
        await driver.deleteSnapshot(s.id);
        await store.deleteSnapshotRow(s.id);
      } else if (s.status === 'restoring') await store.updateSnapshot(s.id, { status: 'available' });
      else
        await store.updateSnapshot(
          s.id,
          snapsOnBackend.has(s.id)
            ? { status: 'available', progress: '100%', updated_at: now }
            : { status: 'error', error: 'The creation was interrupted by a restart.', updated_at: now },
        );
    }
    const volIds = new Set(await store.allVolumeIds());
    const snapIds = new Set(await store.allSnapshotIds());
    for (const id of onBackend.volumes)
      if (!volIds.has(id)) {
        log.info({ volume: id }, 'removing a volume file no volume owns');
        await driver.deleteVolume(id);
      }
    for (const id of onBackend.snapshots)
      if (!snapIds.has(id)) {
        log.info({ snapshot: id }, 'removing a snapshot file no snapshot owns');
        await driver.deleteSnapshot(id);
      }
  }
}
