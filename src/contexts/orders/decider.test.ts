import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../platform/shared/decider.ts';
import { spec } from '../../../test/support/decider.ts';
import type { OrderCommand, PlaceOrderItem } from './decider.ts';
import type { OrderTransition } from './decider.ts';
import { allowedTransitions, canTransition, orderDecider, releaseReasonFor } from './decider.ts';
import type { OrderCancelled, OrderEvent, OrderPlaced, OrderStatus } from './events.ts';
import { isOrderEventType, ORDER_EXPIRED_REASON, ORDER_STATUSES } from './events.ts';

const O = 'o-1';
const T0 = '2025-01-01T10:00:00.000Z';
const EXP = '2025-01-01T10:15:00.000Z';
const T1 = '2025-01-01T10:05:00.000Z';
const T2 = '2025-01-02T10:00:00.000Z';

const items: PlaceOrderItem[] = [
  { product_id: 'p-1', name: 'Tシャツ', price: 2000, quantity: 2 },
  { product_id: 'p-2', name: '靴下', price: 500, quantity: 1 },
];
const place = (over: Partial<Extract<OrderCommand, { type: 'PlaceOrder' }>> = {}): OrderCommand => ({
  type: 'PlaceOrder',
  order_id: O,
  user_id: 'u-1',
  user_email: 'Taro@Example.com',
  items,
  expires_at: EXP,
  now: T0,
  ...over,
});
const placed: OrderPlaced = {
  type: 'OrderPlaced',
  data: {
    order_id: O,
    user_id: 'u-1',
    user_email: 'taro@example.com',
    items: [
      { product_id: 'p-1', name: 'Tシャツ', price: 2000, quantity: 2, subtotal: 4000 },
      { product_id: 'p-2', name: '靴下', price: 500, quantity: 1, subtotal: 500 },
    ],
    total: 4500,
    expires_at: EXP,
    placed_at: T0,
  },
};
const paid: OrderEvent = { type: 'OrderPaid', data: { order_id: O, amount: 4500, paid_at: T1 } };
const shipped: OrderEvent = { type: 'OrderShipped', data: { order_id: O, tracking_number: 'TRACK-123', shipped_at: T2 } };
const delivered: OrderEvent = { type: 'OrderDelivered', data: { order_id: O, delivered_at: T2 } };
const cancelled: OrderCancelled = {
  type: 'OrderCancelled',
  data: { order_id: O, reason: '気が変わった', cancelled_by: 'customer', cancelled_at: T1 },
};
const failed: OrderEvent = { type: 'OrderShipmentFailed', data: { order_id: O, reason: 'carrier lost it', failed_at: T2 } };

const histories: Record<OrderStatus, OrderEvent[]> = {
  pending: [placed],
  paid: [placed, paid],
  shipped: [placed, paid, shipped],
  delivered: [placed, paid, shipped, delivered],
  cancelled: [placed, cancelled],
  shipment_failed: [placed, paid, failed],
};

const pay: OrderCommand = { type: 'PayOrder', order_id: O, now: T1 };
const ship: OrderCommand = { type: 'ShipOrder', order_id: O, tracking_number: 'TRACK-123', now: T2 };
const deliver: OrderCommand = { type: 'DeliverOrder', order_id: O, now: T2 };
const cancel: OrderCommand = { type: 'CancelOrder', order_id: O, reason: ' 気が変わった ', cancelled_by: 'customer', now: T1 };
const failShipment: OrderCommand = { type: 'MarkShipmentFailed', order_id: O, reason: 'carrier lost it', now: T2 };

/** Every transition from every status: the expected events, or the verb of the illegal_transition message. */
const matrix: { name: OrderTransition; command: OrderCommand; verb: string; from: OrderStatus[]; then: OrderEvent }[] = [
  { name: 'pay', command: pay, verb: 'pay', from: ['pending'], then: paid },
  { name: 'ship', command: ship, verb: 'ship', from: ['paid'], then: shipped },
  { name: 'deliver', command: deliver, verb: 'deliver', from: ['shipped'], then: delivered },
  { name: 'cancel', command: cancel, verb: 'cancel', from: ['pending', 'paid'], then: cancelled },
  { name: 'mark_shipment_failed', command: failShipment, verb: 'fail the shipment of', from: ['paid'], then: failed },
];

