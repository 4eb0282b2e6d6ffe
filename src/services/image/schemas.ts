/**
 * Glance's JSON schemas (glance/api/v2/images.py get_base_properties, image_members.py), served at
 * /v2/schemas/* and used to validate create bodies and patch values, with jsonschema-style messages.
 */
export const DISK_FORMATS = [
  'ami',
  'ari',
  'aki',
  'vhd',
  'vhdx',
  'vmdk',
  'raw',
  'qcow2',
  'vdi',
  'iso',
  'ploop',
];
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'];
export const VISIBILITIES = ['community', 'public', 'private', 'shared'];
export const STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'uploading',
  'importing',
  'pending_delete',
  'deactivated',
];
const UUID_PATTERN =
  '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';

type Prop = Record<string, unknown>;

export function imageProperties(): Record<string, Prop> {
  return {
    id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
    name: { type: ['null', 'string'], description: 'Descriptive name for the image', maxLength: 255 },
    status: { type: 'string', readOnly: true, description: 'Status of the image', enum: STATUSES },
    visibility: { type: 'string', description: 'Scope of image accessibility', enum: VISIBILITIES },
    protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
    os_hidden: {
      type: 'boolean',
      description: 'If true, image will not appear in default image list response.',
    },
    checksum: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'md5 hash of image contents.',
      maxLength: 32,
    },
    os_hash_algo: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Algorithm to calculate the os_hash_value',
      maxLength: 64,
    },
    os_hash_value: {
      type: ['null', 'string'],
      readOnly: true,
      description: 'Hexdigest of the image contents using the algorithm specified by the os_hash_algo',
      maxLength: 128,
    },
    owner: { type: ['null', 'string'], description: 'Owner of the image', maxLength: 255 },
    size: { type: ['null', 'integer'], readOnly: true, description: 'Size of image file in bytes' },
    virtual_size: {
      type: ['null', 'integer'],
      readOnly: true,
      description: 'Virtual size of image in bytes',
    },
    container_format: {
      type: ['null', 'string'],
      description: 'Format of the container',
      enum: [null, ...CONTAINER_FORMATS],
    },
    disk_format: {
      type: ['null', 'string'],
      description: 'Format of the disk',
      enum: [null, ...DISK_FORMATS],
    },
    created_at: { type: 'string', readOnly: true, description: 'Date and time of image registration' },
    updated_at: {
      type: 'string',
      readOnly: true,
      description: 'Date and time of the last image modification',
    },
    tags: {
      type: 'array',
      description: 'List of strings related to the image',
      items: { type: 'string', maxLength: 255 },
    },
    direct_url: {
      type: 'string',
      readOnly: true,
      description: 'URL to access the image file kept in external store',
    },
    min_ram: { type: 'integer', description: 'Amount of ram (in MB) required to boot image.' },
    min_disk: { type: 'integer', description: 'Amount of disk space (in GB) required to boot image.' },
    self: { type: 'string', readOnly: true, description: 'An image self url' },
    file: { type: 'string', readOnly: true, description: 'An image file url' },
    stores: {
      type: 'string',
      readOnly: true,
      description:
        'Store in which image data resides.  Only present when the operator has enabled multiple stores.  May be a comma-separated list of store identifiers.',
    },
    schema: { type: 'string', readOnly: true, description: 'An image schema url' },
    locations: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          url: { type: 'string', maxLength: 255 },
          metadata: { type: 'object' },
          validation_data: {
            description:
              "Values to be used to populate the corresponding image properties. If the image status is not 'queued', values must exactly match those already contained in the image properties.",
            type: 'object',
            writeOnly: true,
            additionalProperties: false,
            properties: {
              checksum: { type: 'string', minLength: 32, maxLength: 32 },
              os_hash_algo: { type: 'string', maxLength: 64 },
              os_hash_value: { type: 'string', maxLength: 128 },
            },
            required: ['os_hash_algo', 'os_hash_value'],
          },
        },
        required: ['url', 'metadata'],
      },
      description: 'A set of URLs to access the image file kept in external store',
    },
  };
}

export function imageSchema() {
  return {
    name: 'image',
    properties: imageProperties(),
    additionalProperties: { type: 'string' },
    links: [
      { rel: 'self', href: '{self}' },
      { rel: 'enclosure', href: '{file}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

export function imagesSchema() {
  return {
    name: 'images',
    properties: {
      images: { type: 'array', items: imageSchema() },
      first: { type: 'string' },
      next: { type: 'string' },
      schema: { type: 'string' },
    },
    links: [
      { rel: 'first', href: '{first}' },
      { rel: 'next', href: '{next}' },
      { rel: 'describedby', href: '{schema}' },
    ],
  };
}

const memberProperties = () => ({
  member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
  image_id: { type: 'string', description: 'An identifier for the image', pattern: UUID_PATTERN },
  created_at: { type: 'string', description: 'Date and time of image member creation' },
  updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
  status: {
    type: 'string',
    description: 'The status of this image member',
    enum: ['pending', 'accepted', 'rejected'],
  },
  schema: { readOnly: true, type: 'string' },
});

export const memberSchema = () => ({ name: 'member', properties: memberProperties() });
export const membersSchema = () => ({
  name: 'members',
  properties: {
    members: { type: 'array', items: memberSchema() },
    schema: { type: 'string' },
  },
  links: [{ rel: 'describedby', href: '{schema}' }],
});

// ---------------------------------------------------------------- validation (jsonschema's messages)

/** Python repr, as jsonschema prints instances in its messages. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object')
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  return String(v);
}

function typeOk(v: unknown, t: string): boolean {
  switch (t) {
    case 'null':
      return v === null;
    case 'string':
      return typeof v === 'string';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
  }
  return false;
}

/** Validate one value against one (flat) property schema; returns the first error or undefined. */
export function validateValue(v: unknown, s: Prop): string | undefined {
  if (s.type !== undefined) {
    const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
    if (!types.some((t) => typeOk(v, t)))
      return `${pyRepr(v)} is not of type ${types.map((t) => `'${t}'`).join(', ')}`;
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => e === v))
    return `${pyRepr(v)} is not one of ${pyRepr(s.enum)}`;
  if (typeof v === 'string') {
    if (typeof s.maxLength === 'number' && [...v].length > s.maxLength) return `${pyRepr(v)} is too long`;
    if (typeof s.minLength === 'number' && [...v].length < s.minLength) return `${pyRepr(v)} is too short`;
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern).test(v))
      return `${pyRepr(v)} does not match ${pyRepr(s.pattern)}`;
  }
  if (Array.isArray(v) && s.items && typeof s.items === 'object') {
    for (const item of v) {
      const e = validateValue(item, s.items as Prop);
      if (e) return e;
    }
  }
  return undefined;
}

const BASE = imageProperties();

/** Validate an image document (create body, or `{path: value}` of a patch) like PermissiveSchema('image'). */
export function validateImage(obj: unknown): string | undefined {
  if (!typeOk(obj, 'object')) return `${pyRepr(obj)} is not of type 'object'`;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    // Own properties only: a key such as `constructor` is a custom property, never Object's prototype.
    const s = (Object.hasOwn(BASE, k) ? BASE[k] : undefined) ?? { type: 'string' };
    if (k === 'locations') continue; // refused elsewhere
    const e = validateValue(v, s);
    if (e) return e;
  }
  return undefined;
}
