import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, waitForPort } from '../../src/devstack/process.ts';
import { ORDER_EXPIRED_REASON } from '../../src/contexts/orders/events.ts';
import { uniq } from '../support/env.ts';
import { client, eventually } from '../support/http.ts';
import type { ShopProcesses } from '../support/processes.ts';
import { assertProblem, mailsAbout, useShop, waitForMails, type Mail, type ShopActors } from '../support/shop.ts';

// Issue #4's user journeys (seeds 004, 000, 001), over HTTP against the real api, projector, notifier and worker.
let shop: ShopProcesses;
let a: ShopActors;
let admin: string;

useShop((f) => ({ shop, a, admin } = f));

const PLACED = 'ご注文確認';
const PAID = 'お支払い確認';
const SHIPPED = '発送のお知らせ';
const CANCELLED = 'キャンセルのお知らせ';

/** Exactly one mail of each kind in `kinds` about the order, and none of the kinds in `none`. */
async function assertMailedOnce(email: string, orderId: string, kinds: string[], none: string[] = []): Promise<Mail[]> {
  const mails = await waitForMails(
    email,
    (all) => kinds.every((k) => mailsAbout(all, orderId, k).length > 0),
    `mails ${kinds.join(', ')} for ${orderId}`,
  );
  for (const kind of kinds) assert.equal(mailsAbout(mails, orderId, kind).length, 1, `exactly one ${kind} mail for ${orderId}`);
  for (const kind of none) assert.equal(mailsAbout(mails, orderId, kind).length, 0, `no ${kind} mail for ${orderId}`);
  return mails;
}

