import { MAX_CART_LINES, MAX_LINE_QUANTITY } from '../carts/index.ts';
import { PRICE_MAX, PRICE_MIN, PRODUCT_NAME_MAX } from '../catalog/index.ts';
import type { Decider } from '../../platform/shared/decider.ts';
import type { FieldError } from '../../platform/shared/errors.ts';
import { conflict, notFound } from '../../platform/shared/errors.ts';
import type { Check } from '../../platform/shared/validate.ts';
import {
  ensure,
  id,
  instantMs,
  intInRange,
  isoInstant,
  nowMs,
  oneOf,
  pattern,
  singleLine,
  trimmed,
} from '../../platform/shared/validate.ts';
import { emailCheck, normaliseEmail } from '../users/index.ts';
import type { CancelledBy, OrderEvent, OrderItem, OrderPlacedData, OrderStatus, RefundReason } from './events.ts';
import { CANCEL_REASON_MAX, CANCELLED_BY, ORDER_EXPIRED_REASON, TRACKING_NUMBER_MAX } from './events.ts';

export type PlaceOrderItem = Omit<OrderItem, 'subtotal'>;

export type OrderCommand =
  | {
      type: 'PlaceOrder';
      order_id: string;
      user_id: string;
      user_email: string;
      items: PlaceOrderItem[];
      expires_at: string;
      now: string;
    }
  | { type: 'PayOrder'; order_id: string; now: string }
  | { type: 'ShipOrder'; order_id: string; tracking_number: string; now: string }
  | { type: 'DeliverOrder'; order_id: string; now: string }
  | { type: 'CancelOrder'; order_id: string; reason: string; cancelled_by: CancelledBy; now: string }
  /** The expiry timer's command: cancels a pending order whose payment window has passed; otherwise a no-op. */
  | { type: 'ExpireOrder'; order_id: string; now: string }
  /** The fulfilment saga's compensation after ShipmentFailed. */
  | { type: 'MarkShipmentFailed'; order_id: string; reason: string; now: string }
  /**
   * Gives the payment of a paid order back once it left the paid path (cancelled before dispatch, or its
   * shipment failed). Decided right after that transition and appended with it; a second refund is a no-op.
   */
  | { type: 'RefundPayment'; order_id: string; now: string };

export type PlacedOrder = OrderPlacedData & {
  status: OrderStatus;
  paid_at: string | null;
  shipped_at: string | null;
  tracking_number: string | null;
  delivered_at: string | null;
  cancelled_at: string | null;
  cancel_reason: string | null;
  cancelled_by: CancelledBy | null;
  shipment_failed_at: string | null;
  shipment_failure_reason: string | null;
  /** Present once the payment was refunded (absent, not null, so states of older streams stay as they were). */
  refund?: { amount: number; reason: RefundReason; refunded_at: string };
};
export type OrderState = { status: 'none' } | PlacedOrder;

/** Which statuses each transition leaves from; everything else is an illegal transition. */
const FROM = {
  pay: ['pending'],
  ship: ['paid'],
  deliver: ['shipped'],
  cancel: ['pending', 'paid'],
  mark_shipment_failed: ['paid'],
} as const satisfies Record<string, readonly OrderStatus[]>;
export type OrderTransition = keyof typeof FROM;

/** How the refusal message names each transition: `cannot ${verb} an order that is ${status}`. */
const VERB: Record<OrderTransition, string> = {
  pay: 'pay',
  ship: 'ship',
  deliver: 'deliver',
  cancel: 'cancel',
  mark_shipment_failed: 'fail the shipment of',
};

export const canTransition = (status: OrderStatus, transition: OrderTransition): boolean =>
  (FROM[transition] as readonly OrderStatus[]).includes(status);

/** What can still happen to an order in this status (e.g. which buttons the SPA shows). */
export const allowedTransitions = (status: OrderStatus): OrderTransition[] =>
  (Object.keys(FROM) as OrderTransition[]).filter((t) => canTransition(status, t));

