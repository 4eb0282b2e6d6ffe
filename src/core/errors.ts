/**
 * One error type for every service. Each service renders it in its own fault format
 * (each service passes its formatter to setupServiceScope in core/http/app.ts): Keystone `{"error": {...}}`, Nova `{"itemNotFound": {...}}`, Neutron `{"NeutronError": {...}}`.
 */
export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    /** Service-specific error type, e.g. Neutron's `NetworkNotFound` or Nova's fault key. */
    public readonly kind?: string,
    public readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const badRequest = (msg: string, kind?: string) => new ApiError(400, msg, kind);
export const unauthorized = (msg = 'The request you have made requires authentication.', kind?: string) =>
  new ApiError(401, msg, kind);
export const forbidden = (msg = 'You are not authorized to perform the requested action.', kind?: string) =>
  new ApiError(403, msg, kind);
export const notFound = (msg: string, kind?: string) => new ApiError(404, msg, kind);
export const conflict = (msg: string, kind?: string) => new ApiError(409, msg, kind);
