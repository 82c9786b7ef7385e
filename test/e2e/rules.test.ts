import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { assertProblem, useShop, type ShopActors } from '../support/shop.ts';

// Issue #4's business rules, through HTTP against the real processes.
let a: ShopActors;
let admin: string;

useShop((f) => ({ a, admin } = f));

const ids = (page: any): string[] => page.items.map((p: any) => p.id);

test('categories: admin creates, names are unique, products filter by category id or name', async () => {
  const { http } = a;
  const name = `衣類 ${uniq()}`;
  const created = await http.post('/categories', { name }, admin);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const categoryId: string = created.body.id;
  assert.equal(created.body.name, name);

  const duplicate = await http.post('/categories', { name: `  ${name.toUpperCase()} ` }, admin);
  assertProblem(duplicate, 409, 'same name, other case and spaces');
  assert.match(duplicate.body.detail, /already exists/);

  const byId = await a.product({ name: `シャツ ${uniq()}`, category: categoryId });
  const byName = await a.product({ name: `ズボン ${uniq()}`, category: name });
  const other = await a.product({ name: `帽子 ${uniq()}` });
  assert.equal(byId.category_id, categoryId);
  assert.equal(byName.category_id, categoryId, 'a category given by name resolves to its id');
  assertProblem(await http.post('/products', { name: 'x', price: 1, stock: 1, category: `ない ${uniq()}` }, admin), 404);

  const listed = await http.get(`/categories`);
  assert.ok(listed.body.items.some((c: any) => c.id === categoryId && c.name === name));
  for (const filter of [categoryId, name]) {
    const res = await http.get(`/products?category=${encodeURIComponent(filter)}&limit=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(ids(res.body).sort(), [byId.id, byName.id].sort(), `filtered by ${filter}`);
    assert.ok(res.body.items.every((p: any) => p.category_name === name));
  }
  assert.ok(!ids((await http.get(`/products?category=${categoryId}`)).body).includes(other.id));
});

test('products: admin updates (PUT) and deletes (DELETE); a deleted product cannot be carted, orders keep their lines', async () => {
  const { http } = a;
  const product = await a.product({ name: `更新前 ${uniq()}`, description: 'old', price: 1000, stock: 10 });
  const updated = await http.put(`/products/${product.id}`, { name: '更新後', price: 1200, description: 'new' }, admin);
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(updated.body.version, 2);
  const shown = await http.get(`/products/${product.id}?min_version=2`);
  assert.deepEqual([shown.body.name, shown.body.price, shown.body.description], ['更新後', 1200, 'new']);

  // An order placed before the deletion keeps its lines.
  const buyer = await a.customer();
  const order = await a.order(buyer, [[product.id, 2]]);
  // Another customer has it in the cart when it is deleted.
  const late = await a.customer();
  await a.addToCart(late.token, product.id, 1);

  const deleted = await http.del(`/products/${product.id}`, admin);
  assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
  assert.equal(deleted.body.version, 3);
  await eventually(async () => (await http.get(`/products/${product.id}`)).status === 404, {
    what: 'the deleted product gone from the catalogue',
  });
  assertProblem(await http.get(`/products/${product.id}`), 404);
  assert.ok(!ids((await http.get(`/products?q=${encodeURIComponent('更新後')}&limit=100`)).body).includes(product.id));

  const refused = await http.post('/cart/items', { product_id: product.id, quantity: 1 }, buyer.token);
  assertProblem(refused, 409, 'carting a deleted product');
  assert.match(refused.body.detail, new RegExp(`product ${product.id} is no longer sold`));
  // Updating or deleting it again is "not found"; stock cannot be added to it.
  assertProblem(await http.put(`/products/${product.id}`, { price: 5 }, admin), 404);
  assertProblem(await http.del(`/products/${product.id}`, admin), 404);
  assertProblem(await http.post(`/inventory/${product.id}/add_stock`, { quantity: 1 }, admin), 404);
  // The cart that already held it cannot check it out.
  const checkout = await http.post('/orders', undefined, late.token);
  assertProblem(checkout, 409, 'checking out a deleted product');

  const kept = await http.get(`/orders/${order.order_id}`, buyer.token);
  assert.equal(kept.status, 200);
  assert.deepEqual(
    kept.body.items.map((i: any) => [i.product_id, i.name, i.price, i.quantity]),
    [[product.id, '更新後', 1200, 2]],
  );
  // …and can still be paid: its stock was reserved before the deletion.
  assert.equal((await http.post(`/orders/${order.order_id}/pay`, undefined, buyer.token)).status, 200);
});

test('search finds Japanese and English words; cursor pagination visits every product exactly once', async () => {
  const { http } = a;
  const token = uniq('s').replaceAll('-', '');
  const shirt = await a.product({ name: `綿100%のTシャツ${token}`, description: 'やわらかい' });
  const english = await a.product({ name: `Organic cotton socks ${token}`, description: 'Warm winter socks' });
  const search = async (q: string) => {
    const res = await http.get(`/products?q=${encodeURIComponent(q)}&limit=100`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return ids(res.body);
  };
  assert.deepEqual(await search(`Tシャツ ${token}`), [shirt.id], 'Japanese inside a word');
  assert.deepEqual(await search(`ｔシャツ ${token}`), [shirt.id], 'full-width / half-width and case folded');
  assert.deepEqual(await search(`やわらかい ${token}`), [shirt.id], 'description');
  assert.deepEqual(await search(`cotton ${token}`), [english.id], 'English word');
  assert.deepEqual(await search(`WINTER ${token}`), [english.id], 'case-insensitive');
  assert.deepEqual(await search(`Tシャツ cotton ${token}`), [], 'every term must match');
  assert.ok((await search('Tシャツ')).includes(shirt.id));

  const pageToken = uniq('p').replaceAll('-', '');
  const made = await Promise.all(Array.from({ length: 7 }, (_, i) => a.product({ name: `ページ ${pageToken} ${i}` })));
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: any = await http.get(`/products?q=${pageToken}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.items.length <= 2);
    seen.push(...ids(res.body));
    cursor = res.body.next_cursor;
    pages += 1;
    // A product created while paging is newer than the cursor: it must neither shift nor repeat a page.
    if (pages === 1) await a.product({ name: `ページ ${pageToken} later` });
  } while (cursor && pages < 20);
  assert.equal(pages, 4, '7 products at 2 a page, and the last page says it is the last');
  assert.equal(new Set(seen).size, seen.length, `no product twice: ${seen}`);
  assert.deepEqual([...seen].sort(), made.map((p) => p.id).sort());
});

