import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { defineEvent, f } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';
import type { AggregateType } from '../../platform/shared/envelope.ts';

export const ORDER_AGGREGATE_TYPE = 'Order' satisfies AggregateType;

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'shipment_failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export const CANCELLED_BY = ['customer', 'admin', 'system'] as const;
export type CancelledBy = (typeof CANCELLED_BY)[number];

/** The reason recorded when the expiry timer cancels an unpaid order (ExpireOrder). */
export const ORDER_EXPIRED_REASON = 'payment timeout';

export const CANCEL_REASON_MAX = 500;
export const TRACKING_NUMBER_MAX = 100;

/** One order line, as OrderPlaced carries it (and the read side shows it). */
export const OrderItemSchema = z.object({
  product_id: f.text(),
  name: f.text(),
  /** Unit price in yen, taken from the product at checkout. */
  price: f.yen(),
  quantity: f.int().min(1, { error: 'at least 1' }),
  /** price × quantity. */
  subtotal: f.yen(),
});
export type OrderItem = z.infer<typeof OrderItemSchema>;

export const OrderPlacedV = defineEvent(
  'OrderPlaced',
  z.object({
    order_id: f.text(),
    user_id: f.text(),
    /** Copied at checkout so the notifier can mail without reading the user stream. */
    user_email: f.text(),
    items: z.array(OrderItemSchema, { error: 'an array' }).min(1, { error: 'a non-empty array' }),
    /** Sum of subtotals, yen. */
    total: f.yen(),
    expires_at: f.time(),
    placed_at: f.time(),
  }),
);
export const OrderPaidV = defineEvent('OrderPaid', z.object({ order_id: f.text(), amount: f.yen(), paid_at: f.time() }));
export const OrderShippedV = defineEvent('OrderShipped', z.object({ order_id: f.text(), tracking_number: f.text(), shipped_at: f.time() }));
export const OrderDeliveredV = defineEvent('OrderDelivered', z.object({ order_id: f.text(), delivered_at: f.time() }));
export const OrderCancelledV = defineEvent(
  'OrderCancelled',
  z.object({ order_id: f.text(), reason: f.str(), cancelled_by: f.oneOf(CANCELLED_BY), cancelled_at: f.time() }),
);
export const OrderShipmentFailedV = defineEvent(
  'OrderShipmentFailed',
  z.object({ order_id: f.text(), reason: f.str(), failed_at: f.time() }),
);

/** Why a payment was given back: the paid order was cancelled before dispatch, or its shipment failed. */
export const REFUND_REASONS = ['cancelled', 'shipment_failed'] as const;
export type RefundReason = (typeof REFUND_REASONS)[number];
/**
 * The payment is reversed (refunded in full). Always appended in the same transaction as the OrderCancelled or
 * OrderShipmentFailed that takes a paid order out of the counted statuses; the read side's revenue reversal is
 * keyed on that status change, so this event records the money movement without being counted a second time.
 */
export const OrderPaymentRefundedV = defineEvent(
  'OrderPaymentRefunded',
  z.object({ order_id: f.text(), amount: f.yen(), reason: f.oneOf(REFUND_REASONS), refunded_at: f.time() }),
);

/** Every Order event's contract. */
export const ORDER_CONTRACTS = [
  OrderPlacedV,
  OrderPaidV,
  OrderShippedV,
  OrderDeliveredV,
  OrderCancelledV,
  OrderShipmentFailedV,
  OrderPaymentRefundedV,
] as const;

export type OrderPlacedData = DataOf<typeof OrderPlacedV>;
export type OrderPaidData = DataOf<typeof OrderPaidV>;
export type OrderShippedData = DataOf<typeof OrderShippedV>;
export type OrderDeliveredData = DataOf<typeof OrderDeliveredV>;
export type OrderCancelledData = DataOf<typeof OrderCancelledV>;
export type OrderShipmentFailedData = DataOf<typeof OrderShipmentFailedV>;
export type OrderPaymentRefundedData = DataOf<typeof OrderPaymentRefundedV>;

export type OrderPlaced = DomainEvent<'OrderPlaced', OrderPlacedData>;
export type OrderPaid = DomainEvent<'OrderPaid', OrderPaidData>;
export type OrderShipped = DomainEvent<'OrderShipped', OrderShippedData>;
export type OrderDelivered = DomainEvent<'OrderDelivered', OrderDeliveredData>;
export type OrderCancelled = DomainEvent<'OrderCancelled', OrderCancelledData>;
export type OrderShipmentFailed = DomainEvent<'OrderShipmentFailed', OrderShipmentFailedData>;
export type OrderPaymentRefunded = DomainEvent<'OrderPaymentRefunded', OrderPaymentRefundedData>;
export type OrderEvent =
  OrderPlaced | OrderPaid | OrderShipped | OrderDelivered | OrderCancelled | OrderShipmentFailed | OrderPaymentRefunded;

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
