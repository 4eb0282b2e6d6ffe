/** The compute steps with the real `openstack` CLI (and openstacksdk) against a real `stackbox up`. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const hasSdk = spawnSync(PY, ['-c', 'import openstack'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasOpenstackCli)('openstack CLI against stackbox up (compute)', () => {
  let sb: StackboxProcess;
  const ok = (args: string[]) => {
    const r = sb.os(args);
    expect(r.status, `openstack ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout;
  };
  const status = (name: string) => ok(['server', 'show', name, '-f', 'value', '-c', 'status']).trim();
  const waitStatus = async (name: string, want: string) => {
    const end = Date.now() + 60_000;
    let s = '';
    while (Date.now() < end) {
      s = status(name);
      if (s === want) return;
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${name} is ${s}, not ${want}`);
  };

  beforeAll(async () => {
    sb = await startStackbox();
    writeFileSync(join(sb.dataDir, 'disk.raw'), Buffer.alloc(64 * 1024, 0));
    ok([
      'image',
      'create',
      '--file',
      join(sb.dataDir, 'disk.raw'),
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      '--public',
      'cli-img',
    ]);
  });
  afterAll(async () => {
    await sb?.cleanup();
  });

  it('flavor, keypair, server create --wait, list, show', { timeout: 300_000 }, () => {
    const f = sb.osJson(['flavor', 'create', '--ram', '256', '--disk', '1', '--vcpus', '1', 'cli.small']);
    expect(f).toMatchObject({ name: 'cli.small', ram: 256, vcpus: 1 });
    const keyFile = join(sb.dataDir, 'k1.pem');
    ok(['keypair', 'create', '--private-key', keyFile, 'k1']);
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(sb.osJson(['keypair', 'show', 'k1']).fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    // The CLI resolves security groups through the network service, then sends their names to compute.
    const sg = sb.osJson(['security', 'group', 'create', 'cli-sg']);
    const s = sb.osJson([
      'server',
      'create',
      '--image',
      'cli-img',
      '--flavor',
      'cli.small',
      '--key-name',
      'k1',
      '--security-group',
      'cli-sg',
      '--wait',
      'vm1',
    ]);
    expect(s).toMatchObject({ name: 'vm1', status: 'ACTIVE', key_name: 'k1' });
    const list = sb.osJson<{ Name: string; Status: string }[]>(['server', 'list']);
    expect(list).toEqual([expect.objectContaining({ Name: 'vm1', Status: 'ACTIVE' })]);
    const show = sb.osJson(['server', 'show', 'vm1']);
    expect(show.flavor).toContain('cli.small');
    expect(String(show['OS-EXT-STS:power_state'])).toMatch(/Running|1/);
    // OSC sends the group's id as its name; compute shows what it was given (names need a network facade lookup).
    expect(JSON.stringify(show.security_groups)).toMatch(new RegExp(`cli-sg|${sg.id}`));
  });

  it(
    'reboot, stop/start, pause/unpause, suspend/resume, resize, rebuild, snapshot',
    { timeout: 600_000 },
    async () => {
      ok(['server', 'reboot', '--wait', 'vm1']);
      expect(status('vm1')).toBe('ACTIVE');
      ok(['server', 'reboot', '--hard', '--wait', 'vm1']);
      ok(['server', 'stop', 'vm1']);
      await waitStatus('vm1', 'SHUTOFF');
      ok(['server', 'start', 'vm1']);
      await waitStatus('vm1', 'ACTIVE');
      ok(['server', 'pause', 'vm1']);
      await waitStatus('vm1', 'PAUSED');
      expect(sb.os(['server', 'pause', 'vm1']).status).not.toBe(0); // 409 in the wrong state
      ok(['server', 'unpause', 'vm1']);
      await waitStatus('vm1', 'ACTIVE');
      ok(['server', 'suspend', 'vm1']);
      await waitStatus('vm1', 'SUSPENDED');
      ok(['server', 'resume', 'vm1']);
      await waitStatus('vm1', 'ACTIVE');
      ok(['server', 'resize', '--flavor', 'm1.tiny', '--wait', 'vm1']);
      expect(status('vm1')).toBe('VERIFY_RESIZE');
      ok(['server', 'resize', 'confirm', 'vm1']);
      await waitStatus('vm1', 'ACTIVE');
      expect(sb.osJson(['server', 'show', 'vm1']).flavor).toContain('m1.tiny');
      ok(['server', 'rebuild', '--image', 'cli-img', '--wait', 'vm1']);
      expect(status('vm1')).toBe('ACTIVE');
      const snap = sb.osJson(['server', 'image', 'create', '--name', 'vm1-snap', '--wait', 'vm1']);
      expect(snap).toMatchObject({ name: 'vm1-snap', status: 'active' });
    },
  );

  it(
    'console log and URL, quota, hypervisors, zones, server groups, delete --wait',
    { timeout: 300_000 },
    () => {
      const log = ok(['console', 'log', 'show', '--lines', '5', 'vm1']);
      expect(log).toContain('vm1 login:');
      const url = sb.osJson(['console', 'url', 'show', 'vm1']);
      expect(url).toMatchObject({ protocol: 'vnc', type: 'novnc' });
      expect(url.url).toContain('token');
      const q = sb.osJson(['quota', 'show']);
      expect(q).toMatchObject({ instances: 10, cores: 20, ram: 51200 });
      const hv = sb.osJson<{ 'Hypervisor Type': string; State: string }[]>(['hypervisor', 'list']);
      expect(hv[0]).toMatchObject({ 'Hypervisor Type': 'fake', State: 'up' });
      const zones = sb.osJson<{ 'Zone Name': string; 'Zone Status': string }[]>([
        'availability',
        'zone',
        'list',
        '--compute',
      ]);
      expect(zones).toContainEqual(
        expect.objectContaining({ 'Zone Name': 'nova', 'Zone Status': 'available' }),
      );
      const g = sb.osJson(['server', 'group', 'create', '--policy', 'anti-affinity', 'g1']);
      expect(g).toMatchObject({ name: 'g1', policy: 'anti-affinity' });
      expect(sb.osJson<unknown[]>(['compute', 'service', 'list'])).toHaveLength(1);
      ok(['server', 'delete', '--wait', 'vm1']);
      expect(sb.osJson<unknown[]>(['server', 'list'])).toEqual([]);
    },
  );

  it.skipIf(!hasSdk)('openstacksdk: create, list, delete', { timeout: 200_000 }, () => {
    const script = `
import openstack
conn = openstack.connect(cloud='stackbox')
img = conn.image.find_image('cli-img')
flv = conn.compute.find_flavor('m1.tiny')
s = conn.compute.create_server(name='sdk-vm', image_id=img.id, flavor_id=flv.id, networks='none')
s = conn.compute.wait_for_server(s, status='ACTIVE', wait=60)
names = [x.name for x in conn.compute.servers()]
assert 'sdk-vm' in names, names
print('ACTIVE', s.status, s.flavor.original_name)
conn.compute.delete_server(s)
conn.compute.wait_for_delete(s, wait=60)
print('DELETED', 'sdk-vm' in [x.name for x in conn.compute.servers()])
`;
    const r = spawnSync(PY, ['-c', script], {
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: sb.cloudsYaml, OS_CLOUD: 'stackbox' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('ACTIVE ACTIVE m1.tiny');
    expect(r.stdout).toContain('DELETED False');
  });
});
