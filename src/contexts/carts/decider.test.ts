import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProductState } from '../catalog/index.ts';
import { fold } from '../../platform/shared/decider.ts';
import { spec } from '../../../test/support/decider.ts';
import type { CartCommand } from './decider.ts';
import { cartDecider, findLine } from './decider.ts';
import type { CartCleared, CartEvent, ItemAddedToCart, ItemRemovedFromCart } from './events.ts';
import { cartStreamId, isCartEventType, MAX_CART_LINES } from './events.ts';

const U = 'u-1';
const C = 'cart-u-1';
const T = '2025-01-01T10:00:00Z';
const product = (id: string, price = 2000, status: 'active' | 'deleted' = 'active'): ProductState => ({
  status,
  product_id: id,
  name: `品 ${id}`,
  description: '',
  price,
  category_id: null,
  created_at: T,
  updated_at: T,
  deleted_at: status === 'deleted' ? T : null,
});
const add = (productId: string, quantity: number, over: Partial<Extract<CartCommand, { type: 'AddItem' }>> = {}): CartCommand => ({
  type: 'AddItem',
  user_id: U,
  product_id: productId,
  quantity,
  product: product(productId),
  available: 100,
  ...over,
});
const added = (productId: string, quantity: number, line_quantity = quantity, price = 2000): ItemAddedToCart => ({
  type: 'ItemAddedToCart',
  data: { cart_id: C, user_id: U, product_id: productId, quantity, line_quantity, price, name: `品 ${productId}` },
});
const removed = (productId: string): ItemRemovedFromCart => ({
  type: 'ItemRemovedFromCart',
  data: { cart_id: C, user_id: U, product_id: productId },
});
const cleared: CartCleared = { type: 'CartCleared', data: { cart_id: C, user_id: U, reason: 'user' } };

describe('Cart: AddItem', () => {
  it('adds a line at the product price and name', () => {
    spec(cartDecider)
      .given([])
      .when(add('p-1', 2))
      .then([added('p-1', 2)]);
  });

  it('merges quantities into one line and refreshes the price', () => {
    spec(cartDecider)
      .given([added('p-1', 2)])
      .when(add('p-1', 3, { product: product('p-1', 1800) }))
      .then([added('p-1', 3, 5, 1800)]);
  });

  it('accepts 1..99 per line', () => {
    spec(cartDecider)
      .given([])
      .when(add('p-1', 99))
      .then([added('p-1', 99)]);
    for (const q of [0, 100, 1.5, -1]) {
      spec(cartDecider)
        .given([])
        .when(add('p-1', q))
        .thenThrows((e) => e.kind === 'validation' && e.errors?.[0]?.field === 'quantity');
    }
  });

  it('refuses a merge beyond 99 per line', () => {
    const err = spec(cartDecider)
      .given([added('p-1', 60)])
      .when(add('p-1', 40))
      .thenThrows({ kind: 'conflict', code: 'cart_line_limit' });
    assert.deepEqual(err.extra, { product_id: 'p-1', max: 99, requested: 100 });
  });

  it('refuses more than the available stock, counting what the line already holds', () => {
    const err = spec(cartDecider)
      .given([])
      .when(add('p-1', 2, { available: 1 }))
      .thenThrows({ kind: 'conflict', code: 'insufficient_stock', message: 'insufficient stock: available=1, requested=2' });
    assert.deepEqual(err.extra, { product_id: 'p-1', available: 1, requested: 2 });
    spec(cartDecider)
      .given([added('p-1', 2)])
      .when(add('p-1', 1, { available: 2 }))
      .thenThrows({ message: 'insufficient stock: available=2, requested=3' });
    spec(cartDecider)
      .given([added('p-1', 2)])
      .when(add('p-1', 1, { available: 3 }))
      .then([added('p-1', 1, 3)]);
    spec(cartDecider)
      .given([])
      .when(add('p-1', 1, { available: 0 }))
      .thenThrows({ message: 'insufficient stock: available=0, requested=1' });
  });

  it('refuses an unknown product (not_found) and a deleted one (product_deleted)', () => {
    spec(cartDecider)
      .given([])
      .when(add('p-1', 1, { product: { status: 'none' } }))
      .thenThrows({ kind: 'not_found', message: 'product p-1 not found' });
    spec(cartDecider)
      .given([])
      .when(add('p-1', 1, { product: product('p-2') }))
      .thenThrows({ kind: 'not_found' });
    spec(cartDecider)
      .given([])
      .when(add('p-1', 1, { product: product('p-1', 2000, 'deleted') }))
      .thenThrows({ kind: 'conflict', code: 'product_deleted' });
  });

  it(`holds at most ${MAX_CART_LINES} lines, but a full cart still merges into an existing line`, () => {
    const full: CartEvent[] = Array.from({ length: MAX_CART_LINES }, (_, i) => added(`p-${i}`, 1));
    spec(cartDecider).given(full).when(add('p-new', 1)).thenThrows({ kind: 'conflict', code: 'cart_full' });
    spec(cartDecider)
      .given(full)
      .when(add('p-0', 1))
      .then([added('p-0', 1, 2)]);
    spec(cartDecider)
      .given([...full, removed('p-3')])
      .when(add('p-new', 1))
      .then([added('p-new', 1)]);
  });

  it('validates ids', () => {
    spec(cartDecider)
      .given([])
      .when(add('', 1))
      .thenThrows((e) => e.errors?.[0]?.field === 'product_id');
    spec(cartDecider)
      .given([])
      .when(add('p-1', 1, { user_id: '' }))
      .thenThrows((e) => e.errors?.[0]?.field === 'user_id');
  });
});

