import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CartState } from '../carts/index.ts';
import { cartDecider } from '../carts/index.ts';
import { MAX_CART_LINES } from '../carts/index.ts';
import type { ProductState } from '../catalog/index.ts';
import type { InventoryState } from '../inventory/index.ts';
import { findReservationByOrder, inventoryDecider } from '../inventory/index.ts';
import { fold } from '../../platform/shared/decider.ts';
import { catchAppError } from '../../../test/support/decider.ts';
import type { CheckoutInput } from './checkout.ts';
import { decideCheckout } from './checkout.ts';
import { orderDecider } from './decider.ts';

const T0 = '2025-01-01T10:00:00.000Z';
const EXP = '2025-01-01T10:15:00.000Z';
const U = 'u-1';

const product = (id: string, price: number, status: 'active' | 'deleted' = 'active'): ProductState => ({
  status,
  product_id: id,
  name: `品${id}`,
  description: '',
  price,
  category_id: null,
  created_at: T0,
  updated_at: T0,
  deleted_at: status === 'deleted' ? T0 : null,
});
const stock = (productId: string, quantity: number): InventoryState =>
  fold(inventoryDecider, inventoryDecider.initialState(), [
    { type: 'StockAdded', data: { product_id: productId, quantity, added_at: T0 } },
  ]);
const cartOf = (lines: [string, number, number][]): CartState => ({
  cart_id: `cart-${U}`,
  user_id: U,
  lines: lines.map(([product_id, quantity, price]) => ({ product_id, quantity, price, name: `品${product_id}` })),
});

const input = (over: Partial<CheckoutInput> = {}): CheckoutInput => ({
  order_id: 'o-1',
  user_id: U,
  user_email: 'taro@example.com',
  now: T0,
  expires_at: EXP,
  reservation_ids: (productId) => `r-${productId}`,
  // the cart remembers old prices (1000, 300); checkout must charge the products' current ones
  cart: cartOf([
    ['p-1', 2, 1000],
    ['p-2', 1, 300],
  ]),
  products: new Map([
    ['p-1', product('p-1', 1200)],
    ['p-2', product('p-2', 500)],
  ]),
  inventories: new Map([
    ['p-1', stock('p-1', 5)],
    ['p-2', stock('p-2', 1)],
  ]),
  ...over,
});

