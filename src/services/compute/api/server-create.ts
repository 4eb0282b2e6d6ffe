/** POST /servers (nova/api/openstack/compute/servers.py create, with its schema's messages). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestedNetwork } from '../facades.js';
import type { ComputeManager, CreateRequest } from '../manager/index.js';
import { serverSummary } from '../views.js';
import {
  bad,
  bodyKey,
  boolOf,
  callerOf,
  intOf,
  metadataOf,
  mv,
  noExtra,
  str,
  UUID_RE,
  viewCtx,
  type Obj,
} from './common.js';

/** POST /servers: parse and check Nova's create body, then hand it to the manager. */
export async function createServer(
  req: FastifyRequest,
  reply: FastifyReply,
  mgr: ComputeManager,
  base: string,
) {
  const c = callerOf(req, mgr);
  req.authorize({ project_id: c.projectId, user_id: c.userId });
  const v = mv(req);
  const body = req.body as Obj;
  const b = bodyKey(req, 'server');
  const allowedKeys = [
    'name',
    'imageRef',
    'flavorRef',
    'networks',
    'security_groups',
    'key_name',
    'user_data',
    'metadata',
    'availability_zone',
    'config_drive',
    'min_count',
    'max_count',
    'return_reservation_id',
    'adminPass',
    'OS-DCF:diskConfig',
    'accessIPv4',
    'accessIPv6',
    'block_device_mapping',
    'block_device_mapping_v2',
    'personality',
    'hostname',
  ];
  if (v.ge(19)) allowedKeys.push('description');
  if (v.ge(52)) allowedKeys.push('tags');
  if (v.ge(63)) allowedKeys.push('trusted_image_certificates');
  if (v.ge(74)) allowedKeys.push('host', 'hypervisor_hostname');
  if (v.ge(57) && b.personality !== undefined)
    throw bad(
      "Invalid input for field/attribute server. Additional properties are not allowed ('personality' was unexpected)",
    );
  noExtra(b, allowedKeys, 'server');
  const name = str(b, 'name', { required: true, min: 1, max: 255, trim: true })!;
  const flavorRefRaw = b.flavorRef;
  if (flavorRefRaw === undefined)
    throw bad("Invalid input for field/attribute flavorRef. 'flavorRef' is a required property");
  if ((typeof flavorRefRaw !== 'string' && typeof flavorRefRaw !== 'number') || String(flavorRefRaw) === '')
    throw bad('Invalid flavorRef provided.');
  const flavorRef = String(flavorRefRaw).split('/').pop()!;
  let imageRef = str(b, 'imageRef');
  if (imageRef) {
    imageRef = imageRef.split('/').pop()!;
    if (!UUID_RE.test(imageRef)) throw bad('Invalid imageRef provided.');
  }
  const bdm = b.block_device_mapping_v2 ?? b.block_device_mapping;
  if (bdm !== undefined) {
    if (!Array.isArray(bdm))
      throw bad("Invalid input for field/attribute block_device_mapping_v2. Value: . is not of type 'array'");
    for (const d of bdm as Obj[]) {
      const src = d?.source_type;
      const dst = d?.destination_type ?? (src === 'image' ? 'local' : 'volume');
      if (src === 'image' && dst === 'local') {
        if (!imageRef && typeof d.uuid === 'string') imageRef = d.uuid;
        continue;
      }
      if (src === 'blank' && dst === 'local') continue;
      throw bad(
        'Block device mapping with volumes (boot from volume, volume or snapshot sources, blank volumes) needs the block-storage service, which this cloud does not have yet.',
      );
    }
  }
  let networks: CreateRequest['networks'];
  if (b.networks !== undefined) {
    if (b.networks === 'auto' || b.networks === 'none') {
      if (v.lt(37))
        throw bad(
          `Invalid input for field/attribute networks. Value: ${b.networks}. '${b.networks}' is not of type 'array'`,
        );
      networks = b.networks;
    } else if (Array.isArray(b.networks)) {
      networks = (b.networks as Obj[]).map((n, i) => {
        if (!n || typeof n !== 'object')
          throw bad(
            `Invalid input for field/attribute networks[${i}]. Value: ${JSON.stringify(n)}. is not of type 'object'`,
          );
        noExtra(n, ['uuid', 'port', 'fixed_ip', 'tag'], `networks[${i}]`);
        const r: RequestedNetwork = {
          uuid: str(n, 'uuid'),
          port: str(n, 'port'),
          fixed_ip: str(n, 'fixed_ip'),
          tag: str(n, 'tag'),
        };
        if (r.uuid && !UUID_RE.test(r.uuid))
          throw bad(`Bad networks format: network uuid is not in proper format (${r.uuid})`);
        if (r.port && !UUID_RE.test(r.port))
          throw bad(`Invalid input for field/attribute port. Value: ${r.port}. '${r.port}' is not a 'uuid'`);
        if (!r.uuid && !r.port) throw bad('Bad networks format: network uuid is not in proper format ()');
        return r;
      });
    } else
      throw bad(
        `Invalid input for field/attribute networks. Value: ${JSON.stringify(b.networks)}. is not of type 'array'`,
      );
  } else if (v.ge(37))
    throw bad("Invalid input for field/attribute server. 'networks' is a required property");
  const sgs: string[] = [];
  if (b.security_groups !== undefined) {
    if (!Array.isArray(b.security_groups))
      throw bad("Invalid input for field/attribute security_groups. is not of type 'array'");
    for (const g of b.security_groups as Obj[]) {
      const n = g && typeof g === 'object' ? str(g, 'name', { required: true, min: 1, max: 255 }) : undefined;
      if (!n) throw bad("Invalid input for field/attribute security_groups. 'name' is a required property");
      if (!sgs.includes(n)) sgs.push(n);
    }
  }
  if (networks !== 'none' && sgs.length === 0) sgs.push('default');
  const userData = str(b, 'user_data', { max: 65535 });
  if (userData !== undefined && userData !== null) {
    const clean = userData.replace(/\s/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.length % 4 !== 0)
      throw bad('User data needs to be valid base 64.');
  }
  const minCount = intOf(b, 'min_count', { min: 1, allowString: true }) ?? 1;
  const maxCount = intOf(b, 'max_count', { min: 1, allowString: true }) ?? minCount;
  if (minCount > maxCount) throw bad('min_count must be <= max_count');
  const tags: string[] = [];
  if (b.tags !== undefined) {
    if (!Array.isArray(b.tags) || b.tags.length > 50)
      throw bad('Invalid input for field/attribute tags. The number of tags exceeds the per-server limit 50');
    for (const t of b.tags) {
      if (typeof t !== 'string' || t.length < 1 || t.length > 60 || /[,/]/.test(t))
        throw bad(`Invalid input for field/attribute tags. Value: ${JSON.stringify(t)}. is not a valid tag`);
      tags.push(t);
    }
  }
  const description = v.ge(19) ? str(b, 'description', { max: 255, nullable: true }) : undefined;
  const az = str(b, 'availability_zone', { min: 1, max: 255 });
  const hvHost = v.ge(74) ? str(b, 'hypervisor_hostname', { min: 1, max: 255 }) : undefined;
  const host = v.ge(74) ? (str(b, 'host', { min: 1, max: 255 }) ?? hvHost) : undefined;
  if (host) req.authorize({ project_id: c.projectId }, 'compute:servers:create:requested_destination');
  const hints = (body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints']) as Obj | undefined;
  let group: string | undefined;
  if (hints && typeof hints === 'object' && hints.group !== undefined) {
    if (typeof hints.group !== 'string' || !UUID_RE.test(hints.group))
      throw bad(
        `Invalid input for field/attribute group. Value: ${JSON.stringify(hints.group)}. is not a 'uuid'`,
      );
    group = hints.group;
  }
  const keyName = str(b, 'key_name', { min: 1, max: 255 });
  const accessIPv4 = str(b, 'accessIPv4');
  if (accessIPv4 && !/^(\d{1,3}\.){3}\d{1,3}$/.test(accessIPv4))
    throw bad(
      `Invalid input for field/attribute accessIPv4. Value: ${accessIPv4}. '${accessIPv4}' is not a 'ipv4'`,
    );
  const accessIPv6 = str(b, 'accessIPv6');
  const configDrive = boolOf(b, 'config_drive') ?? false;
  if (networks && networks !== 'none' && networks !== 'auto' && networks.length)
    req.authorize({ project_id: c.projectId }, 'os_compute_api:servers:create:attach_network');
  const hostname = str(b, 'hostname', { min: 1, max: 255 });
  const r = await mgr.createServers(c, {
    name,
    imageRef,
    flavorRef,
    networks,
    securityGroups: sgs,
    keyName,
    userData: userData ?? undefined,
    metadata: metadataOf(b.metadata),
    availabilityZone: az,
    host,
    configDrive,
    minCount,
    maxCount,
    tags,
    description,
    hostname,
    accessIPv4,
    accessIPv6,
    group,
    returnReservationId: boolOf(b, 'return_reservation_id') ?? false,
  });
  reply.code(202);
  if (boolOf(b, 'return_reservation_id')) return { reservation_id: r.reservationId };
  const s = r.servers[0]!;
  reply.header('location', `${base}/v2.1/servers/${s.id}`);
  const out: Record<string, unknown> = {
    id: s.id,
    links: serverSummary(s, viewCtx(req, mgr, base, c)).links,
    'OS-DCF:diskConfig': 'MANUAL',
    adminPass: typeof b.adminPass === 'string' ? b.adminPass : r.adminPass,
  };
  if (sgs.length) out.security_groups = sgs.map((n) => ({ name: n }));
  return { server: out };
}
