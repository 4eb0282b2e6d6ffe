import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildConfigDrive,
  metaDataJson,
  networkDataJson,
  type MetadataInput,
} from '../src/agent/compute/qemu/configdrive.js';

const input: MetadataInput = {
  uuid: '6f2b9e4e-1111-4c3a-9d55-0a1b2c3d4e5f',
  name: 'vm1',
  hostname: 'vm1',
  projectId: 'p1',
  keyName: 'key1',
  publicKey: 'ssh-ed25519 AAAAC3Nza test@stackbox',
  userData: Buffer.from('#!/bin/sh\necho hello\n').toString('base64'),
  metadata: { role: 'web' },
  networks: [
    {
      portId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
      networkId: 'net1',
      mac: 'fa:16:3e:00:00:01',
      fixedIps: [{ address: '10.11.12.20', version: 4 }],
    },
    {
      portId: 'ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee',
      networkId: 'net2',
      mac: 'fa:16:3e:00:00:02',
      fixedIps: [{ address: '10.0.0.5', version: 4, dhcp: false, prefixLength: 28, gateway: '10.0.0.1' }],
    },
  ],
  dnsNameservers: ['10.11.12.1'],
};

describe('config drive documents', () => {
  it('meta_data.json carries the key the way cloud-init and the test guest read it', () => {
    const m = metaDataJson(input);
    expect(m.public_keys).toEqual({ key1: input.publicKey });
    expect(m.keys).toEqual([{ name: 'key1', type: 'ssh', data: input.publicKey }]);
    expect(m).toMatchObject({ uuid: input.uuid, hostname: 'vm1', meta: { role: 'web' }, launch_index: 0 });
  });
  it('network_data.json: DHCP and static networks with routes and DNS', () => {
    const n = networkDataJson(input);
    expect(n.links.map((l) => l.ethernet_mac_address)).toEqual(['fa:16:3e:00:00:01', 'fa:16:3e:00:00:02']);
    expect(n.networks[0]).toMatchObject({ type: 'ipv4_dhcp', network_id: 'net1' });
    expect(n.networks[1]).toMatchObject({
      type: 'ipv4',
      ip_address: '10.0.0.5',
      netmask: '255.255.255.240',
      routes: [{ gateway: '10.0.0.1' }],
    });
    expect(n.services).toEqual([{ type: 'dns', address: '10.11.12.1' }]);
  });
});

const hasTools = spawnSync('sh', ['-c', 'command -v genisoimage && command -v isoinfo']).status === 0;
describe.skipIf(!hasTools)('config drive ISO', () => {
  it('is labelled config-2 and holds the documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stackbox-cd-test-'));
    try {
      const iso = join(dir, 'disk.config');
      await buildConfigDrive(input, iso);
      const pvd = spawnSync('isoinfo', ['-d', '-i', iso], { encoding: 'utf8' }).stdout;
      expect(pvd).toMatch(/Volume id: config-2/);
      const read = (p: string) =>
        spawnSync('isoinfo', ['-R', '-i', iso, '-x', p], { encoding: 'utf8' }).stdout;
      expect(JSON.parse(read('/openstack/latest/meta_data.json')).public_keys.key1).toBe(input.publicKey);
      expect(read('/openstack/latest/user_data')).toBe('#!/bin/sh\necho hello\n');
      expect(JSON.parse(read('/openstack/latest/network_data.json')).links).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
