import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inventory } from './projection.ts';
import { envelope, foldRows, given } from '../../../test/support/projection.ts';

const stock = (type: string, data: Record<string, unknown>, version: number) =>
  envelope(type, { product_id: 'p1', ...data }, version, 'inventory-p1');
const added = (quantity: number, v: number) => stock('StockAdded', { quantity }, v);
const reserve = (id: string, quantity: number, v: number) =>
  stock('StockReserved', { reservation_id: id, order_id: `o-${id}`, quantity, expires_at: '2025-01-15T09:15:00.000Z' }, v);

test('a reservation holds stock; a deduction takes it off the shelf; a release gives it back', () => {
  const history = [added(10, 1), reserve('r1', 3, 2), reserve('r2', 2, 3)];
  given(inventory, history)
    .when(reserve('r3', 1, 4))
    .then({ total_quantity: 10, reserved_quantity: 6 });
  given(inventory, history)
    .when(stock('StockDeducted', { reservation_id: 'r1', order_id: 'o-r1', quantity: 3 }, 4))
    .then({ total_quantity: 7, reserved_quantity: 2, version: 4 });
  given(inventory, history)
    .when(stock('StockReleased', { reservation_id: 'r2', order_id: 'o-r2', quantity: 2, reason: 'expired' }, 4))
    .then({ total_quantity: 10, reserved_quantity: 3 });
});

test('a return puts the units back on the shelf', () => {
  given(inventory, [added(5, 1)])
    .when(stock('StockReturned', { order_id: 'o', quantity: 2, reason: 'cancelled', returned_at: '2025-01-15T10:00:00.000Z' }, 2))
    .then({ total_quantity: 7 });
});

test('the same reservation applied twice holds its stock once', () => {
  const row = foldRows(inventory, [added(5, 1), reserve('r1', 2, 2), reserve('r1', 2, 3)]).get('p1');
  assert.equal(row?.reserved_quantity, 2);
  assert.deepEqual(
    row?.reservations.map((r) => r.reservation_id),
    ['r1'],
  );
});

test('the first event of a product starts its row from zero', () => {
  given(inventory, [])
    .when(reserve('r1', 2, 1))
    .then({ product_id: 'p1', total_quantity: 0, reserved_quantity: 2, version: 1 });
});
