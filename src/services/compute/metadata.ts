/**
 * The instance metadata service: what a guest reads at http://169.254.169.254, served by the control plane
 * at `<publicUrl>/metadata/<path>`, as Nova's metadata API serves it (nova/api/metadata/handler.py, base.py).
 *
 * The guest never reaches this endpoint itself: the network agent runs a proxy in each tenant network's
 * namespace on 169.254.169.254:80, which forwards the request (same method and path) with
 *   X-Forwarded-For: <guest address>   X-Neutron-Network-ID: <network id>
 *   X-Stackbox-Proxy-Signature: hex HMAC-SHA256(secret, networkId + "\n" + address)
 * (src/core/metadata-secret.ts). Nova's own scheme (X-Instance-ID, X-Tenant-ID, X-Instance-ID-Signature =
 * HMAC(secret, instanceId), what neutron-metadata-agent sends) is accepted too. There is no Keystone token:
 * the signature is the authentication. A missing or bad signature is a 403, an address that is no server's
 * (or a server of another project, in Nova's scheme) a 404, as in Nova.
 *
 * The instance behind (network, address) is the server whose port (device_owner `compute:*`) on that network
 * holds that fixed IP, so the same address on another network (overlapping CIDRs) names another server.
 *
 * Content: `GET /` the EC2 versions; `/openstack` the OpenStack versions; `/openstack/<v>/` meta_data.json,
 * network_data.json, user_data, vendor_data(2).json, password; the EC2 tree `/<v>/meta-data/...` and
 * `/<v>/user-data` (any first segment other than `openstack` is an EC2 version; `/ec2/<v>/...` also works).
 * meta_data.json and network_data.json come from the same builders as the config drive.
 *
 * Derived EC2 ids (Nova keeps integer ids in its ec2 mapping tables; Stackbox derives them, stably):
 * instance-id is `i-%08x` of the server's `seq` (its unique integer, never reused); ami-id is `ami-` and the
 * first 8 hex digits of the image uuid (`ami-00000000` without an image).
 *
 * Only GET and HEAD are served (405 otherwise): there is no server password store yet, so the `password`
 * document reads as empty (as Nova's for an instance that has none) and cannot be set.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { metaDataJson, networkDataJson, type MetadataInput } from '../../agent/compute/metadata-docs.js';
import { json } from '../../core/db/index.js';
import { verifyInstanceId, verifyProxyRequest } from '../../core/metadata-secret.js';
import type { Address, ComputeManager } from './manager/index.js';
import type { FlavorRow, ServerRow } from './rows.js';

/** EC2 metadata versions (base.py VERSIONS). */
export const EC2_VERSIONS = [
  '1.0',
  '2007-01-19',
  '2007-03-01',
  '2007-08-29',
  '2007-10-10',
  '2007-12-15',
  '2008-02-01',
  '2008-09-01',
  '2009-04-04',
];

/** OpenStack metadata versions (base.py OPENSTACK_VERSIONS). */
export const OPENSTACK_VERSIONS = [
  '2012-08-10', // Folsom
  '2013-04-04', // Grizzly: password, random_seed
  '2013-10-17', // Havana: vendor_data.json
  '2015-10-15', // Liberty: network_data.json, project_id
  '2016-06-30', // Newton one: devices
  '2016-10-06', // Newton two: vendor_data2.json
  '2017-02-22', // Ocata
  '2018-08-27', // Rocky
  '2020-10-14', // Victoria: dedicated_cpus
  '2025-04-04', // Epoxy
];
const GRIZZLY = '2013-04-04';
const HAVANA = '2013-10-17';
const LIBERTY = '2015-10-15';
const NEWTON_ONE = '2016-06-30';
const NEWTON_TWO = '2016-10-06';
const VICTORIA = '2020-10-14';

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const ALLOWED = new Set(['GET', 'HEAD']);

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** An HTTP error rendered as webob renders Nova's (plain text). */
class MetadataError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
const notFound = () => new MetadataError(404, 'The resource could not be found.');
const badSignature = () => new MetadataError(403, 'Invalid proxy request signature.');

function sendError(
  reply: FastifyReply,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  const reason = REASONS[status] ?? '';
  return reply.code(status).type(TEXT).send(`${status} ${reason}\n\n${message}\n\n`);
}