describe('decideCheckout', () => {
  it('places the order at current prices, reserves every line and clears the cart', () => {
    const d = decideCheckout(input());
    assert.deepEqual(d.order, [
      {
        type: 'OrderPlaced',
        data: {
          order_id: 'o-1',
          user_id: U,
          user_email: 'taro@example.com',
          items: [
            { product_id: 'p-1', name: '品p-1', price: 1200, quantity: 2, subtotal: 2400 },
            { product_id: 'p-2', name: '品p-2', price: 500, quantity: 1, subtotal: 500 },
          ],
          total: 2900,
          expires_at: EXP,
          placed_at: T0,
        },
      },
    ]);
    assert.deepEqual([...d.inventories.keys()], ['p-1', 'p-2']);
    assert.deepEqual(d.inventories.get('p-1'), [
      {
        type: 'StockReserved',
        data: { product_id: 'p-1', reservation_id: 'r-p-1', order_id: 'o-1', quantity: 2, expires_at: EXP, reserved_at: T0 },
      },
    ]);
    assert.deepEqual(d.inventories.get('p-2'), [
      {
        type: 'StockReserved',
        data: { product_id: 'p-2', reservation_id: 'r-p-2', order_id: 'o-1', quantity: 1, expires_at: EXP, reserved_at: T0 },
      },
    ]);
    assert.deepEqual(d.cart, [{ type: 'CartCleared', data: { cart_id: `cart-${U}`, user_id: U, reason: 'checkout', order_id: 'o-1' } }]);
    assert.deepEqual(JSON.parse(JSON.stringify([d.order, [...d.inventories.values()], d.cart])), [
      d.order,
      [...d.inventories.values()],
      d.cart,
    ]);

    // and the events fold into the states the follow-up commands need
    const order = fold(orderDecider, orderDecider.initialState(), d.order);
    assert.equal(order.status, 'pending');
    const inv = fold(inventoryDecider, stock('p-1', 5), d.inventories.get('p-1') ?? []);
    assert.equal(inv.available_quantity, 3);
    assert.equal(findReservationByOrder(inv, 'o-1')?.quantity, 2);
    assert.deepEqual(fold(cartDecider, input().cart, d.cart).lines, []);
  });

  it('takes reservation ids from a map too', () => {
    const d = decideCheckout(
      input({
        reservation_ids: new Map([
          ['p-1', 'x-1'],
          ['p-2', 'x-2'],
        ]),
      }),
    );
    const reservedP2 = d.inventories.get('p-2')?.[0];
    assert.equal(reservedP2?.type === 'StockReserved' && reservedP2.data.reservation_id, 'x-2');
    assert.throws(() => decideCheckout(input({ reservation_ids: new Map([['p-1', 'x-1']]) })), TypeError);
  });

  it('refuses an empty cart', () => {
    catchAppError(() => decideCheckout(input({ cart: cartOf([]) })), { kind: 'conflict', code: 'cart_empty' });
    catchAppError(() => decideCheckout(input({ cart: cartDecider.initialState() })), 'cart_empty');
  });

  it('refuses a deleted or unknown product, before looking at stock', () => {
    const err = catchAppError(
      () =>
        decideCheckout(
          input({
            products: new Map([
              ['p-1', product('p-1', 1200)],
              ['p-2', product('p-2', 500, 'deleted')],
            ]),
            inventories: new Map(),
          }),
        ),
      { kind: 'conflict', code: 'product_unavailable' },
    );
    assert.deepEqual(err.extra, { product_id: 'p-2' });
    assert.match(err.message, /p-2/);
    catchAppError(() => decideCheckout(input({ products: new Map([['p-1', product('p-1', 1200)]]) })), 'product_unavailable');
    catchAppError(
      () =>
        decideCheckout(
          input({
            products: new Map([
              ['p-1', { status: 'none' }],
              ['p-2', product('p-2', 500)],
            ]),
          }),
        ),
      'product_unavailable',
    );
  });

  it('refuses with the first line whose stock is insufficient', () => {
    const err = catchAppError(
      () => decideCheckout(input({ inventories: new Map([['p-1', stock('p-1', 1)]]) })), // p-2 fails too, but later
      { kind: 'conflict', code: 'insufficient_stock', message: 'insufficient stock: available=1, requested=2' },
    );
    assert.deepEqual(err.extra, { product_id: 'p-1', available: 1, requested: 2 });
    catchAppError(() => decideCheckout(input({ inventories: new Map([['p-1', stock('p-1', 5)]]) })), {
      message: 'insufficient stock: available=0, requested=1',
      extra: { product_id: 'p-2', available: 0, requested: 1 },
    });
  });

  it('counts stock other orders hold', () => {
    const held = fold(inventoryDecider, stock('p-1', 5), [
      {
        type: 'StockReserved',
        data: { product_id: 'p-1', reservation_id: 'r-x', order_id: 'o-0', quantity: 4, expires_at: EXP, reserved_at: T0 },
      },
    ]);
    catchAppError(
      () =>
        decideCheckout(
          input({
            inventories: new Map([
              ['p-1', held],
              ['p-2', stock('p-2', 1)],
            ]),
          }),
        ),
      {
        message: 'insufficient stock: available=1, requested=2',
      },
    );
  });

  it('refuses a cart of another user as a programming error', () => {
    assert.throws(() => decideCheckout(input({ user_id: 'u-2' })), TypeError);
  });

  it(`checks out a full cart of ${MAX_CART_LINES} lines in one decision (${MAX_CART_LINES + 3} transaction items ≤ 100)`, () => {
    const ids = Array.from({ length: MAX_CART_LINES }, (_, i) => `p-${i}`);
    const d = decideCheckout(
      input({
        cart: cartOf(ids.map((id) => [id, 99, 1])),
        products: new Map(ids.map((id) => [id, product(id, 10_000_000)])),
        inventories: new Map(ids.map((id) => [id, stock(id, 99)])),
      }),
    );
    const items = d.order.length + [...d.inventories.values()].reduce((n, e) => n + e.length, 0) + d.cart.length + 1;
    assert.equal(items, MAX_CART_LINES + 3);
    assert.ok(items <= 100);
    assert.equal(d.order[0]?.type === 'OrderPlaced' && d.order[0].data.total, 40 * 99 * 10_000_000);
  });
});
