/**
 * Hot-plug over QMP: volumes (blockdev-add + virtio-blk with the volume id as serial, so guests find them by
 * their serial in sysfs) and NICs (a tap netdev + virtio-net) into free pre-created PCIe root ports.
 */
import { DriverError, type VifSpec, type VolumeSpec } from '../driver.js';
import { tapName } from './cmdline.js';
import type { QmpClient } from './qmp.js';

/** QEMU device ids of a volume and of a NIC. */
export const volumeNode = (volumeId: string) => `vol-${volumeId.slice(0, 20)}`;
export const nicId = (portId: string) => `nic-${portId.slice(0, 20)}`;

/** Hot-plugged devices present now (volumes and NICs). */
async function pluggedDevices(q: QmpClient): Promise<Set<string>> {
  const xs = await q.execute<{ name: string; type: string }[]>('qom-list', { path: '/machine/peripheral' });
  const used = new Set<string>();
  for (const x of xs) if (x.name.startsWith('vol-') || x.name.startsWith('nic-')) used.add(x.name);
  return used;
}

async function freeRootPort(q: QmpClient): Promise<string> {
  const pci =
    await q.execute<{ devices: { qdev_id: string; pci_bridge?: { devices: unknown[] } }[] }[]>('query-pci');
  for (const dev of pci[0]?.devices ?? []) {
    if (/^rp\d+$/.test(dev.qdev_id) && (dev.pci_bridge?.devices ?? []).length === 0) return dev.qdev_id;
  }
  throw new DriverError('no free PCIe slot for hot-plug', 'NoResources');
}

export async function plugVolume(q: QmpClient, v: VolumeSpec): Promise<void> {
  const node = volumeNode(v.volumeId);
  const path = String(v.connection.path ?? v.connection.device_path ?? '');
  if (!path) throw new DriverError(`volume ${v.volumeId} has no file path`, 'VolumeUnusable');
  const format = String(v.connection.format ?? 'raw');
  await q.execute('blockdev-add', {
    driver: format,
    'node-name': node,
    file: { driver: 'file', filename: path },
  });
  try {
    await q.execute('device_add', {
      driver: 'virtio-blk-pci',
      id: node,
      drive: node,
      bus: await freeRootPort(q),
      serial: (v.serial ?? v.volumeId).slice(0, 20),
    });
  } catch (e) {
    await q.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
    throw e;
  }
}

export async function unplugVolume(q: QmpClient, volumeId: string): Promise<void> {
  const node = volumeNode(volumeId);
  await unplugDevice(q, node);
  await q.execute('blockdev-del', { 'node-name': node }).catch(() => undefined);
}

export async function plugNic(q: QmpClient, vif: VifSpec): Promise<void> {
  const id = nicId(vif.portId);
  await q.execute('netdev_add', {
    type: 'tap',
    id,
    ifname: tapName(vif.portId),
    script: 'no',
    downscript: 'no',
  });
  await q.execute('device_add', {
    driver: 'virtio-net-pci',
    id,
    netdev: id,
    mac: vif.mac,
    bus: await freeRootPort(q),
    romfile: '',
  });
}

export async function unplugNic(q: QmpClient, portId: string): Promise<void> {
  const id = nicId(portId);
  if (await unplugDevice(q, id)) await q.execute('netdev_del', { id }).catch(() => undefined);
}

/** device_del and wait for the guest to let it go; false when it was not plugged. */
async function unplugDevice(q: QmpClient, id: string): Promise<boolean> {
  if (!(await pluggedDevices(q)).has(id)) return false;
  const gone = q.waitEvent('DEVICE_DELETED', 30_000, (d) => d.device === id);
  await q.execute('device_del', { id });
  await gone;
  return true;
}
