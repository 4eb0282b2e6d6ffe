/** Neutron's exceptions (neutron_lib.exceptions and the extensions' own), as ApiErrors with Neutron's type names. */
import { ApiError } from '../../core/errors.js';

const e = (status: number, kind: string) => (message: string) => new ApiError(status, message, kind);

/** Neutron's fault body. */
export const neutronFault = (err: ApiError) => ({
  NeutronError: { type: err.kind ?? defaultType(err.status), message: err.message, detail: '' },
});

function defaultType(status: number): string {
  switch (status) {
    case 400:
      return 'HTTPBadRequest';
    case 401:
      return 'HTTPUnauthorized';
    case 403:
      return 'HTTPForbidden';
    case 404:
      return 'HTTPNotFound';
    case 405:
      return 'HTTPMethodNotAllowed';
    case 409:
      return 'HTTPConflict';
    case 412:
      return 'HTTPPreconditionFailed';
    case 413:
      return 'HTTPRequestEntityTooLarge';
    case 415:
      return 'HTTPUnsupportedMediaType';
    default:
      return 'HTTPInternalServerError';
  }
}

export const badRequest = (msg: string) => new ApiError(400, msg, 'HTTPBadRequest');
/** neutron_lib InvalidInput */
export const invalidInput = (msg: string) =>
  new ApiError(400, `Invalid input for operation: ${msg}.`, 'InvalidInput');
/** Attribute validation failure as the API layer reports it. */
export const invalidAttr = (attr: string, reason: string) =>
  new ApiError(400, `Invalid input for ${attr}. Reason: ${reason}.`, 'HTTPBadRequest');
export const policyDenied = (rule: string) =>
  new ApiError(403, `${rule} is disallowed by policy`, 'PolicyNotAuthorized');

export const NotFound = {
  network: (id: string) => e(404, 'NetworkNotFound')(`Network ${id} could not be found.`),
  subnet: (id: string) => e(404, 'SubnetNotFound')(`Subnet ${id} could not be found.`),
  port: (id: string) => e(404, 'PortNotFound')(`Port ${id} could not be found.`),
  router: (id: string) => e(404, 'RouterNotFound')(`Router ${id} could not be found`),
  floatingip: (id: string) => e(404, 'FloatingIPNotFound')(`Floating IP ${id} could not be found`),
  security_group: (id: string) => e(404, 'SecurityGroupNotFound')(`Security group ${id} does not exist`),
  security_group_rule: (id: string) =>
    e(404, 'SecurityGroupRuleNotFound')(`Security group rule ${id} does not exist`),
  rbac_policy: (id: string) =>
    e(404, 'RbacPolicyNotFound')(`RBAC policy of type network with ID ${id} not found`),
};

export const conflict = (kind: string, msg: string) => new ApiError(409, msg, kind);
