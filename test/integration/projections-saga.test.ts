/**
 * The read side of the fulfilment saga against a real PostgreSQL: the events of a carrier dispatch, a carrier
 * failure with its compensation, a paid cancel and a manual ship, delivered once in order and then twice and
 * shuffled — the same tables either way, and the figures 001/003 promise: shipment_failed and cancelled paid
 * orders bring no revenue, their stock is back, their refund is shown.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type pg from 'pg';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import { shuffle, stream, tickingClock } from '../support/projection.ts';
import { getOrder, orderStatistics } from '../../src/contexts/orders/queries.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, fakeEventStore, randomBatches, snapshot } from './projections-fixtures.ts';

const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});
const ownDatabase = async (): Promise<pg.Pool> => {
  const db = await createTestDatabase();
  databases.push(db);
  return db.pool;
};

function sagaScenario() {
  const p = uniq('sg');
  const clock = tickingClock('2025-03-01T09:00:00.000Z');
  const all: EventEnvelope[] = [];
  const ids = { user: `${p}-u`, product: `${p}-p`, shipped: `${p}-o1`, failed: `${p}-o2`, cancelled: `${p}-o3`, manual: `${p}-o4` };
  const inventory = stream('Inventory', `inventory-${ids.product}`, clock);
  const inv = (type: string, data: Record<string, unknown>) => all.push(inventory.next(type, { product_id: ids.product, ...data }));
  inv('StockAdded', { quantity: 20, added_at: clock() });

  const paidOrder = (orderId: string, quantity: number) => {
    const order = stream('Order', orderId, clock);
    const shipment = stream('Shipment', `shipment-${orderId}`, clock);
    const o = (type: string, data: Record<string, unknown>) => all.push(order.next(type, { order_id: orderId, ...data }));
    const s = (type: string, data: Record<string, unknown>) =>
      all.push(shipment.next(type, { shipment_id: `shipment-${orderId}`, order_id: orderId, ...data }));
    const total = 1000 * quantity;
    o('OrderPlaced', {
      user_id: ids.user,
      user_email: `${p}@example.com`,
      items: [{ product_id: ids.product, name: '品', price: 1000, quantity, subtotal: total }],
      total,
      expires_at: '2025-03-01T10:00:00.000Z',
      placed_at: clock(),
    });
    inv('StockReserved', { reservation_id: `r-${orderId}`, order_id: orderId, quantity, expires_at: '2025-03-01T10:00:00.000Z' });
    o('OrderPaid', { amount: total, paid_at: clock() });
    inv('StockDeducted', { reservation_id: `r-${orderId}`, order_id: orderId, quantity });
    s('ShipmentInitiated', { initiated_at: clock() });
    s('ShipmentRequested', { carrier: 'simulated', carrier_reference: `SIM-${orderId}`, requested_at: clock() });
    return { o, s, total, quantity };
  };

  const shipped = paidOrder(ids.shipped, 2);
  shipped.s('ShipmentCompleted', { tracking_number: 'SIM1111-2222-3333', completed_at: clock(), dispatched_by: 'carrier' });
  shipped.o('OrderShipped', { tracking_number: 'SIM1111-2222-3333', shipped_at: clock() });

  const failed = paidOrder(ids.failed, 3);
  failed.s('ShipmentFailed', { reason: '輸送中の破損', failed_at: clock() });
  failed.o('OrderShipmentFailed', { reason: '輸送中の破損', failed_at: clock() });
  failed.o('OrderPaymentRefunded', { amount: failed.total, reason: 'shipment_failed', refunded_at: clock() });
  inv('StockReturned', { order_id: ids.failed, quantity: 3, reason: 'shipment_failed', returned_at: clock() });

  const cancelled = paidOrder(ids.cancelled, 4);
  cancelled.o('OrderCancelled', { reason: '気が変わった', cancelled_by: 'customer', cancelled_at: clock() });
  cancelled.o('OrderPaymentRefunded', { amount: cancelled.total, reason: 'cancelled', refunded_at: clock() });
  cancelled.s('ShipmentCancelled', { reason: 'order cancelled before dispatch', cancelled_at: clock() });
  inv('StockReturned', { order_id: ids.cancelled, quantity: 4, reason: 'cancelled', returned_at: clock() });

  const manual = paidOrder(ids.manual, 1);
  manual.o('OrderShipped', { tracking_number: 'BYHAND-1', shipped_at: clock() });
  manual.s('ShipmentCompleted', { tracking_number: 'BYHAND-1', completed_at: clock(), dispatched_by: 'admin' });

  return { events: all, ids, revenue: shipped.total + manual.total };
}

test('dispatch, compensation, paid cancel and manual ship: orders, shipments, stock and revenue as the saga left them', async () => {
  const { events, ids, revenue } = sagaScenario();
  const pool = await ownDatabase();
  const runner = createProjectionRunner({ pool });
  for (const event of events) await runner.applyBatch([event]);

  const failed = await getOrder(pool, ids.failed);
  assert.deepEqual(
    [failed?.status, failed?.reason, failed?.refunded_amount, failed?.shipment?.status, failed?.shipment?.reason],
    ['shipment_failed', '輸送中の破損', 3000, 'failed', '輸送中の破損'],
  );
  assert.equal(failed?.shipment?.carrier, 'simulated');
  assert.equal(failed?.fulfilment, null, 'the saga log is the worker’s, not the projector’s');
  const cancelled = await getOrder(pool, ids.cancelled);
  assert.deepEqual(
    [cancelled?.status, cancelled?.refunded_amount, cancelled?.shipment?.status, cancelled?.shipment?.cancelled_at !== null],
    ['cancelled', 4000, 'cancelled', true],
  );
  const shipped = await getOrder(pool, ids.shipped);
  assert.deepEqual(
    [
      shipped?.status,
      shipped?.tracking_number,
      shipped?.shipment?.dispatched_by,
      shipped?.shipment?.carrier_reference,
      shipped?.refunded_amount,
    ],
    ['shipped', 'SIM1111-2222-3333', 'carrier', `SIM-${ids.shipped}`, null],
  );
  assert.deepEqual(
    [(await getOrder(pool, ids.manual))?.shipment?.dispatched_by, (await getOrder(pool, ids.manual))?.shipment?.status],
    ['admin', 'completed'],
  );

  const inv = (await pool.query('SELECT total_quantity, reserved_quantity FROM read_inventory WHERE product_id = $1', [ids.product]))
    .rows[0];
  assert.deepEqual(inv, { total_quantity: 20 - 2 - 1, reserved_quantity: 0 }, 'only the shipped units left the shelf');

  const stats = await orderStatistics(pool);
  assert.deepEqual([stats.shipped_count, stats.shipment_failed_count, stats.cancelled_count, stats.total_revenue], [2, 1, 1, revenue]);
  const one = async (sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows[0];
  assert.deepEqual(
    await one('SELECT paid_order_count, total_spent::int AS ltv FROM read_customer_summary WHERE user_id = $1', [ids.user]),
    { paid_order_count: 2, ltv: revenue },
  );
  assert.deepEqual(
    await one('SELECT units_sold, revenue::int, order_count FROM read_product_popularity WHERE product_id = $1', [ids.product]),
    { units_sold: 3, revenue, order_count: 2 },
  );
  assert.deepEqual(await one('SELECT sum(revenue)::int AS revenue, sum(order_count)::int AS orders FROM read_daily_sales'), {
    revenue,
    orders: 2,
  });
});

test('the saga events delivered twice and shuffled give the same tables as in order once', async () => {
  const { events } = sagaScenario();
  const reference = await ownDatabase();
  const inOrder = createProjectionRunner({ pool: reference });
  for (const event of events) await inOrder.applyBatch([event]);
  const expected = await snapshot(reference);
  for (const seed of [3, 4]) {
    const pool = await ownDatabase();
    const runner = createProjectionRunner({ pool, eventStore: fakeEventStore(events) });
    for (const batch of randomBatches(shuffle([...events, ...events], seed), seed)) await runner.applyBatch(batch);
    assert.deepEqual(await snapshot(pool), expected, `seed ${seed}`);
  }
});
