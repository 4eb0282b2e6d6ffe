/**
 * One error type for every service. Each service renders it in its own fault format
 * (each service passes its formatter to setupServiceScope in core/http/app.ts): Keystone `{"error": {...}}`, Nova `{"itemNotFound": {...}}`, Neutron `{"NeutronError": {...}}`.
 */
/** Longest error message sent to a client. */
export const MAX_MESSAGE = 1024;

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
    /** Service-specific error type, e.g. Neutron's `NetworkNotFound` or Nova's fault key. */
    public readonly kind?: string,
    public readonly headers: Record<string, string> = {},
  ) {
    // No error repeats unbounded input: a message is cut at MAX_MESSAGE characters, whatever put it together.
    super(message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message);
  }
}

export const badRequest = (msg: string, kind?: string) => new ApiError(400, msg, kind);
export const unauthorized = (msg = 'The request you have made requires authentication.', kind?: string) =>
  new ApiError(401, msg, kind);
export const forbidden = (msg = 'You are not authorized to perform the requested action.', kind?: string) =>
  new ApiError(403, msg, kind);
export const notFound = (msg: string, kind?: string) => new ApiError(404, msg, kind);
export const conflict = (msg: string, kind?: string) => new ApiError(409, msg, kind);
