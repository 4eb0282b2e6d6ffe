/**
 * os-getConsoleOutput (console_output.py), os-getVNCConsole / os-getSPICEConsole / os-getSerialConsole and,
 * from 2.6, POST /servers/{id}/remote-consoles (remote_consoles.py).
 */
import type { FastifyInstance } from 'fastify';
import type { Caller } from '../../../../core/auth/caller.js';
import { json } from '../../../../core/db/index.js';
import { ApiError } from '../../../../core/errors.js';
import type { ConsoleUrl } from '../../../../agent/compute/driver.js';
import type { ComputeManager } from '../../manager/index.js';
import type { ServerRow } from '../../rows.js';
import { bad, callerOf, mv, requireMv, str, type Obj, type P } from '../common.js';
import type { ActionCtx, ServerAction } from './types.js';

/** A console URL from the server's host agent. */
async function consoleUrl(
  mgr: ComputeManager,
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

/** The legacy per-protocol console actions. */
async function legacyConsole(x: ActionCtx) {
  const type = str(x.a, 'type', { required: true })!;
  const protocol =
    x.action === 'os-getVNCConsole' ? 'vnc' : x.action === 'os-getSPICEConsole' ? 'spice' : 'serial';
  const valid = { vnc: ['novnc', 'xvpvnc'], spice: ['spice-html5'], serial: ['serial'] }[protocol];
  if (!valid.includes(type))
    throw bad(
      `Invalid input for field/attribute type. Value: ${type}. '${type}' is not one of ${JSON.stringify(valid)}`,
    );
  const con = await consoleUrl(x.mgr, x.c, x.s, protocol, type);
  x.reply.code(200);
  return { console: { type, url: con.url } };
}

export const consoleActions: Record<string, ServerAction> = {
  'os-getConsoleOutput': {
    rule: 'os_compute_api:os-console-output',
    async handle(x) {
      const { a, mgr, s, action } = x;
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
      x.reply.code(200);
      return { output: r.output };
    },
  },
  'os-getVNCConsole': { rule: 'os_compute_api:os-remote-consoles', handle: legacyConsole },
  'os-getSPICEConsole': { rule: 'os_compute_api:os-remote-consoles', handle: legacyConsole },
  'os-getSerialConsole': { rule: 'os_compute_api:os-remote-consoles', handle: legacyConsole },
};

/** 2.6: POST /servers/{id}/remote-consoles. */
export function remoteConsoleRoutes(app: FastifyInstance, mgr: ComputeManager) {
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
      const con = await consoleUrl(mgr, c, s, protocol as ConsoleUrl['protocol'], type);
      return { remote_console: { protocol, type, url: con.url } };
    },
  );
}
