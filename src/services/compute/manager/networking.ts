/** Networking of servers through the network service's facade: ports, addresses, interfaces. */
import type { Caller } from '../../../core/auth/caller.js';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import { Networks, type PortInfo, type RequestedNetwork } from '../facades.js';
import type { ServerRow } from '../rows.js';
import { err, now, rid } from './base.js';
import { eventOf } from './instance-actions.js';
import { Tasks, type Address } from './tasks.js';
import type { CreateRequest } from './lifecycle.js';

export class Networking extends Tasks {
  protected async validateNetworks(c: Caller, req: CreateRequest): Promise<void> {
    const nets = req.networks;
    if (nets === undefined || nets === 'none' || nets === 'auto') return;
    if (nets.length === 0) return;
    if (!this.networks.api) throw Networks.unavailable();
    void c;
  }

  /** Create or bind the server's ports through the network service; returns the refreshed row or undefined (ERROR). */
  protected async allocateNetworks(s: ServerRow, c: Caller): Promise<ServerRow | undefined> {
    const requested = json<RequestedNetwork[] | 'auto' | 'none' | null>(s.requested_networks, null);
    const api = this.networks.api;
    const ports: { id: string; created: boolean }[] = [];
    let addresses: Address[] = [];
    try {
      if (api && requested !== 'none') {
        let list: RequestedNetwork[] = Array.isArray(requested) ? requested : [];
        if (!Array.isArray(requested) && api.listBootableNetworks) {
          const nets = await api.listBootableNetworks(s.project_id);
          if (nets.length > 1 && requested === null)
            throw new Error('Multiple possible networks found, use a Network ID to be more specific.');
          list = nets.slice(0, 1).map((n) => ({ uuid: n.id }));
        }
        const az = s.availability_zone ?? this.opts.defaultAvailabilityZone;
        const sgIds = json<string[]>(s.security_groups, []).filter((x) => /^[0-9a-f-]{36}$/i.test(x));
        for (const n of list) {
          if (n.port) {
            await api.bindPort(n.port, { projectId: s.project_id, serverId: s.id, hostId: s.host!, az });
            ports.push({ id: n.port, created: false });
          } else {
            const p = await api.createServerPort({
              projectId: s.project_id,
              networkId: n.uuid!,
              serverId: s.id,
              hostId: s.host!,
              az,
              fixedIp: n.fixed_ip,
              ...(sgIds.length ? { securityGroups: sgIds } : {}),
            });
            ports.push({ id: p.id, created: true });
          }
        }
        addresses = await this.addressesFromNetwork(s.id, ports);
      }
    } catch (e) {
      const t = now();
      const failed = {
        ...s,
        addresses: JSON.stringify(
          ports.map((p) => ({
            network: '',
            addr: '',
            version: 4,
            type: 'fixed',
            mac: '',
            portId: p.id,
            created: p.created,
          })),
        ),
      };
      await this.releaseNetworks(failed);
      await this.failServer(
        s.id,
        {
          message: `Build of instance ${s.id} aborted: Failed to allocate the network(s), not rescheduling: ${(e as Error).message}`,
        },
        ['networking'],
        t,
      );
      await this.store.finishEvent(
        s.id,
        rid(c),
        eventOf('spawn'),
        s.host ?? '',
        'Error',
        t,
        (e as Error).message,
        'Error',
      );
      return undefined;
    }
    const ok = await this.store.saveState(s.id, { addresses: JSON.stringify(addresses), updated_at: now() }, [
      'networking',
    ]);
    if (!ok) {
      await this.releaseNetworks({ ...s, addresses: JSON.stringify(addresses) });
      return undefined;
    }
    return { ...s, addresses: JSON.stringify(addresses) };
  }

  /** The server's addresses as the network service sees them (fixed and floating), tagged with port ids. */
  async addressesFromNetwork(
    serverId: string,
    ports?: { id: string; created: boolean }[],
  ): Promise<Address[]> {
    const api = this.networks.api;
    if (!api) return [];
    const byMac = new Map<string, { id: string; networkId: string; created: boolean }>();
    const known = new Map((ports ?? []).map((p) => [p.id, p.created]));
    for (const p of await api.listServerPorts(serverId))
      byMac.set(p.mac_address, { id: p.id, networkId: p.network_id, created: known.get(p.id) ?? true });
    const out: Address[] = [];
    for (const [network, list] of Object.entries(await api.serverAddresses(serverId)))
      for (const a of list) {
        const port = byMac.get(a.mac);
        out.push({
          network,
          addr: a.addr,
          version: a.version,
          type: a.type,
          mac: a.mac,
          portId: port?.id,
          networkId: port?.networkId,
          created: port?.created,
        });
      }
    return out;
  }

  /** Refresh a server's stored addresses from the network service (floating IPs come and go). */
  async refreshAddresses(s: ServerRow): Promise<ServerRow> {
    const stored = json<Address[]>(s.addresses, []);
    if (!this.networks.api || stored.length === 0) return s;
    try {
      const created = new Map(stored.filter((a) => a.portId).map((a) => [a.portId!, !!a.created]));
      const fresh = await this.addressesFromNetwork(
        s.id,
        [...created.entries()].map(([id, c]) => ({ id, created: c })),
      );
      const text = JSON.stringify(fresh);
      if (text !== s.addresses) {
        await this.store.updateServer(s.id, { addresses: text });
        return { ...s, addresses: text };
      }
    } catch (err) {
      this.log.warn({ err, server: s.id }, 'address refresh failed');
    }
    return s;
  }

