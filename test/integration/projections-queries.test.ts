/**
 * The API's read functions against a real PostgreSQL fed by the projection runner: paging, search (Japanese
 * and English), statistics and marketing figures, and read-your-writes waiting.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import type { ProjectionRunner } from '../../src/composition/projections/runner.ts';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import { stream, tickingClock } from '../support/projection.ts';
import type { ReadQueries } from '../../src/composition/queries.ts';
import { createReadQueries } from '../../src/composition/queries.ts';
import { AppError } from '../../src/platform/shared/errors.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, shopScenario } from './projections-fixtures.ts';

// One database for this file: tests here use fresh ids, and the ones that need exact global numbers get their own.
let db: TestDatabase;
let runner: ProjectionRunner;
let q: ReadQueries;
const extra: TestDatabase[] = [];
before(async () => {
  db = await createTestDatabase();
  runner = createProjectionRunner({ pool: db.pool });
  q = createReadQueries({ pool: db.pool });
});
after(async () => {
  await Promise.all([db, ...extra].map((d) => d.drop()));
});

const isValidationError = (err: unknown) => err instanceof AppError && err.kind === 'validation';

async function createCategory(name = uniq('cat')): Promise<string> {
  const id = uniq('cat');
  await runner.applyBatch([stream('Category', id).next('CategoryCreated', { category_id: id, name })]);
  return id;
}

async function createProducts(
  categoryId: string | null,
  products: Array<{ name: string; description?: string; created_at?: string; stock?: number }>,
): Promise<string[]> {
  const events = products.flatMap((p) => {
    const id = uniq('prod');
    const s = stream('Product', id);
    const createdAt = p.created_at ?? new Date().toISOString();
    s.next('ProductCreated', {
      product_id: id,
      name: p.name,
      description: p.description ?? '',
      price: 1000,
      category_id: categoryId,
      created_at: createdAt,
    });
    if (p.stock) s.next('StockAdded', { product_id: id, quantity: p.stock, added_at: createdAt });
    return s.events;
  });
  await runner.applyBatch(events);
  return [...new Set(events.map((e) => e.aggregate_id))];
}

test('product listing pages are stable and complete under ties, inserts and deletes', async () => {
  const category = await createCategory();
  // 25 products, three at a time sharing one created_at: the id must break the ties.
  const base = Date.parse('2025-02-01T00:00:00.000Z');
  const ids = await createProducts(
    category,
    Array.from({ length: 25 }, (_, i) => ({ name: `item ${i}`, created_at: new Date(base + Math.floor(i / 3) * 1000).toISOString() })),
  );
  const expected = (
    await db.pool.query('SELECT product_id FROM read_products WHERE category_id = $1 ORDER BY created_at DESC, product_id DESC', [category])
  ).rows.map((r) => r.product_id);
  assert.equal(expected.length, 25);

  const seen: string[] = [];
  let page = await q.listProducts({ category, limit: 7 });
  seen.push(...page.items.map((p) => p.id));
  // Meanwhile: three newer products appear and one not yet served is deleted.
  await createProducts(category, [{ name: 'late 1' }, { name: 'late 2' }, { name: 'late 3' }]);
  const victim = expected[20]!;
  await runner.applyBatch([
    { ...stream('Product', victim).next('ProductDeleted', { product_id: victim, deleted_at: new Date().toISOString() }), version: 2 },
  ]);
  let pages = 1;
  while (page.next_cursor) {
    page = await q.listProducts({ category, limit: 7, cursor: page.next_cursor });
    seen.push(...page.items.map((p) => p.id));
    pages++;
  }
  assert.deepEqual(
    seen,
    expected.filter((id) => id !== victim),
  );
  assert.equal(pages, 4);
  assert.ok(ids.every((id) => id === victim || seen.includes(id)));

  await assert.rejects(q.listProducts({ cursor: 'garbage' }), isValidationError);
  const ordersCursor = (await q.listOrders({ limit: 1 })).next_cursor;
  if (ordersCursor) await assert.rejects(q.listProducts({ cursor: ordersCursor }), isValidationError);
  await assert.rejects(q.listProducts({ limit: 0 }), isValidationError);
});

test('search finds Japanese by substring and English by word, with every term required', async () => {
  const categoryName = `Apparel ${uniq('c')}`;
  const category = await createCategory(categoryName);
  const [tshirt, socks, denim] = await createProducts(category, [
    { name: '綿100%のTシャツ', description: 'やわらかい肌ざわり' },
    { name: 'Organic Cotton Socks', description: 'Warm and soft' },
    { name: 'デニムパンツ', description: 'ストレッチ素材' },
  ]);
  const search = async (text: string) => (await q.listProducts({ q: text, category })).items.map((p) => p.id);

  assert.deepEqual(await search('Tシャツ'), [tshirt]);
  assert.deepEqual(await search('ｼｬﾂ'), [tshirt], 'half-width katakana');
  assert.deepEqual(await search('Ｔシャツ'), [tshirt], 'full-width latin');
  assert.deepEqual(await search('綿'), [tshirt], 'a single kanji');
  assert.deepEqual(await search('肌ざわり'), [tshirt], 'in the description');
  assert.deepEqual(await search('100%'), [tshirt]);
  assert.deepEqual(await search('10_'), [], 'LIKE wildcards in the query are literal');
  assert.deepEqual(await search('cotton'), [socks]);
  assert.deepEqual(await search('COTTON socks'), [socks]);
  assert.deepEqual(await search('cotton\u3000Tシャツ'), [], 'all terms must match');
  assert.deepEqual(await search('ズボン'), []);
  assert.deepEqual(
    (await q.listProducts({ category: categoryName.toUpperCase() })).items.map((p) => p.id).sort(),
    [tshirt, socks, denim].sort(),
    'category by name',
  );

  // The trigram index, not a scan, answers a Japanese substring (needs a UTF-8 ctype, see init.sql).
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL enable_seqscan = off');
    const plan = await client.query(`EXPLAIN SELECT product_id FROM read_products WHERE search_text LIKE '%tシャツ%'`);
    assert.match(plan.rows.map((r) => r['QUERY PLAN']).join('\n'), /read_products_search_trgm/);
    assert.ok((await client.query(`SELECT show_trgm('Tシャツ') AS t`)).rows[0].t.length > 0, 'kana must produce trigrams');
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});

test('a product shows its category and stock; a deleted one is gone unless asked for', async () => {
  const category = await createCategory('帽子');
  const [id] = await createProducts(category, [{ name: 'Cap', stock: 4 }]);
  const product = await q.getProduct(id!);
  assert.equal(product?.category_name, '帽子');
  // The row's version is the last product event's, not the stock's (they share the stream here).
  assert.deepEqual([product?.stock, product?.total_quantity, product?.available_quantity, product?.version], [4, 4, 4, 1]);
  assert.equal(await q.getProduct(uniq('nope')), null);
  await runner.applyBatch([
    { ...stream('Product', id!).next('ProductDeleted', { product_id: id, deleted_at: new Date().toISOString() }), version: 3 },
  ]);
  assert.equal(await q.getProduct(id!), null);
  assert.equal((await q.getProduct(id!, { includeDeleted: true }))?.deleted, true);
  assert.ok((await q.listCategories()).some((c) => c.id === category && c.name === '帽子'));
});

test('statistics, marketing, orders, cart, inventory and the event log report the scenario exactly', async () => {
  const own = await createTestDatabase();
  extra.push(own);
  const { events, ids } = shopScenario({ clock: tickingClock(new Date(Date.now() - 600_000).toISOString()) });
  await createProjectionRunner({ pool: own.pool }).applyBatch(events);
  const r = createReadQueries({ pool: own.pool });

  assert.deepEqual(await r.orderStatistics(), {
    total_count: 4,
    pending_count: 0,
    paid_count: 1,
    shipped_count: 0,
    delivered_count: 1,
    cancelled_count: 1,
    shipment_failed_count: 1,
    total_revenue: 15000,
  });
  assert.deepEqual(await r.marketingOverview(), {
    customer_count: 1,
    paying_customer_count: 1,
    order_count: 4,
    paid_order_count: 2,
    total_revenue: 15000,
    average_order_value: 7500,
  });
  const [customer] = await r.marketingCustomers();
  assert.deepEqual(
    { ...customer, last_order_at: typeof customer?.last_order_at },
    {
      user_id: ids.customer,
      email: `${ids.customer.replace(/-user$/, '')}@example.com`,
      name: '山田花子',
      order_count: 4,
      paid_order_count: 2,
      total_spent: 15000,
      last_order_at: 'string',
    },
  );
  assert.deepEqual(await r.marketingProducts(), [
    { product_id: ids.tshirt, name: '綿100%のTシャツ', units_sold: 4, revenue: 12000, order_count: 2 },
    { product_id: ids.socks, name: 'Wool socks', units_sold: 2, revenue: 3000, order_count: 1 },
  ]);
  const daily = await r.marketingDaily({ days: 3 });
  assert.equal(daily.length, 3);
  assert.equal(daily.at(-1)!.day, new Date().toISOString().slice(0, 10));
  assert.deepEqual([daily.reduce((n, d) => n + d.revenue, 0), daily.reduce((n, d) => n + d.order_count, 0)], [15000, 2]);

  const all = await r.listOrders({ userId: ids.customer, limit: 3 });
  assert.deepEqual(
    all.items.map((o) => o.order_id),
    [ids.orders.paid, ids.orders.failed, ids.orders.cancelled],
  );
  const rest = await r.listOrders({ userId: ids.customer, limit: 3, cursor: all.next_cursor! });
  assert.deepEqual([rest.items.map((o) => o.order_id), rest.next_cursor], [[ids.orders.delivered], null]);
  assert.deepEqual(
    (await r.listOrders({ status: 'shipment_failed' })).items.map((o) => o.order_id),
    [ids.orders.failed],
  );
  assert.equal((await r.listOrders({ userId: uniq('stranger') })).items.length, 0);
  await assert.rejects(r.listOrders({ status: 'lost' }), isValidationError);
  const delivered = await r.getOrder(ids.orders.delivered);
  assert.deepEqual(
    [delivered?.status, delivered?.total, delivered?.items.length, delivered?.shipment?.status, delivered?.shipment?.tracking_number],
    ['delivered', 12000, 2, 'completed', 'TRK-1'],
  );
  assert.match(delivered!.delivered_at!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal((await r.getOrder(ids.orders.failed))?.shipment?.reason, 'carrier lost the parcel');

  const cart = await r.getCart(ids.customer);
  assert.deepEqual([cart.items, cart.total, cart.version], [[], 0, 6]);
  assert.deepEqual(await r.getCart('nobody'), {
    cart_id: 'cart-nobody',
    user_id: 'nobody',
    items: [],
    total: 0,
    item_count: 0,
    version: 0,
    updated_at: null,
  });

  const stock = await r.getInventory(ids.tshirt);
  assert.deepEqual(
    { ...stock, updated_at: undefined, version: undefined },
    {
      product_id: ids.tshirt,
      name: '綿100%のTシャツ',
      total_quantity: 7,
      reserved_quantity: 1,
      available_quantity: 6,
      reservations: [
        {
          reservation_id: `${ids.customer.replace(/-user$/, '')}-r5`,
          order_id: ids.orders.paid,
          quantity: 1,
          expires_at: '2030-01-01T00:00:00.000Z',
        },
      ],
      updated_at: undefined,
      version: undefined,
    },
  );
  const inventory = await r.listInventory({ limit: 1 });
  const inventory2 = await r.listInventory({ limit: 1, cursor: inventory.next_cursor! });
  assert.deepEqual(
    [...inventory.items, ...inventory2.items].map((i) => i.product_id),
    [ids.socks, ids.tshirt].sort(),
  );

  const first = await r.listEvents({ limit: 10 });
  const second = await r.listEvents({ limit: 10, before: first.next_before! });
  const newest = [...events]
    .reverse()
    .slice(0, 20)
    .map((e) => e.event_id);
  assert.deepEqual(
    [...first.items, ...second.items].map((e) => e.event_id),
    newest,
  );
  const userStream = await r.listEvents({ aggregateId: ids.customer });
  assert.deepEqual([userStream.items.length, userStream.next_before], [1, null]);
  assert.equal('password_hash' in userStream.items[0]!.data, false);
  const orderStream = await r.listEvents({ aggregateId: ids.orders.delivered, limit: 2 });
  const orderRest = await r.listEvents({ aggregateId: ids.orders.delivered, limit: 2, before: orderStream.next_before! });
  assert.deepEqual(
    [...orderStream.items, ...orderRest.items].map((e) => e.version),
    [4, 3, 2, 1],
  );
});

test('waitForVersion returns as soon as a later batch lands, and false on timeout', async () => {
  const orderId = uniq('order');
  const order = stream('Order', orderId);
  order.next('OrderPlaced', {
    order_id: orderId,
    user_id: 'u',
    user_email: 'u@example.com',
    items: [{ product_id: 'p', name: 'p', price: 100, quantity: 1, subtotal: 100 }],
    total: 100,
    expires_at: '2030-01-01T00:00:00.000Z',
    placed_at: new Date().toISOString(),
  });
  order.next('OrderPaid', { order_id: orderId, paid_at: new Date().toISOString(), amount: 100 });
  order.next('OrderDelivered', { order_id: orderId, delivered_at: new Date().toISOString() });
  await runner.applyBatch([order.events[0]!]);

  let started = Date.now();
  assert.equal(await q.waitForVersion({ aggregateId: orderId, minVersion: 1 }), true);
  assert.ok(Date.now() - started < 500, 'already caught up: immediate');

  started = Date.now();
  const waiting = q.waitForVersion({ aggregateId: orderId, minVersion: 2, timeoutMs: 5000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  await runner.applyBatch([order.events[1]!]);
  assert.equal(await waiting, true);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 190 && elapsed < 1500, `woke up after ${elapsed} ms`);
  assert.equal((await q.getOrder(orderId))?.status, 'paid', 'the awaited version is readable');

  // A custom getter (here: the order row itself) is re-checked on the stream's notification.
  const viaRow = waitForRowVersion(db.pool, orderId, 3);
  await new Promise((resolve) => setTimeout(resolve, 100));
  await runner.applyBatch([order.events[2]!]);
  assert.equal(await viaRow, true);

  started = Date.now();
  assert.equal(await q.waitForVersion({ aggregateId: orderId, minVersion: 9, timeoutMs: 300 }), false);
  const waited = Date.now() - started;
  assert.ok(waited >= 290 && waited < 1500, `timed out after ${waited} ms`);
});

test('waitForVersion with `also` answers only once every stream the write touched is projected, whichever lands first', async () => {
  const placed = (orderId: string) => {
    const order = stream('Order', orderId);
    order.next('OrderPlaced', {
      order_id: orderId,
      user_id: 'u',
      user_email: 'u@example.com',
      items: [{ product_id: 'p', name: 'p', price: 100, quantity: 1, subtotal: 100 }],
      total: 100,
      expires_at: '2030-01-01T00:00:00.000Z',
      placed_at: new Date().toISOString(),
    });
    return order.events[0]!;
  };
  const [first, second, third] = [uniq('order'), uniq('order'), uniq('order')];
  const waiting = q.waitForVersion({ aggregateId: first, minVersion: 1, also: [{ aggregateId: second, minVersion: 1 }], timeoutMs: 5000 });
  let answered = false;
  void waiting.then(() => (answered = true));
  await runner.applyBatch([placed(first)]);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(answered, false, 'the primary stream alone is not enough');
  await runner.applyBatch([placed(second)]);
  assert.equal(await waiting, true);

  // Already projected companion, primary behind: times out false.
  assert.equal(
    await q.waitForVersion({ aggregateId: third, minVersion: 1, also: [{ aggregateId: first, minVersion: 1 }], timeoutMs: 300 }),
    false,
  );
});

function waitForRowVersion(pool: pg.Pool, orderId: string, minVersion: number) {
  return createReadQueries({ pool }).waitForVersion({
    aggregateId: orderId,
    minVersion,
    timeoutMs: 5000,
    version: async (c) =>
      (await c.query<{ version: number }>('SELECT version FROM read_orders WHERE order_id = $1', [orderId])).rows[0]?.version ?? null,
  });
}
