/**
 * What the network control plane (src/services/network/wiring.ts) and a host's network agent (agent.ts)
 * exchange on the bus:
 *
 *   network.wiring  {kind: 'network'|'port'|'router'|'addressset', id, spec | null}   control plane → agent
 *   network.status  {kind: 'port'|'floatingip'|'router'|'network', id, status}   agent → control plane
 *   network.resync  {}   agent → control plane, at agent start (drivers with host state): send everything,
 *                        then a `sync` document listing every id, after which the driver reconciles
 */
import type { NetworkSpec, PortSpec, RouterSpec, WiringStatus } from './driver.js';

export const WIRING_SUBJECT = 'network.wiring';
export const STATUS_SUBJECT = 'network.status';
export const RESYNC_SUBJECT = 'network.resync';

export type WiringMessage =
  | { kind: 'network'; id: string; spec: NetworkSpec | null; networkId?: string }
  | { kind: 'port'; id: string; spec: PortSpec | null; networkId?: string }
  | { kind: 'router'; id: string; spec: RouterSpec | null; networkId?: string }
  | { kind: 'addressset'; id: string; spec: { addresses: string[] } | null; networkId?: string }
  | {
      kind: 'sync';
      id: string;
      spec: { networks: string[]; routers: string[]; ports: string[] };
      networkId?: string;
    };

export interface StatusMessage {
  kind: 'port' | 'floatingip' | 'router' | 'network';
  id: string;
  status: WiringStatus;
}
