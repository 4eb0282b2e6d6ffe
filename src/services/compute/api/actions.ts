/** POST /servers/{id}/action and /remote-consoles: Nova's server actions with its state rules. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { json } from '../../../core/db/index.js';
import { ApiError } from '../../../core/errors.js';
import type { ConsoleUrl } from '../../../agent/compute/driver.js';
import type { Caller } from '../facades.js';
import { now, type ComputeManager } from '../manager.js';
import type { FlavorRow, ServerRow } from '../store.js';
import { serverView } from '../views.js';
import {
  bad,
  boolOf,
  callerOf,
  intOf,
  metadataOf,
  mv,
  noExtra,
  requireMv,
  str,
  viewCtx,
  type Obj,
} from './common.js';

type P = Record<string, string>;
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Policy rule of each action (nova/policies). */
const RULES: Record<string, string> = {
  reboot: 'os_compute_api:servers:reboot',
  'os-start': 'os_compute_api:servers:start',
  'os-stop': 'os_compute_api:servers:stop',
  pause: 'os_compute_api:os-pause-server:pause',
  unpause: 'os_compute_api:os-pause-server:unpause',
  suspend: 'os_compute_api:os-suspend-server:suspend',
  resume: 'os_compute_api:os-suspend-server:resume',
  lock: 'os_compute_api:os-lock-server:lock',
  unlock: 'os_compute_api:os-lock-server:unlock',
  resize: 'os_compute_api:servers:resize',
  confirmResize: 'os_compute_api:servers:confirm_resize',
  revertResize: 'os_compute_api:servers:revert_resize',
  rebuild: 'os_compute_api:servers:rebuild',
  createImage: 'os_compute_api:servers:create_image',
  shelve: 'os_compute_api:os-shelve:shelve',
  shelveOffload: 'os_compute_api:os-shelve:shelve_offload',
  unshelve: 'os_compute_api:os-shelve:unshelve',
  rescue: 'os_compute_api:os-rescue',
  unrescue: 'os_compute_api:os-unrescue',
  'os-getConsoleOutput': 'os_compute_api:os-console-output',
  'os-getVNCConsole': 'os_compute_api:os-remote-consoles',
  'os-getSPICEConsole': 'os_compute_api:os-remote-consoles',
  'os-getSerialConsole': 'os_compute_api:os-remote-consoles',
  'os-resetState': 'os_compute_api:os-admin-actions:reset_state',
  injectNetworkInfo: 'os_compute_api:os-admin-actions:inject_network_info',
  migrate: 'os_compute_api:os-migrate-server:migrate',
  'os-migrateLive': 'os_compute_api:os-migrate-server:migrate_live',
  forceDelete: 'os_compute_api:os-deferred-delete:force',
  restore: 'os_compute_api:os-deferred-delete:restore',
  addSecurityGroup: 'os_compute_api:os-security-groups:add',
  removeSecurityGroup: 'os_compute_api:os-security-groups:remove',
};

