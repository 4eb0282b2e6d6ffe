/** Test cloud with the compute service mounted and its in-process agent on the fake driver. */
import { expect } from 'vitest';
import { defaultServices } from '../../src/server.js';
import {
  computeService,
  type InProcessCompute,
  type ComputeServiceOptions,
} from '../../src/services/compute/index.js';
import { startTestCloud, type TestCloud } from '../support/cloud.js';

export const MV = { 'OpenStack-API-Version': 'compute 2.79' };

export interface ComputeCloud extends TestCloud {
  compute: InProcessCompute;
  /** Request against /compute/v2.1 with a microversion (default 2.79). */
  nova(
    method: string,
    path: string,
    o?: { token?: string; body?: unknown; mv?: string; headers?: Record<string, string> },
  ): ReturnType<TestCloud['req']>;
  /** Poll a server until its status is one of `statuses` (and task_state is null). */
  waitFor(id: string, statuses: string | string[], token?: string, timeoutMs?: number): Promise<any>;
  /** An active image the project can see, created through the image facade. */
  image(opts?: {
    visibility?: string;
    status?: 'active' | 'queued';
    minDisk?: number;
    minRam?: number;
  }): Promise<string>;
  boot(token: string, body?: Record<string, unknown>, opts?: { wait?: boolean; mv?: string }): Promise<any>;
}

export async function startComputeCloud(
  opts: ComputeServiceOptions & { env?: Record<string, string> } = {},
): Promise<ComputeCloud> {
  const svc = computeService({
    fake: { delays: { spawn: 20, reboot: 10, rebuild: 10, snapshot: 5 }, ...opts.fake },
    ...opts,
  });
  const others = defaultServices().filter((s) => s.type !== 'compute');
  const cloud = await startTestCloud({ services: [...others, svc], env: opts.env });
  await svc.start!();
  const compute = svc.facade!;
  const nova: ComputeCloud['nova'] = (method, path, o = {}) =>
    cloud.req(method, `/compute/v2.1${path}`, {
      token: o.token ?? cloud.adminToken,
      body: o.body,
      headers: { 'OpenStack-API-Version': `compute ${o.mv ?? '2.79'}`, ...(o.headers ?? {}) },
    });
  const waitFor: ComputeCloud['waitFor'] = async (id, statuses, token, timeoutMs = 10_000) => {
    const want = Array.isArray(statuses) ? statuses : [statuses];
    const end = Date.now() + timeoutMs;
    let last: any;
    while (Date.now() < end) {
      await compute.settle();
      const r = await nova('GET', `/servers/${id}`, { token });
      last = r.json();
      if (r.statusCode === 404 && want.includes('DELETED')) return { status: 'DELETED' };
      const s = last.server;
      if (s && want.includes(s.status) && s['OS-EXT-STS:task_state'] === null) return s;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error(`server ${id} did not reach ${want.join('|')}: ${JSON.stringify(last)}`);
  };
  const image: ComputeCloud['image'] = async (o = {}) => {
    const r = await cloud.req('POST', '/image/v2/images', {
      token: cloud.adminToken,
      body: {
        name: `img-${Math.random().toString(36).slice(2, 8)}`,
        disk_format: 'raw',
        container_format: 'bare',
        visibility: o.visibility ?? 'public',
        min_disk: o.minDisk ?? 0,
        min_ram: o.minRam ?? 0,
      },
    });
    expect(r.statusCode, r.body).toBe(201);
    const id = r.json().id as string;
    if (o.status !== 'queued') {
      const u = await cloud.req('PUT', `/image/v2/images/${id}/file`, {
        token: cloud.adminToken,
        body: Buffer.alloc(1024, 1),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(u.statusCode, u.body).toBe(204);
    }
    return id;
  };
  let defaultImage: string | undefined;
  const boot: ComputeCloud['boot'] = async (token, body = {}, o = {}) => {
    defaultImage ??= await image();
    const r = await nova('POST', '/servers', {
      token,
      mv: o.mv,
      body: { server: { name: 'vm', imageRef: defaultImage, flavorRef: '1', networks: 'none', ...body } },
    });
    expect(r.statusCode, r.body).toBe(202);
    const s = r.json().server;
    if (o.wait === false) return s;
    return waitFor(s.id, ['ACTIVE', 'ERROR'], token);
  };
  return Object.assign(cloud, { compute, nova, waitFor, image, boot });
}