  /** The server's ports, from the network service (empty when it is not mounted). */
  async serverPorts(s: ServerRow): Promise<(PortInfo & { status?: string })[]> {
    const api = this.networks.api;
    if (!api) return [];
    return (await api.listServerPorts(s.id)).map((p) => ({
      ...Networks.toPort(p),
      status: (p as { status?: string }).status,
    }));
  }

  /** os-interface attach: create or bind a port, hot-plug it through the agent, refresh addresses. */
  async attachInterface(
    c: Caller,
    s: ServerRow,
    o: { networkId?: string; portId?: string; fixedIp?: string },
  ): Promise<PortInfo> {
    const api = this.networks.api;
    if (!api) throw Networks.unavailable();
    this.checkLock(c, s);
    this.checkState(s, 'attach_interface', ['active', 'paused', 'stopped']);
    const host = await this.hostOf(s, 'attach_interface');
    const caps = json<Record<string, unknown>>(host.capabilities, {});
    if (caps.supportsAttachInterface === false)
      throw err(409, `The compute driver on ${host.name} cannot attach interfaces.`, 'conflictingRequest');
    const az = s.availability_zone ?? this.opts.defaultAvailabilityZone;
    let port;
    try {
      port = o.portId
        ? await api.bindPort(o.portId, { projectId: s.project_id, serverId: s.id, hostId: host.name, az })
        : await api.createServerPort({
            projectId: s.project_id,
            networkId: o.networkId!,
            serverId: s.id,
            hostId: host.name,
            az,
            fixedIp: o.fixedIp,
          });
    } catch (e) {
      if (e instanceof ApiError)
        throw err(
          e.status === 404 ? 404 : e.status === 409 ? 409 : 400,
          e.message,
          e.status === 404 ? 'itemNotFound' : undefined,
        );
      throw e;
    }
    const stored = json<Address[]>(s.addresses, []);
    const known = new Map(stored.filter((a) => a.portId).map((a) => [a.portId!, !!a.created]));
    known.set(port.id, !o.portId);
    const addresses = await this.addressesFromNetwork(
      s.id,
      [...known.entries()].map(([id, created]) => ({ id, created })),
    );
    await this.store.updateServer(s.id, { addresses: JSON.stringify(addresses), updated_at: now() });
    await this.recordAction(c, s.id, 'attach_interface', {
      event: eventOf('attach_interface'),
      host: host.name,
    });
    const p = Networks.toPort(port);
    this.send(host.name, {
      op: 'attach_interface',
      uuid: s.id,
      requestId: rid(c),
      vif: {
        portId: p.id,
        networkId: p.networkId,
        mac: p.macAddress,
        fixedIps: p.fixedIps.map((f) => ({
          address: f.ipAddress,
          version: f.ipAddress.includes(':') ? 6 : 4,
          subnetId: f.subnetId,
        })),
      },
    });
    return p;
  }

  /** os-interface detach: hot-unplug through the agent, release the port, refresh addresses. */
  async detachInterface(c: Caller, s: ServerRow, portId: string): Promise<void> {
    const api = this.networks.api;
    if (!api) throw Networks.unavailable();
    this.checkLock(c, s);
    this.checkState(s, 'detach_interface', ['active', 'paused', 'stopped']);
    const host = await this.hostOf(s, 'detach_interface');
    const stored = json<Address[]>(s.addresses, []);
    const ports = await api.listServerPorts(s.id);
    if (!ports.some((p) => p.id === portId)) throw err(404, `Port ${portId} is not attached`, 'itemNotFound');
    const created = stored.find((a) => a.portId === portId)?.created ?? true;
    await this.recordAction(c, s.id, 'detach_interface', {
      event: eventOf('detach_interface'),
      host: host.name,
    });
    this.send(host.name, { op: 'detach_interface', uuid: s.id, requestId: rid(c), portId });
    await (created ? api.deletePort(portId) : api.unbindPort(portId));
    const rest = stored.filter((a) => a.portId !== portId);
    await this.store.updateServer(s.id, { addresses: JSON.stringify(rest), updated_at: now() });
  }

  async releaseNetworks(s: ServerRow): Promise<void> {
    const api = this.networks.api;
    if (!api) return;
    const ports = new Map<string, boolean>();
    for (const a of json<Address[]>(s.addresses, [])) if (a.portId) ports.set(a.portId, !!a.created);
    // Ports created for the server are deleted; ports the user brought are unbound and stay.
    for (const [portId, created] of ports)
      await (created ? api.deletePort(portId) : api.unbindPort(portId)).catch((e) =>
        this.log.warn({ err: e, portId }, 'port release failed'),
      );
    // And any port still bound to the server (e.g. created just before a crash).
    try {
      for (const p of await api.listServerPorts(s.id)) if (!ports.has(p.id)) await api.deletePort(p.id);
    } catch (e) {
      this.log.warn({ err: e, server: s.id }, 'port cleanup failed');
    }
  }
}
