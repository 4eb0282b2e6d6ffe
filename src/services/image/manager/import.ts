/** Interoperable import: staging and glance-direct (glance/api/v2/images.py import, the import task). */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import type { Caller } from '../../../core/auth/caller.js';
import type { Image } from '../store.js';
import { err, now } from './base.js';
import { DataManager, activeFields, streamInto } from './data.js';
import { QuotaError } from './quotas.js';

export class ImportManager extends DataManager {
  // ------------------------------------------------------------------ interoperable import
  async stage(caller: Caller, id: string, source: Readable, declaredSize?: number): Promise<void> {
    const img = await this.lookup(id, caller);
    this.enforce('modify_image', img, caller);
    if (img.status !== 'queued')
      throw err(409, `Image status transition from ${img.status} to uploading is not allowed`);
    if (await this.staging.exists(id)) throw err(409, `The image ${id} has data on staging`);
    const remaining = await this.remainingBytes(img.owner, id);
    if (declaredSize !== undefined && declaredSize > remaining)
      throw this.quotaMessage(new QuotaError(declaredSize, remaining));
    if (!(await this.store.update(id, { status: 'uploading', updated_at: now() }, { fromStatus: 'queued' })))
      throw err(409, `Image status transition from ${img.status} to uploading is not allowed`);
    const final = this.staging.pathOf(id);
    const tmp = `${final}.part`;
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > remaining) return cb(new QuotaError(size, remaining));
        cb(null, chunk);
      },
    });
    try {
      await streamInto(source, meter, createWriteStream(tmp, { mode: 0o600 }));
      await rename(tmp, final);
    } catch (e) {
      await rm(tmp, { force: true });
      await this.restore(id, 'uploading');
      throw this.dataError(e, (q) => this.quotaMessage(q));
    }
    if (!(await this.store.update(id, { size, updated_at: now() }, { fromStatus: 'uploading' }))) {
      await this.staging.remove(id);
      throw err(410, `Image ${id} could not be found after upload.`);
    }
  }

  async importImage(caller: Caller, id: string, body: Record<string, any>): Promise<void> {
    const method = body.method.name as string;
    const img = await this.lookup(id, caller);
    if (img.status === 'active') throw err(409, 'Image with status active cannot be target for import');
    if (img.status !== 'uploading')
      throw err(409, "Image needs to be staged before 'glance-direct' method can be used");
    if (!img.container_format) throw err(409, "'container_format' needs to be set before import");
    if (!img.disk_format) throw err(409, "'disk_format' needs to be set before import");
    this.enforce('modify_image', img, caller);
    const stores = body.stores as unknown;
    if (stores !== undefined) {
      if (!Array.isArray(stores)) throw err(400, "'stores' must be a list of store identifiers.");
      for (const s of stores)
        if (s !== this.driver.id) throw err(409, `Unknown scheme '${String(s)}' found in URI`);
    }
    if (method !== 'glance-direct') throw err(400, `Unknown import method name '${method}'.`);
    const task = randomUUID();
    const locked = await this.store.update(
      id,
      { status: 'importing', updated_at: now() },
      {
        fromStatus: 'uploading',
        properties: {
          ...img.properties,
          os_glance_import_task: task,
          os_glance_importing_to_stores: this.driver.id,
          os_glance_failed_import: '',
        },
      },
    );
    if (!locked)
      throw err(
        409,
        `New operation on image '${id}' is not permitted as prior operation is still in progress`,
      );
    const p = this.runImport(img).finally(() => this.imports.delete(p));
    this.imports.add(p);
  }

  protected async runImport(img: Image): Promise<void> {
    const id = img.id;
    const staged = this.staging.pathOf(id);
    const current = async () => (await this.store.get(id))?.properties ?? {};
    try {
      const remaining = await this.remainingBytes(img.owner, id);
      const source = createReadStream(staged, { highWaterMark: 1 << 20 });
      const r = await this.ingest(img, source, remaining).finally(() => source.destroy());
      const props = await current();
      delete props.os_glance_import_task;
      props.os_glance_importing_to_stores = '';
      const ok = await this.store.update(id, activeFields(r), { fromStatus: 'importing', properties: props });
      if (!ok) await this.driver.delete(r.location).catch(() => undefined);
    } catch (e) {
      this.log.warn({ err: e, image: id }, 'image import failed');
      const props = await current().catch(() => ({}) as Record<string, string>);
      delete props.os_glance_import_task;
      props.os_glance_importing_to_stores = '';
      props.os_glance_failed_import = this.driver.id;
      await this.store
        .update(
          id,
          { status: 'queued', size: null, virtual_size: null, updated_at: now() },
          {
            fromStatus: 'importing',
            properties: props,
          },
        )
        .catch(() => undefined);
    } finally {
      await this.staging.remove(id).catch(() => undefined);
    }
  }

  /** Wait for running imports (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.imports.size) await Promise.allSettled([...this.imports]);
  }
}