/** A tree of EC2 metadata: dicts (a `_name` key renders a dict as that name in its parent's listing), leaves. */
type Ec2Node = string | number | Buffer | string[] | Ec2Tree;
interface Ec2Tree {
  [key: string]: Ec2Node;
}
const isTree = (n: Ec2Node): n is Ec2Tree =>
  typeof n === 'object' && !Array.isArray(n) && !Buffer.isBuffer(n);

/** base.ec2_md_print: dict → sorted keys (sub-dicts with a trailing `/`), list → lines, leaf → its text. */
function ec2Print(n: Ec2Node): string | Buffer {
  if (Buffer.isBuffer(n)) return n;
  if (Array.isArray(n)) return n.join('\n');
  if (isTree(n))
    return Object.keys(n)
      .filter((k) => k !== '_name')
      .sort()
      .map((k) => {
        const v = n[k]!;
        if (!isTree(v)) return k;
        return typeof v._name === 'string' ? v._name : `${k}/`;
      })
      .join('\n');
  return String(n);
}

/** The data of one instance, gathered once per request. */
interface Instance {
  server: ServerRow;
  input: MetadataInput;
  fixedV4: string[];
  floating: string[];
  /** The address the request came from (X-Forwarded-For). */
  address?: string;
  userData?: Buffer;
}

/** posixpath.normpath of the request path, as segments ('.', '..' and empty segments resolved). */
function segments(path: string): string[] {
  const out: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') out.pop();
    else out.push(s);
  }
  return out;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v.trim() : undefined;
}

const ec2InstanceId = (seq: number) => `i-${seq.toString(16).padStart(8, '0')}`;

function amiId(imageRef: string | null): string {
  if (!imageRef) return 'ami-00000000';
  const hex = imageRef.replace(/-/g, '').toLowerCase();
  const digits = /^[0-9a-f]{8}/.test(hex) ? hex : createHash('sha256').update(imageRef).digest('hex');
  return `ami-${digits.slice(0, 8)}`;
}

/** block_device.instance_block_mapping for an image-backed server on virtio disks (root, eph0, swap). */
function blockDeviceMapping(f: FlavorRow): Ec2Tree {
  const m: Ec2Tree = { ami: 'vda', root: '/dev/vda' };
  if (f.ephemeral > 0) m.ephemeral0 = '/dev/vdb';
  if (f.swap > 0) m.swap = f.ephemeral > 0 ? '/dev/vdc' : '/dev/vdb';
  return m;
}

export class MetadataService {
  constructor(
    private readonly m: ComputeManager,
    private readonly secret: string,
  ) {}

  /** Mount the service at /metadata on the app (its own scope: no token, plain-text errors). */
  async register(app: FastifyInstance): Promise<void> {
    await app.register(
      async (scope) => {
        scope.setErrorHandler((err, req, reply) => {
          if (err instanceof MetadataError) return sendError(reply, err.status, err.message, err.headers);
          const status = (err as { statusCode?: number }).statusCode;
          if (typeof status === 'number' && status >= 400 && status < 500)
            return sendError(reply, status, (err as Error).message);
          req.log.error({ err }, 'metadata request failed');
          return sendError(reply, 500, 'An unknown error has occurred. Please try your request again.');
        });
        scope.setNotFoundHandler((_req, reply) => sendError(reply, 404, notFound().message));
        // Before any body is read: the metadata API is read-only.
        scope.addHook('onRequest', async (req) => {
          if (!ALLOWED.has(req.method))
            throw new MetadataError(405, `The method ${req.method} is not allowed for this resource.`, {
              allow: 'GET, HEAD',
            });
        });
        const handler = (req: FastifyRequest, reply: FastifyReply) => this.handle(req, reply);
        scope.all('/', { config: { public: true } }, handler);
        scope.all('/*', { config: { public: true } }, handler);
      },
      { prefix: '/metadata' },
    );
  }

  private async handle(req: FastifyRequest, reply: FastifyReply) {
    let path = (req.raw.url ?? req.url).split('?')[0]!.replace(/^\/metadata/, '');
    try {
      path = decodeURIComponent(path);
    } catch {
      throw notFound();
    }
    const tokens = segments(path);
    // As Nova: the version list needs no instance (and no signature).
    if (tokens.length === 0) return reply.type(TEXT).send(ec2Print([...EC2_VERSIONS, 'latest']));
    const server = await this.identify(req);
    const inst = await this.gather(server, header(req, 'x-forwarded-for'));
    const doc = tokens[0] === 'openstack' ? this.openstack(inst, tokens.slice(1)) : this.ec2(inst, tokens);
    if (!doc) throw notFound();
    return reply.type(doc.type).send(doc.body);
  }

