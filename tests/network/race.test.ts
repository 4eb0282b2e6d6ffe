/**
 * IPAM exactness through the API: 50 parallel port creates on a /28 (13 addresses in the pool) give exactly
 * 13 ports with distinct addresses and 37 clean 409 IpAddressGenerationFailure — on SQLite, and on
 * PostgreSQL when STACKBOX_TEST_DATABASE_URL is set.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { networkService } from '../../src/services/network/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { neutron } from './support.js';

const pgUrl = process.env.STACKBOX_TEST_DATABASE_URL;
const backends = [{ name: 'sqlite', url: undefined as string | undefined }];
if (pgUrl) backends.push({ name: 'postgres', url: pgUrl });

for (const backend of backends) {
  describe(`port creation races on ${backend.name}`, () => {
    let cloud: TestCloud | undefined;
    afterAll(async () => cloud?.close());

    it('50 parallel creates on a /28: 13 succeed, 37 get IpAddressGenerationFailure', async () => {
      const saved = process.env.STACKBOX_TEST_DATABASE_URL;
      if (backend.url) process.env.STACKBOX_TEST_DATABASE_URL = backend.url;
      else delete process.env.STACKBOX_TEST_DATABASE_URL;
      try {
        cloud = await startTestCloud({ services: [networkService()] });
      } finally {
        if (saved === undefined) delete process.env.STACKBOX_TEST_DATABASE_URL;
        else process.env.STACKBOX_TEST_DATABASE_URL = saved;
      }
      const api = neutron(cloud);
      const user = await cloud.projectUser('race', 'racer');
      const net = (await api.ok(201, 'POST', '/networks', user.token, { network: { name: 'race' } })).network;
      const subnet = (
        await api.ok(201, 'POST', '/subnets', user.token, {
          subnet: { network_id: net.id, cidr: '10.20.30.0/28', ip_version: 4, enable_dhcp: false },
        })
      ).subnet;
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api.call('POST', '/ports', user.token, { port: { network_id: net.id, name: `p${i}` } }),
        ),
      );
      const ok = results.filter((r) => r.statusCode === 201).map((r) => r.json().port);
      const failed = results.filter((r) => r.statusCode !== 201);
      expect(ok).toHaveLength(13);
      expect(failed).toHaveLength(37);
      for (const f of failed) {
        expect(f.statusCode, f.body).toBe(409);
        expect(f.json().NeutronError).toEqual({
          type: 'IpAddressGenerationFailure',
          message: `No more IP addresses available on network ${net.id}.`,
          detail: '',
        });
      }
      const ips = ok.map((p) => p.fixed_ips[0].ip_address as string);
      expect(new Set(ips).size).toBe(13);
      for (const ip of ips) expect(ip).toMatch(/^10\.20\.30\.([2-9]|1[0-4])$/);
      // nothing lost: the database holds exactly these ports and addresses
      const listed = (await api.ok(200, 'GET', `/ports?network_id=${net.id}`, user.token)).ports;
      expect(listed.map((p: any) => p.fixed_ips[0].ip_address).sort()).toEqual([...ips].sort());
      const avail = (await api.ok(200, 'GET', `/network-ip-availabilities/${net.id}`, cloud.adminToken))
        .network_ip_availability;
      expect(avail).toMatchObject({ total_ips: 13, used_ips: 13 });
      // a freed address is handed out again, and only that one
      await api.ok(204, 'DELETE', `/ports/${ok[0].id}`, user.token);
      const again = await Promise.all(
        [1, 2, 3].map(() => api.call('POST', '/ports', user.token, { port: { network_id: net.id } })),
      );
      const got = again.filter((r) => r.statusCode === 201).map((r) => r.json().port.fixed_ips[0].ip_address);
      expect(got).toEqual([ok[0].fixed_ips[0].ip_address]);
      void subnet;
    });

    it('parallel first uses create one default group; parallel networks get distinct VNIs', async () => {
      const api = neutron(cloud!);
      const user = await cloud!.projectUser('race2', 'racer2');
      const lists = await Promise.all(
        Array.from({ length: 8 }, () => api.ok(200, 'GET', '/security-groups', user.token)),
      );
      const ids = new Set(lists.flatMap((l) => l.security_groups.map((g: { id: string }) => g.id)));
      expect(ids.size).toBe(1);
      const nets = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          api.ok(201, 'POST', '/networks', user.token, { network: { name: `v${i}` } }),
        ),
      );
      const vnis = await Promise.all(
        nets.map(
          async (n) =>
            (await api.ok(200, 'GET', `/networks/${n.network.id}`, cloud!.adminToken)).network[
              'provider:segmentation_id'
            ],
        ),
      );
      expect(new Set(vnis).size).toBe(12);
    });
  });
}
