/**
 * The request limits every service shares (numbers documented in the README, "Limits"). They follow the real
 * services where those have one: oslo.middleware's `max_request_body_size` (114,688 bytes) bounds JSON bodies
 * in Nova, Neutron, Keystone, Glance and Cinder alike.
 */
export const LIMITS = {
  /** Largest JSON body, bytes (oslo.middleware sizelimit default); larger ones are a 413 before reading. */
  jsonBody: 114_688,
  /** Deepest JSON nesting accepted (objects and arrays). */
  jsonDepth: 64,
  /** Most object keys plus array items in one JSON body. */
  jsonItems: 20_000,
  /** A JSON body must arrive completely within this many ms of the request's start. */
  jsonBodyMs: 30_000,
  /** A streamed body (image data, later objects and volumes) must bring this many bytes … */
  streamMinBytes: 1024,
  /** … in every window of this many ms, until it ends. */
  streamWindowMs: 30_000,
  /** Headers must arrive within this many ms (Node's headersTimeout). */
  headersMs: 30_000,
  /** A keep-alive connection idle for this long is closed. */
  keepAliveMs: 65_000,
  /** Open connections per process; more are refused at accept. */
  maxConnections: 2_000,
  /** Longest text of a client's value echoed back in an error message. */
  echo: 200,
} as const;

export type Limits = { -readonly [K in keyof typeof LIMITS]: number };