const placed = (state: OrderState, orderId: string, transition: OrderTransition): PlacedOrder => {
  if (state.status === 'none') throw notFound('order', orderId);
  if (!canTransition(state.status, transition)) {
    throw conflict('illegal_transition', `cannot ${VERB[transition]} an order that is ${state.status}`, {
      order_id: state.order_id,
      status: state.status,
    });
  }
  return state;
};

const TRACKING = /^[A-Za-z0-9-]{1,100}$/;

const itemChecks = (items: unknown): Check[] => {
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_CART_LINES) {
    return [{ field: 'items', message: `must list 1..${MAX_CART_LINES} items` }];
  }
  const seen = new Set<unknown>();
  return items.flatMap((item: Partial<PlaceOrderItem> | null, i): Check[] => {
    const at = (f: string) => `items.${i}.${f}`;
    if (typeof item !== 'object' || item === null) return [{ field: `items.${i}`, message: 'must be an object' }];
    const duplicate: FieldError | null = seen.has(item.product_id) ? { field: at('product_id'), message: 'is listed twice' } : null;
    seen.add(item.product_id);
    return [
      id(at('product_id'), item.product_id),
      duplicate,
      singleLine(at('name'), item.name, 1, PRODUCT_NAME_MAX),
      intInRange(at('price'), item.price, PRICE_MIN, PRICE_MAX),
      intInRange(at('quantity'), item.quantity, 1, MAX_LINE_QUANTITY),
    ];
  });
};

const decidePlace = (c: Extract<OrderCommand, { type: 'PlaceOrder' }>, state: OrderState): OrderEvent[] => {
  const user_email = typeof c.user_email === 'string' ? normaliseEmail(c.user_email) : c.user_email;
  ensure(
    id('order_id', c.order_id),
    id('user_id', c.user_id),
    emailCheck('user_email', user_email),
    ...itemChecks(c.items),
    isoInstant('expires_at', c.expires_at),
  );
  if (instantMs(c.expires_at) <= nowMs(c.now)) ensure({ field: 'expires_at', message: 'must be after now' });
  if (state.status !== 'none') throw conflict('order_exists', `order ${c.order_id} already exists`);
  const items: OrderItem[] = c.items.map(({ product_id, name, price, quantity }) => ({
    product_id,
    name,
    price,
    quantity,
    subtotal: price * quantity,
  }));
  const total = items.reduce((sum, i) => sum + i.subtotal, 0);
  const { order_id, user_id, expires_at, now } = c;
  return [{ type: 'OrderPlaced', data: { order_id, user_id, user_email, items, total, expires_at, placed_at: now } }];
};