test("004's curl session: products → list → cart → order → orders → cancel (気が変わった)", async () => {
  const { http } = a;
  const token = uniq('k');
  // 管理者が商品を登録する
  const shirt = await http.post('/products', { name: `Tシャツ ${token}`, description: '綿100%', price: 2000, stock: 100 }, admin);
  const mug = await http.post('/products', { name: `マグカップ ${token}`, description: '陶器', price: 1200, stock: 50 }, admin);
  assert.equal(shirt.status, 201, JSON.stringify(shirt.body));
  assert.equal(mug.status, 201, JSON.stringify(mug.body));
  assert.ok(shirt.body.id && mug.body.id);

  // 商品一覧 (anyone; read-your-writes for both products, then the list)
  assert.equal((await http.get(`/products/${shirt.body.id}?min_version=${shirt.body.version}`)).status, 200);
  const listed = await http.get(`/products?q=${encodeURIComponent(token)}&wait_for=${mug.body.id}:${mug.body.version}`);
  assert.equal(listed.status, 200);
  assert.equal(listed.headers.get('x-read-model-behind'), null);
  const list = listed.body.items;
  assert.deepEqual(
    list.map((p: any) => [p.name, p.price, p.stock]).sort(),
    [
      [`Tシャツ ${token}`, 2000, 100],
      [`マグカップ ${token}`, 1200, 50],
    ].sort(),
  );

  const buyer = await a.customer();
  // カートに追加
  await a.addToCart(buyer.token, shirt.body.id, 2);
  const added = await a.addToCart(buyer.token, mug.body.id, 1);
  // カート確認: names, prices, subtotals and the total
  const cart = await http.get(`/cart?min_version=${added.version}`, buyer.token);
  assert.equal(cart.status, 200);
  assert.deepEqual(
    cart.body.items.map((i: any) => ({
      product_id: i.product_id,
      name: i.name,
      price: i.price,
      quantity: i.quantity,
      subtotal: i.subtotal,
    })),
    [
      { product_id: shirt.body.id, name: `Tシャツ ${token}`, price: 2000, quantity: 2, subtotal: 4000 },
      { product_id: mug.body.id, name: `マグカップ ${token}`, price: 1200, quantity: 1, subtotal: 1200 },
    ],
  );
  assert.equal(cart.body.total, 5200);

  // 注文確定
  const order = await http.post('/orders', undefined, buyer.token);
  assert.equal(order.status, 201, JSON.stringify(order.body));
  assert.equal(order.body.status, 'pending');
  assert.equal(order.body.total, 5200);
  assert.equal(order.body.items.length, 2);
  const orderId: string = order.body.order_id;

  // 注文一覧: the order, and the cart emptied by the same transaction
  assert.equal((await http.get(`/orders/${orderId}?min_version=${order.body.version}`, buyer.token)).status, 200);
  const orders = await http.get('/orders', buyer.token);
  assert.equal(orders.status, 200);
  assert.deepEqual(
    orders.body.items.map((o: any) => [o.order_id, o.status, o.total]),
    [[orderId, 'pending', 5200]],
  );
  await eventually(async () => (await http.get('/cart', buyer.token)).body.items.length === 0, { what: 'the cart emptied by checkout' });
  const reserved = await a.inventory(shirt.body.id, 2);
  assert.deepEqual([reserved.total_quantity, reserved.reserved_quantity, reserved.available_quantity], [100, 2, 98]);

  // 注文キャンセル
  const cancelled = await http.post(`/orders/${orderId}/cancel`, { reason: '気が変わった' }, buyer.token);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.status, 'cancelled');
  const shown = await http.get(`/orders/${orderId}?min_version=${cancelled.body.version}`, buyer.token);
  assert.equal(shown.body.status, 'cancelled');
  assert.equal(shown.body.reason, '気が変わった');

  // The stock is released (StockReleased, version 3 of each inventory stream).
  for (const [product, total] of [
    [shirt.body.id, 100],
    [mug.body.id, 50],
  ] as const) {
    const inventory = await a.inventory(product, 3);
    assert.deepEqual(
      [inventory.total_quantity, inventory.reserved_quantity, inventory.available_quantity, inventory.reservations],
      [total, 0, total, []],
    );
    const stream = await a.stream(`inventory-${product}`);
    assert.deepEqual(
      stream.events.map((e) => e.event_type),
      ['StockAdded', 'StockReserved', 'StockReleased'],
    );
    assert.equal(stream.events[2].data.reason, 'cancelled');
  }
  assert.equal((await http.get(`/products/${shirt.body.id}`)).body.stock, 100);

  const mails = await assertMailedOnce(buyer.email, orderId, [PLACED, CANCELLED], [PAID, SHIPPED]);
  assert.match(mailsAbout(mails, orderId, CANCELLED)[0]!.text, /気が変わった/);
  assert.match(mailsAbout(mails, orderId, PLACED)[0]!.text, /5,200/);
});

