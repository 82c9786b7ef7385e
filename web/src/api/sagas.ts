/**
 * The saga log made readable: what a saga came to, what it compensated, and where the events it wrote live.
 * Pure (no React, no DOM), so the unit tests run it under Node (test/unit/spa-sagas.test.ts).
 */
import type { Saga, SagaStep, Stream, StoredEvent } from './types.ts';

// Stream ids as the api names them (src/contexts/shipping/events.ts, src/contexts/inventory/events.ts).
export const shipmentStreamId = (orderId: string): string => `shipment-${orderId}`;
export const inventoryStreamId = (productId: string): string => `inventory-${productId}`;

/** Outcomes a saga records in its `completed` step (`detail.outcome`), plus `expired` for reservation expiry. */
export type SagaOutcome = 'shipped' | 'shipment_failed' | 'cancelled' | 'expired';

export interface SagaSummary {
  /** What it came to; null while it runs (or for an outcome this SPA does not know yet). */
  outcome: SagaOutcome | null;
  /** Whether it undid what it had done (refund, stock returned, shipment cancelled). */
  compensated: boolean;
  refunded_amount: number | null;
  /** The carrier's reason for a failed shipment. */
  failure_reason: string | null;
  tracking_number: string | null;
  dispatched_by: string | null;
  /** Events the saga's steps wrote or were made of, over all its steps. */
  event_count: number;
}

const stepOf = (saga: Saga, name: string): SagaStep | undefined => saga.steps.find((s) => s.step === name);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const OUTCOMES: readonly string[] = ['shipped', 'shipment_failed', 'cancelled', 'expired'];

export function summarizeSaga(saga: Saga): SagaSummary {
  const completed = stepOf(saga, 'completed');
  const compensated = stepOf(saga, 'compensated');
  const recorded = str(completed?.detail.outcome);
  const outcome = recorded && OUTCOMES.includes(recorded) ? (recorded as SagaOutcome) : stepOf(saga, 'expired') ? 'expired' : null;
  const refunded = compensated?.detail.refunded_amount;
  return {
    outcome,
    compensated: saga.status === 'compensated' || !!compensated,
    refunded_amount: typeof refunded === 'number' ? refunded : null,
    failure_reason: str(stepOf(saga, 'failed')?.detail.reason) ?? str(compensated?.detail.reason),
    tracking_number: str(stepOf(saga, 'dispatched')?.detail.tracking_number),
    dispatched_by: str(stepOf(saga, 'dispatched')?.detail.dispatched_by),
    event_count: new Set(saga.steps.flatMap((s) => s.event_ids)).size,
  };
}

/**
 * The streams whose events a saga of this order may have written: the order, its shipment, and the inventory of
 * each product it holds (stock returned on compensation, released on expiry).
 */
export function sagaStreams(orderId: string, productIds: readonly string[]): string[] {
  return [orderId, shipmentStreamId(orderId), ...new Set(productIds.map(inventoryStreamId))];
}

/** Where an event lives: enough to name it and link to its stream at its version. */
export type EventRef = Pick<StoredEvent, 'event_id' | 'event_type' | 'aggregate_id' | 'aggregate_type' | 'version' | 'created_at'>;

export function indexEvents(streams: ReadonlyArray<Pick<Stream, 'events'> | undefined>): Map<string, EventRef> {
  const index = new Map<string, EventRef>();
  for (const stream of streams) {
    for (const e of stream?.events ?? []) {
      index.set(e.event_id, {
        event_id: e.event_id,
        event_type: e.event_type,
        aggregate_id: e.aggregate_id,
        aggregate_type: e.aggregate_type,
        version: e.version,
        created_at: e.created_at,
      });
    }
  }
  return index;
}

/** The SPA route of an event: its stream, travelled to the version it made. */
export const eventHref = (ref: Pick<EventRef, 'aggregate_id' | 'version'>): string =>
  `/events/${encodeURIComponent(ref.aggregate_id)}?version=${ref.version}`;
