/**
 * The stored and published form of an event (docs/event-store.md, docs/kafka.md). JSON-safe: ISO strings, integer yen.
 */
/** EmailClaim and CategoryNameClaim are uniqueness locks: one tiny stream per email or category name. */
export type AggregateType =
  'User' | 'EmailClaim' | 'Category' | 'CategoryNameClaim' | 'Product' | 'Inventory' | 'Cart' | 'Order' | 'Shipment';

export interface EventMetadata {
  correlation_id?: string;
  causation_id?: string;
  user_id?: string;
}

export interface EventEnvelope<D = Record<string, unknown>> {
  event_id: string;
  aggregate_id: string;
  aggregate_type: AggregateType;
  event_type: string;
  /** 1-based position in the aggregate's stream. */
  version: number;
  data: D;
  metadata: EventMetadata;
  /** ISO-8601 UTC. */
  created_at: string;
  schema_version: number;
}
