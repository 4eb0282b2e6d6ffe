/** The rows of the compute tables (types only: routes, views and the manager read them; only store/ writes SQL). */
import type { Generated, Kysely } from 'kysely';

export interface FlavorRow {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  is_public: number;
  disabled: number;
  description: string | null;
  extra_specs: string;
  created_at: string;
}
export interface KeypairRow {
  id: number;
  user_id: string;
  name: string;
  type: string;
  public_key: string;
  fingerprint: string;
  created_at: string;
}
export interface HostRow {
  name: string;
  id: number;
  service_uuid: string;
  hypervisor_uuid: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string;
  availability_zone: string | null;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  cpu_allocation_ratio: number;
  ram_allocation_ratio: number;
  disk_allocation_ratio: number;
  cpu_info: string;
  driver: string;
  capabilities: string;
  enabled: number;
  disabled_reason: string | null;
  forced_down: number;
  heartbeat_at: string | null;
  created_at: string;
  updated_at: string | null;
}
export interface ServerRow {
  id: string;
  seq: number;
  name: string;
  project_id: string;
  user_id: string;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  requested_az: string | null;
  flavor_id: string;
  flavor: string;
  old_flavor: string | null;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  image_ref: string | null;
  image_name: string | null;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  metadata: string;
  security_groups: string;
  requested_networks: string | null;
  addresses: string;
  vm_state: string;
  task_state: string | null;
  power_state: number;
  description: string | null;
  hostname: string | null;
  config_drive: number;
  reservation_id: string;
  launch_index: number;
  locked: number;
  locked_by: string | null;
  locked_reason: string | null;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  server_group_id: string | null;
  shelved_image_id?: string | null;
  fault: string | null;
  progress: number;
  created_at: string;
  updated_at: string;
  launched_at: string | null;
  terminated_at: string | null;
  deleted: number;
  deleted_at: string | null;
}
export interface ActionRow {
  id: number;
  server_id: string;
  action: string;
  request_id: string;
  user_id: string | null;
  project_id: string | null;
  message: string | null;
  start_time: string;
  updated_at: string | null;
}
export interface EventRow {
  id: number;
  action_id: number;
  event: string;
  host: string | null;
  result: string | null;
  traceback: string | null;
  details: string | null;
  start_time: string;
  finish_time: string | null;
}
export interface GroupRow {
  id: string;
  name: string;
  project_id: string;
  user_id: string;
  policy: string;
  rules: string;
  created_at: string;
}
export interface AggregateRow {
  id: number;
  uuid: string;
  name: string;
  availability_zone: string | null;
  metadata: string;
  hosts: string;
  created_at: string;
  updated_at: string | null;
}
export interface MigrationRow {
  id: number;
  uuid: string;
  server_id: string;
  project_id: string;
  user_id: string;
  source_compute: string | null;
  dest_compute: string | null;
  source_node: string | null;
  dest_node: string | null;
  dest_host: string | null;
  old_flavor_id: string | null;
  new_flavor_id: string | null;
  migration_type: string;
  status: string;
  created_at: string;
  updated_at: string | null;
}

export interface Tables {
  compute_flavor: FlavorRow;
  compute_flavor_access: { flavor_id: string; project_id: string };
  compute_keypair: Omit<KeypairRow, 'id'> & { id: Generated<number> };
  compute_host: HostRow;
  compute_server: ServerRow;
  compute_server_tag: { server_id: string; tag: string };
  compute_action: Omit<ActionRow, 'id'> & { id: Generated<number> };
  compute_action_event: Omit<EventRow, 'id'> & { id: Generated<number> };
  compute_quota: { scope: string; owner: string; resource: string; hard_limit: number };
  compute_lock: { name: string };
  compute_server_group: GroupRow;
  compute_aggregate: Omit<AggregateRow, 'id'> & { id: Generated<number> };
  compute_migration: Omit<MigrationRow, 'id'> & { id: Generated<number> };
  compute_seq: { name: string; value: number };
}

export type Db = Kysely<Tables>;

/** Per-host usage counted from the server rows that hold a claim (not deleted, not offloaded). */
export interface HostUsage {
  host: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
  count: number;
}

// ---------------------------------------------------------------- list queries the API builds and the store runs
/** The flavor list's filters (GET /flavors). */
export interface FlavorQuery {
  /** Admins: 1/0 filters on is_public; undefined: every flavor. */
  isPublic?: number;
  /** Non-admins: public flavors and the private ones this project may use. */
  visibleTo?: string;
  minRam?: number;
  minDisk?: number;
  sort: keyof FlavorRow;
  dir: 'asc' | 'desc';
}

/** Columns a server list may be filtered on by equality. */
export type ServerEqColumn =
  | 'image_ref'
  | 'flavor_id'
  | 'reservation_id'
  | 'availability_zone'
  | 'key_name'
  | 'vm_state'
  | 'task_state'
  | 'user_id'
  | 'host'
  | 'node'
  | 'id'
  | 'hostname';

/** GET /servers as the store runs it (the API has checked and translated Nova's filters). */
export interface ServerQuery {
  projectId?: string;
  /** `only`: deleted servers; `live`: not deleted; `any`: both (changes-since/-before). */
  deleted: 'only' | 'live' | 'any';
  updatedSince?: string;
  updatedBefore?: string;
  vmStates?: string[];
  taskStates?: string[];
  equals: Partial<Record<ServerEqColumn, string>>;
  powerState?: number;
  locked?: number;
  tags: string[];
  tagsAny: string[];
  notTags: string[];
  notTagsAny: string[];
  /** Sort column and direction; ties broken by seq in the same direction (keyset paging). */
  sort: string;
  dir: 'asc' | 'desc';
  /** Keyset: only servers after this one in the sort order. */
  after?: ServerRow;
}
