import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';

/**
 * A projection that keeps rows of one stream family (products, carts, …). The runner calls `apply` only for
 * event types in `eventTypes`, once per event, in version order, inside the batch transaction and while holding
 * the stream's lock — so an apply never needs to guard against duplicates or concurrency itself (the version
 * guards in its SQL are a second line of defence, not the mechanism).
 */
export interface StreamProjection {
  readonly name: string;
  readonly eventTypes: readonly string[];
  apply(db: Queryable, event: EventEnvelope): Promise<void>;
}
