import type { DomainEvent } from '../shared/decider.ts';
import type { AggregateType } from '../shared/envelope.ts';

export const SHIPMENT_AGGREGATE_TYPE = 'Shipment' satisfies AggregateType;

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

export type ShipmentInitiatedData = { shipment_id: string; order_id: string; initiated_at: string };
/** The shipment was handed to a carrier, which acknowledged it with its own reference (its booking number). */
export type ShipmentRequestedData = {
  shipment_id: string;
  order_id: string;
  carrier: string;
  carrier_reference: string;
  requested_at: string;
};
/**
 * Dispatched: the goods left with a tracking number. `dispatched_by` is absent in events written before the
 * fulfilment saga existed (they were all dispatched by hand).
 */
export type ShipmentCompletedData = {
  shipment_id: string;
  order_id: string;
  tracking_number: string;
  completed_at: string;
  dispatched_by?: DispatchedBy;
};
export type ShipmentFailedData = { shipment_id: string; order_id: string; reason: string; failed_at: string };
/** The order was cancelled before dispatch: the shipment will not happen (the carrier's later answer is ignored). */
export type ShipmentCancelledData = { shipment_id: string; order_id: string; reason: string; cancelled_at: string };

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
