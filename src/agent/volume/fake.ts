/**
 * The fake volume driver: the same contract as the file backend, kept in memory, for machines without
 * qemu-img and for API tests. Image streams are read to the end (so a broken image fails as it would).
 * `failNext` makes the next operation of a kind fail, to test error states.
 */
import { Readable } from 'node:stream';
import {
  VolumeDriverError,
  type BackendStats,
  type ConnectionInfo,
  type Connector,
  type ImageSource,
  type VolumeCapabilities,
  type VolumeDriver,
  type VolumeExport,
} from './driver.js';

type Op = 'create' | 'delete' | 'extend' | 'snapshot' | 'image';

export class FakeVolumeDriver implements VolumeDriver {
  readonly type = 'fake';
  readonly capabilities: VolumeCapabilities = { onlineExtend: true, snapshotInUse: true, multiattach: false };
  readonly volumes = new Map<string, { sizeGb: number; content: string }>();
  readonly snapshots = new Map<string, { sizeGb: number; content: string }>();
  readonly connections = new Map<string, Connector[]>();
  private failures = new Map<Op, string>();
  /** Milliseconds each operation takes (tests of intermediate states). */
  delayMs = 0;

  constructor(readonly backendName = 'fake') {}

  failNext(op: Op, message = `fake ${op} failure`): void {
    this.failures.set(op, message);
  }
  private async step(op: Op): Promise<void> {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const f = this.failures.get(op);
    if (f !== undefined) {
      this.failures.delete(op);
      throw new VolumeDriverError(f);
    }
  }

  async init(): Promise<void> {}
  async stats(): Promise<BackendStats> {
    let prov = 0;
    for (const v of [...this.volumes.values(), ...this.snapshots.values()]) prov += v.sizeGb;
    return {
      backendName: this.backendName,
      totalCapacityGb: 10240,
      freeCapacityGb: 10240 - prov,
      provisionedCapacityGb: prov,
      thinProvisioning: true,
      storageProtocol: 'file',
    };
  }
  async createVolume(id: string, sizeGb: number): Promise<void> {
    await this.step('create');
    this.volumes.set(id, { sizeGb, content: 'blank' });
  }
  async createFromImage(id: string, sizeGb: number, image: ImageSource): Promise<void> {
    let n = 0;
    for await (const c of image.stream) n += (c as Buffer).length;
    await this.step('create');
    this.volumes.set(id, { sizeGb, content: `image:${n}` });
  }
  async createFromSnapshot(id: string, sizeGb: number, snapshotId: string): Promise<void> {
    await this.step('create');
    const s = this.snapshots.get(snapshotId);
    if (!s) throw new VolumeDriverError(`snapshot ${snapshotId} is missing on the backend`);
    this.volumes.set(id, { sizeGb, content: s.content });
  }
  async cloneVolume(id: string, sizeGb: number, sourceId: string): Promise<void> {
    await this.step('create');
    const s = this.volumes.get(sourceId);
    if (!s) throw new VolumeDriverError(`volume ${sourceId} is missing on the backend`);
    this.volumes.set(id, { sizeGb, content: s.content });
  }
  async extendVolume(id: string, newSizeGb: number): Promise<void> {
    await this.step('extend');
    const v = this.volumes.get(id);
    if (!v) throw new VolumeDriverError(`volume ${id} is missing on the backend`);
    v.sizeGb = Math.max(v.sizeGb, newSizeGb);
  }
  async deleteVolume(id: string): Promise<void> {
    await this.step('delete');
    this.volumes.delete(id);
  }
  async createSnapshot(snapshotId: string, volumeId: string): Promise<void> {
    await this.step('snapshot');
    const v = this.volumes.get(volumeId);
    if (!v) throw new VolumeDriverError(`volume ${volumeId} is missing on the backend`);
    this.snapshots.set(snapshotId, { ...v });
  }
  async deleteSnapshot(snapshotId: string): Promise<void> {
    await this.step('delete');
    this.snapshots.delete(snapshotId);
  }
  async revertToSnapshot(volumeId: string, snapshotId: string, sizeGb: number): Promise<void> {
    const s = this.snapshots.get(snapshotId);
    if (!s) throw new VolumeDriverError(`snapshot ${snapshotId} is missing on the backend`);
    this.volumes.set(volumeId, { sizeGb, content: s.content });
  }
  async volumeExists(id: string): Promise<boolean> {
    return this.volumes.has(id);
  }
  async list(): Promise<{ volumes: string[]; snapshots: string[] }> {
    return { volumes: [...this.volumes.keys()], snapshots: [...this.snapshots.keys()] };
  }
  async initializeConnection(id: string, connector: Connector): Promise<ConnectionInfo> {
    if (!this.volumes.has(id)) throw new VolumeDriverError(`volume ${id} is missing on the backend`);
    this.connections.set(id, [...(this.connections.get(id) ?? []), connector]);
    return {
      driver_volume_type: 'file',
      data: { path: `/dev/null/fake-volume-${id}`, format: 'raw', volume_id: id, access_mode: 'rw' },
    };
  }
  async terminateConnection(id: string, connector: Connector): Promise<void> {
    const left = (this.connections.get(id) ?? []).filter((c) => c.host !== connector.host);
    if (left.length) this.connections.set(id, left);
    else this.connections.delete(id);
  }
  async exportVolume(id: string, _diskFormat: string): Promise<VolumeExport> {
    await this.step('image');
    const v = this.volumes.get(id);
    if (!v) throw new VolumeDriverError(`volume ${id} is missing on the backend`);
    const data = Buffer.from(`fake volume ${id}: ${v.content}\n`);
    return { stream: Readable.from([data]), size: data.length, cleanup: async () => undefined };
  }
}
