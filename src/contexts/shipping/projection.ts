import type { KnownEvent } from '../../kernel/contracts.ts';
import type { TableProjection } from '../../kernel/projection.ts';

/** read_shipments, one row per Shipment stream (`shipment-<order_id>`, its own versions). */
export interface ShipmentRow {
  shipment_id: string;
  order_id: string;
  /** initiated | completed | failed | cancelled */
  status: string;
  tracking_number: string | null;
  reason: string | null;
  initiated_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  updated_at: string;
  version: number;
  carrier: string | null;
  carrier_reference: string | null;
  requested_at: string | null;
  dispatched_by: string | null;
  cancelled_at: string | null;
}

const SHIPMENT_EVENT_TYPES = [
  'ShipmentInitiated',
  'ShipmentRequested',
  'ShipmentCompleted',
  'ShipmentFailed',
  'ShipmentCancelled',
] as const;
const isShipmentEvent = (e: KnownEvent): e is Extract<KnownEvent, { event_type: (typeof SHIPMENT_EVENT_TYPES)[number] }> =>
  (SHIPMENT_EVENT_TYPES as readonly string[]).includes(e.event_type);

const blank = (shipmentId: string, orderId: string): ShipmentRow => ({
  shipment_id: shipmentId,
  order_id: orderId,
  status: 'initiated',
  tracking_number: null,
  reason: null,
  initiated_at: null,
  completed_at: null,
  failed_at: null,
  updated_at: '',
  version: 0,
  carrier: null,
  carrier_reference: null,
  requested_at: null,
  dispatched_by: null,
  cancelled_at: null,
});

/**
 * Each event fills its own columns and keeps the others, so the row is right even if a process manager emits an
 * outcome as the stream's first event. The hand-over to a carrier keeps the shipment initiated. The row is keyed
 * by the stream id (shipment ids and stream ids are one).
 */
export const shipments: TableProjection<ShipmentRow> = {
  name: 'shipments',
  table: 'read_shipments',
  key: 'shipment_id',
  columns: [
    'shipment_id',
    'order_id',
    'status',
    'tracking_number',
    'reason',
    'initiated_at',
    'completed_at',
    'failed_at',
    'updated_at',
    'version',
    'carrier',
    'carrier_reference',
    'requested_at',
    'dispatched_by',
    'cancelled_at',
  ],
  eventTypes: SHIPMENT_EVENT_TYPES,
  keyOf: (e) => (isShipmentEvent(e) ? e.aggregate_id : undefined),
  evolve(current, e) {
    if (!isShipmentEvent(e)) return current;
    const row = {
      ...(current ?? blank(e.aggregate_id, e.data.order_id)),
      order_id: e.data.order_id,
      updated_at: e.created_at,
      version: e.version,
    };
    switch (e.event_type) {
      case 'ShipmentInitiated':
        return { ...row, status: 'initiated', initiated_at: row.initiated_at ?? e.data.initiated_at };
      case 'ShipmentRequested':
        return { ...row, carrier: e.data.carrier, carrier_reference: e.data.carrier_reference, requested_at: e.data.requested_at };
      case 'ShipmentCompleted':
        return {
          ...row,
          status: 'completed',
          tracking_number: e.data.tracking_number,
          completed_at: e.data.completed_at,
          dispatched_by: e.data.dispatched_by ?? row.dispatched_by,
        };
      case 'ShipmentFailed':
        return { ...row, status: 'failed', reason: e.data.reason, failed_at: e.data.failed_at };
      case 'ShipmentCancelled':
        return { ...row, status: 'cancelled', reason: e.data.reason, cancelled_at: e.data.cancelled_at };
    }
  },
};
