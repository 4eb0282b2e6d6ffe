/** The service catalog: regions, services and endpoints (Keystone keystone/catalog/core.py). */
import { isUniqueViolation } from '../../../core/db/index.js';
import { badRequest, conflict, forbidden, notFound } from '../../../core/errors.js';
import { hexId } from '../../../core/ids.js';
import type { EndpointRow, RegionRow, ServiceRow } from '../store.js';
import { AssignmentManager } from './assignment.js';
import type { Extra } from './base.js';

export interface RegionInput {
  description?: string;
  parent_region_id?: string | null;
  extra?: Extra;
}

export interface ServiceInput {
  type?: string;
  name?: string | null;
  description?: string | null;
  enabled?: boolean;
  extra?: Extra;
}

export interface EndpointInput {
  service_id?: string;
  interface?: string;
  url?: string;
  region?: string | null;
  enabled?: boolean;
  extra?: Extra;
}

export class CatalogManager extends AssignmentManager {
  // ------------------------------------------------------------------ regions
  async getRegion(id: string): Promise<RegionRow> {
    const r = await this.store.get('region', id);
    if (!r) throw notFound(`Could not find region: ${id}.`);
    return r;
  }

  async createRegion(id: string, input: RegionInput): Promise<RegionRow> {
    if (input.parent_region_id && !(await this.store.get('region', input.parent_region_id)))
      throw notFound(`Could not find region: ${input.parent_region_id}.`);
    try {
      await this.store.insert('region', {
        id,
        description: input.description ?? '',
        parent_region_id: input.parent_region_id ?? null,
        extra: JSON.stringify(input.extra ?? {}),
      });
    } catch (e) {
      if (isUniqueViolation(e))
        throw conflict(`Conflict occurred attempting to store region - Duplicate ID, ${id}.`);
      throw e;
    }
    return (await this.store.get('region', id))!;
  }

  async updateRegion(id: string, patch: RegionInput): Promise<RegionRow> {
    const r = await this.getRegion(id);
    if (patch.parent_region_id === r.id)
      throw badRequest('Circular reference or a repeated entry found in region tree.');
    await this.store.update('region', r.id, {
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.parent_region_id !== undefined ? { parent_region_id: patch.parent_region_id } : {}),
    });
    return this.getRegion(r.id);
  }

  async deleteRegion(id: string): Promise<void> {
    const r = await this.getRegion(id);
    if ((await this.store.listRegions()).some((x) => x.parent_region_id === r.id)) {
      throw forbidden('Unable to delete region, it has child regions.');
    }
    if ((await this.store.listEndpoints({ regionId: r.id })).length)
      throw forbidden('Unable to delete region, it has endpoints.');
    await this.store.remove('region', r.id);
  }

  // ------------------------------------------------------------------ services
  async getService(id: string): Promise<ServiceRow> {
    const s = await this.store.get('service', id);
    if (!s) throw notFound(`Could not find service: ${id}.`);
    return s;
  }

  async createService(input: ServiceInput): Promise<ServiceRow> {
    const row = {
      id: hexId(),
      type: input.type!,
      name: input.name ?? null,
      description: input.description ?? null,
      enabled: input.enabled === false ? 0 : 1,
      extra: JSON.stringify(input.extra ?? {}),
    };
    await this.store.insert('service', row);
    this.changed();
    return row;
  }

  async updateService(id: string, patch: ServiceInput): Promise<ServiceRow> {
    const s = await this.getService(id);
    await this.store.update('service', s.id, {
      ...(patch.type !== undefined ? { type: patch.type } : {}),
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.description !== undefined ? { description: patch.description } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
    });
    this.changed();
    return this.getService(s.id);
  }

  async deleteService(id: string): Promise<void> {
    const s = await this.getService(id);
    await this.store.removeServiceWithEndpoints(s.id);
    this.changed();
  }

  // ------------------------------------------------------------------ endpoints
  async getEndpoint(id: string): Promise<EndpointRow> {
    const e = await this.store.get('endpoint', id);
    if (!e) throw notFound(`Could not find endpoint: ${id}.`);
    return e;
  }

  /** A region an endpoint names must exist (Keystone answers 400, not 404). */
  private async checkEndpointRegion(region: string | null | undefined): Promise<void> {
    if (region && !(await this.store.get('region', region)))
      throw badRequest(`Could not find region: ${region}.`);
  }

  async createEndpoint(input: EndpointInput): Promise<EndpointRow> {
    await this.getService(input.service_id!);
    const region = input.region ?? null;
    await this.checkEndpointRegion(region);
    const row = {
      id: hexId(),
      service_id: input.service_id!,
      interface: input.interface!,
      url: input.url!,
      region_id: region,
      enabled: input.enabled === false ? 0 : 1,
      extra: JSON.stringify(input.extra ?? {}),
    };
    await this.store.insert('endpoint', row);
    this.changed();
    return row;
  }

  async updateEndpoint(id: string, patch: EndpointInput): Promise<EndpointRow> {
    const e = await this.getEndpoint(id);
    if (patch.service_id) await this.getService(patch.service_id);
    const region = patch.region;
    await this.checkEndpointRegion(region);
    await this.store.update('endpoint', e.id, {
      ...(patch.service_id !== undefined ? { service_id: patch.service_id } : {}),
      ...(patch.interface !== undefined ? { interface: patch.interface } : {}),
      ...(patch.url !== undefined ? { url: patch.url } : {}),
      ...(region !== undefined ? { region_id: region } : {}),
      ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
    });
    this.changed();
    return this.getEndpoint(e.id);
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.store.remove('endpoint', (await this.getEndpoint(id)).id);
    this.changed();
  }
}
