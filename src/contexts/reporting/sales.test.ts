import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSalesDeltas, noteCustomer, notePlacedOrder, noteSale, sortedDeltas, utcDay } from './sales.ts';

const sale = {
  user_id: 'u1',
  total: 3500,
  paid_at: '2025-01-15T23:30:00.000+09:00',
  items: [
    { product_id: 'p2', name: 'Shirt', quantity: 2, subtotal: 3000 },
    { product_id: 'p1', name: 'Socks', quantity: 1, subtotal: 500 },
  ],
};

test('utcDay buckets by the UTC calendar day', () => {
  assert.equal(utcDay('2025-01-15T23:30:00.000+09:00'), '2025-01-15');
  assert.equal(utcDay('2025-01-16T08:59:59.999+09:00'), '2025-01-15');
  assert.equal(utcDay('2025-01-16T09:00:00.000+09:00'), '2025-01-16');
});

test('a sale and its reversal cancel out everywhere, and deltas come out in key order', () => {
  const acc = createSalesDeltas();
  notePlacedOrder(acc, { user_id: 'u1', user_email: 'u1@example.com', placed_at: '2025-01-15T10:00:00.000Z' });
  noteSale(acc, sale, 1);
  const paid = sortedDeltas(acc);
  assert.deepEqual(
    paid.products.map((p) => [p.product_id, p.units_sold, p.revenue, p.order_count]),
    [
      ['p1', 1, 500, 1],
      ['p2', 2, 3000, 1],
    ],
  );
  assert.deepEqual(paid.days, [{ day: '2025-01-15', order_count: 1, revenue: 3500 }]);
  assert.deepEqual(paid.customers[0], {
    user_id: 'u1',
    email: 'u1@example.com',
    name: null,
    order_count: 1,
    paid_order_count: 1,
    total_spent: 3500,
    last_order_at: '2025-01-15T10:00:00.000Z',
  });

  noteSale(acc, sale, -1);
  const reversed = sortedDeltas(acc);
  assert.deepEqual(reversed.days, [{ day: '2025-01-15', order_count: 0, revenue: 0 }]);
  assert.ok(reversed.products.every((p) => p.units_sold === 0 && p.revenue === 0 && p.order_count === 0));
  assert.equal(reversed.customers[0]!.total_spent, 0);
  assert.equal(reversed.customers[0]!.order_count, 1, 'the order was still placed');
});

test('two lines of one product count as one order for that product; last_order_at keeps the latest', () => {
  const acc = createSalesDeltas();
  noteSale(acc, { ...sale, items: [sale.items[0]!, { ...sale.items[0]!, quantity: 1, subtotal: 1500 }] }, 1);
  assert.deepEqual(
    sortedDeltas(acc).products.map((p) => [p.units_sold, p.order_count]),
    [[3, 1]],
  );
  notePlacedOrder(acc, { user_id: 'u1', user_email: 'e', placed_at: '2025-01-15T10:00:00.000Z' });
  notePlacedOrder(acc, { user_id: 'u1', user_email: 'e', placed_at: '2025-01-14T10:00:00.000Z' });
  noteCustomer(acc, 'u1', { name: 'Hanako' });
  const c = sortedDeltas(acc).customers[0]!;
  assert.deepEqual([c.last_order_at, c.order_count, c.name], ['2025-01-15T10:00:00.000Z', 2, 'Hanako']);
});
