/**
 * The one `Caller` every service's managers take: who is calling, as policy checks and ownership need it.
 * Built once per request from the validated token (`callerOf`), or for service-to-service calls through a
 * facade (`serviceCaller`).
 */
import type { AuthContext } from './context.js';
import type { Credentials, PolicyEngine } from './policy.js';
import { ApiError } from '../errors.js';

export interface Caller {
  userId: string;
  /** The project the token is scoped to; '' when it is not project-scoped. */
  projectId: string;
  /** Role names (effective, implied roles included). */
  roles: string[];
  /** `context_is_admin` holds for this caller. */
  isAdmin: boolean;
  /** oslo.context policy values, for the policy engine. */
  creds: Credentials;
  /** The request id (`x-openstack-request-id`), for logs and instance actions. */
  requestId?: string;
}

/** The caller of a request, from its validated token (401 without one). */
export function callerOf(auth: AuthContext | undefined, policy: PolicyEngine, requestId?: string): Caller {
  if (!auth) throw new ApiError(401, 'The request you have made requires authentication.');
  return {
    userId: auth.userId,
    projectId: auth.projectId ?? '',
    roles: auth.roles.map((r) => r.name),
    isAdmin: policy.check('context_is_admin', {}, auth.creds),
    creds: auth.creds,
    requestId,
  };
}

/** A caller with every right, project-scoped as the policies require (facades between services). */
export function serviceCaller(projectId = 'stackbox-service', userId = 'stackbox-service'): Caller {
  const roles = ['admin', 'member', 'reader', 'service'];
  return {
    userId,
    projectId,
    roles,
    isAdmin: true,
    creds: { roles, project_id: projectId, user_id: userId } as unknown as Credentials,
  };
}
