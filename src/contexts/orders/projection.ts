import type { KnownEvent } from '../../kernel/contracts.ts';
import type { OrderItem, OrderStatus } from './events.ts';
import type { TableProjection } from '../../kernel/projection.ts';

/** read_orders. */
export interface OrderRow {
  order_id: string;
  user_id: string;
  user_email: string;
  items: OrderItem[];
  /** Yen; bigint in the table. */
  total: number;
  status: OrderStatus;
  /** Why the order was cancelled or why its shipment failed. */
  reason: string | null;
  cancelled_by: string | null;
  tracking_number: string | null;
  expires_at: string | null;
  placed_at: string;
  paid_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  cancelled_at: string | null;
  shipment_failed_at: string | null;
  updated_at: string;
  version: number;
  refunded_amount: number | null;
  refunded_at: string | null;
}

const ORDER_EVENT_TYPES = [
  'OrderPlaced',
  'OrderPaid',
  'OrderShipped',
  'OrderDelivered',
  'OrderCancelled',
  'OrderShipmentFailed',
  'OrderPaymentRefunded',
] as const;

const isOrderEvent = (e: KnownEvent): e is Extract<KnownEvent, { event_type: (typeof ORDER_EVENT_TYPES)[number] }> =>
  (ORDER_EVENT_TYPES as readonly string[]).includes(e.event_type);

/**
 * Status transitions are applied as the events say, without re-checking them: the decider already refused
 * illegal ones, and a read model that second-guesses the write side would silently diverge from it.
 */
export const orders: TableProjection<OrderRow> = {
  name: 'orders',
  table: 'read_orders',
  key: 'order_id',
  columns: [
    'order_id',
    'user_id',
    'user_email',
    'items',
    'total',
    'status',
    'reason',
    'cancelled_by',
    'tracking_number',
    'expires_at',
    'placed_at',
    'paid_at',
    'shipped_at',
    'delivered_at',
    'cancelled_at',
    'shipment_failed_at',
    'updated_at',
    'version',
    'refunded_amount',
    'refunded_at',
  ],
  eventTypes: ORDER_EVENT_TYPES,
  keyOf: (e) => (isOrderEvent(e) ? e.data.order_id : undefined),
  evolve(row, e) {
    if (!isOrderEvent(e)) return row;
    if (e.event_type === 'OrderPlaced') {
      if (row) return row; // a second OrderPlaced of one order cannot be; the first one stands
      const { order_id, user_id, user_email, items, total, expires_at, placed_at } = e.data;
      return {
        order_id,
        user_id,
        user_email,
        items,
        total,
        status: 'pending',
        reason: null,
        cancelled_by: null,
        tracking_number: null,
        expires_at,
        placed_at,
        paid_at: null,
        shipped_at: null,
        delivered_at: null,
        cancelled_at: null,
        shipment_failed_at: null,
        updated_at: e.created_at,
        version: e.version,
        refunded_amount: null,
        refunded_at: null,
      };
    }
    if (!row) return row; // a transition of an order never placed changes nothing
    const next = { ...row, updated_at: e.created_at, version: e.version };
    switch (e.event_type) {
      case 'OrderPaid':
        return { ...next, status: 'paid', paid_at: e.data.paid_at };
      case 'OrderShipped':
        return { ...next, status: 'shipped', tracking_number: e.data.tracking_number, shipped_at: e.data.shipped_at };
      case 'OrderDelivered':
        return { ...next, status: 'delivered', delivered_at: e.data.delivered_at };
      case 'OrderCancelled':
        return {
          ...next,
          status: 'cancelled',
          reason: e.data.reason,
          cancelled_by: e.data.cancelled_by,
          cancelled_at: e.data.cancelled_at,
        };
      case 'OrderShipmentFailed':
        return { ...next, status: 'shipment_failed', reason: e.data.reason, shipment_failed_at: e.data.failed_at };
      case 'OrderPaymentRefunded':
        // Not a status change: the status change that came with it (cancelled, shipment_failed) already took the
        // order out of revenue, here and in the marketing tables.
        return { ...next, refunded_amount: e.data.amount, refunded_at: e.data.refunded_at };
    }
  },
};
