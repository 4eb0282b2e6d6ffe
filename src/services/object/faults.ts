/**
 * Swift's error bodies (swift/common/swob.py): a status with no explanation of its own gets swob's HTML page,
 * `<html><h1>Not Found</h1><p>The resource could not be found.</p></html>` (text/html); an error with a
 * message of its own (constraint checks: "Metadata name too long: …") is that message as text/plain.
 */
import { ApiError } from '../../core/errors.js';

export const REASONS: Record<number, [string, string]> = {
  202: ['Accepted', 'The request is accepted for processing.'],
  400: [
    'Bad Request',
    'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  ],
  401: [
    'Unauthorized',
    'This server could not verify that you are authorized to access the document you requested.',
  ],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  408: ['Request Timeout', 'The server has waited too long for the request to be sent by the client.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Content-Length header required.'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  414: ['Request URI Too Long', 'The request URI was too long for this server.'],
  415: ['Unsupported Media Type', 'The request media type is not supported by this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  429: [
    'Too Many Requests',
    'The server is incapable of performing the requested operation due to too many requests.',
  ],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: [
    'Internal Error',
    'The server has either erred or is incapable of performing the requested operation.',
  ],
  501: ['Not Implemented', 'The requested method is not implemented by this server.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
};

/** The kind marking an error whose message is the whole (text/plain) body, as swob's `body=`. */
export const PLAIN = 'swift-plain';

/** An error answered with swob's default HTML page for its status. */
export const swiftError = (status: number, headers: Record<string, string> = {}) =>
  new ApiError(status, REASONS[status]?.[1] ?? '', undefined, headers);

/** An error whose body is the given text (text/plain), as Swift's constraint checks answer. */
export const swiftText = (status: number, text: string, headers: Record<string, string> = {}) =>
  new ApiError(status, text, PLAIN, headers);

/** swob's page for a status (also used for 201/202 bodies). */
export function htmlPage(status: number): string {
  const r = REASONS[status];
  return r ? `<html><h1>${r[0]}</h1><p>${r[1]}</p></html>` : '';
}

/** Body and content type of an ApiError in Swift's format. */
export function renderFault(e: ApiError): { body: string; type: string } {
  if (e.kind === PLAIN) return { body: e.message, type: 'text/plain; charset=UTF-8' };
  // Errors raised by core (408 slow body, 413 …) carry core's text; swob would answer its own page.
  return { body: htmlPage(e.status) || e.message, type: 'text/html; charset=UTF-8' };
}
