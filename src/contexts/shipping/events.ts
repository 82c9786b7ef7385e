import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { createdAt, defineEvent, f, fillMissing } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';

/**
 * One shipment per order, keyed by the order id: the fulfilment saga finds it without a lookup, and a
 * redelivered OrderPaid cannot start a second shipment (the stream's version 1 already exists).
 */
export const shipmentStreamId = (orderId: string): string => `shipment-${orderId}`;

export const SHIPMENT_FAILURE_REASON_MAX = 500;
export const CARRIER_NAME_MAX = 50;
export const CARRIER_REFERENCE_MAX = 100;

/** Who dispatched: the carrier answering the saga, or an admin shipping by hand (POST /orders/{id}/ship). */
export const DISPATCHERS = ['carrier', 'admin'] as const;
export type DispatchedBy = (typeof DISPATCHERS)[number];

const ids = { shipment_id: f.text(), order_id: f.text() };
/**
 * Process managers of early releases did not always write the ids and timestamps: the shipment id is the stream
 * id, the order id follows from the `shipment-<order_id>` naming rule, a timestamp is the envelope's created_at.
 */
const filled = (timestamp: string) => ({
  fill: fillMissing({
    shipment_id: (e) => e.aggregate_id,
    order_id: (e) => e.aggregate_id.replace(/^shipment-/, ''),
    [timestamp]: createdAt,
  }),
});
export const ShipmentInitiatedV = defineEvent('ShipmentInitiated', z.object({ ...ids, initiated_at: f.time() }), filled('initiated_at'));
/** The shipment was handed to a carrier, which acknowledged it with its own reference (its booking number). */
export const ShipmentRequestedV = defineEvent(
  'ShipmentRequested',
  z.object({ ...ids, carrier: f.str(), carrier_reference: f.str(), requested_at: f.time() }),
  filled('requested_at'),
);
/**
 * Dispatched: the goods left with a tracking number. `dispatched_by` is absent in events written before the
 * fulfilment saga existed (they were all dispatched by hand).
 */
export const ShipmentCompletedV = defineEvent(
  'ShipmentCompleted',
  z.object({ ...ids, tracking_number: f.str(), completed_at: f.time(), dispatched_by: f.oneOf(DISPATCHERS).optional() }),
  filled('completed_at'),
);
export const ShipmentFailedV = defineEvent(
  'ShipmentFailed',
  z.object({ ...ids, reason: f.str(), failed_at: f.time() }),
  filled('failed_at'),
);
/** The order was cancelled before dispatch: the shipment will not happen (the carrier's later answer is ignored). */
export const ShipmentCancelledV = defineEvent(
  'ShipmentCancelled',
  z.object({ ...ids, reason: f.str(), cancelled_at: f.time() }),
  filled('cancelled_at'),
);
export const SHIPMENT_CONTRACTS = [
  ShipmentInitiatedV,
  ShipmentRequestedV,
  ShipmentCompletedV,
  ShipmentFailedV,
  ShipmentCancelledV,
] as const;
export type ShipmentInitiatedData = DataOf<typeof ShipmentInitiatedV>;
export type ShipmentRequestedData = DataOf<typeof ShipmentRequestedV>;
export type ShipmentCompletedData = DataOf<typeof ShipmentCompletedV>;
export type ShipmentFailedData = DataOf<typeof ShipmentFailedV>;
export type ShipmentCancelledData = DataOf<typeof ShipmentCancelledV>;

export type ShipmentInitiated = DomainEvent<'ShipmentInitiated', ShipmentInitiatedData>;
export type ShipmentRequested = DomainEvent<'ShipmentRequested', ShipmentRequestedData>;
export type ShipmentCompleted = DomainEvent<'ShipmentCompleted', ShipmentCompletedData>;
export type ShipmentFailed = DomainEvent<'ShipmentFailed', ShipmentFailedData>;
export type ShipmentCancelled = DomainEvent<'ShipmentCancelled', ShipmentCancelledData>;
export type ShipmentEvent = ShipmentInitiated | ShipmentRequested | ShipmentCompleted | ShipmentFailed | ShipmentCancelled;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const ShipmentEventTypes = {
  ShipmentInitiated: 'ShipmentInitiated',
  ShipmentRequested: 'ShipmentRequested',
  ShipmentCompleted: 'ShipmentCompleted',
  ShipmentFailed: 'ShipmentFailed',
  ShipmentCancelled: 'ShipmentCancelled',
} as const satisfies { [K in ShipmentEvent['type']]: K };

export const isShipmentEventType = (type: string): type is ShipmentEvent['type'] => Object.hasOwn(ShipmentEventTypes, type);
