/**
 * JSON bodies, parsed safely for every service: bounded depth and size (iteratively checked, so no input can
 * overflow the stack later while it is validated or rendered), and no `__proto__` / `constructor.prototype`
 * keys (prototype poisoning), which are refused as bad input the way Fastify's secure parser refuses them.
 */
import { ApiError } from '../errors.js';
import { LIMITS } from './limits.js';

/** Parse a request body; an empty body is `undefined`. Throws ApiError 400 for anything unacceptable. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'Malformed request body: the body is not valid JSON.', 'MalformedRequestBody');
  }
  checkJson(value);
  return value;
}

/** Check a parsed JSON value's shape limits (depth, item count, forbidden keys). */
export function checkJson(value: unknown): void {
  const stack: [unknown, number][] = [[value, 1]];
  let items = 0;
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > LIMITS.jsonDepth)
      throw new ApiError(400, `Malformed request body: JSON nested deeper than ${LIMITS.jsonDepth} levels.`);
    if (Array.isArray(v)) {
      items += v.length;
      for (const x of v) stack.push([x, depth + 1]);
    } else {
      const keys = Object.keys(v);
      items += keys.length;
      if (Object.prototype.hasOwnProperty.call(v, '__proto__'))
        throw new ApiError(400, 'Malformed request body: the key "__proto__" is not allowed.');
      for (const k of keys) {
        const x = (v as Record<string, unknown>)[k];
        if (k === 'constructor' && x !== null && typeof x === 'object' && 'prototype' in x)
          throw new ApiError(400, 'Malformed request body: the key "constructor.prototype" is not allowed.');
        stack.push([x, depth + 1]);
      }
    }
    if (items > LIMITS.jsonItems)
      throw new ApiError(400, `Malformed request body: more than ${LIMITS.jsonItems} JSON items.`);
  }
}

/** A client's value as it may appear inside an error message: bounded, so errors never echo huge input. */
export function echo(value: unknown): string {
  const s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  return s.length > LIMITS.echo ? `${s.slice(0, LIMITS.echo)}…` : s;
}
