/**
 * The write side's routes through hono's app.request, on the in-memory composition root (src/processes/memory.ts):
 * no process, no port, milliseconds. The end-to-end suite keeps the journeys on the real services.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createMemoryEventStore } from '../../platform/eventstore/memory.ts';
import type { EventStore } from '../../platform/eventstore/types.ts';
import { createMemoryShop } from '../../processes/memory.ts';

type Shop = ReturnType<typeof createMemoryShop>;

async function as(shop: Shop, role: 'admin' | 'customer') {
  const principal = { user_id: randomUUID(), email: `${role}-${randomUUID().slice(0, 8)}@example.com`, role };
  const token = await shop.tokens.accessToken(principal);
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await shop.app.request(path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown>, headers: res.headers };
  };
  return { ...principal, call };
}

async function productWith(shop: Shop, stock: number, price = 1200) {
  const admin = await as(shop, 'admin');
  const res = await admin.call('POST', '/products', { name: `品 ${randomUUID().slice(0, 6)}`, description: '', price, stock });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

/** Counts the appends that reach the store, and the ones it refused for a lost optimistic check. */
function counting(store: EventStore) {
  const counts = { appends: 0, conflicts: 0 };
  const counted: EventStore = {
    ...store,
    append: async (writes, opts) => {
      counts.appends++;
      try {
        return await store.append(writes, opts);
      } catch (err) {
        if ((err as Error).name === 'ConcurrencyError') counts.conflicts++;
        throw err;
      }
    },
  };
  return { counted, counts };
}

describe('command routes on the memory shop', () => {
  it('a customer adds to the cart, checks out and pays; the route picks each status', async () => {
    const shop = createMemoryShop();
    const product = await productWith(shop, 5);
    const customer = await as(shop, 'customer');
    assert.equal((await customer.call('POST', '/cart/items', { product_id: product, quantity: 2 })).status, 201);
    const placed = await customer.call('POST', '/orders');
    assert.equal(placed.status, 201, JSON.stringify(placed.body));
    assert.equal(placed.body.status, 'pending');
    assert.equal(placed.body.total, 2400);
    const paid = await customer.call('POST', `/orders/${String(placed.body.order_id)}/pay`);
    assert.equal(paid.status, 200);
    assert.equal(paid.body.status, 'paid');
    const inventory = await shop.application.executor.streams().inventory(product);
    assert.equal(inventory.state.total_quantity, 3);
    assert.ok(
      shop.published.some((e) => e.event_type === 'OrderPaid'),
      'published after the commit',
    );
  });

  it('bad input is a 4xx problem and changes nothing', async () => {
    const shop = createMemoryShop();
    const customer = await as(shop, 'customer');
    const res = await customer.call('POST', '/cart/items', { product_id: 'not a product id!', quantity: 1 });
    assert.equal(res.status, 400);
    assert.equal((await customer.call('POST', '/orders')).status, 409, 'an empty cart cannot be checked out');
    assert.equal(shop.published.length, 0);
  });

  it('a command that decided nothing still records its Idempotency-Key answer: a late duplicate does not clear the refilled cart', async () => {
    const shop = createMemoryShop();
    const product = await productWith(shop, 10);
    const customer = await as(shop, 'customer');
    const key = { 'idempotency-key': `clear-${randomUUID()}` };
    const first = await customer.call('DELETE', '/cart', undefined, key);
    assert.equal(first.status, 200);
    assert.equal((await customer.call('POST', '/cart/items', { product_id: product, quantity: 3 })).status, 201);
    const duplicate = await customer.call('DELETE', '/cart', undefined, key);
    assert.equal(duplicate.status, 200);
    assert.equal(duplicate.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(duplicate.body, first.body);
    const cart = await shop.application.executor.streams().cart(customer.user_id);
    assert.deepEqual(
      cart.state.lines.map((l) => [l.product_id, l.quantity]),
      [[product, 3]],
    );
  });

  it('a refusal decided on a stale tip is checked on the stream before it is answered', async () => {
    const shop = createMemoryShop();
    const product = await productWith(shop, 1);
    const first = await as(shop, 'customer');
    assert.equal((await first.call('POST', '/cart/items', { product_id: product, quantity: 1 })).status, 201);
    assert.equal((await first.call('POST', '/orders')).status, 201);
    // A writer that leaves the tip behind (an older release; a transaction with no room for tips).
    const inventory = await shop.application.executor.streams().inventory(product);
    await shop.store.append(
      [
        {
          aggregate_id: `inventory-${product}`,
          aggregate_type: 'Inventory',
          expected_version: inventory.version,
          events: [{ event_type: 'StockAdded', data: { product_id: product, quantity: 1, added_at: new Date().toISOString() } }],
        },
      ],
      { metadata: {}, now: new Date().toISOString() },
    );
    assert.equal((await shop.store.loadSnapshot(`inventory-${product}`))?.version, inventory.version, 'the tip is behind');
    const second = await as(shop, 'customer');
    const added = await second.call('POST', '/cart/items', { product_id: product, quantity: 1 });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    assert.equal((await second.call('POST', '/orders')).status, 201);
  });

  it('100 buyers for 20 units: 20 orders, 80 refusals for stock, no lost optimistic check inside one process', async () => {
    const { counted, counts } = counting(createMemoryEventStore());
    const shop = createMemoryShop({ store: counted });
    const product = await productWith(shop, 20);
    const buyers = await Promise.all(Array.from({ length: 100 }, () => as(shop, 'customer')));
    for (const b of buyers) assert.equal((await b.call('POST', '/cart/items', { product_id: product, quantity: 1 })).status, 201);
    const before = { ...counts };
    const answers = await Promise.all(buyers.map((b) => b.call('POST', '/orders')));
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array<number>(20).fill(201), ...Array<number>(80).fill(409)]);
    for (const a of answers.filter((x) => x.status === 409))
      assert.match(String(a.body.detail), /insufficient stock|out of stock|available/i);
    assert.equal(counts.conflicts - before.conflicts, 0, 'single-flight: no command lost the optimistic check to another in this process');
    assert.equal(counts.appends - before.appends, 20, 'one append per order placed, none for the refusals');
    const inventory = await shop.application.executor.streams().inventory(product);
    assert.equal(inventory.state.available_quantity, 0);
    assert.equal(inventory.state.reserved_quantity, 20);
  });
});