describe('Order: PlaceOrder', () => {
  it('places an order with subtotals, total and a normalised email', () => {
    spec(orderDecider).given([]).when(place()).then([placed]);
  });

  it('refuses to place the same order twice', () => {
    spec(orderDecider).given([placed]).when(place()).thenThrows({ kind: 'conflict', code: 'order_exists' });
  });

  it('validates items, reporting the offending index', () => {
    spec(orderDecider)
      .given([])
      .when(place({ items: [] }))
      .thenThrows((e) => e.errors?.[0]?.field === 'items');
    const err = spec(orderDecider)
      .given([])
      .when(
        place({
          items: [
            { product_id: 'p-1', name: '', price: 0, quantity: 100 },
            { product_id: 'p-1', name: 'x', price: 1, quantity: 1 },
          ],
        }),
      )
      .thenThrows('validation_failed');
    assert.deepEqual(
      err.errors?.map((e) => e.field),
      ['items.0.name', 'items.0.price', 'items.0.quantity', 'items.1.product_id'],
    );
    const many = Array.from({ length: 41 }, (_, i) => ({ product_id: `p-${i}`, name: 'x', price: 1, quantity: 1 }));
    spec(orderDecider)
      .given([])
      .when(place({ items: many }))
      .thenThrows((e) => e.errors?.[0]?.field === 'items');
  });

  it('validates ids, email and expiry after now', () => {
    const err = spec(orderDecider)
      .given([])
      .when(place({ order_id: '', user_id: ' ', user_email: 'x' }))
      .thenThrows('validation_failed');
    assert.deepEqual(
      err.errors?.map((e) => e.field),
      ['order_id', 'user_id', 'user_email'],
    );
    for (const expires_at of [T0, '2024-12-31T00:00:00Z', 'later']) {
      spec(orderDecider)
        .given([])
        .when(place({ expires_at }))
        .thenThrows((e) => e.errors?.[0]?.field === 'expires_at');
    }
  });
});

describe('Order: transitions', () => {
  for (const t of matrix) {
    for (const status of ORDER_STATUSES) {
      const legal = t.from.includes(status);
      it(`${t.name} from ${status}: ${legal ? 'allowed' : 'illegal'}`, () => {
        assert.equal(canTransition(status, t.name), legal);
        assert.equal(allowedTransitions(status).includes(t.name), legal);
        if (legal) {
          spec(orderDecider).given(histories[status]).when(t.command).then([t.then]);
        } else {
          const err = spec(orderDecider)
            .given(histories[status])
            .when(t.command)
            .thenThrows({ kind: 'conflict', code: 'illegal_transition', message: `cannot ${t.verb} an order that is ${status}` });
          assert.deepEqual(err.extra, { order_id: O, status });
        }
      });
    }
    it(`${t.name} an unknown order: not_found`, () => {
      spec(orderDecider).given([]).when(t.command).thenThrows({ kind: 'not_found', message: 'order o-1 not found' });
    });
  }

  it('names the status in the message, e.g. paying a cancelled order', () => {
    spec(orderDecider).given([placed, cancelled]).when(pay).thenThrows({ message: 'cannot pay an order that is cancelled' });
  });
});

describe('Order: rules', () => {
  it('refuses payment from the expiry instant on', () => {
    spec(orderDecider)
      .given([placed])
      .when({ ...pay, now: '2025-01-01T10:14:59.999Z' })
      .then([{ ...paid, data: { ...paid.data, paid_at: '2025-01-01T10:14:59.999Z' } }]);
    const err = spec(orderDecider)
      .given([placed])
      .when({ ...pay, now: EXP })
      .thenThrows({ kind: 'conflict', code: 'order_expired' });
    assert.deepEqual(err.extra, { order_id: O, expires_at: EXP });
    spec(orderDecider)
      .given([placed])
      .when({ ...pay, now: T2 })
      .thenThrows('order_expired');
  });

  it('prefers illegal_transition to order_expired for a non-pending order', () => {
    spec(orderDecider)
      .given([placed, cancelled])
      .when({ ...pay, now: T2 })
      .thenThrows('illegal_transition');
  });

  it('cancel reason: trimmed, 1..500 characters; cancelled_by one of customer/admin/system', () => {
    spec(orderDecider)
      .given([placed])
      .when({ ...cancel, reason: 'r'.repeat(500), cancelled_by: 'admin' })
      .then([{ type: 'OrderCancelled', data: { order_id: O, reason: 'r'.repeat(500), cancelled_by: 'admin', cancelled_at: T1 } }]);
    for (const reason of ['', '   ', 'r'.repeat(501)]) {
      spec(orderDecider)
        .given([placed])
        .when({ ...cancel, reason })
        .thenThrows((e) => e.errors?.[0]?.field === 'reason');
    }
    spec(orderDecider)
      .given([placed])
      .when({ ...cancel, cancelled_by: 'robot' as never })
      .thenThrows((e) => e.errors?.[0]?.field === 'cancelled_by');
  });

  it('tracking number: 1..100 of [A-Za-z0-9-]', () => {
    const ok = 'A'.repeat(100);
    spec(orderDecider)
      .given(histories.paid)
      .when({ ...ship, tracking_number: ok })
      .then([{ ...shipped, data: { ...shipped.data, tracking_number: ok } }]);
    for (const tracking_number of ['', 'A'.repeat(101), 'TRACK 123', 'TRACK_123', '追跡123', 'X\n']) {
      spec(orderDecider)
        .given(histories.paid)
        .when({ ...ship, tracking_number })
        .thenThrows((e) => e.errors?.[0]?.field === 'tracking_number');
    }
  });

  it('shipment failure reason is required', () => {
    spec(orderDecider)
      .given(histories.paid)
      .when({ ...failShipment, reason: '' })
      .thenThrows('validation_failed');
  });
});

