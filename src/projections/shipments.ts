import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'shipments';
export const eventTypes = ['ShipmentInitiated', 'ShipmentRequested', 'ShipmentCompleted', 'ShipmentFailed', 'ShipmentCancelled'] as const;

/** The status after each event (null: unchanged; the hand-over to a carrier keeps the shipment initiated). */
const STATUS: Record<string, string | null> = {
  ShipmentInitiated: 'initiated',
  ShipmentRequested: null,
  ShipmentCompleted: 'completed',
  ShipmentFailed: 'failed',
  ShipmentCancelled: 'cancelled',
};

/** The order a shipment belongs to: data.order_id, else the `shipment-<order_id>` stream naming rule. */
export const shipmentOrderId = (event: EventEnvelope): string =>
  fieldsOf(event).optStr('order_id') ?? event.aggregate_id.replace(/^shipment-/, '');

/**
 * read_shipments, one row per Shipment stream. One upsert serves every event: each event fills its own
 * columns and keeps the others, so the row is right even if a process manager emits an outcome as the
 * stream's first event. Timestamps default to the event's created_at when the data has none.
 */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  if (!Object.hasOwn(STATUS, event.event_type)) return;
  const status = STATUS[event.event_type] ?? null;
  const f = fieldsOf(event);
  const at = (key: string, type: string) => (event.event_type === type ? (f.optTime(key) ?? event.created_at) : null);
  await db.query(
    `INSERT INTO read_shipments
       (shipment_id, order_id, status, tracking_number, reason, initiated_at, completed_at, failed_at, updated_at, version,
        carrier, carrier_reference, requested_at, dispatched_by, cancelled_at)
     VALUES ($1, $2, COALESCE($3::text, 'initiated'), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (shipment_id) DO UPDATE SET
       status            = COALESCE($3::text, read_shipments.status),
       tracking_number   = COALESCE(EXCLUDED.tracking_number, read_shipments.tracking_number),
       reason            = COALESCE(EXCLUDED.reason, read_shipments.reason),
       initiated_at      = COALESCE(read_shipments.initiated_at, EXCLUDED.initiated_at),
       completed_at      = COALESCE(EXCLUDED.completed_at, read_shipments.completed_at),
       failed_at         = COALESCE(EXCLUDED.failed_at, read_shipments.failed_at),
       carrier           = COALESCE(EXCLUDED.carrier, read_shipments.carrier),
       carrier_reference = COALESCE(EXCLUDED.carrier_reference, read_shipments.carrier_reference),
       requested_at      = COALESCE(EXCLUDED.requested_at, read_shipments.requested_at),
       dispatched_by     = COALESCE(EXCLUDED.dispatched_by, read_shipments.dispatched_by),
       cancelled_at      = COALESCE(EXCLUDED.cancelled_at, read_shipments.cancelled_at),
       updated_at        = EXCLUDED.updated_at,
       version           = EXCLUDED.version
     WHERE read_shipments.version < EXCLUDED.version`,
    [
      event.aggregate_id,
      shipmentOrderId(event),
      status,
      f.optStr('tracking_number'),
      f.optStr('reason'),
      at('initiated_at', 'ShipmentInitiated'),
      at('completed_at', 'ShipmentCompleted'),
      at('failed_at', 'ShipmentFailed'),
      event.created_at,
      event.version,
      f.optStr('carrier'),
      f.optStr('carrier_reference'),
      at('requested_at', 'ShipmentRequested'),
      f.optStr('dispatched_by'),
      at('cancelled_at', 'ShipmentCancelled'),
    ],
  );
}
