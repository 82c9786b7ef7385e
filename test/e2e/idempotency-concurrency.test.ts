import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniq } from '../support/env.ts';
import type { Reply } from '../support/http.ts';
import { assertProblem, useShop, type Customer, type ShopActors } from '../support/shop.ts';

// Issue #4: Idempotency-Key on every command, a hot product under 50 concurrent checkouts, concurrent updates.
let a: ShopActors;
let admin: string;

useShop((f) => ({ a, admin } = f));

const post = (path: string, body: unknown, token: string | undefined, key: string): Promise<Reply> =>
  a.http.call('POST', path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), headers: { 'idempotency-key': key } });

/**
 * Sends the command twice with one key: the second answer is the first one replayed (status, body, header).
 * Then the same key with another body is refused. Returns the first answer.
 */
async function twice(path: string, body: unknown, token: string | undefined, otherBody: unknown): Promise<Reply> {
  const key = uniq('idem');
  const first = await post(path, body, token, key);
  assert.ok(first.status >= 200 && first.status < 300, `${path}: ${first.status} ${JSON.stringify(first.body)}`);
  assert.equal(first.headers.get('idempotent-replayed'), null, `${path}: the first answer is not a replay`);
  const second = await post(path, body, token, key);
  assert.equal(second.status, first.status, `${path}: same status`);
  assert.deepEqual(second.body, first.body, `${path}: same body`);
  assert.equal(second.headers.get('idempotent-replayed'), 'true', `${path}: marked as replayed`);
  const reused = await post(path, otherBody, token, key);
  assertProblem(reused, 400, `${path}: the key with another body`);
  assert.match(reused.body.detail, /Idempotency-Key/);
  return first;
}

const types = async (aggregateId: string): Promise<string[]> => (await a.stream(aggregateId)).events.map((e) => e.event_type);
const count = (list: string[], type: string) => list.filter((t) => t === type).length;