describe('Order: ExpireOrder', () => {
  const expire = (now: string): OrderCommand => ({ type: 'ExpireOrder', order_id: O, now });
  const expiredEvent: OrderCancelled = {
    type: 'OrderCancelled',
    data: { order_id: O, reason: ORDER_EXPIRED_REASON, cancelled_by: 'system', cancelled_at: EXP },
  };

  it('cancels a pending order from its expiry instant on', () => {
    spec(orderDecider).given([placed]).when(expire(EXP)).then([expiredEvent]);
    assert.equal(releaseReasonFor(expiredEvent.data), 'expired');
    assert.equal(releaseReasonFor(cancelled.data), 'cancelled');
  });

  it('refuses before the expiry instant', () => {
    spec(orderDecider).given([placed]).when(expire(T1)).thenThrows({ kind: 'conflict', code: 'order_not_expired' });
  });

  it('does nothing once the order left pending (late or repeated timer)', () => {
    for (const status of ORDER_STATUSES.filter((s) => s !== 'pending')) {
      spec(orderDecider).given(histories[status]).when(expire(T2)).then([]);
    }
  });

  it('refuses an unknown order', () => {
    spec(orderDecider).given([]).when(expire(T2)).thenThrows({ kind: 'not_found' });
  });
});

describe('Order: state', () => {
  it('folds the whole life of an order', () => {
    const s = fold(orderDecider, orderDecider.initialState(), histories.delivered);
    assert.deepEqual(s, {
      ...placed.data,
      status: 'delivered',
      paid_at: T1,
      shipped_at: T2,
      tracking_number: 'TRACK-123',
      delivered_at: T2,
      cancelled_at: null,
      cancel_reason: null,
      cancelled_by: null,
      shipment_failed_at: null,
      shipment_failure_reason: null,
    });
    const c = fold(orderDecider, orderDecider.initialState(), histories.cancelled);
    assert.equal(c.status === 'cancelled' && c.cancel_reason, '気が変わった');
    const f = fold(orderDecider, orderDecider.initialState(), histories.shipment_failed);
    assert.equal(f.status === 'shipment_failed' && f.shipment_failure_reason, 'carrier lost it');
    assert.equal(isOrderEventType('OrderShipmentFailed'), true);
    const data: Record<string, unknown> = placed.data;
    assert.ok(data);
  });
});

describe('Order: RefundPayment (the payment reversal of the fulfilment saga and of a paid cancel)', () => {
  const refund: OrderCommand = { type: 'RefundPayment', order_id: O, now: T2 };
  const refunded = (reason: 'cancelled' | 'shipment_failed'): OrderEvent => ({
    type: 'OrderPaymentRefunded',
    data: { order_id: O, amount: 4500, reason, refunded_at: T2 },
  });
  const paidThenCancelled: OrderEvent[] = [placed, paid, cancelled];

  it('refunds the whole amount of an order whose shipment failed, or that was cancelled after payment', () => {
    spec(orderDecider)
      .given(histories.shipment_failed)
      .when(refund)
      .then([refunded('shipment_failed')]);
    spec(orderDecider)
      .given(paidThenCancelled)
      .when(refund)
      .then([refunded('cancelled')]);
    const s = fold(orderDecider, orderDecider.initialState(), [...histories.shipment_failed, refunded('shipment_failed')]);
    assert.deepEqual(s.status === 'shipment_failed' && s.refund, { amount: 4500, reason: 'shipment_failed', refunded_at: T2 });
  });

  it('refunds once: a second refund is a no-op', () => {
    spec(orderDecider)
      .given([...histories.shipment_failed, refunded('shipment_failed')])
      .when(refund)
      .then([]);
  });

  it('refuses when there is no payment to give back', () => {
    for (const status of ['pending', 'paid', 'shipped', 'delivered', 'cancelled'] as const) {
      const err = spec(orderDecider).given(histories[status]).when(refund).thenThrows({ kind: 'conflict', code: 'nothing_to_refund' });
      assert.deepEqual(err.extra, { order_id: O, status });
    }
    spec(orderDecider).given([]).when(refund).thenThrows({ kind: 'not_found' });
    assert.equal(isOrderEventType('OrderPaymentRefunded'), true);
  });
});