test('cart: lines merge, a line can be removed, the cart cleared; more than available is refused', async () => {
  const { http } = a;
  const me = await a.customer();
  const p1 = await a.product({ price: 300, stock: 6 });
  const p2 = await a.product({ price: 500, stock: 2 });
  await a.addToCart(me.token, p1.id, 2);
  const merged = await a.addToCart(me.token, p1.id, 3);
  assert.equal(merged.item.quantity, 5);
  const last = await a.addToCart(me.token, p2.id, 1);
  let cart = await http.get(`/cart?min_version=${last.version}`, me.token);
  assert.deepEqual(
    cart.body.items.map((i: any) => [i.product_id, i.quantity, i.subtotal]),
    [
      [p1.id, 5, 1500],
      [p2.id, 1, 500],
    ],
  );
  assert.equal(cart.body.total, 2000);

  const tooMany = await http.post('/cart/items', { product_id: p1.id, quantity: 2 }, me.token);
  assertProblem(tooMany, 409);
  assert.equal(tooMany.body.detail, 'insufficient stock: available=6, requested=7');
  assertProblem(await http.post('/cart/items', { product_id: `nope-${uniq()}`, quantity: 1 }, me.token), 404);

  const removed = await http.del(`/cart/items/${p1.id}`, me.token);
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  cart = await http.get(`/cart?min_version=${removed.body.version}`, me.token);
  assert.deepEqual(
    cart.body.items.map((i: any) => i.product_id),
    [p2.id],
  );
  assert.equal(cart.body.total, 500);
  assertProblem(await http.del(`/cart/items/${p1.id}`, me.token), 404, 'removing a line that is not there');

  const cleared = await http.del('/cart', me.token);
  assert.equal(cleared.status, 200, JSON.stringify(cleared.body));
  cart = await http.get(`/cart?min_version=${cleared.body.version}`, me.token);
  assert.deepEqual([cart.body.items, cart.body.total], [[], 0]);
  assertProblem(await http.post('/orders', undefined, me.token), 409, 'checking out an empty cart');
});

