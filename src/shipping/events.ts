import type { DomainEvent } from '../shared/decider.ts';
import type { AggregateType } from '../shared/envelope.ts';

export const SHIPMENT_AGGREGATE_TYPE = 'Shipment' satisfies AggregateType;

/**
 * One shipment per order, keyed by the order id: the fulfilment saga finds it without a lookup, and a
 * redelivered OrderPaid cannot start a second shipment (the stream's version 1 already exists).
 */
export const shipmentStreamId = (orderId: string): string => `shipment-${orderId}`;

export const SHIPMENT_FAILURE_REASON_MAX = 500;

export type ShipmentInitiatedData = { shipment_id: string; order_id: string; initiated_at: string };
export type ShipmentCompletedData = { shipment_id: string; order_id: string; tracking_number: string; completed_at: string };
export type ShipmentFailedData = { shipment_id: string; order_id: string; reason: string; failed_at: string };

export type ShipmentInitiated = DomainEvent<'ShipmentInitiated', ShipmentInitiatedData>;
export type ShipmentCompleted = DomainEvent<'ShipmentCompleted', ShipmentCompletedData>;
export type ShipmentFailed = DomainEvent<'ShipmentFailed', ShipmentFailedData>;
export type ShipmentEvent = ShipmentInitiated | ShipmentCompleted | ShipmentFailed;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const ShipmentEventTypes = {
  ShipmentInitiated: 'ShipmentInitiated',
  ShipmentCompleted: 'ShipmentCompleted',
  ShipmentFailed: 'ShipmentFailed',
} as const satisfies { [K in ShipmentEvent['type']]: K };

export const isShipmentEventType = (type: string): type is ShipmentEvent['type'] => Object.hasOwn(ShipmentEventTypes, type);