test("000's reservation walk-through: reserve 2 of 100 → pay confirms → another order cancelled releases", async () => {
  const { http } = a;
  const product = await a.product({ name: `ノートPC ${uniq()}`, price: 80_000, stock: 100 });
  const pid: string = product.id;
  const start = await a.inventory(pid, 1);
  assert.deepEqual(
    {
      total: start.total_quantity,
      reserved: start.reserved_quantity,
      available: start.available_quantity,
      reservations: start.reservations,
    },
    { total: 100, reserved: 0, available: 100, reservations: [] },
  );

  const first = await a.customer();
  const order = await a.order(first, [[pid, 2]]);
  const reserved = await a.inventory(pid, 2);
  assert.equal(reserved.total_quantity, 100);
  assert.equal(reserved.reserved_quantity, 2);
  assert.equal(reserved.available_quantity, 98);
  assert.equal(reserved.reservations.length, 1);
  const reservation = reserved.reservations[0];
  assert.equal(typeof reservation.reservation_id, 'string');
  assert.equal(reservation.order_id, order.order_id);
  assert.equal(reservation.quantity, 2);
  assert.equal(Date.parse(reservation.expires_at), Date.parse(order.expires_at));
  // About 15 minutes from now (000's default).
  assert.ok(Math.abs(Date.parse(reservation.expires_at) - Date.now() - 15 * 60_000) < 60_000, reservation.expires_at);

  // More than is available is refused with 000's message; nothing is reserved.
  const second = await a.customer();
  const tooMany = await http.post('/cart/items', { product_id: pid, quantity: 99 }, second.token);
  assertProblem(tooMany, 409);
  assert.equal(tooMany.body.detail, 'insufficient stock: available=98, requested=99');

  // 注文を確定 (pay): OrderPaid + StockDeducted in one transaction.
  const paid = await http.post(`/orders/${order.order_id}/pay`, undefined, first.token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal(paid.body.status, 'paid');
  const confirmed = await a.inventory(pid, 3);
  assert.deepEqual(
    {
      total: confirmed.total_quantity,
      reserved: confirmed.reserved_quantity,
      available: confirmed.available_quantity,
      reservations: confirmed.reservations,
    },
    { total: 98, reserved: 0, available: 98, reservations: [] },
  );

  // Another order, cancelled: its reservation is released and the stock is available again.
  const other = await a.order(second, [[pid, 5]]);
  const held = await a.inventory(pid, 4);
  assert.deepEqual([held.total_quantity, held.reserved_quantity, held.available_quantity], [98, 5, 93]);
  assert.deepEqual(
    held.reservations.map((r: any) => [r.order_id, r.quantity]),
    [[other.order_id, 5]],
  );
  const cancel = await http.post(`/orders/${other.order_id}/cancel`, { reason: '顧客都合' }, second.token);
  assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
  const released = await a.inventory(pid, 5);
  assert.deepEqual(
    [released.total_quantity, released.reserved_quantity, released.available_quantity, released.reservations],
    [98, 0, 98, []],
  );

  const stream = await a.stream(`inventory-${pid}`);
  assert.deepEqual(
    stream.events.map((e) => e.event_type),
    ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReserved', 'StockReleased'],
  );
  assert.equal(stream.events[1].data.reservation_id, reservation.reservation_id);
  assert.equal(stream.events[2].data.reservation_id, reservation.reservation_id);
  assert.equal(stream.events[2].data.quantity, 2);
});

test('cancelling a paid order returns the goods to stock (StockReturned) and mails the reason', async () => {
  const { http } = a;
  const product = await a.product({ price: 3000, stock: 4 });
  const buyer = await a.customer();
  const order = await a.order(buyer, [[product.id, 3]]);
  assert.equal((await http.post(`/orders/${order.order_id}/pay`, undefined, buyer.token)).status, 200);
  const deducted = await a.inventory(product.id, 3);
  assert.deepEqual([deducted.total_quantity, deducted.available_quantity], [1, 1]);
  const cancelled = await http.post(`/orders/${order.order_id}/cancel`, { reason: 'サイズ違い' }, buyer.token);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.status, 'cancelled');
  const restocked = await a.inventory(product.id, 4);
  assert.deepEqual([restocked.total_quantity, restocked.reserved_quantity, restocked.available_quantity], [4, 0, 4]);
  const stream = await a.stream(`inventory-${product.id}`);
  assert.deepEqual(
    stream.events.map((e) => e.event_type),
    ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReturned'],
  );
  assert.equal(stream.events[3].data.quantity, 3);
  const mails = await assertMailedOnce(buyer.email, order.order_id, [PLACED, PAID, CANCELLED], [SHIPPED]);
  assert.match(mailsAbout(mails, order.order_id, CANCELLED)[0]!.text, /サイズ違い/);
});

const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'shipment_failed'] as const;
type Stats = Record<'total_count' | `${(typeof STATUSES)[number]}_count` | 'total_revenue', number>;