describe('Cart: RemoveItem', () => {
  it('removes a line', () => {
    spec(cartDecider)
      .given([added('p-1', 1), added('p-2', 1)])
      .when({ type: 'RemoveItem', user_id: U, product_id: 'p-1' })
      .then([removed('p-1')]);
  });

  it('refuses to remove an absent line (not_found)', () => {
    spec(cartDecider)
      .given([])
      .when({ type: 'RemoveItem', user_id: U, product_id: 'p-1' })
      .thenThrows({ kind: 'not_found', message: 'cart item p-1 not found' });
    spec(cartDecider)
      .given([added('p-1', 1), removed('p-1')])
      .when({ type: 'RemoveItem', user_id: U, product_id: 'p-1' })
      .thenThrows({ kind: 'not_found' });
  });
});

describe('Cart: ClearCart', () => {
  it('clears a cart at the user’s request', () => {
    spec(cartDecider)
      .given([added('p-1', 1)])
      .when({ type: 'ClearCart', user_id: U, reason: 'user' })
      .then([cleared]);
  });

  it('clears at checkout naming the order, and drops a stray order id otherwise', () => {
    spec(cartDecider)
      .given([added('p-1', 1)])
      .when({ type: 'ClearCart', user_id: U, reason: 'checkout', order_id: 'o-1' })
      .then([{ type: 'CartCleared', data: { cart_id: C, user_id: U, reason: 'checkout', order_id: 'o-1' } }]);
    spec(cartDecider)
      .given([added('p-1', 1)])
      .when({ type: 'ClearCart', user_id: U, reason: 'user', order_id: 'o-1' })
      .then([cleared]);
  });

  it('records nothing for an empty cart', () => {
    spec(cartDecider).given([]).when({ type: 'ClearCart', user_id: U, reason: 'user' }).then([]);
    spec(cartDecider)
      .given([added('p-1', 1), cleared])
      .when({ type: 'ClearCart', user_id: U, reason: 'user' })
      .then([]);
  });

  it('validates reason and the checkout order id', () => {
    spec(cartDecider)
      .given([added('p-1', 1)])
      .when({ type: 'ClearCart', user_id: U, reason: 'bored' as never })
      .thenThrows((e) => e.errors?.[0]?.field === 'reason');
    spec(cartDecider)
      .given([added('p-1', 1)])
      .when({ type: 'ClearCart', user_id: U, reason: 'checkout' })
      .thenThrows((e) => e.errors?.[0]?.field === 'order_id');
  });
});

describe('Cart: state', () => {
  it('folds lines in first-added order with merged quantities', () => {
    const s = fold(cartDecider, cartDecider.initialState(), [
      added('p-1', 1),
      added('p-2', 2),
      added('p-1', 2, 3, 1500),
      removed('p-2'),
      added('p-3', 1),
    ]);
    assert.deepEqual(s, {
      cart_id: C,
      user_id: U,
      lines: [
        { product_id: 'p-1', name: '品 p-1', price: 1500, quantity: 3 },
        { product_id: 'p-3', name: '品 p-3', price: 2000, quantity: 1 },
      ],
    });
    assert.equal(findLine(s, 'p-3')?.quantity, 1);
    assert.deepEqual(fold(cartDecider, s, [cleared]).lines, []);
    assert.equal(cartStreamId('u-1'), C);
    assert.equal(isCartEventType('CartCleared'), true);
  });
});