export function actionRoutes(app: FastifyInstance, mgr: ComputeManager, base: string) {
  const store = mgr.store;

  app.post(
    '/v2.1/servers/:id/action',
    { config: { policy: 'os_compute_api:servers:show' } },
    async (req, reply) => {
      const body = req.body as Obj | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('Malformed request body');
      const keys = Object.keys(body);
      if (keys.length !== 1)
        throw bad('There is either no action or more than one action in the request body.');
      const action = keys[0]!;
      const rule = RULES[action];
      if (!rule) throw bad(`There is no such action: ${action}`);
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, rule);
      const arg = body[action];
      return handle(req, reply, c, s, action, arg);
    },
  );

  async function handle(
    req: FastifyRequest,
    reply: FastifyReply,
    c: Caller,
    s: ServerRow,
    action: string,
    arg: unknown,
  ) {
    const a = (arg && typeof arg === 'object' && !Array.isArray(arg) ? arg : {}) as Obj;
    const rid = c.requestId;
    const simple = async (op: string, vmStates: string[] | null, taskState: string, capability?: string) => {
      await mgr.cast(c, s, {
        action,
        op,
        vmStates,
        taskState,
        task: () => ({ op: op as 'pause', uuid: s.id, requestId: rid }),
        capability,
      });
      reply.code(202);
      return reply.send();
    };
    switch (action) {
      case 'reboot': {
        if (!arg || typeof arg !== 'object')
          throw bad("Invalid input for field/attribute reboot. 'type' is a required property");
        const type = String(a.type ?? '').toUpperCase();
        if (a.type === undefined)
          throw bad("Invalid input for field/attribute reboot. 'type' is a required property");
        if (!['SOFT', 'HARD'].includes(type))
          throw bad(
            `Invalid input for field/attribute type. Value: ${a.type}. '${a.type}' is not one of ['HARD', 'Hard', 'hard', 'SOFT', 'Soft', 'soft']`,
          );
        if (type === 'SOFT') {
          await mgr.cast(c, s, {
            action,
            op: 'reboot',
            vmStates: ['active'],
            taskState: 'rebooting',
            task: () => ({ op: 'reboot', uuid: s.id, requestId: rid, type: 'SOFT' }),
          });
        } else {
          await mgr.cast(c, s, {
            action,
            op: 'reboot',
            vmStates: ['active', 'stopped', 'paused', 'suspended', 'error'],
            taskStates: [
              null,
              'rebooting',
              'reboot_pending',
              'reboot_started',
              'resuming',
              'pausing',
              'unpausing',
              'suspending',
              'powering-off',
              'powering-on',
              'rebooting_hard',
              'reboot_pending_hard',
              'reboot_started_hard',
            ],
            taskState: 'rebooting_hard',
            task: () => ({ op: 'reboot', uuid: s.id, requestId: rid, type: 'HARD' }),
          });
        }
        return reply.code(202).send();
      }
      case 'os-stop':
        return simple('power_off', ['active', 'error'], 'powering-off');
      case 'os-start':
        return simple('power_on', ['stopped'], 'powering-on');
      case 'pause':
        return simple('pause', ['active'], 'pausing', 'supportsPause');
      case 'unpause':
        return simple('unpause', ['paused'], 'unpausing');
      case 'suspend':
        return simple('suspend', ['active'], 'suspending', 'supportsSuspend');
      case 'resume':
        return simple('resume', ['suspended'], 'resuming');
      case 'unrescue':
        return simple('unrescue', ['rescued'], 'unrescuing');
      case 'rescue': {
        noExtra(a, ['adminPass', 'rescue_image_ref'], 'rescue');
        await mgr.cast(c, s, {
          action,
          op: 'rescue',
          vmStates: ['active', 'stopped', 'error'],
          taskState: 'rescuing',
          task: () => ({ op: 'rescue', uuid: s.id, requestId: rid }),
          capability: 'supportsRescue',
        });
        reply.code(200);
        return {
          adminPass: typeof a.adminPass === 'string' ? a.adminPass : Math.random().toString(36).slice(2, 14),
        };
      }
      case 'lock': {
        const reason = mv(req).ge(73) ? str(a, 'locked_reason', { max: 255 }) : undefined;
        if (mv(req).ge(73)) noExtra(a, ['locked_reason'], 'lock');
        await store.k
          .updateTable('compute_server')
          .set({
            locked: 1,
            locked_by: c.isAdmin && s.project_id !== c.projectId ? 'admin' : 'owner',
            locked_reason: reason ?? null,
            updated_at: now(),
          })
          .where('id', '=', s.id)
          .execute();
        await store.startAction({
          server_id: s.id,
          action: 'lock',
          request_id: rid,
          user_id: c.userId,
          project_id: c.projectId,
          message: null,
          start_time: now(),
        });
        return reply.code(202).send();
      }
      case 'unlock': {
        if (s.locked && s.locked_by === 'admin' && !c.isAdmin)
          req.authorize({ project_id: s.project_id }, 'os_compute_api:os-lock-server:unlock:unlock_override');
        await store.k
          .updateTable('compute_server')
          .set({ locked: 0, locked_by: null, locked_reason: null, updated_at: now() })
          .where('id', '=', s.id)
          .execute();
        await store.startAction({
          server_id: s.id,
          action: 'unlock',
          request_id: rid,
          user_id: c.userId,
          project_id: c.projectId,
          message: null,
          start_time: now(),
        });
        return reply.code(202).send();
      }
      case 'resize': {
        if (!arg || typeof arg !== 'object')
          throw bad("Invalid input for field/attribute resize. 'flavorRef' is a required property");
        noExtra(a, ['flavorRef', 'OS-DCF:diskConfig'], 'resize');
        if (a.flavorRef === undefined)
          throw bad("Invalid input for field/attribute resize. 'flavorRef' is a required property");
        const fid = String(a.flavorRef).split('/').pop()!;
        mgr.checkLock(c, s);
        mgr.checkState(s, action, ['active', 'stopped']);
        const nf = await mgr.usableFlavor(c, fid);
        if (!nf) throw bad(`Unable to find flavor with ID ${fid}`);
        const cur = json<FlavorRow>(s.flavor, {} as FlavorRow);
        if (nf.id === cur.id) throw bad('When resizing, instances must change flavor!');
        if (nf.disk < cur.disk)
          throw bad(
            `Resizing to a flavor with a smaller disk is not supported (flavor disk ${nf.disk} GB < ${cur.disk} GB).`,
          );
        await mgr.hostOf(s, action);
        await mgr.claimResize(c, s, nf);
        const fresh = (await store.server(s.id))!;
        const t = now();
        await store.k
          .insertInto('compute_migration')
          .values({
            uuid: crypto.randomUUID(),
            server_id: s.id,
            project_id: s.project_id,
            user_id: s.user_id,
            source_compute: s.host,
            dest_compute: s.host,
            source_node: s.node,
            dest_node: s.node,
            dest_host: null,
            old_flavor_id: cur.id,
            new_flavor_id: nf.id,
            migration_type: 'resize',
            status: 'migrating',
            created_at: t,
            updated_at: t,
          })
          .execute();
        await mgr.cast(c, fresh, {
          action,
          op: 'resize',
          vmStates: ['active', 'stopped'],
          taskState: 'resize_prep',
          task: () => ({
            op: 'resize',
            uuid: s.id,
            requestId: rid,
            from: s.vm_state,
            flavor: specFlavor(nf),
          }),
          capability: 'supportsResize',
        });
        return reply.code(202).send();
      }
      case 'confirmResize': {
        mgr.checkLock(c, s);
        if (s.vm_state !== 'resized')
          throw new ApiError(
            409,
            `Cannot 'confirmResize' instance ${s.id} while it is in vm_state ${s.vm_state}`,
            'conflictingRequest',
          );
        const power = s.power_state === 4 ? 'stopped' : 'active';
        const ok = await store.saveState(
          s.id,
          { vm_state: power, task_state: null, old_flavor: null, updated_at: now() },
          [null],
        );
        if (!ok)
          throw new ApiError(
            409,
            `Cannot 'confirmResize' instance ${s.id} while it is in task_state ${s.task_state}`,
            'conflictingRequest',
          );
        await store.k
          .updateTable('compute_migration')
          .set({ status: 'confirmed', updated_at: now() })
          .where('server_id', '=', s.id)
          .where('status', 'in', ['migrating', 'finished'])
          .execute();
        await store.startAction({
          server_id: s.id,
          action: 'confirmResize',
          request_id: rid,
          user_id: c.userId,
          project_id: c.projectId,
          message: null,
          start_time: now(),
        });
        return reply.code(204).send();
      }
      case 'revertResize': {
        mgr.checkLock(c, s);
        if (s.vm_state !== 'resized')
          throw new ApiError(
            409,
            `Cannot 'revertResize' instance ${s.id} while it is in vm_state ${s.vm_state}`,
            'conflictingRequest',
          );
        const mig = await store.k
          .selectFrom('compute_migration')
          .selectAll()
          .where('server_id', '=', s.id)
          .where('status', '=', 'finished')
          .orderBy('id', 'desc')
          .executeTakeFirst();
        if (mig?.migration_type === 'migration' && mig.source_compute) {
          await mgr.moveServer(c, s, { live: false, revert: { source: mig.source_compute } });
          return reply.code(202).send();
        }
        const old = json<FlavorRow>(s.old_flavor ?? s.flavor, {} as FlavorRow);
        await mgr.cast(c, s, {
          action,
          op: 'resize_revert',
          vmStates: ['resized'],
          taskState: 'resize_reverting',
          task: () => ({ op: 'resize_revert', uuid: s.id, requestId: rid, flavor: specFlavor(old) }),
        });
        await store.k
          .updateTable('compute_migration')
          .set({ status: 'reverted', updated_at: now() })
          .where('server_id', '=', s.id)
          .where('status', 'in', ['migrating', 'finished'])
          .execute();
        return reply.code(202).send();
      }
      case 'rebuild': {
        if (!arg || typeof arg !== 'object')
          throw bad("Invalid input for field/attribute rebuild. 'imageRef' is a required property");
        const allowed = [
          'imageRef',
          'name',
          'adminPass',
          'metadata',
          'preserve_ephemeral',
          'OS-DCF:diskConfig',
          'accessIPv4',
          'accessIPv6',
          'personality',
        ];
        if (mv(req).ge(19)) allowed.push('description');
        if (mv(req).ge(54)) allowed.push('key_name');
        if (mv(req).ge(57)) allowed.push('user_data');
        if (mv(req).ge(63)) allowed.push('trusted_image_certificates');
        noExtra(a, allowed, 'rebuild');
        let imageRef = str(a, 'imageRef', { required: true })!;
        imageRef = imageRef.split('/').pop()!;
        if (!UUID_RE.test(imageRef)) throw bad('Invalid imageRef provided.');
        mgr.checkLock(c, s);
        mgr.checkState(s, action, ['active', 'stopped', 'error']);
        const image = await mgr.images.get(c, imageRef);
        if (!image) throw bad(`Image ${imageRef} could not be found.`);
        if (image.status !== 'active') throw bad(`Image ${imageRef} is not active.`);
        const values: Partial<ServerRow> = { image_ref: image.id, image_name: image.name, progress: 0 };
        const name = str(a, 'name', { min: 1, max: 255, trim: true });
        if (name) values.name = name;
        if (a.metadata !== undefined) values.metadata = JSON.stringify(metadataOf(a.metadata));
        if (a.description !== undefined)
          values.description = str(a, 'description', { max: 255, nullable: true }) ?? null;
        if (a.key_name !== undefined) {
          if (a.key_name === null) Object.assign(values, { key_name: null, key_data: null });
          else {
            const kp = await store.k
              .selectFrom('compute_keypair')
              .selectAll()
              .where('user_id', '=', s.user_id)
              .where('name', '=', String(a.key_name))
              .executeTakeFirst();
            if (!kp) throw bad('Invalid key_name provided.');
            Object.assign(values, { key_name: kp.name, key_data: kp.public_key });
          }
        }
        if (a.user_data !== undefined) values.user_data = a.user_data === null ? null : String(a.user_data);
        const from = s.vm_state === 'stopped' ? 'stopped' : 'active';
        await mgr.cast(c, s, {
          action,
          op: 'rebuild',
          vmStates: ['active', 'stopped', 'error'],
          taskState: 'rebuilding',
          values,
          // The spec is built from the updated row (new image, name, key).
          task: async () => ({
            op: 'rebuild',
            uuid: s.id,
            requestId: rid,
            from,
            spec: await mgr.spec((await store.server(s.id))!, image),
          }),
        });
        const fresh = (await store.server(s.id))!;
        reply.code(202);
        const v = viewCtx(req, mgr, base, c, { project_id: s.project_id });
        const tags = mv(req).ge(26) ? ((await store.tags([s.id])).get(s.id) ?? []) : undefined;
        return {
          server: {
            ...serverView(fresh, v, {
              tags,
              show: true,
              groups: s.server_group_id ? [s.server_group_id] : [],
            }),
            adminPass:
              typeof a.adminPass === 'string' ? a.adminPass : Math.random().toString(36).slice(2, 14),
          },
        };
      }
      case 'createImage': {
        if (!arg || typeof arg !== 'object')
          throw bad("Invalid input for field/attribute createImage. 'name' is a required property");
        noExtra(a, ['name', 'metadata'], 'createImage');
        const name = str(a, 'name', { required: true, min: 1, max: 255 })!;
        const props = metadataOf(a.metadata);
        mgr.checkState(s, action, ['active', 'stopped', 'paused', 'suspended']);
        const host = await mgr.hostOf(s, action);
        const caps = json<{ snapshotFormat?: string }>(host.capabilities, {});
        const img = await mgr.images.createSnapshot(c, {
          name,
          disk_format: caps.snapshotFormat ?? 'raw',
          container_format: 'bare',
          ...(s.image_ref ? { base_image_ref: s.image_ref } : {}),
          image_type: 'snapshot',
          instance_uuid: s.id,
          owner_user_name: undefined,
          ...props,
        });
        mgr.rememberSnapshot(img.id, c);
        await mgr.cast(c, s, {
          action,
          op: 'snapshot',
          vmStates: ['active', 'stopped', 'paused', 'suspended'],
          taskState: 'image_snapshot',
          task: () => ({ op: 'snapshot', uuid: s.id, requestId: rid, imageId: img.id, from: s.vm_state }),
          capability: 'supportsSnapshot',
        });
        reply.code(202);
        if (mv(req).ge(45)) return { image_id: img.id };
        reply.header('location', `${base}/images/${img.id}`);
        return reply.send();
      }
      case 'shelve': {
        mgr.checkLock(c, s);
        mgr.checkState(s, action, ['active', 'stopped', 'paused', 'suspended']);
        // Nova snapshots a shelved server into "<name>-shelved" and boots from it at unshelve.
        let imageId: string | undefined;
        if (mgr.images.available) {
          const host = await mgr.hostOf(s, action);
          const caps = json<{ snapshotFormat?: string }>(host.capabilities, {});
          const img = await mgr.images.createSnapshot(c, {
            name: `${s.name}-shelved`,
            disk_format: caps.snapshotFormat ?? 'raw',
            container_format: 'bare',
            ...(s.image_ref ? { base_image_ref: s.image_ref } : {}),
            image_type: 'snapshot',
            instance_uuid: s.id,
          });
          imageId = img.id;
          mgr.rememberSnapshot(img.id, c);
        }
        await mgr.cast(c, s, {
          action,
          op: 'shelve',
          vmStates: ['active', 'stopped', 'paused', 'suspended'],
          taskState: 'shelving',
          values: { shelved_image_id: imageId ?? null },
          task: () => ({ op: 'shelve', uuid: s.id, requestId: rid, imageId }),
        });
        return reply.code(202).send();
      }
      case 'shelveOffload': {
        mgr.checkState(s, action, ['shelved']);
        return reply.code(202).send();
      }
      case 'unshelve': {
        if (arg !== null && arg !== undefined && mv(req).ge(77))
          noExtra(a, ['availability_zone'], 'unshelve');
        mgr.checkLock(c, s);
        mgr.checkState(s, action, ['shelved', 'shelved_offloaded']);
        // 2.77: unshelve into another availability zone.
        const az =
          mv(req).ge(77) && arg && typeof arg === 'object'
            ? str(a, 'availability_zone', { min: 1, max: 255 })
            : undefined;
        if (az && ![...(await mgr.hostZones()).values()].includes(az))
          throw bad('The requested availability zone is not available');
        const ok = await store.saveState(
          s.id,
          {
            task_state: 'scheduling',
            host: null,
            node: null,
            updated_at: now(),
            ...(az ? { requested_az: az } : {}),
          },
          [null],
        );
        if (!ok)
          throw new ApiError(
            409,
            `Cannot 'unshelve' instance ${s.id} while it is in task_state ${s.task_state}`,
            'conflictingRequest',
          );
        await store.startAction(
          {
            server_id: s.id,
            action: 'unshelve',
            request_id: rid,
            user_id: c.userId,
            project_id: c.projectId,
            message: null,
            start_time: now(),
          },
          'compute_unshelve_instance',
        );
        void mgr.track(
          (async () => {
            const fresh = (await store.server(s.id))!;
            const host = await mgr.schedule(fresh);
            if (!host) {
              await store.saveState(s.id, { vm_state: 'shelved_offloaded', task_state: null }, [null]);
              return;
            }
            await store.saveState(s.id, { task_state: 'unshelving' }, ['networking']);
            mgr.send(host, {
              op: 'unshelve',
              uuid: s.id,
              requestId: rid,
              // Boot from the shelved snapshot when there is one (the server keeps showing its image).
              spec: await mgr.spec({ ...fresh, host, image_ref: fresh.shelved_image_id ?? fresh.image_ref }),
            });
          })(),
        );
        return reply.code(202).send();
      }
      case 'os-getConsoleOutput': {
        const raw = a.length;
        let lines: number | undefined;
        if (raw !== undefined && raw !== null) {
          const n = typeof raw === 'string' && /^-?\d+$/.test(raw) ? Number(raw) : raw;
          if (typeof n !== 'number' || !Number.isInteger(n) || n < -1)
            throw bad(`Invalid input for field/attribute length. Value: ${raw}. is not of type 'integer'`);
          lines = n === -1 ? undefined : n;
        }
        const host = await mgr.hostOf(s, action);
        if (s.vm_state === 'building' || !s.host)
          throw new ApiError(409, `Instance ${s.id} is not ready`, 'conflictingRequest');
        const r = await mgr.call(host.name, {
          op: 'console_output',
          uuid: s.id,
          lines,
          replyTo: mgr.replySubject(),
        });
        if (!r.ok)
          throw new ApiError(
            r.code === 'InstanceNotFound' ? 409 : 500,
            r.code === 'InstanceNotFound' ? `Instance ${s.id} is not ready` : 'Unable to get console output',
            'conflictingRequest',
          );
        reply.code(200);
        return { output: r.output };
      }
      case 'os-getVNCConsole':
      case 'os-getSPICEConsole':
      case 'os-getSerialConsole': {
        const type = str(a, 'type', { required: true })!;
        const protocol =
          action === 'os-getVNCConsole' ? 'vnc' : action === 'os-getSPICEConsole' ? 'spice' : 'serial';
        const valid = { vnc: ['novnc', 'xvpvnc'], spice: ['spice-html5'], serial: ['serial'] }[protocol];
        if (!valid.includes(type))
          throw bad(
            `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ${JSON.stringify(valid)}`,
          );
        const con = await consoleUrl(c, s, protocol, type);
        reply.code(200);
        return { console: { type, url: con.url } };
      }
      case 'os-resetState': {
        const state = str(a, 'state', { required: true })!;
        if (!['active', 'error'].includes(state))
          throw bad(
            `Invalid input for field/attribute state. Value: ${state}. '${state}' is not one of ['active', 'error']`,
          );
        await store.k
          .updateTable('compute_server')
          .set({ vm_state: state, task_state: null, updated_at: now() })
          .where('id', '=', s.id)
          .execute();
        await store.startAction({
          server_id: s.id,
          action: 'resetState',
          request_id: rid,
          user_id: c.userId,
          project_id: c.projectId,
          message: null,
          start_time: now(),
        });
        return reply.code(202).send();
      }
      case 'injectNetworkInfo':
        return reply.code(202).send();
      case 'migrate':
      case 'os-migrateLive': {
        const live = action === 'os-migrateLive';
        if (live) {
          if (!arg || typeof arg !== 'object')
            throw bad("Invalid input for field/attribute os-migrateLive. 'host' is a required property");
          noExtra(
            a,
            mv(req).lt(25)
              ? ['host', 'block_migration', 'disk_over_commit']
              : mv(req).lt(30)
                ? ['host', 'block_migration']
                : ['host', 'block_migration', 'force'],
            'os-migrateLive',
          );
          if (a.block_migration === undefined)
            throw bad(
              "Invalid input for field/attribute os-migrateLive. 'block_migration' is a required property",
            );
        } else if (arg !== null && arg !== undefined) {
          if (mv(req).lt(56)) throw bad('Invalid input for field/attribute migrate. Value: not null');
          noExtra(a, ['host'], 'migrate');
        }
        const host =
          a.host === null || a.host === undefined ? undefined : str(a, 'host', { min: 1, max: 255 });
        mgr.checkLock(c, s);
        mgr.checkState(s, action, live ? ['active', 'paused'] : ['active', 'stopped']);
        if (host && !(await store.host(host)))
          throw new ApiError(400, `Compute host ${host} could not be found.`, 'badRequest');
        if (host && host === s.host) throw bad(`The target host can't be the same one.`);
        await mgr.moveServer(c, s, { live, host });
        return reply.code(202).send();
      }
      case 'forceDelete': {
        await mgr.deleteServer(c, s, true);
        return reply.code(202).send();
      }
      case 'restore':
        throw new ApiError(
          409,
          `Cannot 'restore' instance ${s.id} while it is in vm_state ${s.vm_state}`,
          'conflictingRequest',
        );
      case 'addSecurityGroup':
      case 'removeSecurityGroup': {
        const name = str(a, 'name', { required: true, min: 1 })!;
        const sgs = json<string[]>(s.security_groups, []);
        if (action === 'addSecurityGroup') {
          if (sgs.includes(name))
            throw bad(`Security group ${name} is already associated with the instance ${s.id}`);
          sgs.push(name);
        } else {
          if (!sgs.includes(name))
            throw bad(`Security group ${name} not associated with the instance ${s.id}`);
          sgs.splice(sgs.indexOf(name), 1);
        }
        await store.k
          .updateTable('compute_server')
          .set({ security_groups: JSON.stringify(sgs), updated_at: now() })
          .where('id', '=', s.id)
          .execute();
        return reply.code(202).send();
      }
    }
    throw bad(`There is no such action: ${action}`);
  }

  async function consoleUrl(
    c: Caller,
    s: ServerRow,
    protocol: ConsoleUrl['protocol'],
    type: string,
  ): Promise<ConsoleUrl> {
    void c;
    if (s.vm_state !== 'active' && s.vm_state !== 'rescued')
      throw new ApiError(409, `Instance ${s.id} is not ready`, 'conflictingRequest');
    const host = await mgr.hostOf(s, 'remote-consoles');
    const caps = json<{ consoleProtocols?: string[] }>(host.capabilities, {});
    if (caps.consoleProtocols && !caps.consoleProtocols.includes(protocol))
      throw bad(`Unavailable console type ${type}.`);
    const r = await mgr.call(host.name, {
      op: 'console_url',
      uuid: s.id,
      protocol,
      type,
      replyTo: mgr.replySubject(),
    });
    if (!r.ok || !r.console)
      throw new ApiError(
        r.ok ? 500 : r.code === 'Unsupported' ? 400 : 409,
        r.ok
          ? 'no console'
          : r.code === 'Unsupported'
            ? `Unavailable console type ${type}.`
            : `Instance ${s.id} is not ready`,
        'badRequest',
      );
    return r.console;
  }

  // 2.6: POST /servers/{id}/remote-consoles
  app.post(
    '/v2.1/servers/:id/remote-consoles',
    { config: { policy: 'os_compute_api:os-remote-consoles' } },
    async (req) => {
      requireMv(req, 6);
      const c = callerOf(req, mgr);
      const s = await mgr.getServer(c, (req.params as P).id!, 'os_compute_api:os-remote-consoles');
      const b = req.body as Obj | undefined;
      const rc = b?.remote_console as Obj | undefined;
      if (!rc || typeof rc !== 'object')
        throw bad(
          "Invalid input for field/attribute remote_console. 'remote_console' is a required property",
        );
      const protocol = str(rc, 'protocol', { required: true })!;
      const type = str(rc, 'type', { required: true })!;
      const protocols = ['vnc', 'spice', 'rdp', 'serial', ...(mv(req).ge(8) ? ['mks'] : [])];
      if (!protocols.includes(protocol))
        throw bad(
          `Invalid input for field/attribute protocol. Value: ${protocol}. '${protocol}' is not one of ${JSON.stringify(protocols)}`,
        );
      const types: Record<string, string[]> = {
        vnc: ['novnc', 'xvpvnc'],
        spice: ['spice-html5'],
        rdp: ['rdp-html5'],
        serial: ['serial'],
        mks: ['webmks'],
      };
      if (!types[protocol]!.includes(type))
        throw bad(
          `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ${JSON.stringify(Object.values(types).flat())}`,
        );
      const con = await consoleUrl(c, s, protocol as ConsoleUrl['protocol'], type);
      return { remote_console: { protocol, type, url: con.url } };
    },
  );

  void boolOf;
  void intOf;
}

function specFlavor(f: FlavorRow) {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    memoryMb: f.ram,
    rootGb: f.disk,
    ephemeralGb: f.ephemeral,
    swapMb: f.swap,
    extraSpecs: json<Record<string, string>>(f.extra_specs, {}),
  };
}