  /** The server the request is about, from its signed headers; 403 / 400 / 404 as Nova. */
  private async identify(req: FastifyRequest): Promise<ServerRow> {
    const signature = header(req, 'x-stackbox-proxy-signature');
    if (signature !== undefined) {
      const networkId = header(req, 'x-neutron-network-id');
      const ip = header(req, 'x-forwarded-for');
      if (!ip) throw new MetadataError(400, 'X-Forwarded-For header is missing from request.');
      if (!networkId) throw new MetadataError(400, 'X-Neutron-Network-ID header is missing from request.');
      if (!verifyProxyRequest(this.secret, networkId, ip, signature)) {
        req.log.warn({ networkId, ip }, 'metadata request with a bad proxy signature');
        throw badSignature();
      }
      const port = await this.m.networks.api?.findPortByNetworkIp?.(networkId, ip);
      if (!port || !port.device_id || !port.device_owner.startsWith('compute:')) {
        req.log.info({ networkId, ip }, 'metadata request from an address that is no instance');
        throw notFound();
      }
      const server = await this.m.store.server(port.device_id);
      if (!server) throw notFound();
      return server;
    }
    const instanceId = header(req, 'x-instance-id');
    const tenantId = header(req, 'x-tenant-id');
    const instanceSignature = header(req, 'x-instance-id-signature');
    if (instanceId === undefined && tenantId === undefined && instanceSignature === undefined)
      throw badSignature();
    if (instanceId === undefined)
      throw new MetadataError(400, 'X-Instance-ID header is missing from request.');
    if (instanceSignature === undefined)
      throw new MetadataError(400, 'X-Instance-ID-Signature header is missing from request.');
    if (tenantId === undefined) throw new MetadataError(400, 'X-Tenant-ID header is missing from request.');
    if (!verifyInstanceId(this.secret, instanceId, instanceSignature)) {
      req.log.warn({ instanceId }, 'metadata request with a bad instance signature');
      throw badSignature();
    }
    const server = await this.m.store.server(instanceId);
    if (!server || server.project_id !== tenantId) throw notFound();
    return server;
  }

  private async gather(server: ServerRow, address: string | undefined): Promise<Instance> {
    const api = this.m.networks.api;
    const networks: MetadataInput['networks'] = [];
    const fixedV4: string[] = [];
    const floating: string[] = [];
    if (api) {
      for (const p of await api.listServerPorts(server.id)) {
        const fixedIps = p.fixed_ips.map((f) => ({
          address: f.ip_address,
          version: (f.ip_address.includes(':') ? 6 : 4) as 4 | 6,
        }));
        networks.push({ portId: p.id, networkId: p.network_id, mac: p.mac_address, fixedIps });
        fixedV4.push(...fixedIps.filter((f) => f.version === 4).map((f) => f.address));
      }
      for (const list of Object.values(await api.serverAddresses(server.id)))
        floating.push(...list.filter((a) => a.type === 'floating').map((a) => a.addr));
    } else {
      // No network service: what the server row remembers.
      for (const a of json<Address[]>(server.addresses, [])) {
        if (a.type === 'fixed' && a.version === 4) fixedV4.push(a.addr);
        if (a.type === 'floating') floating.push(a.addr);
      }
    }
    return {
      server,
      address,
      fixedV4,
      floating,
      userData: server.user_data ? Buffer.from(server.user_data, 'base64') : undefined,
      input: {
        uuid: server.id,
        name: server.name,
        hostname: server.hostname ?? server.name,
        projectId: server.project_id,
        availabilityZone: server.availability_zone ?? undefined,
        launchIndex: server.launch_index,
        metadata: json<Record<string, string>>(server.metadata, {}),
        keyName: server.key_name ?? undefined,
        publicKey: server.key_data ?? undefined,
        userData: server.user_data ?? undefined,
        networks,
      },
    };
  }

  // ---------------------------------------------------------------- the OpenStack tree

