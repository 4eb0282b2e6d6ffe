/** Request bodies (cinder/api/schemas/*.py), as TypeBox schemas Fastify validates before a handler runs. */
import { Type as T, type TSchema } from 'typebox';

const nullable = (s: TSchema) => T.Union([s, T.Null()]);
const name = nullable(T.String({ maxLength: 255 }));
const description = nullable(T.String({ maxLength: 255 }));
const uuidish = T.String({ minLength: 1, maxLength: 64 });
const metadata = T.Record(T.String({ minLength: 1, maxLength: 255 }), T.String({ maxLength: 255 }));
const sizeValue = T.Union([T.Integer(), T.String({ pattern: '^\\s*-?\\d+\\s*$', maxLength: 20 })]);
const bool = T.Union([T.Boolean(), T.String({ maxLength: 10 })]);

const wrap = (key: string, inner: TSchema) => T.Object({ [key]: inner }, { additionalProperties: true });

export const volumeCreate = wrap(
  'volume',
  T.Object(
    {
      size: T.Optional(nullable(sizeValue)),
      name: T.Optional(name),
      display_name: T.Optional(name),
      description: T.Optional(description),
      display_description: T.Optional(description),
      volume_type: T.Optional(nullable(T.String({ maxLength: 255 }))),
      availability_zone: T.Optional(nullable(T.String({ maxLength: 255 }))),
      snapshot_id: T.Optional(nullable(uuidish)),
      source_volid: T.Optional(nullable(uuidish)),
      imageRef: T.Optional(nullable(T.String({ maxLength: 255 }))),
      image_id: T.Optional(nullable(T.String({ maxLength: 255 }))),
      backup_id: T.Optional(nullable(uuidish)),
      consistencygroup_id: T.Optional(nullable(uuidish)),
      group_id: T.Optional(nullable(uuidish)),
      metadata: T.Optional(nullable(metadata)),
      multiattach: T.Optional(nullable(T.Boolean())),
    },
    { additionalProperties: true },
  ),
);

export const volumeUpdate = wrap(
  'volume',
  T.Object(
    {
      name: T.Optional(name),
      display_name: T.Optional(name),
      description: T.Optional(description),
      display_description: T.Optional(description),
      metadata: T.Optional(metadata),
    },
    { additionalProperties: false },
  ),
);

export const metadataBody = T.Object({ metadata: metadata }, { additionalProperties: false });
export const metaItemBody = T.Object(
  {
    meta: T.Record(T.String({ minLength: 1, maxLength: 255 }), T.String({ maxLength: 255 }), {
      minProperties: 1,
      maxProperties: 1,
    }),
  },
  { additionalProperties: false },
);

export const typeCreate = wrap(
  'volume_type',
  T.Object(
    {
      name: T.String({ minLength: 1, maxLength: 255 }),
      description: T.Optional(description),
      'os-volume-type-access:is_public': T.Optional(bool),
      is_public: T.Optional(bool),
      extra_specs: T.Optional(
        T.Record(T.String(), T.Union([T.String({ maxLength: 255 }), T.Boolean(), T.Number(), T.Null()])),
      ),
    },
    { additionalProperties: false },
  ),
);
export const typeUpdate = wrap(
  'volume_type',
  T.Object(
    { name: T.Optional(name), description: T.Optional(description), is_public: T.Optional(bool) },
    { additionalProperties: false },
  ),
);
export const extraSpecsBody = T.Object(
  {
    extra_specs: T.Record(
      T.String({ minLength: 1, maxLength: 255 }),
      T.Union([T.String({ maxLength: 255 }), T.Boolean(), T.Number()]),
    ),
  },
  { additionalProperties: false },
);

export const snapshotCreate = wrap(
  'snapshot',
  T.Object(
    {
      volume_id: uuidish,
      force: T.Optional(nullable(bool)),
      name: T.Optional(name),
      display_name: T.Optional(name),
      description: T.Optional(description),
      display_description: T.Optional(description),
      metadata: T.Optional(nullable(metadata)),
    },
    { additionalProperties: false },
  ),
);
export const snapshotUpdate = wrap(
  'snapshot',
  T.Object(
    {
      name: T.Optional(name),
      display_name: T.Optional(name),
      description: T.Optional(description),
      display_description: T.Optional(description),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);

export const attachmentCreate = wrap(
  'attachment',
  T.Object(
    {
      volume_uuid: uuidish,
      instance_uuid: T.Optional(nullable(uuidish)),
      connector: T.Optional(nullable(T.Record(T.String(), T.Unknown()))),
      mode: T.Optional(T.Union([T.Literal('rw'), T.Literal('ro')])),
    },
    { additionalProperties: false },
  ),
);
export const attachmentUpdate = wrap(
  'attachment',
  T.Object({ connector: T.Record(T.String(), T.Unknown()) }, { additionalProperties: false }),
);

export const transferCreate = wrap(
  'transfer',
  T.Object(
    { volume_id: uuidish, name: T.Optional(name), no_snapshots: T.Optional(T.Boolean()) },
    { additionalProperties: false },
  ),
);
export const transferAccept = wrap(
  'accept',
  T.Object({ auth_key: T.String({ maxLength: 255 }) }, { additionalProperties: false }),
);

export const quotaSetBody = wrap('quota_set', T.Record(T.String(), T.Unknown()));
export const quotaClassBody = wrap('quota_class_set', T.Record(T.String(), T.Unknown()));
