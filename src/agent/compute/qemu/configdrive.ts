/**
 * Config drive (Nova's `config-2`): an ISO 9660 volume with the instance metadata, as Nova writes it
 * (nova/api/metadata/base.py + nova/virt/configdrive.py), so cloud-init and the test guest read it
 * unchanged. The same documents are served by the metadata service at 169.254.169.254.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { metaDataJson, networkDataJson, type MetadataInput } from '../metadata-docs.js';

export { metaDataJson, networkDataJson, type MetadataInput } from '../metadata-docs.js';

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
