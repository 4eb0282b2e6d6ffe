/** Request body schemas, after the jsonschema of each Keystone module (schema.py). */
import { Type as T, type TSchema } from 'typebox';

const nullable = (s: TSchema) => T.Union([s, T.Null()]);
const name64 = T.String({ minLength: 1, maxLength: 64, pattern: '\\S' });
const name255 = T.String({ minLength: 1, maxLength: 255, pattern: '\\S' });
const id = T.String({ minLength: 1, maxLength: 64 });
const description = nullable(T.String({ maxLength: 65535 }));
const tags = T.Array(T.String({ minLength: 1, maxLength: 255, pattern: '^[^,/]*$' }), { maxItems: 80 });
const options = T.Record(T.String(), T.Unknown());

const wrap = (key: string, inner: TSchema) => T.Object({ [key]: inner }, { additionalProperties: true });

export const projectCreate = wrap(
  'project',
  T.Object(
    {
      name: name64,
      domain_id: T.Optional(nullable(id)),
      parent_id: T.Optional(nullable(id)),
      is_domain: T.Optional(T.Boolean()),
      enabled: T.Optional(T.Boolean()),
      description: T.Optional(description),
      tags: T.Optional(tags),
      options: T.Optional(options),
    },
    { additionalProperties: true },
  ),
);
export const projectUpdate = wrap(
  'project',
  T.Object(
    {
      name: T.Optional(name64),
      domain_id: T.Optional(nullable(id)),
      parent_id: T.Optional(nullable(id)),
      is_domain: T.Optional(T.Boolean()),
      enabled: T.Optional(T.Boolean()),
      description: T.Optional(description),
      tags: T.Optional(tags),
      options: T.Optional(options),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
export const domainCreate = wrap(
  'domain',
  T.Object(
    {
      id: T.Optional(id),
      name: name64,
      enabled: T.Optional(T.Boolean()),
      description: T.Optional(description),
      tags: T.Optional(tags),
      options: T.Optional(options),
    },
    { additionalProperties: true },
  ),
);
export const domainUpdate = wrap(
  'domain',
  T.Object(
    {
      name: T.Optional(name64),
      enabled: T.Optional(T.Boolean()),
      description: T.Optional(description),
      tags: T.Optional(tags),
      options: T.Optional(options),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
export const userCreate = wrap(
  'user',
  T.Object(
    {
      name: name255,
      domain_id: T.Optional(id),
      enabled: T.Optional(T.Boolean()),
      password: T.Optional(nullable(T.String({ maxLength: 4096 }))),
      default_project_id: T.Optional(nullable(id)),
      description: T.Optional(description),
      email: T.Optional(nullable(T.String())),
      options: T.Optional(options),
    },
    { additionalProperties: true },
  ),
);
export const userUpdate = wrap(
  'user',
  T.Object(
    {
      name: T.Optional(name255),
      domain_id: T.Optional(id),
      enabled: T.Optional(T.Boolean()),
      password: T.Optional(nullable(T.String({ maxLength: 4096 }))),
      default_project_id: T.Optional(nullable(id)),
      description: T.Optional(description),
      email: T.Optional(nullable(T.String())),
      options: T.Optional(options),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
export const passwordChange = wrap(
  'user',
  T.Object(
    { original_password: T.String(), password: T.String({ maxLength: 4096 }) },
    { additionalProperties: false },
  ),
);
export const groupCreate = wrap(
  'group',
  T.Object(
    { name: name64, domain_id: T.Optional(id), description: T.Optional(description) },
    { additionalProperties: true },
  ),
);
export const groupUpdate = wrap(
  'group',
  T.Object(
    { name: T.Optional(name64), domain_id: T.Optional(id), description: T.Optional(description) },
    { additionalProperties: true, minProperties: 1 },
  ),
);
export const roleCreate = wrap(
  'role',
  T.Object(
    {
      id: T.Optional(id),
      name: name255,
      domain_id: T.Optional(nullable(id)),
      description: T.Optional(description),
      options: T.Optional(options),
    },
    { additionalProperties: true },
  ),
);
export const roleUpdate = wrap(
  'role',
  T.Object(
    {
      name: T.Optional(name255),
      domain_id: T.Optional(nullable(id)),
      description: T.Optional(description),
      options: T.Optional(options),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
export const regionCreate = wrap(
  'region',
  T.Object(
    {
      id: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
      description: T.Optional(description),
      parent_region_id: T.Optional(nullable(T.String())),
    },
    { additionalProperties: true },
  ),
);
export const regionUpdate = wrap(
  'region',
  T.Object(
    { description: T.Optional(description), parent_region_id: T.Optional(nullable(T.String())) },
    { additionalProperties: true },
  ),
);
export const serviceCreate = wrap(
  'service',
  T.Object(
    {
      type: T.String({ minLength: 1, maxLength: 255 }),
      name: T.Optional(T.String({ maxLength: 255 })),
      description: T.Optional(description),
      enabled: T.Optional(T.Boolean()),
    },
    { additionalProperties: true },
  ),
);
export const serviceUpdate = wrap(
  'service',
  T.Object(
    {
      type: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
      name: T.Optional(T.String({ maxLength: 255 })),
      description: T.Optional(description),
      enabled: T.Optional(T.Boolean()),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
const iface = T.Union([T.Literal('public'), T.Literal('internal'), T.Literal('admin')]);
const url = T.String({ minLength: 1, maxLength: 225, pattern: '^[a-zA-Z0-9+.-]+:.+' });
export const endpointCreate = wrap(
  'endpoint',
  T.Object(
    {
      service_id: id,
      interface: iface,
      url,
      region_id: T.Optional(nullable(T.String())),
      region: T.Optional(nullable(T.String())),
      enabled: T.Optional(T.Boolean()),
    },
    { additionalProperties: true },
  ),
);
export const endpointUpdate = wrap(
  'endpoint',
  T.Object(
    {
      service_id: T.Optional(id),
      interface: T.Optional(iface),
      url: T.Optional(url),
      region_id: T.Optional(nullable(T.String())),
      region: T.Optional(nullable(T.String())),
      enabled: T.Optional(T.Boolean()),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
const roleRefSchema = T.Object(
  { id: T.Optional(id), name: T.Optional(T.String()) },
  { additionalProperties: true },
);
export const appCredCreate = wrap(
  'application_credential',
  T.Object(
    {
      name: name255,
      description: T.Optional(description),
      secret: T.Optional(nullable(T.String({ minLength: 1 }))),
      expires_at: T.Optional(nullable(T.String())),
      roles: T.Optional(T.Array(roleRefSchema)),
      unrestricted: T.Optional(nullable(T.Boolean())),
      access_rules: T.Optional(T.Array(T.Object({}, { additionalProperties: true }))),
      system: T.Optional(nullable(T.String())),
    },
    { additionalProperties: false },
  ),
);
export const credentialCreate = wrap(
  'credential',
  T.Object(
    {
      blob: T.String({ minLength: 1 }),
      type: T.String({ minLength: 1, maxLength: 255 }),
      user_id: T.Optional(id),
      project_id: T.Optional(nullable(id)),
    },
    { additionalProperties: true },
  ),
);
export const credentialUpdate = wrap(
  'credential',
  T.Object(
    {
      blob: T.Optional(T.String({ minLength: 1 })),
      type: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
      user_id: T.Optional(id),
      project_id: T.Optional(nullable(id)),
    },
    { additionalProperties: true, minProperties: 1 },
  ),
);
const domainRef = T.Object({ id: T.Optional(T.String()), name: T.Optional(T.String()) });
export const authRequest = T.Object(
  {
    auth: T.Object({
      identity: T.Object(
        {
          methods: T.Array(T.String(), { minItems: 1 }),
          password: T.Optional(
            T.Object({
              user: T.Object({
                id: T.Optional(T.String()),
                name: T.Optional(T.String()),
                password: T.String(),
                domain: T.Optional(domainRef),
              }),
            }),
          ),
          token: T.Optional(T.Object({ id: T.String({ minLength: 1 }) })),
          application_credential: T.Optional(
            T.Object({
              id: T.Optional(T.String()),
              name: T.Optional(T.String()),
              secret: T.String(),
              user: T.Optional(
                T.Object({
                  id: T.Optional(T.String()),
                  name: T.Optional(T.String()),
                  domain: T.Optional(domainRef),
                }),
              ),
            }),
          ),
        },
        { additionalProperties: true },
      ),
      scope: T.Optional(
        T.Union([
          T.Literal('unscoped'),
          T.Object(
            {
              project: T.Optional(
                T.Object({
                  id: T.Optional(T.String()),
                  name: T.Optional(T.String()),
                  domain: T.Optional(domainRef),
                }),
              ),
              domain: T.Optional(domainRef),
              system: T.Optional(T.Object({ all: T.Optional(T.Boolean()) })),
              'OS-TRUST:trust': T.Optional(T.Unknown()),
            },
            { additionalProperties: false },
          ),
        ]),
      ),
    }),
  },
  { additionalProperties: true },
);
