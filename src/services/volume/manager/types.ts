/** Volume types (Cinder's volume_types): `__DEFAULT__`, extra specs, public/private and project access. */
import type { Caller } from '../../../core/auth/caller.js';
import { isUniqueViolation, int, json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { TypeRow } from '../store.js';
import { authorize, badRequest, cinderTime, conflict, notFound, type Deps } from './common.js';

export const DEFAULT_TYPE = '__DEFAULT__';

export interface VolumeType {
  row: TypeRow;
  extraSpecs: Record<string, string>;
}

const typeNotFound = (id: string) => notFound(`Volume type ${id} could not be found.`);

export class Types {
  constructor(private readonly d: Deps) {}

  /** Cinder creates `__DEFAULT__` in its first migration; here at every start if missing. */
  async ensureDefault(): Promise<TypeRow> {
    const t = await this.d.store.typeByName(DEFAULT_TYPE);
    if (t) return t;
    const row: TypeRow = {
      id: uuid(),
      name: DEFAULT_TYPE,
      description: 'Default Volume Type',
      is_public: 1,
      extra_specs: '{}',
      created_at: cinderTime(),
      updated_at: null,
    };
    try {
      await this.d.store.insertType(row);
    } catch (e) {
      if (!isUniqueViolation(e)) throw e;
    }
    return (await this.d.store.typeByName(DEFAULT_TYPE))!;
  }

  async defaultType(): Promise<TypeRow> {
    return (await this.d.store.typeByName(DEFAULT_TYPE)) ?? this.ensureDefault();
  }

  /** A type the caller may use, by id or name (private types: admin or a project with access). */
  async find(c: Caller, idOrName: string): Promise<TypeRow> {
    const t = (await this.d.store.type(idOrName)) ?? (await this.d.store.typeByName(idOrName));
    if (!t || !(await this.accessible(c, t))) throw typeNotFound(idOrName);
    return t;
  }

  async accessible(c: Caller, t: TypeRow): Promise<boolean> {
    if (t.is_public || c.isAdmin) return true;
    return (await this.d.store.typeAccess(t.id)).includes(c.projectId);
  }

  async list(c: Caller, isPublicParam: string | undefined): Promise<TypeRow[]> {
    authorize(this.d, c, 'volume_extension:type_get_all', { project_id: c.projectId });
    // Cinder: admins see public only by default, everything with is_public=None; users see public + shared.
    const raw = isPublicParam?.toLowerCase();
    const filter =
      raw === undefined ? true : raw === 'none' ? undefined : ['true', '1', 't', 'yes'].includes(raw);
    if (c.isAdmin) return this.d.store.listTypes({ isPublic: filter });
    return this.d.store.listTypes({ isPublic: filter ?? true, projectId: c.projectId });
  }

  async get(c: Caller, idOrName: string): Promise<TypeRow> {
    authorize(this.d, c, 'volume_extension:type_get', { project_id: c.projectId });
    if (idOrName === 'default') return this.defaultType();
    return this.find(c, idOrName);
  }

  async create(
    c: Caller,
    b: {
      name: string;
      description?: string | null;
      is_public?: boolean;
      extra_specs?: Record<string, string>;
    },
  ): Promise<TypeRow> {
    authorize(this.d, c, 'volume_extension:type_create', {});
    const name = b.name.trim();
    if (!name) throw badRequest('Volume type name can not be empty.');
    const row: TypeRow = {
      id: uuid(),
      name,
      description: b.description ?? null,
      is_public: int(b.is_public ?? true),
      extra_specs: JSON.stringify(b.extra_specs ?? {}),
      created_at: cinderTime(),
      updated_at: null,
    };
    try {
      await this.d.store.insertType(row);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Volume Type ${name} already exists.`);
      throw e;
    }
    return row;
  }

  async update(
    c: Caller,
    id: string,
    b: { name?: string | null; description?: string | null; is_public?: boolean },
  ): Promise<TypeRow> {
    authorize(this.d, c, 'volume_extension:type_update', {});
    const t = await this.find(c, id);
    if (b.name === undefined && b.description === undefined && b.is_public === undefined)
      throw badRequest('Specify volume type name, description, is_public or a combination thereof.');
    if (t.name === DEFAULT_TYPE && b.name !== undefined && b.name !== DEFAULT_TYPE)
      throw badRequest('The default volume type cannot be renamed.');
    const patch: Partial<TypeRow> = { updated_at: cinderTime() };
    if (b.name !== undefined && b.name !== null) {
      if (!b.name.trim()) throw badRequest('Volume type name can not be empty.');
      patch.name = b.name.trim();
    }
    if (b.description !== undefined) patch.description = b.description;
    if (b.is_public !== undefined) patch.is_public = int(b.is_public);
    try {
      await this.d.store.updateType(t.id, patch);
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict(`Volume Type ${patch.name} already exists.`);
      throw e;
    }
    return (await this.d.store.type(t.id))!;
  }

  async delete(c: Caller, id: string): Promise<void> {
    authorize(this.d, c, 'volume_extension:type_delete', {});
    const t = await this.find(c, id);
    if (t.name === DEFAULT_TYPE) throw badRequest('Default volume type can not be deleted.');
    if (await this.d.store.typeInUse(t.id)) throw badRequest('Target volume type is still in use.');
    await this.d.store.deleteType(t.id);
  }

  extraSpecs(t: TypeRow): Record<string, string> {
    return json<Record<string, string>>(t.extra_specs, {});
  }

  async listSpecs(c: Caller, typeId: string): Promise<Record<string, string>> {
    authorize(this.d, c, 'volume_extension:types_extra_specs:index', { project_id: c.projectId });
    return this.extraSpecs(await this.find(c, typeId));
  }

  async showSpec(c: Caller, typeId: string, key: string): Promise<Record<string, string>> {
    authorize(this.d, c, 'volume_extension:types_extra_specs:show', { project_id: c.projectId });
    const specs = this.extraSpecs(await this.find(c, typeId));
    if (!(key in specs))
      throw notFound(`Volume Type ${typeId} has no extra specs with key ${key.slice(0, 255)}.`);
    return { [key]: specs[key]! };
  }

  async setSpecs(
    c: Caller,
    typeId: string,
    specs: Record<string, unknown>,
    rule: string,
  ): Promise<Record<string, string>> {
    authorize(this.d, c, rule, {});
    const t = await this.find(c, typeId);
    const clean: Record<string, string> = {};
    for (const [k, v] of Object.entries(specs)) {
      if (!k || k.length > 255)
        throw badRequest('Invalid input received: extra spec keys are 1 to 255 characters.');
      if (v !== null && typeof v === 'object')
        throw badRequest(`Value for key ${k.slice(0, 50)} must be a string.`);
      const s = typeof v === 'boolean' ? String(v) : String(v ?? '');
      if (s.length > 255)
        throw badRequest('Invalid input received: extra spec values are at most 255 characters.');
      clean[k] = s;
    }
    await this.d.store.updateType(t.id, {
      extra_specs: JSON.stringify({ ...this.extraSpecs(t), ...clean }),
      updated_at: cinderTime(),
    });
    return clean;
  }

  async deleteSpec(c: Caller, typeId: string, key: string): Promise<void> {
    authorize(this.d, c, 'volume_extension:types_extra_specs:delete', {});
    const t = await this.find(c, typeId);
    const specs = this.extraSpecs(t);
    if (!(key in specs))
      throw notFound(`Volume Type ${typeId} has no extra specs with key ${key.slice(0, 255)}.`);
    delete specs[key];
    await this.d.store.updateType(t.id, { extra_specs: JSON.stringify(specs), updated_at: cinderTime() });
  }

  async accessList(c: Caller, typeId: string): Promise<{ volume_type_id: string; project_id: string }[]> {
    authorize(this.d, c, 'volume_extension:volume_type_access:get_all_for_type', {});
    const t = await this.find(c, typeId);
    if (t.is_public) throw notFound('Access list not available for public volume types.');
    return (await this.d.store.typeAccess(t.id)).map((p) => ({ volume_type_id: t.id, project_id: p }));
  }

  async addAccess(c: Caller, typeId: string, projectId: string): Promise<void> {
    authorize(this.d, c, 'volume_extension:volume_type_access:addProjectAccess', {});
    const t = await this.find(c, typeId);
    if (t.is_public)
      throw badRequest(
        'Invalid volume type: Type access modification is not applicable to public volume type.',
      );
    if (!(await this.d.store.addTypeAccess(t.id, projectId)))
      throw conflict(`Volume type access for ${t.id} / ${projectId} combination already exists.`);
  }

  async removeAccess(c: Caller, typeId: string, projectId: string): Promise<void> {
    authorize(this.d, c, 'volume_extension:volume_type_access:removeProjectAccess', {});
    const t = await this.find(c, typeId);
    if (t.is_public)
      throw badRequest(
        'Invalid volume type: Type access modification is not applicable to public volume type.',
      );
    if (!(await this.d.store.removeTypeAccess(t.id, projectId)))
      throw notFound(`Volume type access not found for ${t.id} / ${projectId} combination.`);
  }
}
