import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyInventory, evolveInventory, reservedQuantity } from './inventory.ts';
import type { InventoryRow } from './inventory.ts';
import { envelope } from './testing.ts';

const fold = (events: Array<[string, Record<string, unknown>]>): InventoryRow =>
  events.reduce((row, [type, data], i) => evolveInventory(row, envelope(type, { product_id: 'p1', ...data }, i + 1)), emptyInventory('p1'));

const reserve = (id: string, quantity: number) =>
  ['StockReserved', { reservation_id: id, order_id: `o-${id}`, quantity, expires_at: '2025-01-15T09:15:00.000Z' }] as [string, Record<string, unknown>];

test('reservations hold stock until deducted (total falls) or released (total unchanged)', () => {
  const row = fold([['StockAdded', { quantity: 10 }], reserve('r1', 3), reserve('r2', 2)]);
  assert.equal(row.total_quantity, 10);
  assert.equal(reservedQuantity(row), 5);
  assert.deepEqual(row.reservations.map((r) => r.reservation_id), ['r1', 'r2']);

  const deducted = evolveInventory(row, envelope('StockDeducted', { product_id: 'p1', reservation_id: 'r1', order_id: 'o-r1', quantity: 3 }, 4));
  assert.equal(deducted.total_quantity, 7);
  assert.equal(reservedQuantity(deducted), 2);

  const released = evolveInventory(deducted, envelope('StockReleased', { product_id: 'p1', reservation_id: 'r2', order_id: 'o-r2', quantity: 2, reason: 'expired' }, 5));
  assert.deepEqual({ total: released.total_quantity, reserved: reservedQuantity(released), n: released.reservations.length }, { total: 7, reserved: 0, n: 0 });
});

test('the same reservation applied twice holds its stock once', () => {
  const row = fold([['StockAdded', { quantity: 5 }], reserve('r1', 2), reserve('r1', 2)]);
  assert.equal(reservedQuantity(row), 2);
});

test('an unknown event leaves the row as it was; a malformed one names the field', () => {
  const row = fold([['StockAdded', { quantity: 5 }]]);
  assert.deepEqual(evolveInventory(row, envelope('StockAudited', { product_id: 'p1' })), row);
  assert.throws(() => evolveInventory(row, envelope('StockAdded', { product_id: 'p1', quantity: '5' })), /data\.quantity must be an integer/);
});

test('goods of a paid order coming back (StockReturned) raise the total again', () => {
  const row = fold([['StockAdded', { quantity: 10 }], reserve('r1', 3), ['StockDeducted', { reservation_id: 'r1', order_id: 'o-r1', quantity: 3 }], ['StockReturned', { order_id: 'o-r1', quantity: 3, reason: 'shipment_failed' }]]);
  assert.deepEqual({ total: row.total_quantity, reserved: reservedQuantity(row) }, { total: 10, reserved: 0 });
});