test('illegal transitions are 409 problems that say why', async () => {
  const { http } = a;
  const product = await a.product({ stock: 10 });
  const me = await a.customer();

  const cancelled = await a.order(me, [[product.id, 1]]);
  assert.equal((await http.post(`/orders/${cancelled.order_id}/cancel`, { reason: 'やめた' }, me.token)).status, 200);
  const payCancelled = await http.post(`/orders/${cancelled.order_id}/pay`, undefined, me.token);
  assertProblem(payCancelled, 409, 'pay a cancelled order');
  assert.equal(payCancelled.body.detail, 'cannot pay an order that is cancelled');
  assertProblem(await http.post(`/orders/${cancelled.order_id}/cancel`, { reason: 'again' }, me.token), 409, 'cancel twice');

  const unpaid = await a.order(me, [[product.id, 1]]);
  const shipUnpaid = await http.post(`/orders/${unpaid.order_id}/ship`, { tracking_number: 'TRK-1' }, admin);
  assertProblem(shipUnpaid, 409, 'ship an unpaid order');
  assert.equal(shipUnpaid.body.detail, 'cannot ship an order that is pending');
  assertProblem(await http.post(`/orders/${unpaid.order_id}/deliver`, undefined, admin), 409, 'deliver an unshipped order');

  assert.equal((await http.post(`/orders/${unpaid.order_id}/pay`, undefined, me.token)).status, 200);
  const payTwice = await http.post(`/orders/${unpaid.order_id}/pay`, undefined, me.token);
  assertProblem(payTwice, 409, 'pay twice');
  assert.equal(payTwice.body.detail, 'cannot pay an order that is paid');
  assert.equal((await http.post(`/orders/${unpaid.order_id}/ship`, { tracking_number: 'TRK-2' }, admin)).status, 200);
  const cancelShipped = await http.post(`/orders/${unpaid.order_id}/cancel`, { reason: '遅い' }, me.token);
  assertProblem(cancelShipped, 409, 'cancel a shipped order');
  assert.equal(cancelShipped.body.detail, 'cannot cancel an order that is shipped');

  // None of the refusals wrote anything.
  const stream = await a.stream(unpaid.order_id);
  assert.deepEqual(
    stream.events.map((e) => e.event_type),
    ['OrderPlaced', 'OrderPaid', 'OrderShipped'],
  );
  const inventory = await a.stream(`inventory-${product.id}`);
  assert.deepEqual(
    inventory.events.map((e) => e.event_type),
    ['StockAdded', 'StockReserved', 'StockReleased', 'StockReserved', 'StockDeducted'],
  );
});

