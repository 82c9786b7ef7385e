import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CartLine } from './carts.ts';
import { cartTotal, evolveCart } from './carts.ts';
import { envelope } from './testing.ts';

const add = (product_id: string, quantity: number, price: number, name = product_id) =>
  envelope('ItemAddedToCart', { cart_id: 'cart-u1', user_id: 'u1', product_id, quantity, price, name });

test('adding a product twice merges the quantity into one line with the latest price and name', () => {
  let items: CartLine[] = [];
  items = evolveCart(items, add('p1', 1, 1000));
  items = evolveCart(items, add('p2', 2, 500));
  items = evolveCart(items, add('p1', 2, 1200, 'P1 (new)'));
  assert.deepEqual(items, [
    { product_id: 'p1', name: 'P1 (new)', price: 1200, quantity: 3, subtotal: 3600 },
    { product_id: 'p2', name: 'p2', price: 500, quantity: 2, subtotal: 1000 },
  ]);
  assert.equal(cartTotal(items), 4600);
});

test("the decider's line_quantity wins over local arithmetic", () => {
  const first = evolveCart([], envelope('ItemAddedToCart', { cart_id: 'c', user_id: 'u1', product_id: 'p1', quantity: 2, line_quantity: 2, price: 100, name: 'p1' }));
  const merged = evolveCart(first, envelope('ItemAddedToCart', { cart_id: 'c', user_id: 'u1', product_id: 'p1', quantity: 3, line_quantity: 4, price: 100, name: 'p1' }));
  assert.deepEqual([merged[0]!.quantity, merged[0]!.subtotal], [4, 400]);
});

test('removing a line and clearing the cart', () => {
  const items = evolveCart(evolveCart([], add('p1', 1, 100)), add('p2', 1, 200));
  const removed = evolveCart(items, envelope('ItemRemovedFromCart', { cart_id: 'cart-u1', user_id: 'u1', product_id: 'p1' }));
  assert.deepEqual(removed.map((l) => l.product_id), ['p2']);
  assert.deepEqual(evolveCart(removed, envelope('CartCleared', { cart_id: 'cart-u1', user_id: 'u1', reason: 'checkout', order_id: 'o1' })), []);
});

test('evolveCart never mutates the lines it is given', () => {
  const items = Object.freeze([Object.freeze({ product_id: 'p1', name: 'p1', price: 100, quantity: 1, subtotal: 100 })]) as CartLine[];
  assert.doesNotThrow(() => evolveCart(items, add('p1', 1, 100)));
  assert.equal(items[0]!.quantity, 1);
});
