/** Resolving explain's ends: `external[:ip]`, `server:<name|id>`, `port:<id>`, `ip:<address>`. */
import type { Caller } from '../../../core/auth/caller.js';
import { ApiError } from '../../../core/errors.js';
import { invalidAttr } from '../errors.js';
import { parseIp } from '../ipam.js';
import type { NetworkManager } from '../manager.js';
import type { Row } from '../store.js';
import {
  type End,
  type EndSpec,
  type Fixed,
  type Nic,
  type ServerLookup,
  type ServerSummary,
} from './types.js';

/** The ends of a flow, resolved with the caller's rights (compute's findServers for servers). */
export class Ends {
  constructor(
    private readonly m: NetworkManager,
    private readonly compute: () => unknown,
  ) {}

  private get servers(): ServerLookup | undefined {
    const f = this.compute() as Partial<ServerLookup> | undefined;
    return f && typeof f.findServers === 'function' ? (f as ServerLookup) : undefined;
  }

  private get store() {
    return this.m.store;
  }

  async resolve(c: Caller, spec: EndSpec, attr: string, network?: string): Promise<End> {
    let end: End;
    switch (spec.kind) {
      case 'external':
        if (network) throw invalidAttr(`${attr}_network`, 'it applies to a server, a port or an ip end only');
        return { kind: 'external', input: spec.input, ip: spec.ip, address: spec.address ?? null };
      case 'port': {
        const port = await this.m.visibleRow(c, 'port', spec.id);
        end = { kind: 'nics', input: spec.input, type: 'port', nics: await this.nicsOf([port]) };
        break;
      }
      case 'server': {
        const { server, ports } = await this.findServer(c, spec.ref);
        end = { kind: 'nics', input: spec.input, type: 'server', server, nics: await this.nicsOf(ports) };
        break;
      }
      case 'ip': {
        const allocs = await this.store.list('net_ipallocations', {
          where: [{ eq: 'ip_address', values: [spec.address] }],
        });
        const ports = await this.visible(
          c,
          'port',
          await this.store.getMany(
            'net_ports',
            allocs.map((a) => a.port_id),
          ),
        );
        if (ports.length) {
          const nics = (await this.nicsOf(ports)).filter((n) => n.fixed?.address === spec.address);
          end = { kind: 'nics', input: spec.input, type: 'port', nics };
          break;
        }
        const fips = await this.visible(
          c,
          'floatingip',
          await this.store.list('net_floatingips', {
            where: [{ eq: 'floating_ip_address', values: [spec.address] }],
          }),
        );
        const fip = fips[0];
        if (fip) {
          const port = fip.fixed_port_id ? await this.store.get('net_ports', fip.fixed_port_id) : undefined;
          const nics = port
            ? (await this.nicsOf([port])).filter((n) => n.fixed?.address === fip.fixed_ip_address)
            : [];
          end = { kind: 'nics', input: spec.input, type: 'port', fip, nics };
          break;
        }
        if (network)
          throw invalidAttr(`${attr}_network`, `${spec.address} is not an address of a port you can see`);
        return {
          kind: 'external',
          input: spec.input,
          ip: spec.ip,
          address: spec.address,
          note: 'not an address of any port or floating IP you can see: taken as an external address',
        };
      }
    }
    if (network) {
      const nics = end.nics.filter((n) => n.network.id === network || n.network.name === network);
      if (!nics.length)
        throw invalidAttr(
          `${attr}_network`,
          `${spec.input} has no port on a network named or numbered ${network}`,
        );
      end.nics = nics;
    }
    return end;
  }

  private async findServer(c: Caller, ref: string): Promise<{ server: ServerSummary | null; ports: Row[] }> {
    const lookup = this.servers;
    const notFound = () => new ApiError(404, `Server ${ref} could not be found.`, 'HTTPNotFound');
    const portsOf = async (id: string) =>
      this.visible(
        c,
        'port',
        await this.store.list('net_ports', {
          where: [{ eq: 'device_id', values: [id] }],
          sort: [{ col: 'created_at', dir: 'asc' }],
        }),
      );
    if (!lookup) {
      // No compute service here: a server is what the ports say (device_id), by id only.
      const ports = await portsOf(ref);
      if (!ports.length) throw notFound();
      return { server: null, ports };
    }
    const found = await lookup.findServers(c.creds, ref);
    if (found.length === 0) throw notFound();
    if (found.length > 1)
      throw new ApiError(
        409,
        `More than one server is named ${ref} (${found.map((s) => s.id).join(', ')}): give its id.`,
        'HTTPConflict',
      );
    const server = found[0]!;
    return { server, ports: await portsOf(server.id) };
  }

  /** The rows the caller may see (get_<kind>), in order. */
  private async visible(c: Caller, kind: string, rows: Row[]): Promise<Row[]> {
    if (!rows.length) return [];
    const views = await this.m.render(c, kind, rows);
    return rows.filter((_, i) => views[i]!.visible);
  }

  private async nicsOf(ports: Row[]): Promise<Nic[]> {
    const out: Nic[] = [];
    for (const port of ports) {
      const network = (await this.store.get('net_networks', port.network_id))!;
      const groups = (await this.store.portSecurityGroups([port.id])).map(
        (g) => g.security_group_id as string,
      );
      const allocs = await this.store.allocationsFor([port.id]);
      const fixed: Fixed[] = [];
      for (const a of allocs) {
        const subnet = await this.store.get('net_subnets', a.subnet_id);
        const ip = parseIp(a.ip_address);
        if (subnet && ip) fixed.push({ subnet, address: a.ip_address, ip });
      }
      fixed.sort((a, b) => a.ip.version - b.ip.version);
      if (!fixed.length) out.push({ port, network, groups });
      for (const f of fixed) out.push({ port, network, groups, fixed: f });
    }
    return out;
  }

  endView(end: End, nic: Nic | undefined): Record<string, unknown> {
    if (end.kind === 'external')
      return {
        type: 'external',
        input: end.input,
        address: end.address,
        ...(end.note ? { note: end.note } : {}),
      };
    return {
      type: end.type,
      input: end.input,
      ...(end.type === 'server'
        ? {
            server: end.server
              ? { id: end.server.id, name: end.server.name, status: end.server.status }
              : { id: nic?.port.device_id ?? null, name: null, status: null },
          }
        : {}),
      port_id: nic?.port.id ?? null,
      device_id: nic?.port.device_id || null,
      network: nic ? { id: nic.network.id, name: nic.network.name } : null,
      address: nic?.fixed?.address ?? null,
      ...(end.fip ? { floating_ip: { id: end.fip.id, address: end.fip.floating_ip_address } } : {}),
    };
  }
}