test("001's lifecycle: place → pay → ship (tracking number) → deliver, statistics and orders by status follow", async (t) => {
  const { http } = a;
  const product = await a.product({ price: 1500, stock: 10 });
  const buyer = await a.customer();
  const stats = async (): Promise<Stats> => {
    const res = await http.get('/orders/statistics', admin);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    for (const key of ['total_count', ...STATUSES.map((s) => `${s}_count`), 'total_revenue'])
      assert.equal(typeof res.body[key], 'number', key);
    return res.body;
  };
  const byStatus = async (status: string): Promise<string[]> => {
    const res = await http.get(`/orders/status/${status}?limit=100`, buyer.token);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(
      res.body.items.every((o: any) => o.status === status && o.user_id === buyer.user_id),
      `only ${status} orders of the caller`,
    );
    return res.body.items.map((o: any) => o.order_id);
  };
  /**
   * The statistics are global and other test files may write orders at the same time (`npm run
   * test:integration` runs two files at once on one stack): the exact delta is asserted unless the global event
   * log shows another order changing in the window, which is then reported rather than failed.
   */
  const expectDelta = async (before: Stats, since: string, orderId: string, delta: Partial<Stats>) => {
    const expected = Object.fromEntries(Object.keys(before).map((k) => [k, (delta as Record<string, number>)[k] ?? 0]));
    let last: Record<string, number> = {};
    try {
      await eventually(
        async () => {
          const now = (await stats()) as Record<string, number>;
          last = Object.fromEntries(Object.keys(before).map((k) => [k, now[k]! - (before as Record<string, number>)[k]!]));
          return JSON.stringify(last) === JSON.stringify(expected);
        },
        { timeoutMs: 5000, what: `statistics delta ${JSON.stringify(expected)}` },
      );
    } catch (err) {
      const log = await http.get('/events?limit=500', admin);
      const others = log.body.items.filter((e: any) => e.aggregate_type === 'Order' && e.aggregate_id !== orderId && e.created_at >= since);
      if (others.length === 0) throw new Error(`${(err as Error).message}; got ${JSON.stringify(last)}`);
      t.diagnostic(`statistics delta not checked exactly: ${others.length} other order events meanwhile`);
    }
  };

  let before = await stats();
  let since = new Date().toISOString();
  const order = await a.order(buyer, [[product.id, 2]]);
  const orderId: string = order.order_id;
  assert.equal((await http.get(`/orders/${orderId}?min_version=${order.version}`, buyer.token)).body.status, 'pending');
  await expectDelta(before, since, orderId, { total_count: 1, pending_count: 1 });
  assert.deepEqual(await byStatus('pending'), [orderId]);

  before = await stats();
  since = new Date().toISOString();
  const paid = await http.post(`/orders/${orderId}/pay`, undefined, buyer.token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  assert.equal((await http.get(`/orders/${orderId}?min_version=${paid.body.version}`, buyer.token)).body.status, 'paid');
  await expectDelta(before, since, orderId, { pending_count: -1, paid_count: 1, total_revenue: 3000 });
  assert.deepEqual(await byStatus('paid'), [orderId]);
  assert.deepEqual(await byStatus('pending'), []);

  before = await stats();
  since = new Date().toISOString();
  const tracking = `TRACK-${Date.now()}`;
  const shipped = await http.post(`/orders/${orderId}/ship`, { tracking_number: tracking }, admin);
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  assert.equal(shipped.body.status, 'shipped');
  const shownShipped = await http.get(`/orders/${orderId}?min_version=${shipped.body.version}`, buyer.token);
  assert.equal(shownShipped.body.status, 'shipped');
  assert.equal(shownShipped.body.tracking_number, tracking);
  await expectDelta(before, since, orderId, { paid_count: -1, shipped_count: 1 });
  assert.deepEqual(await byStatus('shipped'), [orderId]);

  before = await stats();
  since = new Date().toISOString();
  const delivered = await http.post(`/orders/${orderId}/deliver`, undefined, admin);
  assert.equal(delivered.status, 200, JSON.stringify(delivered.body));
  assert.equal(delivered.body.status, 'delivered');
  assert.equal((await http.get(`/orders/${orderId}?min_version=${delivered.body.version}`, buyer.token)).body.status, 'delivered');
  await expectDelta(before, since, orderId, { shipped_count: -1, delivered_count: 1 });
  assert.deepEqual(await byStatus('delivered'), [orderId]);
  assert.deepEqual(await byStatus('shipped'), []);

  // Admins list orders of any status from everyone; the status must be one the shop knows.
  const all = await http.get('/orders/status/delivered?limit=100', admin);
  assert.ok(all.body.items.some((o: any) => o.order_id === orderId));
  assertProblem(await http.get('/orders/status/confirmed', buyer.token), 400);

  // The inventory went reserve → deduct; paying deducted it once.
  const inventory = await a.inventory(product.id, 3);
  assert.deepEqual([inventory.total_quantity, inventory.reserved_quantity, inventory.available_quantity], [8, 0, 8]);

  const mails = await assertMailedOnce(buyer.email, orderId, [PLACED, PAID, SHIPPED], [CANCELLED]);
  assert.ok(mailsAbout(mails, orderId, SHIPPED)[0]!.text.includes(tracking), 'the shipping mail names the tracking number');
  assert.match(mailsAbout(mails, orderId, PAID)[0]!.text, /3,000/);
});

test('reservation expiry: the worker cancels an unpaid order past its deadline and releases its stock', async () => {
  // A second api of the same shop whose orders hold stock for 2 s; this shop's worker fires the timers.
  // (Only this api: the other journeys must not race a 2 s deadline.)
  const port = await freePort();
  const api = shop.spawn('api', { PORT: String(port), RESERVATION_TTL_SECONDS: '2' });
  try {
    await waitForPort(port, '127.0.0.1', 60_000, api.exited);
    const fast = client(`http://127.0.0.1:${port}`);
    const product = await a.product({ price: 700, stock: 5 });
    const buyer = await a.customer();
    await a.addToCart(buyer.token, product.id, 3);
    const placed = await fast.post('/orders', undefined, buyer.token);
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    const orderId: string = placed.body.order_id;
    assert.ok(Date.parse(placed.body.expires_at) - Date.now() <= 2500, `expires in about 2 s: ${placed.body.expires_at}`);
    const held = await a.inventory(product.id, 2);
    assert.deepEqual([held.reserved_quantity, held.available_quantity], [3, 2]);

    const expired = await eventually(
      async () => {
        const res = await a.http.get(`/orders/${orderId}`, buyer.token);
        return res.body.status === 'cancelled' ? res.body : undefined;
      },
      { what: 'the order cancelled by the expiry timer', timeoutMs: 20_000, intervalMs: 250 },
    );
    assert.equal(expired.reason, 'payment timeout'); // issue #4's wording
    assert.equal(expired.reason, ORDER_EXPIRED_REASON);
    assert.equal(expired.cancelled_by, 'system');

    const stream = await a.stream(`inventory-${product.id}`);
    assert.deepEqual(
      stream.events.map((e) => e.event_type),
      ['StockAdded', 'StockReserved', 'StockReleased'],
    );
    assert.equal(stream.events[2].data.reason, 'expired');
    const released = await a.inventory(product.id, 3);
    assert.deepEqual(
      [released.total_quantity, released.reserved_quantity, released.available_quantity, released.reservations],
      [5, 0, 5, []],
    );

    const late = await a.http.post(`/orders/${orderId}/pay`, undefined, buyer.token);
    assertProblem(late, 409, 'paying an expired order');
    assert.match(late.body.detail, /cancelled/);
    const mails = await assertMailedOnce(buyer.email, orderId, [PLACED, CANCELLED], [PAID]);
    assert.ok(mailsAbout(mails, orderId, CANCELLED)[0]!.text.includes(ORDER_EXPIRED_REASON));
    const orderStream = await a.stream(orderId);
    assert.deepEqual(
      orderStream.events.map((e) => e.event_type),
      ['OrderPlaced', 'OrderCancelled'],
      'expired once',
    );
  } finally {
    await api.stop();
  }
});

test('time travel and the event log: a past state, the owner-only stream, the global log', async () => {
  const { http } = a;
  const product = await a.product({ price: 2500, stock: 3 });
  const buyer = await a.customer();
  const stranger = await a.customer();
  const order = await a.order(buyer, [[product.id, 1]]);
  const orderId: string = order.order_id;
  const paid = await http.post(`/orders/${orderId}/pay`, undefined, buyer.token);
  assert.equal(paid.status, 200, JSON.stringify(paid.body));

  const stream = await http.get(`/events/${orderId}`, buyer.token);
  assert.equal(stream.status, 200, JSON.stringify(stream.body));
  assert.equal(stream.body.aggregate_type, 'Order');
  assert.equal(stream.body.version, 2);
  assert.deepEqual(
    stream.body.events.map((e: any) => [e.event_type, e.version]),
    [
      ['OrderPlaced', 1],
      ['OrderPaid', 2],
    ],
  );
  const placedAt = Date.parse(stream.body.events[0].created_at);
  const paidAt = Date.parse(stream.body.events[1].created_at);
  assert.ok(paidAt > placedAt + 1, 'pay came after place');
  const between = new Date(Math.floor((placedAt + paidAt) / 2)).toISOString();

  const past = await http.get(`/events/${orderId}/state?at=${encodeURIComponent(between)}`, buyer.token);
  assert.equal(past.status, 200, JSON.stringify(past.body));
  assert.equal(past.body.version, 1);
  assert.equal(past.body.state.status, 'pending');
  assert.equal(past.body.state.total, 2500);
  const now = await http.get(`/events/${orderId}/state`, buyer.token);
  assert.equal(now.body.version, 2);
  assert.equal(now.body.state.status, 'paid');
  const beforeBirth = await http.get(
    `/events/${orderId}/state?at=${encodeURIComponent(new Date(placedAt - 60_000).toISOString())}`,
    buyer.token,
  );
  assert.equal(beforeBirth.body.exists, false);
  // Inventory time travel (000): before the payment 1 was reserved; now it is deducted.
  const inventoryPast = await http.get(`/events/inventory-${product.id}/state?at=${encodeURIComponent(between)}`, admin);
  assert.deepEqual([inventoryPast.body.state.total_quantity, inventoryPast.body.state.reserved_quantity], [3, 1]);

  // Another customer cannot read the stream or its past; an admin can.
  assertProblem(await http.get(`/events/${orderId}`, stranger.token), 404);
  assertProblem(await http.get(`/events/${orderId}/state?at=${encodeURIComponent(between)}`, stranger.token), 404);
  assertProblem(await http.get(`/events/inventory-${product.id}`, buyer.token), 404);
  assert.equal((await http.get(`/events/${orderId}`, admin)).status, 200);
  // The customer's own cart stream is theirs to read.
  assert.equal((await http.get(`/events/cart-${buyer.user_id}`, buyer.token)).status, 200);

  // The global log (admin only) lists the order's events once projected.
  const logged = await eventually(
    async () => {
      const res = await http.get('/events?limit=500', admin);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const mine = res.body.items.filter((e: any) => e.aggregate_id === orderId);
      return mine.length === 2 ? res.body : undefined;
    },
    { what: 'the order events in the global log' },
  );
  const times = logged.items.map((e: any) => e.created_at);
  assert.deepEqual(times, [...times].sort().reverse(), 'newest first');
  assert.ok(
    logged.items.every((e: any) => !JSON.stringify(e).includes('password_hash')),
    'no password hashes in the log',
  );
  assertProblem(await http.get('/events', buyer.token), 403);
});
