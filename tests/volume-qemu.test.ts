/**
 * The seed's volume step on a real VM: `openstack volume create`, `openstack server add volume` on a running
 * QEMU guest, and inside the guest — as the seed's user does — find the disk by its serial (the volume id's
 * first 20 characters), partition it with fdisk, mkfs.ext4, mount it and write a file; then
 * `openstack server remove volume` frees it. The guest does its part in a user-data script and reports on
 * the console. Needs root, QEMU, genisoimage, qemu-img, the openstack CLI and the test image.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasOpenstackCli, startStackbox, type StackboxProcess } from './support/stackbox.js';

const cache = process.env.STACKBOX_CACHE ?? join(homedir(), '.cache', 'stackbox');
const ready =
  hasOpenstackCli &&
  process.getuid?.() === 0 &&
  existsSync(join(cache, 'images', 'stackbox-test.qcow2')) &&
  spawnSync('sh', ['-c', 'command -v qemu-system-x86_64 && command -v genisoimage && command -v qemu-img'])
    .status === 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!ready)('a volume in a real guest (QEMU driver, file volumes)', () => {
  let sb: StackboxProcess | undefined;
  afterAll(async () => {
    if (sb) {
      sb.os(['server', 'delete', '--wait', 'vm-vol']);
      await sb.cleanup();
    }
  });

  it('attaches, and the guest partitions, formats, mounts and writes it', { timeout: 900_000 }, async () => {
    const env = {
      STACKBOX_COMPUTE_DRIVER: 'qemu',
      STACKBOX_VOLUME_DRIVER: 'file',
      STACKBOX_TEST_IMAGE: 'true',
      STACKBOX_CACHE: cache,
    };
    sb = await startStackbox({ env });
    const vol = sb.osJson<{ id: string }>(['volume', 'create', '--size', '1', 'vol1']);
    for (let i = 0; i < 60 && sb.osJson(['volume', 'show', 'vol1']).status !== 'available'; i++)
      await sleep(1000);
    expect(sb.osJson(['volume', 'show', 'vol1']).status).toBe('available');

    const serial = vol.id.slice(0, 20);
    const script = join(sb.dataDir, 'user-data.sh');
    writeFileSync(
      script,
      `#!/bin/sh
d=
i=0
while [ -z "$d" ] && [ $i -lt 240 ]; do
  for b in /sys/block/*; do [ "$(cat $b/serial 2>/dev/null)" = "${serial}" ] && d=\${b##*/}; done
  [ -z "$d" ] && sleep 1
  i=$((i+1))
done
[ -n "$d" ] || { echo "VOLUME-FAIL no disk with serial ${serial}"; exit 1; }
printf "o\\nn\\np\\n1\\n\\n\\nw\\n" | fdisk /dev/$d >/dev/null 2>&1 || true
i=0; while [ ! -b /dev/\${d}1 ] && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done
mkfs.ext4 -q /dev/\${d}1 && mkdir -p /mnt/vol && mount /dev/\${d}1 /mnt/vol && echo seed-data > /mnt/vol/hello && sync &&
  echo "VOLUME-OK $d $(cat /mnt/vol/hello) $(grep ' /mnt/vol ' /proc/mounts | cut -d' ' -f3)" && umount /mnt/vol
`,
    );
    const server = sb.osJson<{ status: string }>([
      '--os-compute-api-version',
      '2.37',
      'server',
      'create',
      '--image',
      'stackbox-test',
      '--flavor',
      'm1.nano',
      '--nic',
      'none',
      '--user-data',
      script,
      '--wait',
      'vm-vol',
    ]);
    expect(server.status).toBe('ACTIVE');

    const r = sb.os(['server', 'add', 'volume', 'vm-vol', 'vol1']);
    expect(r.status, r.stderr).toBe(0);
    expect(sb.osJson(['volume', 'show', 'vol1']).status).toBe('in-use');

    let log = '';
    for (let i = 0; i < 150 && !/VOLUME-(OK|FAIL)/.test(log); i++) {
      log = sb.os(['console', 'log', 'show', 'vm-vol']).stdout;
      if (!/VOLUME-(OK|FAIL)/.test(log)) await sleep(2000);
    }
    expect(log, log.slice(-3000)).toMatch(/VOLUME-OK vd[b-z] seed-data ext4/);

    const d = sb.os(['server', 'remove', 'volume', 'vm-vol', 'vol1']);
    expect(d.status, d.stderr).toBe(0);
    for (let i = 0; i < 30 && sb.osJson(['volume', 'show', 'vol1']).status !== 'available'; i++)
      await sleep(1000);
    expect(sb.osJson(['volume', 'show', 'vol1']).status).toBe('available');
  });
});
