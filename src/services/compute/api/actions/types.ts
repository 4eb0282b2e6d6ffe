/** The shape of a server action handler (POST /servers/{id}/action, one key naming the action). */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Caller } from '../../../../core/auth/caller.js';
import type { ComputeManager } from '../../manager/index.js';
import type { ServerRow } from '../../rows.js';
import type { Obj } from '../common.js';

export interface ActionCtx {
  req: FastifyRequest;
  reply: FastifyReply;
  mgr: ComputeManager;
  base: string;
  c: Caller;
  s: ServerRow;
  /** The action's name (the body's key). */
  action: string;
  /** The action's value as sent. */
  arg: unknown;
  /** The action's value when it is an object, else {}. */
  a: Obj;
  /** The request id the tasks carry. */
  rid: string;
}

export interface ServerAction {
  /** The policy rule (nova/policies) the action is checked against. */
  rule: string;
  handle(x: ActionCtx): Promise<unknown>;
}

/** 202 with no body. */
export const accepted = (x: ActionCtx) => x.reply.code(202).send();

/** An action that only casts a task with no arguments (pause, start, …). */
export function simpleAction(
  rule: string,
  op: string,
  vmStates: string[] | null,
  taskState: string,
  capability?: string,
): ServerAction {
  return {
    rule,
    async handle(x) {
      await x.mgr.cast(x.c, x.s, {
        action: x.action,
        op,
        vmStates,
        taskState,
        task: () => ({ op: op as 'pause', uuid: x.s.id, requestId: x.rid }),
        capability,
      });
      return accepted(x);
    },
  };
}
