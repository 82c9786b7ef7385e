import type { DomainEvent } from '../shared/decider.ts';
import type { AggregateType } from '../shared/envelope.ts';

export const ORDER_AGGREGATE_TYPE = 'Order' satisfies AggregateType;

/** Orders are keyed by their id. */
export const orderStreamId = (orderId: string): string => orderId;

/** How long an unpaid order holds its stock (the app computes expires_at = now + this, DESIGN §6). */
export const DEFAULT_PAYMENT_WINDOW_MINUTES = 15;

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'shipment_failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const CANCELLED_BY = ['customer', 'admin', 'system'] as const;
export type CancelledBy = (typeof CANCELLED_BY)[number];

/** The reason recorded when the expiry timer cancels an unpaid order (ExpireOrder). */
export const ORDER_EXPIRED_REASON = 'payment timeout';

export const CANCEL_REASON_MAX = 500;
export const TRACKING_NUMBER_MAX = 100;

export type OrderItem = {
  product_id: string;
  name: string;
  /** Unit price in yen, taken from the product at checkout. */
  price: number;
  quantity: number;
  /** price × quantity. */
  subtotal: number;
};

export type OrderPlacedData = {
  order_id: string;
  user_id: string;
  /** Copied at checkout so the notifier can mail without reading the user stream. */
  user_email: string;
  items: OrderItem[];
  /** Sum of subtotals, yen. */
  total: number;
  expires_at: string;
  placed_at: string;
};
export type OrderPaidData = { order_id: string; amount: number; paid_at: string };
export type OrderShippedData = { order_id: string; tracking_number: string; shipped_at: string };
export type OrderDeliveredData = { order_id: string; delivered_at: string };
export type OrderCancelledData = { order_id: string; reason: string; cancelled_by: CancelledBy; cancelled_at: string };
export type OrderShipmentFailedData = { order_id: string; reason: string; failed_at: string };

/** Why a payment was given back: the paid order was cancelled before dispatch, or its shipment failed. */
export const REFUND_REASONS = ['cancelled', 'shipment_failed'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
/**
 * The payment is reversed (refunded in full). Always appended in the same transaction as the OrderCancelled or
 * OrderShipmentFailed that takes a paid order out of the counted statuses; the read side's revenue reversal is
 * keyed on that status change, so this event records the money movement without being counted a second time.
 */
export type OrderPaymentRefundedData = { order_id: string; amount: number; reason: RefundReason; refunded_at: string };

export type OrderPlaced = DomainEvent<'OrderPlaced', OrderPlacedData>;
export type OrderPaid = DomainEvent<'OrderPaid', OrderPaidData>;
export type OrderShipped = DomainEvent<'OrderShipped', OrderShippedData>;
export type OrderDelivered = DomainEvent<'OrderDelivered', OrderDeliveredData>;
export type OrderCancelled = DomainEvent<'OrderCancelled', OrderCancelledData>;
export type OrderShipmentFailed = DomainEvent<'OrderShipmentFailed', OrderShipmentFailedData>;
export type OrderPaymentRefunded = DomainEvent<'OrderPaymentRefunded', OrderPaymentRefundedData>;
export type OrderEvent = OrderPlaced | OrderPaid | OrderShipped | OrderDelivered | OrderCancelled | OrderShipmentFailed | OrderPaymentRefunded;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const OrderEventTypes = {
  OrderPlaced: 'OrderPlaced',
  OrderPaid: 'OrderPaid',
  OrderShipped: 'OrderShipped',
  OrderDelivered: 'OrderDelivered',
  OrderCancelled: 'OrderCancelled',
  OrderShipmentFailed: 'OrderShipmentFailed',
  OrderPaymentRefunded: 'OrderPaymentRefunded',
} as const satisfies { [K in OrderEvent['type']]: K };

export const isOrderEventType = (type: string): type is OrderEvent['type'] => Object.hasOwn(OrderEventTypes, type);