test('Idempotency-Key on every command: a repeat gets the first answer, the effect happens once', async () => {
  const { http } = a;
  // register (anonymous)
  const email = `${uniq('idem')}@example.com`;
  const registered = await twice('/auth/register', { email, password: 'password123', name: '一回' }, undefined, {
    email,
    password: 'password123',
    name: '二回',
  });
  assert.deepEqual(await types(registered.body.user_id), ['UserRegistered']);
  const me: Customer = { email, password: 'password123', ...(await a.login(email, 'password123')) };
  assert.equal(me.user_id, registered.body.user_id);

  // categories
  const categoryName = `冪等 ${uniq()}`;
  const category = await twice('/categories', { name: categoryName }, admin, { name: `${categoryName}2` });
  assert.deepEqual(await types(category.body.id), ['CategoryCreated']);

  // products (ProductCreated + StockAdded once)
  const name = `冪等商品 ${uniq()}`;
  const product = await twice('/products', { name, description: '', price: 500, stock: 5, category: category.body.id }, admin, {
    name,
    description: '',
    price: 501,
    stock: 5,
  });
  const pid: string = product.body.id;
  const listed = await http.get(`/products?q=${encodeURIComponent(name)}&wait_for=${pid}:1`);
  assert.deepEqual(
    listed.body.items.map((p: any) => p.id),
    [pid],
    'one product',
  );
  assert.deepEqual(await types(pid), ['ProductCreated']);

  // add_stock
  const stocked = await twice(`/inventory/${pid}/add_stock`, { quantity: 5 }, admin, { quantity: 6 });
  assert.equal(stocked.body.total_quantity, 10);
  assert.deepEqual(await types(`inventory-${pid}`), ['StockAdded', 'StockAdded']);

  // cart items: the line holds 2, not 4
  const added = await twice('/cart/items', { product_id: pid, quantity: 2 }, me.token, { product_id: pid, quantity: 3 });
  assert.equal(added.body.item.quantity, 2);
  assert.deepEqual(await types(`cart-${me.user_id}`), ['ItemAddedToCart']);
  // The key is the user's own: another customer using it runs their own command.
  const other = await a.customer();
  const key = uniq('shared');
  const mine = await post('/cart/items', { product_id: pid, quantity: 1 }, me.token, key);
  const theirs = await post('/cart/items', { product_id: pid, quantity: 1 }, other.token, key);
  assert.equal(mine.status, 201);
  assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
  assert.equal(theirs.headers.get('idempotent-replayed'), null);
  assert.equal(theirs.body.user_id, other.user_id);

  // orders: one order, stock reserved once
  const order = await twice('/orders', undefined, me.token, {});
  const orderId: string = order.body.order_id;
  assert.deepEqual(
    (await http.get(`/orders/${orderId}?min_version=1`, me.token)).body.items.map((i: any) => i.quantity),
    [3],
  );
  assert.equal(count(await types(`inventory-${pid}`), 'StockReserved'), 1);
  const mineListed = await http.get('/orders', me.token);
  assert.deepEqual(
    mineListed.body.items.map((o: any) => o.order_id),
    [orderId],
    'one order',
  );

  // pay: one OrderPaid, one StockDeducted
  await twice(`/orders/${orderId}/pay`, undefined, me.token, {});
  assert.deepEqual(await types(orderId), ['OrderPlaced', 'OrderPaid']);
  assert.equal(count(await types(`inventory-${pid}`), 'StockDeducted'), 1);

  // ship, deliver (admin)
  await twice(`/orders/${orderId}/ship`, { tracking_number: 'IDEM-1' }, admin, { tracking_number: 'IDEM-2' });
  await twice(`/orders/${orderId}/deliver`, undefined, admin, {});
  assert.deepEqual(await types(orderId), ['OrderPlaced', 'OrderPaid', 'OrderShipped', 'OrderDelivered']);

  // cancel: one OrderCancelled, one StockReleased
  await a.addToCart(other.token, pid, 1);
  const second = await http.post('/orders', undefined, other.token);
  assert.equal(second.status, 201, JSON.stringify(second.body));
  const cancelled = await twice(`/orders/${second.body.order_id}/cancel`, { reason: '一度だけ' }, other.token, { reason: '二度目' });
  assert.equal(cancelled.body.status, 'cancelled');
  assert.deepEqual(await types(second.body.order_id), ['OrderPlaced', 'OrderCancelled']);
  assert.equal(count(await types(`inventory-${pid}`), 'StockReleased'), 1);
});

test('the same key sent twice at once: one effect, both get the same answer', async () => {
  const product = await a.product({ stock: 10 });
  const me = await a.customer();
  await a.addToCart(me.token, product.id, 2);
  const key = uniq('dup');
  const [x, y] = await Promise.all([post('/orders', undefined, me.token, key), post('/orders', undefined, me.token, key)]);
  assert.deepEqual([x.status, y.status], [201, 201], JSON.stringify([x.body, y.body]));
  assert.deepEqual(x.body, y.body);
  assert.equal([x, y].filter((r) => r.headers.get('idempotent-replayed') === 'true').length, 1);
  assert.equal(count(await types(`inventory-${product.id}`), 'StockReserved'), 1);

  const stockKey = uniq('dup');
  const adds = await Promise.all([1, 2, 3].map(() => post(`/inventory/${product.id}/add_stock`, { quantity: 1 }, admin, stockKey)));
  assert.deepEqual(
    adds.map((r) => r.status),
    [200, 200, 200],
    JSON.stringify(adds.map((r) => r.body)),
  );
  assert.ok(adds.every((r) => JSON.stringify(r.body) === JSON.stringify(adds[0]!.body)));
  assert.equal(count(await types(`inventory-${product.id}`), 'StockAdded'), 2);
});

