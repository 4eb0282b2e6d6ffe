/**
 * The QEMU command line of an instance, from what `instance.json` keeps of it: q35 with pre-created
 * `pcie-root-port`s for hot-plug, virtio disks and NICs (taps the network driver wires), the serial console
 * to a socket and `console.log`, QMP on a socket, VNC with a websocket, daemonized with a pidfile.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { InstanceSpec, VifSpec, VolumeSpec } from '../driver.js';

/** What `instance.json` holds: everything needed to start the instance again. */
export interface Saved {
  spec: InstanceSpec;
  vncDisplay: number;
  /** Volumes and interfaces attached after boot, re-attached when the VM is started again. */
  volumes: VolumeSpec[];
  extraVifs: VifSpec[];
  suspended?: boolean;
  powerOff?: boolean;
  /** Booted from a rescue disk (the image again) with the instance's own disk attached second. */
  rescue?: boolean;
  /** The host's boot id when QEMU was last started: a different one at init means the host rebooted. */
  bootId?: string;
}

/** Hot-plug slots: q35 has no hot-plug on pcie.0, so devices go to these root ports (rp1…). */
export const ROOT_PORTS = 8;

/** The host tap of a port's NIC. */
export { tapName } from '../../network/driver.js';
import { tapName } from '../../network/driver.js';

export function qemuArgs(
  uuid: string,
  s: Saved,
  o: { dir: string; kvm: boolean; vncListen: string; incoming?: string },
): string[] {
  const spec = s.spec;
  const d = o.dir;
  const kvm = o.kvm;
  const a = [
    '-name',
    `guest=instance-${uuid.slice(0, 8)},debug-threads=on`,
    '-uuid',
    uuid,
    '-machine',
    'q35',
    '-accel',
    kvm ? 'kvm' : 'tcg,tb-size=32',
    '-cpu',
    kvm ? 'host' : 'max',
    '-smp',
    String(spec.flavor.vcpus),
    '-m',
    String(spec.flavor.memoryMb),
    '-nodefaults',
    '-no-user-config',
    '-no-shutdown',
    '-display',
    'none',
    '-device',
    'VGA',
    '-vnc',
    `${o.vncListen}:${s.vncDisplay},websocket=${5700 + s.vncDisplay}`,
    '-chardev',
    `socket,id=ser0,path=${join(d, 'serial.sock')},server=on,wait=off,logfile=${join(d, 'console.log')},logappend=on`,
    '-serial',
    'chardev:ser0',
    '-qmp',
    `unix:${join(d, 'qmp.sock')},server=on,wait=off`,
    '-pidfile',
    join(d, 'pid'),
    '-daemonize',
  ];
  for (let i = 1; i <= ROOT_PORTS; i++) a.push('-device', `pcie-root-port,id=rp${i},chassis=${i},slot=${i}`);
  const drive = (file: string, id: string, opts: string, device = '') =>
    a.push(
      '-drive',
      `file=${join(d, file)},if=none,id=${id},${opts}`,
      '-device',
      `virtio-blk-pci,drive=${id}${device}`,
    );
  if (s.rescue) {
    // Rescue: boot a fresh disk of the image; the instance's own disk comes second, for repair.
    drive('disk.rescue', 'rescue', 'format=qcow2', ',bootindex=0');
    drive('disk', 'root', 'format=qcow2,discard=unmap');
  } else {
    drive('disk', 'root', 'format=qcow2,discard=unmap', ',bootindex=0');
  }
  if (existsSync(join(d, 'disk.eph0'))) drive('disk.eph0', 'eph0', 'format=qcow2');
  if (existsSync(join(d, 'disk.swap'))) drive('disk.swap', 'swap', 'format=qcow2');
  if (existsSync(join(d, 'disk.config'))) drive('disk.config', 'config', 'format=raw,readonly=on');
  [...spec.networkInfo, ...s.extraVifs].forEach((v, i) => {
    a.push(
      '-netdev',
      `tap,id=net${i},ifname=${tapName(v.portId)},script=no,downscript=no`,
      '-device',
      `virtio-net-pci,netdev=net${i},mac=${v.mac},romfile=`,
    );
  });
  if (o.incoming) a.push('-incoming', o.incoming);
  return a;
}
