import { test } from 'node:test';
import * as marketing from '../reporting/marketing.ts';
import { orders } from './projection.ts';
import { createSalesDeltas, sortedDeltas } from '../reporting/sales.ts';
import { envelope, foldRows, given, known } from '../../../test/support/projection.ts';
import assert from 'node:assert/strict';

const o = (type: string, data: Record<string, unknown>, v: number) => envelope(type, { order_id: 'o1', ...data }, v, 'o1');
const placed = o(
  'OrderPlaced',
  {
    user_id: 'u1',
    user_email: 'u1@example.com',
    items: [{ product_id: 'p', name: 'P', price: 10_000_000, quantity: 99, subtotal: 990_000_000 }],
    total: 2_970_000_000,
    expires_at: '2025-01-15T09:15:00.000Z',
    placed_at: '2025-01-15T09:00:00.000Z',
  },
  1,
);
const paid = o('OrderPaid', { amount: 2_970_000_000, paid_at: '2025-01-15T09:05:00.000Z' }, 2);

test('an order is placed pending, with totals beyond 2^31 kept exactly', () => {
  given(orders, []).when(placed).then({ status: 'pending', total: 2_970_000_000, version: 1 });
});

test('transitions follow the events', () => {
  given(orders, [placed]).when(paid).then({ status: 'paid', paid_at: '2025-01-15T09:05:00.000Z', version: 2 });
  given(orders, [placed, paid])
    .when(o('OrderCancelled', { reason: '', cancelled_by: 'customer', cancelled_at: '2025-01-15T09:06:00.000Z' }, 3))
    .then({ status: 'cancelled', reason: '', cancelled_by: 'customer' });
  given(orders, [placed, paid])
    .when(o('OrderPaymentRefunded', { amount: 5, reason: 'cancelled', refunded_at: '2025-01-15T09:07:00.000Z' }, 3))
    .then({ status: 'paid', refunded_amount: 5 });
});

test('a transition of an order never placed leaves no row', () => {
  given(orders, []).when(paid).then(undefined);
});

test('marketing counts a payment against the order as it was before it, and reverses it on cancellation', () => {
  const rows = foldRows(orders, [placed]);
  const acc = createSalesDeltas();
  marketing.collect(known(paid), rows.get('o1'))!(acc);
  const afterPay = foldRows(orders, [placed, paid]);
  marketing.collect(known(o('OrderShipmentFailed', { reason: 'lost', failed_at: '2025-01-16T00:00:00.000Z' }, 3)), afterPay.get('o1'))!(
    acc,
  );
  const { days, customers } = sortedDeltas(acc);
  assert.deepEqual(days, [{ day: '2025-01-15', order_count: 0, revenue: 0 }]);
  assert.equal(customers[0]?.total_spent, 0);
  // A second payment of a paid order is not a sale.
  assert.equal(marketing.collect(known(paid), afterPay.get('o1')), undefined);
});