test('50 concurrent checkouts of a product with stock 10: exactly 10 orders, 40 clean 409s, no oversell', async (t) => {
  const product = await a.product({ name: `人気商品 ${uniq()}`, price: 1000, stock: 10 });
  const buyers: Customer[] = [];
  for (let i = 0; i < 50; i += 10) {
    buyers.push(
      ...(await Promise.all(
        Array.from({ length: 10 }, async () => {
          const buyer = await a.customer();
          await a.addToCart(buyer.token, product.id, 1);
          return buyer;
        }),
      )),
    );
  }
  const results = await Promise.all(buyers.map((b) => a.http.post('/orders', undefined, b.token)));
  const statuses = results.map((r) => r.status);
  assert.ok(
    statuses.every((s) => s < 500),
    `no 5xx: ${statuses}`,
  );
  assert.equal(statuses.filter((s) => s === 201).length, 10, `10 × 201: ${statuses}`);
  assert.equal(statuses.filter((s) => s === 409).length, 40, `40 × 409: ${statuses}`);
  for (const refused of results.filter((r) => r.status === 409)) assertProblem(refused, 409);
  const codes = results.reduce<Record<string, number>>(
    (n, r) => ({ ...n, [r.body.code ?? r.status]: (n[r.body.code ?? r.status] ?? 0) + 1 }),
    {},
  );
  t.diagnostic(`checkout answers: ${JSON.stringify(codes)}`);
  const soldOut = results.filter((r) => r.status === 409 && /insufficient stock: available=0, requested=1/.test(r.body.detail));
  assert.ok(soldOut.length > 0, 'at least the last buyers are told it is sold out');

  const inventory = await a.inventory(product.id, 11);
  assert.deepEqual([inventory.total_quantity, inventory.reserved_quantity, inventory.available_quantity], [10, 10, 0]);
  const placed = results
    .filter((r) => r.status === 201)
    .map((r) => r.body.order_id)
    .sort();
  assert.deepEqual(inventory.reservations.map((r: any) => r.order_id).sort(), placed);
  const stream = await a.stream(`inventory-${product.id}`);
  assert.equal(stream.events.filter((e) => e.event_type === 'StockReserved').length, 10);
  assert.equal(stream.version, 11);
});

test('10 concurrent updates of one product: 200 or 409, no lost update, the last success wins', async () => {
  const product = await a.product({ price: 1000, stock: 1 });
  const prices = Array.from({ length: 10 }, (_, i) => 2000 + i);
  const answers = await Promise.all(prices.map((price) => a.http.put(`/products/${product.id}`, { price }, admin)));
  assert.ok(
    answers.every((r) => r.status === 200 || r.status === 409),
    JSON.stringify(answers.map((r) => [r.status, r.body])),
  );
  for (const refused of answers.filter((r) => r.status === 409)) assertProblem(refused, 409);
  const ok = answers.map((r, i) => ({ r, price: prices[i]! })).filter(({ r }) => r.status === 200);
  assert.ok(ok.length > 0);
  for (const { r, price } of ok) assert.equal(r.body.price, price, 'each success answers with its own change');
  const versions = ok.map(({ r }) => r.body.version as number).sort((x, y) => x - y);
  assert.deepEqual(
    versions,
    Array.from({ length: ok.length }, (_, i) => i + 2),
    'versions strictly increasing, one per success',
  );

  const stream = await a.stream(product.id);
  assert.equal(stream.events.filter((e) => e.event_type === 'ProductUpdated').length, ok.length);
  // In the stream, each success's price is at the version it answered with.
  for (const { r, price } of ok) assert.equal(stream.events.find((e) => e.version === r.body.version)!.data.price, price);
  const last = ok.find(({ r }) => r.body.version === versions.at(-1))!;
  const shown = await a.http.get(`/products/${product.id}?min_version=${versions.at(-1)}`);
  assert.equal(shown.body.price, last.price);
  assert.equal(shown.body.version, last.r.body.version);
});