test("customers see only their own carts and orders; admins see everyone's", async () => {
  const { http } = a;
  const product = await a.product({ stock: 10 });
  const alice = await a.customer('Alice');
  const bob = await a.customer('Bob');
  const order = await a.order(alice, [[product.id, 1]]);
  await a.addToCart(alice.token, product.id, 2);
  const bobsLine = await a.addToCart(bob.token, product.id, 1);

  // Bob's cart is his own, whatever Alice holds.
  const bobsCart = await http.get(`/cart?min_version=${bobsLine.version}`, bob.token);
  assert.deepEqual(
    bobsCart.body.items.map((i: any) => [i.product_id, i.quantity]),
    [[product.id, 1]],
  );
  assert.equal(bobsCart.body.user_id, bob.user_id);

  // Someone else's order does not exist for Bob.
  assert.equal((await http.get(`/orders/${order.order_id}?min_version=${order.version}`, alice.token)).status, 200);
  assertProblem(await http.get(`/orders/${order.order_id}`, bob.token), 404, 'GET');
  assertProblem(await http.post(`/orders/${order.order_id}/pay`, undefined, bob.token), 404, 'pay');
  assertProblem(await http.post(`/orders/${order.order_id}/cancel`, { reason: 'いたずら' }, bob.token), 404, 'cancel');
  assertProblem(await http.get(`/events/${order.order_id}`, bob.token), 404, 'stream');
  assertProblem(await http.get(`/events/cart-${alice.user_id}`, bob.token), 404, "another's cart stream");
  assert.deepEqual((await http.get('/orders', bob.token)).body.items, []);
  assert.deepEqual((await http.get('/orders/status/pending', bob.token)).body.items, []);
  assert.equal((await a.stream(order.order_id)).version, 1, "Bob's attempts wrote nothing");

  // Admins see every order (paging newest first until it shows up).
  const seen = await eventually(async () => {
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const res: any = await http.get(`/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, admin);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const found = res.body.items.find((o: any) => o.order_id === order.order_id);
      if (found) return found;
      cursor = res.body.next_cursor;
      if (!cursor) return undefined;
    }
    return undefined;
  });
  assert.equal(seen.user_id, alice.user_id);
  const own = await http.get(`/orders/${order.order_id}`, admin);
  assert.equal(own.status, 200);
  assert.equal(own.body.user_id, alice.user_id);
});

test('customers get 403 on admin routes; no token is 401; both are problem details', async () => {
  const { http } = a;
  const me = await a.customer();
  const product = await a.product({ stock: 5 });
  const order = await a.order(me, [[product.id, 1]]);
  const adminRoutes: Array<[string, string, unknown?]> = [
    ['POST', '/products', { name: 'x', description: '', price: 100, stock: 1 }],
    ['PUT', `/products/${product.id}`, { price: 1 }],
    ['DELETE', `/products/${product.id}`],
    ['POST', '/categories', { name: uniq() }],
    ['POST', `/inventory/${product.id}/add_stock`, { quantity: 5 }],
    ['GET', `/inventory/${product.id}`],
    ['GET', '/inventory'],
    ['POST', `/orders/${order.order_id}/ship`, { tracking_number: 'TRK-1' }],
    ['POST', `/orders/${order.order_id}/deliver`],
    ['GET', '/orders/statistics'],
    ['GET', '/events'],
    ['GET', '/ops/lag'],
    ['GET', '/sagas'],
    ['GET', '/marketing/overview'],
    ['GET', '/marketing/customers'],
    ['GET', '/marketing/products'],
    ['GET', '/marketing/daily'],
    ['GET', '/dashboard'],
  ];
  for (const [method, path, body] of adminRoutes) {
    assertProblem(
      await http.call(method, path, { token: me.token, ...(body !== undefined ? { body } : {}) }),
      403,
      `${method} ${path} as a customer`,
    );
    assertProblem(await http.call(method, path, body !== undefined ? { body } : {}), 401, `${method} ${path} without a token`);
  }
  const userRoutes: Array<[string, string, unknown?]> = [
    ['GET', '/me'],
    ['GET', '/cart'],
    ['POST', '/cart/items', { product_id: product.id, quantity: 1 }],
    ['DELETE', `/cart/items/${product.id}`],
    ['DELETE', '/cart'],
    ['POST', '/orders'],
    ['GET', '/orders'],
    ['GET', `/orders/${order.order_id}`],
    ['GET', '/orders/status/pending'],
    ['POST', `/orders/${order.order_id}/pay`],
    ['POST', `/orders/${order.order_id}/cancel`, { reason: 'x' }],
    ['GET', `/events/${order.order_id}`],
    ['GET', `/events/${order.order_id}/state`],
  ];
  for (const [method, path, body] of userRoutes) {
    const res = await http.call(method, path, body !== undefined ? { body } : {});
    assertProblem(res, 401, `${method} ${path} without a token`);
    assert.match(res.body.detail, /log in/);
  }
  assertProblem(await http.get('/me', 'not-a-jwt'), 401, 'a garbage token');
  assertProblem(await http.call('GET', '/me', { headers: { authorization: 'Basic YWRtaW46YWRtaW4xMjM=' } }), 401, 'not a Bearer token');
  // Nothing changed: the product, its stock and the order are as they were.
  assert.equal((await a.stream(product.id)).version, 1);
  assert.equal((await a.stream(`inventory-${product.id}`)).version, 2);
  assert.equal((await a.stream(order.order_id)).version, 1);
  // Public reads need no token.
  assert.equal((await http.get(`/products/${product.id}`)).status, 200);
  assert.equal((await http.get('/categories')).status, 200);
});
