/** rebuild (nova/api/openstack/compute/servers.py _action_rebuild). */
import type { ServerRow } from '../../rows.js';
import { bad, metadataOf, mv, noExtra, str, UUID_RE } from '../common.js';
import { renderServer } from '../server-render.js';
import type { ServerAction } from './types.js';

export const rebuildActions: Record<string, ServerAction> = {
  rebuild: {
    rule: 'os_compute_api:servers:rebuild',
    async handle(x) {
      const { arg, a, mgr, c, s, action, req } = x;
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
          const kp = await mgr.store.keypair(s.user_id, String(a.key_name));
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
          requestId: x.rid,
          from,
          spec: await mgr.spec((await mgr.store.server(s.id))!, image),
        }),
      });
      const fresh = (await mgr.store.server(s.id))!;
      x.reply.code(202);
      return {
        server: {
          ...(await renderServer(
            req,
            mgr,
            x.base,
            { ...fresh, server_group_id: s.server_group_id },
            true,
            false,
          )),
          adminPass: typeof a.adminPass === 'string' ? a.adminPass : Math.random().toString(36).slice(2, 14),
        },
      };
    },
  },
};
