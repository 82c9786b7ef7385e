import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AggregateType, EventEnvelope } from '../platform/shared/envelope.ts';
import { EXPIRY_SAGA_TYPE, FULFILMENT_SAGA_TYPE, fulfilmentSagaId, sagaStepsOf } from './saga-steps.ts';

const O = 'o-1';
const AT = '2025-01-01T10:00:00.000Z';
const env = (aggregate_type: AggregateType, aggregate_id: string, event_type: string, data: Record<string, unknown>): EventEnvelope => ({
  event_id: `${event_type}-id`,
  aggregate_id,
  aggregate_type,
  event_type,
  version: 1,
  data,
  metadata: {},
  created_at: AT,
  schema_version: 1,
});
const steps = (e: EventEnvelope) => sagaStepsOf(e).map((s) => [s.saga_id, s.step, s.status, s.saga_status ?? null, s.event_ids, s.detail]);

describe('saga steps from events', () => {
  it('walks the happy path: started, shipment opened and requested, dispatched, completed', () => {
    const saga = fulfilmentSagaId(O);
    assert.equal(saga, 'fulfilment-o-1');
    assert.deepEqual(steps(env('Order', O, 'OrderPaid', { order_id: O, amount: 4500, paid_at: AT })), [
      [saga, 'started', 'completed', 'running', ['OrderPaid-id'], { amount: 4500, paid_at: AT }],
    ]);
    assert.deepEqual(steps(env('Shipment', `shipment-${O}`, 'ShipmentInitiated', { order_id: O })), [
      [saga, 'shipment_opened', 'completed', 'running', ['ShipmentInitiated-id'], { shipment_id: `shipment-${O}` }],
    ]);
    assert.deepEqual(
      steps(env('Shipment', `shipment-${O}`, 'ShipmentRequested', { order_id: O, carrier: 'simulated', carrier_reference: 'SIM-1' })),
      [
        [
          saga,
          'shipment_requested',
          'completed',
          'running',
          ['ShipmentRequested-id'],
          { carrier: 'simulated', carrier_reference: 'SIM-1' },
        ],
      ],
    );
    assert.deepEqual(
      steps(env('Shipment', `shipment-${O}`, 'ShipmentCompleted', { order_id: O, tracking_number: 'T-1', dispatched_by: 'carrier' })),
      [[saga, 'dispatched', 'completed', 'running', ['ShipmentCompleted-id'], { tracking_number: 'T-1', dispatched_by: 'carrier' }]],
    );
    assert.deepEqual(steps(env('Order', O, 'OrderShipped', { order_id: O, tracking_number: 'T-1' })), [
      [saga, 'dispatched', 'completed', 'running', ['OrderShipped-id'], { tracking_number: 'T-1' }],
      [saga, 'completed', 'completed', 'completed', [], { outcome: 'shipped' }],
    ]);
  });

  it('the failure path: failed, then compensation collecting the order events and every StockReturned', () => {
    const saga = fulfilmentSagaId(O);
    assert.deepEqual(steps(env('Shipment', `shipment-${O}`, 'ShipmentFailed', { order_id: O, reason: '破損' })), [
      [saga, 'failed', 'failed', 'running', ['ShipmentFailed-id'], { reason: '破損' }],
    ]);
    assert.deepEqual(steps(env('Order', O, 'OrderShipmentFailed', { order_id: O, reason: '破損' })), [
      [saga, 'compensated', 'completed', 'compensated', ['OrderShipmentFailed-id'], { reason: '破損' }],
      [saga, 'completed', 'completed', 'compensated', [], { outcome: 'shipment_failed' }],
    ]);
    assert.deepEqual(steps(env('Order', O, 'OrderPaymentRefunded', { order_id: O, amount: 4500, reason: 'shipment_failed' })), [
      [saga, 'compensated', 'completed', 'compensated', ['OrderPaymentRefunded-id'], { refunded_amount: 4500 }],
    ]);
    assert.deepEqual(
      steps(env('Inventory', 'inventory-p-1', 'StockReturned', { order_id: O, product_id: 'p-1', quantity: 2, reason: 'shipment_failed' })),
      [[saga, 'compensated', 'completed', 'compensated', ['StockReturned-id'], {}]],
    );
  });

  it('a cancel belongs to the fulfilment saga only if one started; the refund closes it as compensated', () => {
    const [cancel] = sagaStepsOf(env('Order', O, 'OrderCancelled', { order_id: O, reason: 'やめた', cancelled_by: 'customer' }));
    assert.deepEqual([cancel?.step, cancel?.only_if_started, cancel?.saga_status], ['cancelled', true, undefined]);
    assert.deepEqual(
      steps(env('Order', O, 'OrderPaymentRefunded', { order_id: O, amount: 10, reason: 'cancelled' })).map((s) => [s[1], s[3]]),
      [
        ['compensated', 'compensated'],
        ['completed', 'compensated'],
      ],
    );
  });

  it('reservation expiry: the expiry cancel and its releases join the expiry saga of the order', () => {
    for (const e of [
      env('Order', O, 'OrderCancelled', { order_id: O, reason: 'payment timeout', cancelled_by: 'system' }),
      env('Inventory', 'inventory-p-1', 'StockReleased', { order_id: O, reason: 'expired' }),
    ]) {
      const [s, more] = sagaStepsOf(e);
      assert.equal(more, undefined);
      assert.deepEqual([s?.saga_id, s?.saga_type, s?.step, s?.saga_status], [O, EXPIRY_SAGA_TYPE, 'expired', 'completed']);
    }
    assert.deepEqual(sagaStepsOf(env('Inventory', 'inventory-p-1', 'StockReleased', { order_id: O, reason: 'cancelled' })), []);
  });

  it('ignores everything else, and events without an order', () => {
    assert.deepEqual(sagaStepsOf(env('Order', O, 'OrderPlaced', { order_id: O })), []);
    assert.deepEqual(sagaStepsOf(env('Inventory', 'inventory-p', 'StockReturned', {})), []);
    assert.deepEqual(sagaStepsOf(env('Cart', 'cart-u', 'CartCleared', { order_id: O })), []);
    assert.equal(sagaStepsOf(env('Order', O, 'OrderPaid', {}))[0]?.saga_type, FULFILMENT_SAGA_TYPE);
  });
});
