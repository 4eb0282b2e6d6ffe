/**
 * The only code that touches the compute tables, one area per file, each layer adding its tables' queries:
 * base (transactions, sequences) → usage (quotas, claims) → hosts (and aggregates) → flavors (and key pairs)
 * → servers (and tags) → actions (instance actions) → moves (migrations, server groups).
 */
import { MoveStore } from './moves.js';

export type { Q, Trx } from './base.js';
export type * from '../rows.js';

export class ComputeStore extends MoveStore {}