  private openstack(inst: Instance, tokens: string[]): { body: string | Buffer; type: string } | undefined {
    if (tokens.length === 0) {
      // Versions dated in the future are hidden from the list (still served when asked for).
      const today = new Date().toISOString().slice(0, 10);
      return { body: [...OPENSTACK_VERSIONS.filter((v) => v <= today), 'latest'].join('\n'), type: TEXT };
    }
    const version = tokens[0] === 'latest' ? OPENSTACK_VERSIONS.at(-1)! : tokens[0]!;
    if (!OPENSTACK_VERSIONS.includes(version)) return undefined;
    const at = (required: string) => version >= required;
    if (tokens.length === 1) {
      const names = ['meta_data.json'];
      if (inst.userData) names.push('user_data');
      if (at(GRIZZLY)) names.push('password');
      if (at(HAVANA)) names.push('vendor_data.json');
      if (at(LIBERTY)) names.push('network_data.json');
      if (at(NEWTON_TWO)) names.push('vendor_data2.json');
      return { body: names.join('\n'), type: TEXT };
    }
    const jsonDoc = (v: unknown) => ({ body: JSON.stringify(v), type: JSON_TYPE });
    switch (tokens.slice(1).join('/')) {
      case 'meta_data.json': {
        const md: Record<string, unknown> = metaDataJson(inst.input);
        if (at(GRIZZLY)) md.random_seed = randomBytes(512).toString('base64');
        if (!at(LIBERTY)) delete md.project_id;
        if (!at(NEWTON_ONE)) delete md.devices;
        if (at(VICTORIA)) md.dedicated_cpus = [];
        return jsonDoc(md);
      }
      case 'network_data.json':
        return jsonDoc(networkDataJson(inst.input));
      case 'user_data':
        return inst.userData ? { body: inst.userData, type: TEXT } : undefined;
      case 'password':
        return at(GRIZZLY) ? { body: '', type: TEXT } : undefined;
      case 'vendor_data.json':
        return at(HAVANA) ? jsonDoc({}) : undefined;
      case 'vendor_data2.json':
        return at(NEWTON_TWO) ? jsonDoc({}) : undefined;
      default:
        return undefined;
    }
  }

  // ---------------------------------------------------------------- the EC2 tree

  private ec2(inst: Instance, tokens: string[]): { body: string | Buffer; type: string } | undefined {
    const path = tokens[0] === 'ec2' ? tokens.slice(1) : tokens;
    if (path.length === 0) return { body: ec2Print([...EC2_VERSIONS, 'latest']), type: TEXT };
    const tree = this.ec2Tree(inst, path[0]!);
    if (!tree) return undefined;
    let node: Ec2Node = tree;
    for (const t of path.slice(1)) {
      if (!isTree(node) || t === '_name' || !Object.hasOwn(node, t)) return undefined;
      node = node[t]!;
    }
    return { body: ec2Print(node), type: TEXT };
  }

  /** base.get_ec2_metadata: what each EC2 version carries. */
  private ec2Tree(inst: Instance, requested: string): Ec2Tree | undefined {
    const version = requested === 'latest' ? EC2_VERSIONS.at(-1)! : requested;
    const index = EC2_VERSIONS.indexOf(version);
    if (index < 0) return undefined;
    const at = (required: string) => index >= EC2_VERSIONS.indexOf(required);
    const s = inst.server;
    const hostname = inst.input.hostname;
    const md: Ec2Tree = {
      'ami-id': amiId(s.image_ref),
      'ami-launch-index': s.launch_index,
      'ami-manifest-path': 'FIXME',
      'instance-id': ec2InstanceId(s.seq),
      hostname,
      'local-ipv4': inst.fixedV4[0] ?? inst.address ?? '',
      'reservation-id': s.reservation_id,
      'security-groups': json<string[]>(s.security_groups, []),
    };
    if (s.key_name)
      md['public-keys'] = { '0': { _name: `0=${s.key_name}`, 'openssh-key': s.key_data ?? '' } };
    if (at('2007-01-19')) {
      md['local-hostname'] = hostname;
      md['public-hostname'] = hostname;
      md['public-ipv4'] = inst.floating[0] ?? '';
    }
    const flavor = json<FlavorRow>(s.flavor, { name: s.flavor_id, ephemeral: 0, swap: 0 } as FlavorRow);
    if (at('2007-08-29')) md['instance-type'] = flavor.name;
    if (at('2007-12-15')) md['block-device-mapping'] = blockDeviceMapping(flavor);
    if (at('2008-02-01')) md.placement = { 'availability-zone': inst.input.availabilityZone ?? 'nova' };
    if (at('2008-09-01')) md['instance-action'] = 'none';
    const data: Ec2Tree = { 'meta-data': md };
    if (inst.userData) data['user-data'] = inst.userData;
    return data;
  }
}
