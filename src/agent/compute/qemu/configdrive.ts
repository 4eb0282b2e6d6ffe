/**
 * Config drive (Nova's `config-2`): an ISO 9660 volume with the instance metadata, as Nova writes it
 * (nova/api/metadata/base.py + nova/virt/configdrive.py), so cloud-init and the test guest read it
 * unchanged. The same documents are served by the metadata service at 169.254.169.254.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface MetadataInput {
  uuid: string;
  name: string;
  hostname: string;
  projectId: string;
  availabilityZone?: string;
  launchIndex?: number;
  metadata?: Record<string, string>;
  keyName?: string;
  publicKey?: string;
  /** base64, as given to the API */
  userData?: string;
  networks: {
    portId: string;
    networkId: string;
    mac: string;
    mtu?: number;
    fixedIps: { address: string; version: 4 | 6; prefixLength?: number; gateway?: string; dhcp?: boolean }[];
  }[];
  dnsNameservers?: string[];
}

/** openstack/<version>/meta_data.json */
export function metaDataJson(m: MetadataInput) {
  return {
    uuid: m.uuid,
    meta: m.metadata ?? {},
    hostname: m.hostname,
    name: m.name,
    launch_index: m.launchIndex ?? 0,
    availability_zone: m.availabilityZone ?? 'nova',
    project_id: m.projectId,
    devices: [],
    ...(m.keyName && m.publicKey
      ? {
          public_keys: { [m.keyName]: m.publicKey },
          keys: [{ name: m.keyName, type: 'ssh', data: m.publicKey }],
        }
      : {}),
  };
}

function netmask(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** openstack/<version>/network_data.json */
export function networkDataJson(m: MetadataInput) {
  const links = m.networks.map((n) => ({
    id: `tap${n.portId.slice(0, 11)}`,
    vif_id: n.portId,
    type: 'bridge',
    mtu: n.mtu ?? 1500,
    ethernet_mac_address: n.mac,
  }));
  const networks = m.networks.flatMap((n, i) =>
    n.fixedIps.map((ip, j) => {
      const link = links[i]!.id;
      if (ip.dhcp !== false && ip.version === 4)
        return { id: `network${i}-${j}`, type: 'ipv4_dhcp', link, network_id: n.networkId };
      const prefix = ip.prefixLength ?? (ip.version === 4 ? 24 : 64);
      return {
        id: `network${i}-${j}`,
        type: ip.version === 4 ? 'ipv4' : 'ipv6',
        link,
        ip_address: ip.address,
        netmask: ip.version === 4 ? netmask(prefix) : String(prefix),
        routes: ip.gateway
          ? [
              {
                network: ip.version === 4 ? '0.0.0.0' : '::',
                netmask: ip.version === 4 ? '0.0.0.0' : '0',
                gateway: ip.gateway,
              },
            ]
          : [],
        network_id: n.networkId,
      };
    }),
  );
  return { links, networks, services: (m.dnsNameservers ?? []).map((address) => ({ type: 'dns', address })) };
}

/** The files of a config drive, path → contents. */
export function configDriveFiles(m: MetadataInput): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {};
  const meta = JSON.stringify(metaDataJson(m));
  const net = JSON.stringify(networkDataJson(m));
  for (const v of ['2012-08-10', '2017-02-22', 'latest']) {
    files[`openstack/${v}/meta_data.json`] = meta;
    files[`openstack/${v}/network_data.json`] = net;
    files[`openstack/${v}/vendor_data.json`] = '{}';
    files[`openstack/${v}/vendor_data2.json`] = '{}';
    if (m.userData) files[`openstack/${v}/user_data`] = Buffer.from(m.userData, 'base64');
  }
  const ec2 = JSON.stringify({
    'instance-id': m.uuid,
    hostname: m.hostname,
    'local-hostname': m.hostname,
    placement: { 'availability-zone': m.availabilityZone ?? 'nova' },
    ...(m.keyName && m.publicKey ? { 'public-keys': { '0': { 'openssh-key': m.publicKey } } } : {}),
  });
  files['ec2/2009-04-04/meta-data.json'] = ec2;
  files['ec2/latest/meta-data.json'] = ec2;
  if (m.userData) files['ec2/latest/user-data'] = Buffer.from(m.userData, 'base64');
  return files;
}

/** Write an ISO 9660 + Joliet + Rock Ridge volume labelled `config-2` (genisoimage, as Nova does). */
export async function buildConfigDrive(
  m: MetadataInput,
  isoPath: string,
  genisoimage = 'genisoimage',
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'stackbox-configdrive-'));
  try {
    for (const [rel, data] of Object.entries(configDriveFiles(m))) {
      const p = join(dir, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, data);
    }
    await new Promise<void>((resolve, reject) => {
      const args = [
        '-o',
        isoPath,
        '-ldots',
        '-allow-lowercase',
        '-allow-multidot',
        '-l',
        '-publisher',
        'Stackbox',
        '-quiet',
        '-J',
        '-r',
        '-V',
        'config-2',
        dir,
      ];
      const p = spawn(genisoimage, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.on('error', reject);
      p.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`genisoimage failed (${code}): ${err.trim()}`)),
      );
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
