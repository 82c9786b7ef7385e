import assert from 'node:assert/strict';
import { test } from 'node:test';
import { STREAM_PROJECTIONS, routeByEventType } from './registry.ts';

test('every event type of the brief is routed to exactly one stream projection', () => {
  const routes = routeByEventType(STREAM_PROJECTIONS);
  const expected = {
    UserRegistered: 'users',
    CategoryCreated: 'categories',
    ProductCreated: 'products',
    ProductUpdated: 'products',
    ProductDeleted: 'products',
    StockAdded: 'inventory',
    StockReserved: 'inventory',
    StockDeducted: 'inventory',
    StockReleased: 'inventory',
    StockReturned: 'inventory',
    ItemAddedToCart: 'carts',
    ItemRemovedFromCart: 'carts',
    CartCleared: 'carts',
    OrderPlaced: 'orders',
    OrderPaid: 'orders',
    OrderShipped: 'orders',
    OrderDelivered: 'orders',
    OrderCancelled: 'orders',
    OrderShipmentFailed: 'orders',
    OrderPaymentRefunded: 'orders',
    ShipmentInitiated: 'shipments',
    ShipmentRequested: 'shipments',
    ShipmentCompleted: 'shipments',
    ShipmentFailed: 'shipments',
    ShipmentCancelled: 'shipments',
  };
  assert.deepEqual(Object.fromEntries([...routes].map(([type, p]) => [type, p.name])), expected);
});

test('two projections claiming one event type fail at wiring time', () => {
  const a = { name: 'a', eventTypes: ['X'] };
  const b = { name: 'b', eventTypes: ['X'] };
  assert.throws(() => routeByEventType([a, b]), /X is claimed by both a and b/);
});
