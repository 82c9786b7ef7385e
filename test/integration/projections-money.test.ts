/**
 * Issue 10: a cart worth more than 2^31 yen (99 × three 10,000,000-yen products) used to overflow the integer
 * total of read_carts and freeze its stream. It is projected exactly now (money columns are bigint), and read
 * back exactly through the queries.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import { stream } from '../support/projection.ts';
import { createReadQueries } from '../../src/composition/queries.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase } from './projections-fixtures.ts';

let db: TestDatabase | undefined;
after(async () => db?.drop());

test('a 2,970,000,000-yen cart and order are projected and read back exactly', async () => {
  db = await createTestDatabase();
  const runner = createProjectionRunner({ pool: db.pool });
  const user = uniq('rich');
  const cart = stream('Cart', `cart-${user}`);
  const products = ['a', 'b', 'c'].map((p) => `${user}-${p}`);
  for (const product_id of products) {
    cart.next('ItemAddedToCart', {
      cart_id: `cart-${user}`,
      user_id: user,
      product_id,
      quantity: 99,
      line_quantity: 99,
      price: 10_000_000,
      name: product_id,
    });
  }
  const orderId = `${user}-order`;
  const order = stream('Order', orderId);
  const items = products.map((product_id) => ({ product_id, name: product_id, price: 10_000_000, quantity: 99, subtotal: 990_000_000 }));
  order.next('OrderPlaced', {
    order_id: orderId,
    user_id: user,
    user_email: `${user}@example.com`,
    items,
    total: 2_970_000_000,
    expires_at: '2030-01-01T00:00:00.000Z',
    placed_at: '2026-12-03T09:00:00.000Z',
  });
  order.next('OrderPaid', { order_id: orderId, amount: 2_970_000_000, paid_at: '2026-12-03T09:01:00.000Z' });

  const result = await runner.applyBatch([...cart.events, ...order.events]);
  assert.equal(result.applied, 5);
  const q = createReadQueries({ pool: db.pool });
  assert.equal((await q.getCart(user)).total, 2_970_000_000);
  const projected = await q.getOrder(orderId);
  assert.equal(projected?.total, 2_970_000_000);
  assert.equal(projected?.status, 'paid');
  const { rows } = await db.pool.query<{ revenue: string }>(`SELECT revenue FROM read_daily_sales WHERE day = '2026-12-03'`);
  assert.equal(Number(rows[0]?.revenue), 2_970_000_000);
});
