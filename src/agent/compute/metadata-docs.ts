/**
 * The instance metadata documents, pure builders shared by the config drive (qemu/configdrive.ts) and the
 * metadata service at 169.254.169.254 (src/services/compute/metadata.ts), so both say the same thing.
 * Shapes follow nova/api/metadata/base.py (meta_data.json) and nova/virt/netutils.py (network_data.json).
 */
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
