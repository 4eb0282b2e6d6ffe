/**
 * Names of what the Linux network driver creates. Namespace names carry a per-installation prefix
 * (derived from the data directory), so two Stackbox installations on one host never touch each other's
 * namespaces, and reconciliation removes only its own. Device names inside a namespace are local to it;
 * the only devices in the host's namespace are a VM's tap for the moment between QEMU's start and the
 * move into its network (named after the port, so unique) and the link of a flat network to its
 * physical bridge.
 */
import { createHash } from 'node:crypto';

/** The VM-side device of a port: QEMU creates it, the network driver moves it into the network. */
export { tapName } from '../driver.js';
/** A router's interface on a subnet (router namespace) and its peer (network namespace). */
export const qrName = (portId: string) => `qr-${portId.slice(0, 11)}`;
/** A router's gateway interface (router namespace) and its peer (external network namespace). */
export const qgName = (portId: string) => `qg-${portId.slice(0, 11)}`;
/** The peer, on the physical bridge, of a flat network's uplink. */
export const physPeerName = (networkId: string) => `sp-${networkId.slice(0, 11)}`;
/** The bridge of every network namespace, and its uplink to a physical bridge. */
export const BRIDGE = 'br0';
export const UPLINK = 'phy0';

export const METADATA_IP = '169.254.169.254';

/** The namespace prefix of an installation: `sbx<6 hex of the data directory>-`. */
export function nsPrefix(dataDir: string): string {
  return `sbx${createHash('sha256').update(dataDir).digest('hex').slice(0, 6)}-`;
}
export const networkNs = (prefix: string, id: string) => `${prefix}n-${id}`;
export const routerNs = (prefix: string, id: string) => `${prefix}r-${id}`;