export const orderDecider: Decider<OrderCommand, OrderState, OrderEvent> = {
  initialState: () => ({ status: 'none' }),

  decide: (command, state) => {
    switch (command.type) {
      case 'PlaceOrder':
        return decidePlace(command, state);
      case 'PayOrder': {
        const now = nowMs(command.now);
        const order = placed(state, command.order_id, 'pay');
        if (now >= instantMs(order.expires_at)) {
          throw conflict('order_expired', `order ${order.order_id} expired at ${order.expires_at}`, {
            order_id: order.order_id,
            expires_at: order.expires_at,
          });
        }
        return [{ type: 'OrderPaid', data: { order_id: order.order_id, amount: order.total, paid_at: command.now } }];
      }
      case 'ShipOrder': {
        ensure(pattern('tracking_number', command.tracking_number, TRACKING, `1..${TRACKING_NUMBER_MAX} letters, digits or -`));
        nowMs(command.now);
        const order = placed(state, command.order_id, 'ship');
        return [
          { type: 'OrderShipped', data: { order_id: order.order_id, tracking_number: command.tracking_number, shipped_at: command.now } },
        ];
      }
      case 'DeliverOrder': {
        nowMs(command.now);
        const order = placed(state, command.order_id, 'deliver');
        return [{ type: 'OrderDelivered', data: { order_id: order.order_id, delivered_at: command.now } }];
      }
      case 'CancelOrder': {
        const reason = trimmed(command.reason);
        ensure(singleLine('reason', reason, 1, CANCEL_REASON_MAX), oneOf('cancelled_by', command.cancelled_by, CANCELLED_BY));
        nowMs(command.now);
        const order = placed(state, command.order_id, 'cancel');
        return [
          {
            type: 'OrderCancelled',
            data: { order_id: order.order_id, reason, cancelled_by: command.cancelled_by, cancelled_at: command.now },
          },
        ];
      }
      case 'ExpireOrder': {
        const now = nowMs(command.now);
        if (state.status === 'none') throw notFound('order', command.order_id);
        // Paid, cancelled… meanwhile: the timer fired late or twice, and there is nothing to do.
        if (state.status !== 'pending') return [];
        if (now < instantMs(state.expires_at)) {
          throw conflict('order_not_expired', `order ${state.order_id} expires at ${state.expires_at}`, {
            order_id: state.order_id,
            expires_at: state.expires_at,
          });
        }
        return [
          {
            type: 'OrderCancelled',
            data: { order_id: state.order_id, reason: ORDER_EXPIRED_REASON, cancelled_by: 'system', cancelled_at: command.now },
          },
        ];
      }
      case 'MarkShipmentFailed': {
        const reason = trimmed(command.reason);
        ensure(singleLine('reason', reason, 1, CANCEL_REASON_MAX));
        nowMs(command.now);
        const order = placed(state, command.order_id, 'mark_shipment_failed');
        return [{ type: 'OrderShipmentFailed', data: { order_id: order.order_id, reason, failed_at: command.now } }];
      }
      case 'RefundPayment': {
        nowMs(command.now);
        if (state.status === 'none') throw notFound('order', command.order_id);
        if (state.refund) return [];
        const reason: RefundReason | null =
          state.status === 'cancelled' ? 'cancelled' : state.status === 'shipment_failed' ? 'shipment_failed' : null;
        if (reason === null || state.paid_at === null) {
          throw conflict(
            'nothing_to_refund',
            `order ${state.order_id} is ${state.status}${state.paid_at === null ? ' and was never paid' : ''}: there is no payment to refund`,
            {
              order_id: state.order_id,
              status: state.status,
            },
          );
        }
        return [
          { type: 'OrderPaymentRefunded', data: { order_id: state.order_id, amount: state.total, reason, refunded_at: command.now } },
        ];
      }
    }
  },

  evolve: (state, event) => {
    if (event.type === 'OrderPlaced') {
      return {
        ...event.data,
        status: 'pending',
        paid_at: null,
        shipped_at: null,
        tracking_number: null,
        delivered_at: null,
        cancelled_at: null,
        cancel_reason: null,
        cancelled_by: null,
        shipment_failed_at: null,
        shipment_failure_reason: null,
      };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'OrderPaid':
        return { ...state, status: 'paid', paid_at: event.data.paid_at };
      case 'OrderShipped':
        return { ...state, status: 'shipped', shipped_at: event.data.shipped_at, tracking_number: event.data.tracking_number };
      case 'OrderDelivered':
        return { ...state, status: 'delivered', delivered_at: event.data.delivered_at };
      case 'OrderCancelled':
        return {
          ...state,
          status: 'cancelled',
          cancelled_at: event.data.cancelled_at,
          cancel_reason: event.data.reason,
          cancelled_by: event.data.cancelled_by,
        };
      case 'OrderShipmentFailed':
        return {
          ...state,
          status: 'shipment_failed',
          shipment_failed_at: event.data.failed_at,
          shipment_failure_reason: event.data.reason,
        };
      case 'OrderPaymentRefunded':
        return { ...state, refund: { amount: event.data.amount, reason: event.data.reason, refunded_at: event.data.refunded_at } };
    }
  },
};

/** The inventory release reason that goes with an order's cancellation (same transaction). */
export const releaseReasonFor = (cancelled: { reason: string; cancelled_by: CancelledBy }): 'expired' | 'cancelled' =>
  cancelled.cancelled_by === 'system' && cancelled.reason === ORDER_EXPIRED_REASON ? 'expired' : 'cancelled';
