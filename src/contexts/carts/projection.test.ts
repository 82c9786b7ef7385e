import { test } from 'node:test';
import { carts } from './projection.ts';
import { envelope, given } from '../../../test/support/projection.ts';

let version = 0;
const at = (type: string, data: Record<string, unknown>) =>
  envelope(type, { cart_id: 'cart-u1', user_id: 'u1', ...data }, ++version, 'cart-u1');
const add = (product_id: string, quantity: number, line_quantity: number, price: number, name = product_id) =>
  at('ItemAddedToCart', { product_id, quantity, line_quantity, price, name });

test("adding a product already in the cart replaces its line: the latest price and name, the decider's line quantity", () => {
  version = 0;
  given(carts, [add('p1', 1, 1, 1000), add('p2', 2, 2, 500)])
    .when(add('p1', 2, 3, 1200, 'P1 (new)'))
    .then({
      items: [
        { product_id: 'p1', name: 'P1 (new)', price: 1200, quantity: 3, subtotal: 3600 },
        { product_id: 'p2', name: 'p2', price: 500, quantity: 2, subtotal: 1000 },
      ],
      total: 4600,
      version: 3,
    });
});

test('removing a line and clearing the cart', () => {
  version = 0;
  const history = [add('p1', 1, 1, 100), add('p2', 1, 1, 200)];
  given(carts, history)
    .when(at('ItemRemovedFromCart', { product_id: 'p1' }))
    .then({ items: [{ product_id: 'p2', name: 'p2', price: 200, quantity: 1, subtotal: 200 }], total: 200 });
  given(carts, history)
    .when(at('CartCleared', { reason: 'checkout', order_id: 'o1' }))
    .then({ items: [], total: 0, cart_id: 'cart-u1' });
});

test('a cart worth more than 2^31 yen is projected exactly (99 × three 10,000,000-yen products)', () => {
  version = 0;
  given(carts, [add('a', 99, 99, 10_000_000), add('b', 99, 99, 10_000_000)])
    .when(add('c', 99, 99, 10_000_000))
    .then({ total: 2_970_000_000 });
});

test('a cart without cart_id (early events) takes the stream id', () => {
  version = 0;
  given(carts, [])
    .when(envelope('ItemAddedToCart', { user_id: 'u1', product_id: 'p', quantity: 1, line_quantity: 1, price: 5, name: 'p' }, 1, 'cart-u1'))
    .then({ cart_id: 'cart-u1' });
});
