/**
 * The projection runner against a real PostgreSQL: exactly-once in effect under duplicate, out-of-order,
 * gapped and concurrent delivery.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { createProjectionRunner, ProjectionGapError } from '../../src/composition/projections/runner.ts';
import { shuffle, stream } from '../support/projection.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, fakeEventStore, randomBatches, sharedDatabase, shopScenario, snapshot } from './projections-fixtures.ts';

let shared: pg.Pool;
const databases: TestDatabase[] = [];
before(async () => {
  shared = await sharedDatabase();
});
after(async () => {
  await shared.end();
  await Promise.all(databases.map((d) => d.drop()));
});
const ownDatabase = async () => {
  const db = await createTestDatabase();
  databases.push(db);
  return db.pool;
};

/** The reference: every event exactly once, one per batch, in the order it happened. */
async function inOrderOnce(events: readonly EventEnvelope[]) {
  const pool = await ownDatabase();
  const runner = createProjectionRunner({ pool });
  for (const event of events) await runner.applyBatch([event]);
  return { pool, snap: await snapshot(pool) };
}

test('in-order delivery builds the read model the scenario implies', async () => {
  const { events, ids } = shopScenario();
  const { pool } = await inOrderOnce(events);
  const one = async (sql: string, params: unknown[]) => (await pool.query(sql, params)).rows[0];

  assert.deepEqual(
    await one(
      'SELECT total_quantity, reserved_quantity, available_quantity, jsonb_array_length(reservations) AS n FROM read_inventory WHERE product_id = $1',
      [ids.tshirt],
    ),
    {
      total_quantity: 7,
      reserved_quantity: 1,
      available_quantity: 6,
      n: 1,
    },
  );
  assert.deepEqual(await one('SELECT total_quantity, reserved_quantity FROM read_inventory WHERE product_id = $1', [ids.socks]), {
    total_quantity: 3,
    reserved_quantity: 0,
  });
  assert.deepEqual(await one('SELECT items, total FROM read_carts WHERE user_id = $1', [ids.customer]), { items: [], total: 0 });
  const statuses = (await pool.query('SELECT order_id, status, reason, tracking_number FROM read_orders ORDER BY order_id')).rows;
  assert.deepEqual(statuses, [
    { order_id: ids.orders.delivered, status: 'delivered', reason: null, tracking_number: 'TRK-1' },
    { order_id: ids.orders.cancelled, status: 'cancelled', reason: '気が変わった', tracking_number: null },
    { order_id: ids.orders.failed, status: 'shipment_failed', reason: 'carrier lost the parcel', tracking_number: null },
    { order_id: ids.orders.paid, status: 'paid', reason: null, tracking_number: null },
  ]);
  assert.deepEqual(await one('SELECT price, deleted FROM read_products WHERE product_id = $1', [ids.socks]), {
    price: 1500,
    deleted: false,
  });
  assert.deepEqual(await one('SELECT deleted FROM read_products WHERE product_id = $1', [ids.gone]), { deleted: true });
  assert.deepEqual(await one('SELECT status, tracking_number FROM read_shipments WHERE order_id = $1', [ids.orders.delivered]), {
    status: 'completed',
    tracking_number: 'TRK-1',
  });

  // Marketing: order 1 (3×3000 + 2×1500 = 12000) + order 4 (3000); order 3's payment was reversed.
  assert.deepEqual(
    await one('SELECT order_count, paid_order_count, total_spent::int AS ltv FROM read_customer_summary WHERE user_id = $1', [
      ids.customer,
    ]),
    {
      order_count: 4,
      paid_order_count: 2,
      ltv: 15000,
    },
  );
  assert.equal(
    (await pool.query('SELECT 1 FROM read_customer_summary WHERE user_id = $1', [ids.admin])).rowCount,
    0,
    'admins are not customers',
  );
  assert.deepEqual(
    (await pool.query('SELECT product_id, units_sold, revenue::int, order_count FROM read_product_popularity ORDER BY product_id')).rows,
    [
      { product_id: ids.socks, units_sold: 2, revenue: 3000, order_count: 1 },
      { product_id: ids.tshirt, units_sold: 4, revenue: 12000, order_count: 2 },
    ],
  );
  assert.deepEqual(await one('SELECT sum(order_count)::int AS orders, sum(revenue)::int AS revenue FROM read_daily_sales', []), {
    orders: 2,
    revenue: 15000,
  });
  assert.deepEqual(await one(`SELECT sum(total)::int AS revenue FROM read_orders WHERE status IN ('paid', 'shipped', 'delivered')`, []), {
    revenue: 15000,
  });

  // Every event is logged, and no secret reached the read side.
  assert.equal((await one('SELECT count(*)::int AS n FROM read_event_log', [])).n, events.length);
  assert.equal((await one(`SELECT count(*)::int AS n FROM read_event_log WHERE data::jsonb ? 'password_hash'`, [])).n, 0);
  const userColumns = (await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'read_users'`)).rows.map(
    (r) => r.column_name,
  );
  assert.ok(!userColumns.some((c: string) => /password/.test(c)), `read_users columns: ${userColumns}`);
  assert.equal(
    (await one('SELECT version FROM projection_streams WHERE aggregate_id = $1', [ids.orders.paid])).version,
    3,
    'the unknown event advanced the stream',
  );
});

test('every event delivered twice and out of order gives the same tables as in order once', async () => {
  const { events } = shopScenario();
  const reference = await inOrderOnce(events);
  for (const seed of [1, 2]) {
    const pool = await ownDatabase();
    const store = fakeEventStore(events);
    const runner = createProjectionRunner({ pool, eventStore: store });
    const totals = { applied: 0, repaired: 0, duplicates: 0 };
    for (const batch of randomBatches(shuffle([...events, ...events], seed), seed)) add(totals, await runner.applyBatch(batch));
    assert.ok(totals.repaired > 0, 'shuffled delivery must have needed gap repair');
    assert.equal(totals.applied + totals.repaired, events.length, 'every event applied exactly once');
    assert.equal(totals.applied + totals.duplicates, 2 * events.length);
    assert.deepEqual(await snapshot(pool), reference.snap, `seed ${seed}`);
  }
});

test('a whole shuffled, duplicated history in one batch needs no event store', async () => {
  const { events } = shopScenario();
  const reference = await inOrderOnce(events);
  const pool = await ownDatabase();
  const result = await createProjectionRunner({ pool }).applyBatch(shuffle([...events, ...events.slice(0, 20)], 5));
  assert.deepEqual(
    { applied: result.applied, duplicates: result.duplicates, repaired: result.repaired },
    { applied: events.length, duplicates: 20, repaired: 0 },
  );
  assert.deepEqual(await snapshot(pool), reference.snap);
});

test('two runners applying the same events concurrently converge to the in-order result', async () => {
  const { events } = shopScenario();
  const reference = await inOrderOnce(events);
  const pool = await ownDatabase();
  const store = fakeEventStore(events);
  const logs: string[] = [];
  // Separate runners as separate projector processes would be; they share nothing but the database.
  const runners = [1, 2, 3].map(() => createProjectionRunner({ pool, eventStore: store, log: (l) => logs.push(l) }));
  const totals = { applied: 0, repaired: 0, duplicates: 0 };
  await Promise.all(
    runners.map(async (runner, i) => {
      for (const batch of randomBatches(shuffle(events, 10 + i), 20 + i, 8)) add(totals, await runner.applyBatch(batch));
    }),
  );
  // Across all runners each event took effect once: the stream locks serialised every overlap.
  assert.equal(totals.applied + totals.repaired, events.length);
  assert.equal(totals.applied + totals.duplicates, 3 * events.length);
  assert.deepEqual(await snapshot(pool), reference.snap);

  // The same batches at the same instant: maximal contention on stream locks and on the marketing rows.
  const { events: more } = shopScenario();
  const other = await createTestDatabase();
  databases.push(other);
  const pair = [1, 2].map(() => createProjectionRunner({ pool: other.pool, log: (l) => logs.push(l) }));
  const race = { applied: 0, repaired: 0, duplicates: 0 };
  for (const batch of randomBatches(more, 3, 10)) {
    for (const r of await Promise.all(pair.map((runner) => runner.applyBatch(batch)))) add(race, r);
  }
  assert.equal(race.applied, more.length);
  assert.equal(race.duplicates, more.length);
  assert.deepEqual(await snapshot(other.pool), (await inOrderOnce(more)).snap);
  assert.deepEqual(
    logs.filter((l) => /aborted/.test(l)),
    [],
    'sorted lock order: no deadlocks to retry',
  );
});

test('a gap is repaired from the event store, in order, before the delivered event', async () => {
  const orderId = uniq('order');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', { ...placedData(uniq('user')), order_id: orderId });
  order.next('OrderPaid', { order_id: orderId, paid_at: '2025-01-15T10:00:00.000Z', amount: 1000 });
  order.next('OrderShipped', { order_id: orderId, tracking_number: 'TRK-9', shipped_at: '2025-01-15T11:00:00.000Z' });
  const [v1, , v3] = order.events;
  const store = fakeEventStore(order.events);
  const runner = createProjectionRunner({ pool: shared, eventStore: store });

  await runner.applyBatch([v1!]);
  const result = await runner.applyBatch([v3!]);
  assert.deepEqual(store.calls, [{ aggregateId: orderId, afterVersion: 1, toVersion: 3 }]);
  assert.deepEqual({ applied: result.applied, repaired: result.repaired }, { applied: 1, repaired: 1 });
  const row = (
    await shared.query('SELECT status, paid_at IS NOT NULL AS paid, tracking_number, version FROM read_orders WHERE order_id = $1', [
      orderId,
    ])
  ).rows[0];
  assert.deepEqual(row, { status: 'shipped', paid: true, tracking_number: 'TRK-9', version: 3 });
  const logged = (await shared.query('SELECT version FROM read_event_log WHERE aggregate_id = $1 ORDER BY version', [orderId])).rows.map(
    (r) => r.version,
  );
  assert.deepEqual(logged, [1, 2, 3]);
});

test('a gap that cannot be repaired fails the whole batch and changes nothing', async () => {
  const orderId = uniq('order');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', { ...placedData(uniq('user')), order_id: orderId });
  order.next('OrderPaid', { order_id: orderId, paid_at: '2025-01-15T10:00:00.000Z', amount: 1000 });
  order.next('OrderDelivered', { order_id: orderId, delivered_at: '2025-01-15T12:00:00.000Z' });
  const categoryId = uniq('cat');
  const bystander = stream('Category', categoryId);
  bystander.next('CategoryCreated', { category_id: categoryId, name: 'bystander' });

  await createProjectionRunner({ pool: shared }).applyBatch([order.events[0]!]);
  const noStore = createProjectionRunner({ pool: shared });
  await assert.rejects(noStore.applyBatch([bystander.events[0]!, order.events[2]!]), (err: unknown) => {
    assert.ok(err instanceof ProjectionGapError);
    assert.deepEqual([err.aggregateId, err.storedVersion, err.receivedVersion], [orderId, 1, 3]);
    return true;
  });
  const incomplete = createProjectionRunner({ pool: shared, eventStore: fakeEventStore([order.events[0]!]) });
  await assert.rejects(incomplete.applyBatch([order.events[2]!]), /event store returned versions \[\]/);

  const count = async (sql: string, id: string) => (await shared.query(sql, [id])).rowCount;
  assert.equal(await count('SELECT 1 FROM read_categories WHERE category_id = $1', categoryId), 0, 'the batch was rolled back as a whole');
  assert.equal(await count(`SELECT 1 FROM read_orders WHERE order_id = $1 AND status = 'pending' AND version = 1`, orderId), 1);
  assert.equal((await shared.query('SELECT version FROM projection_streams WHERE aggregate_id = $1', [orderId])).rows[0].version, 1);
});

test('unknown event types are ignored but logged, and still advance the stream', async () => {
  const orderId = uniq('order');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', { ...placedData(uniq('user')), order_id: orderId });
  order.next('OrderGiftWrapped', { order_id: orderId, paper: 'washi' });
  order.next('OrderPaid', { order_id: orderId, paid_at: '2025-01-15T10:00:00.000Z', amount: 1000 });
  const claim = stream('User', uniq('claim')); // an aggregate type the read side has no table for
  claim.next('EmailClaimed', { email: 'x@example.com', user_id: 'u' });
  const runner = createProjectionRunner({ pool: shared });

  const result = await runner.applyBatch([...order.events, ...claim.events]);
  assert.deepEqual({ applied: result.applied, ignored: result.ignored }, { applied: 4, ignored: 2 });
  const row = (await shared.query('SELECT status, version FROM read_orders WHERE order_id = $1', [orderId])).rows[0];
  assert.deepEqual(row, { status: 'paid', version: 3 });
  const logged = await shared.query('SELECT event_type FROM read_event_log WHERE aggregate_id = ANY($1) ORDER BY aggregate_id, version', [
    [orderId, claim.events[0]!.aggregate_id],
  ]);
  assert.equal(logged.rowCount, 4);
});

test('aggregating tables are not double counted on redelivery, even if the stream position is lost', async () => {
  const userId = uniq('user');
  const orderId = uniq('order');
  const productId = uniq('product');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', { ...placedData(userId, productId), order_id: orderId });
  order.next('OrderPaid', { order_id: orderId, paid_at: '2025-01-15T10:00:00.000Z', amount: 2000 });
  const runner = createProjectionRunner({ pool: shared });
  const figures = async () => ({
    customer: (
      await shared.query('SELECT order_count, paid_order_count, total_spent::int AS spent FROM read_customer_summary WHERE user_id = $1', [
        userId,
      ])
    ).rows[0],
    product: (
      await shared.query('SELECT units_sold, revenue::int AS revenue, order_count FROM read_product_popularity WHERE product_id = $1', [
        productId,
      ])
    ).rows[0],
  });

  await runner.applyBatch(order.events);
  const once = await figures();
  assert.deepEqual(once, {
    customer: { order_count: 1, paid_order_count: 1, spent: 2000 },
    product: { units_sold: 2, revenue: 2000, order_count: 1 },
  });
  for (let i = 0; i < 3; i++) {
    const r = await runner.applyBatch([...order.events].reverse());
    assert.equal(r.duplicates, 2);
  }
  assert.deepEqual(await figures(), once);
  // Belt and braces: with the stream guard gone, processed_events alone still stops a second count.
  await shared.query('DELETE FROM projection_streams WHERE aggregate_id = $1', [orderId]);
  const replay = await runner.applyBatch(order.events);
  assert.equal(replay.applied, 2);
  assert.deepEqual(await figures(), once);
});

test('a malformed event fails its batch with a message naming the event and field', async () => {
  const orderId = uniq('order');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', { ...placedData(uniq('user')), order_id: orderId, total: 'lots' });
  await assert.rejects(createProjectionRunner({ pool: shared }).applyBatch(order.events), /OrderPlaced .*data\.total must be an integer/);
  assert.equal((await shared.query('SELECT 1 FROM projection_streams WHERE aggregate_id = $1', [orderId])).rowCount, 0);
});

function add(
  totals: { applied: number; repaired: number; duplicates: number },
  r: { applied: number; repaired: number; duplicates: number },
) {
  totals.applied += r.applied;
  totals.repaired += r.repaired;
  totals.duplicates += r.duplicates;
}

function placedData(userId: string, productId = uniq('product')) {
  return {
    order_id: '',
    user_id: userId,
    user_email: `${userId}@example.com`,
    items: [{ product_id: productId, name: 'Mug', price: 1000, quantity: 2, subtotal: 2000 }],
    total: 2000,
    expires_at: '2030-01-01T00:00:00.000Z',
    placed_at: '2025-01-15T09:00:00.000Z',
  };
}
