/**
 * The driver side: the agent receives complete desired-state documents over the bus and the fake driver
 * records them; ports go ACTIVE when the driver reports. Also the facade compute uses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeNetworkDriver } from '../../src/agent/network/fake.js';
import type { NetworkFacade } from '../../src/core/facades/network.js';
import { networkService } from '../../src/services/network/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';
import { neutron, poster, publicNetwork, type Json } from './support.js';

let cloud: TestCloud;
let api: ReturnType<typeof neutron>;
let fake: FakeNetworkDriver;
let facade: NetworkFacade;
let user: { token: string; projectId: string };
let pub: Json;
let n: Json;
let s: Json;
let router: Json;

beforeAll(async () => {
  fake = new FakeNetworkDriver();
  cloud = await startTestCloud({ services: [networkService({ driver: fake })] });
  api = neutron(cloud);
  facade = cloud.server.ctx.services.network as NetworkFacade;
  user = await cloud.projectUser('wp', 'wu');
  const admin = cloud.adminToken;
  pub = (
    await publicNetwork(poster(api, admin), {
      cidr: '192.168.1.0/24',
      allocation_pools: [{ start: '192.168.1.100', end: '192.168.1.200' }],
    })
  ).network;
  n = (await api.ok(201, 'POST', '/networks', user.token, { network: { name: 'network1' } })).network;
  s = (
    await api.ok(201, 'POST', '/subnets', user.token, {
      subnet: { network_id: n.id, cidr: '10.11.12.0/24', ip_version: 4, dns_nameservers: ['192.0.2.53'] },
    })
  ).subnet;
  router = (
    await api.ok(201, 'POST', '/routers', user.token, {
      router: { name: 'router1', external_gateway_info: { network_id: pub.id } },
    })
  ).router;
  await api.ok(200, 'PUT', `/routers/${router.id}/add_router_interface`, user.token, { subnet_id: s.id });
});
afterAll(async () => cloud?.close());

describe('agent and fake driver', () => {
  it('networks carry their segment, subnets and DHCP port', async () => {
    await facade.settle();
    const spec = fake.networks.get(n.id)!;
    expect(spec).toMatchObject({
      id: n.id,
      networkType: 'vxlan',
      mtu: 1450,
      adminStateUp: true,
      external: false,
      metadata: true,
    });
    expect(spec.segmentationId).toBeGreaterThan(0);
    expect(spec.subnets).toEqual([
      expect.objectContaining({
        id: s.id,
        cidr: '10.11.12.0/24',
        gatewayIp: '10.11.12.1',
        enableDhcp: true,
        dnsNameservers: ['192.0.2.53'],
      }),
    ]);
    expect(spec.dhcpPort!.fixedIps).toEqual([
      { subnetId: s.id, ipAddress: expect.stringMatching(/^10\.11\.12\./) },
    ]);
    expect(fake.networks.get(pub.id)).toMatchObject({
      networkType: 'flat',
      physicalNetwork: 'extnet',
      external: true,
    });
  });
  it('routers carry interfaces, gateway and SNAT', async () => {
    const spec = fake.routers.get(router.id)!;
    expect(spec.interfaces).toEqual([
      expect.objectContaining({
        subnetId: s.id,
        ipAddress: '10.11.12.1',
        cidr: '10.11.12.0/24',
        networkId: n.id,
      }),
    ]);
    expect(spec.gateway).toMatchObject({ networkId: pub.id, enableSnat: true });
    const gwIp = spec.gateway!.fixedIps[0]!.ipAddress;
    expect(gwIp).toMatch(/^192\.168\.1\./);
    expect(spec.snat).toEqual([{ sourceCidr: '10.11.12.0/24', toAddress: gwIp }]);
  });
  it('compute ports: created, bound, ACTIVE with firewall rules; floating IP NAT; addresses; deleted', async () => {
    const port = await facade.createServerPort({
      projectId: user.projectId,
      networkId: n.id,
      serverId: 'server-1',
      hostId: 'host-1',
      fixedIp: '10.11.12.20',
    });
    expect(port).toMatchObject({
      device_id: 'server-1',
      device_owner: 'compute:nova',
      'binding:host_id': 'host-1',
      'binding:vif_type': 'tap',
    });
    expect(port.fixed_ips).toEqual([{ subnet_id: s.id, ip_address: '10.11.12.20' }]);
    await facade.settle();
    expect((await facade.getPort(port.id))!.status).toBe('ACTIVE');
    const ps = fake.ports.get(port.id)!;
    expect(ps).toMatchObject({
      hostId: 'host-1',
      deviceId: 'server-1',
      portSecurity: true,
      dhcp: true,
      stateful: true,
      mac: port.mac_address,
    });
    expect(ps.firewall).toHaveLength(4);
    const sgId = port.security_groups[0]!;
    expect(ps.firewall).toContainEqual({
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: null,
      portRangeMin: null,
      portRangeMax: null,
      remoteIpPrefix: null,
      remoteGroupId: sgId,
    });
    expect(fake.addressSets.get(sgId)).toEqual(['10.11.12.20']);

    // a new rule reaches the port's firewall
    await api.ok(201, 'POST', '/security-group-rules', user.token, {
      security_group_rule: {
        security_group_id: sgId,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '0.0.0.0/0',
      },
    });
    await facade.settle();
    expect(fake.ports.get(port.id)!.firewall).toContainEqual(
      expect.objectContaining({ protocol: 'tcp', portRangeMin: 22, remoteIpPrefix: '0.0.0.0/0' }),
    );

    // floating IP → router NAT entry, status ACTIVE
    const fip = (
      await api.ok(201, 'POST', '/floatingips', user.token, {
        floatingip: { floating_network_id: pub.id, port_id: port.id },
      })
    ).floatingip;
    await facade.settle();
    expect(fake.routers.get(router.id)!.floatingIps).toEqual([
      {
        id: fip.id,
        floatingIpAddress: fip.floating_ip_address,
        fixedIpAddress: '10.11.12.20',
        fixedPortId: port.id,
      },
    ]);
    expect((await api.ok(200, 'GET', `/floatingips/${fip.id}`, user.token)).floatingip.status).toBe('ACTIVE');
    expect(await facade.serverAddresses('server-1')).toEqual({
      network1: [
        { addr: '10.11.12.20', version: 4, type: 'fixed', mac: port.mac_address },
        { addr: fip.floating_ip_address, version: 4, type: 'floating', mac: port.mac_address },
      ],
    });

    // a user port bound to the server, then unbound; a port of another device cannot be taken
    const userPort = (await api.ok(201, 'POST', '/ports', user.token, { port: { network_id: n.id } })).port;
    await facade.bindPort(userPort.id, { projectId: user.projectId, serverId: 'server-1', hostId: 'host-1' });
    expect((await facade.listServerPorts('server-1')).map((p) => p.id).sort()).toEqual(
      [port.id, userPort.id].sort(),
    );
    await expect(
      facade.bindPort(userPort.id, { projectId: user.projectId, serverId: 'server-2', hostId: 'host-1' }),
    ).rejects.toMatchObject({ status: 409, kind: 'PortInUse' });
    const other = await cloud.projectUser('wp2', 'wu2');
    await expect(
      facade.bindPort(userPort.id, { projectId: other.projectId, serverId: 'server-9', hostId: 'h' }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(
      facade.createServerPort({
        projectId: other.projectId,
        networkId: n.id,
        serverId: 'server-9',
        hostId: 'h',
      }),
    ).rejects.toMatchObject({ status: 404, kind: 'NetworkNotFound' });
    await facade.unbindPort(userPort.id);
    await facade.bindPort(userPort.id, { projectId: user.projectId, serverId: 'server-3', hostId: 'host-1' });
    expect(await facade.unbindServerPorts('server-3')).toBe(1);
    await facade.settle();
    const unbound = (await facade.getPort(userPort.id))!;
    expect(unbound).toMatchObject({ device_id: '', 'binding:host_id': '', status: 'DOWN' });

    // deleting the server's ports unplugs them and clears the floating IP association
    expect(await facade.deleteServerPorts('server-1')).toBe(1);
    await facade.settle();
    expect(fake.ports.has(port.id)).toBe(false);
    expect(fake.calls).toContainEqual({ op: 'unplugPort', id: port.id });
    expect(fake.routers.get(router.id)!.floatingIps).toEqual([]);
    expect((await api.ok(200, 'GET', `/floatingips/${fip.id}`, user.token)).floatingip).toMatchObject({
      port_id: null,
      status: 'DOWN',
    });
    expect(await facade.getPort(port.id)).toBeUndefined();
    // the deleted port left its group's address set; the user's port (still in the group) stays
    expect(fake.addressSets.get(sgId)).toEqual([unbound.fixed_ips[0]!.ip_address]);
    // deleting the floating IP unplugs its (network:floatingip) port too
    const unplugs = () => fake.calls.filter((c) => c.op === 'unplugPort').length;
    const before = unplugs();
    await api.ok(204, 'DELETE', `/floatingips/${fip.id}`, user.token);
    await facade.settle();
    expect(unplugs()).toBe(before + 1);
  });
  it('lists the networks a project boots on without naming one', async () => {
    expect(await facade.listBootableNetworks(user.projectId)).toEqual([{ id: n.id, name: 'network1' }]);
    const shared = (
      await api.ok(201, 'POST', '/networks', cloud.adminToken, { network: { name: 'shared', shared: true } })
    ).network;
    const other = await cloud.projectUser('wp3', 'wu3');
    expect(await facade.listBootableNetworks(other.projectId)).toEqual([{ id: shared.id, name: 'shared' }]);
    await api.ok(204, 'DELETE', `/networks/${shared.id}`, cloud.adminToken);
  });
  it('deleting a network removes it from the driver', async () => {
    const tmp = (await api.ok(201, 'POST', '/networks', user.token, { network: { name: 'tmp' } })).network;
    await facade.settle();
    expect(fake.networks.has(tmp.id)).toBe(true);
    await api.ok(204, 'DELETE', `/networks/${tmp.id}`, user.token);
    await facade.settle();
    expect(fake.networks.has(tmp.id)).toBe(false);
  });
});
