import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../shared/decider.ts';
import { spec } from '../shared/testing.ts';
import type { ShipmentCommand, ShipmentStatus } from './decider.ts';
import { shipmentDecider } from './decider.ts';
import type { ShipmentCompleted, ShipmentEvent, ShipmentFailed, ShipmentInitiated } from './events.ts';
import { isShipmentEventType, shipmentStreamId } from './events.ts';

const O = 'o-1';
const S = 'shipment-o-1';
const T0 = '2025-01-01T10:00:00Z';
const T1 = '2025-01-01T11:00:00Z';

const initiatedEvent: ShipmentInitiated = { type: 'ShipmentInitiated', data: { shipment_id: S, order_id: O, initiated_at: T0 } };
const completedEvent: ShipmentCompleted = {
  type: 'ShipmentCompleted',
  data: { shipment_id: S, order_id: O, tracking_number: 'JP-123', completed_at: T1 },
};
const failedEvent: ShipmentFailed = { type: 'ShipmentFailed', data: { shipment_id: S, order_id: O, reason: 'carrier rejected', failed_at: T1 } };

const initiate: ShipmentCommand = { type: 'InitiateShipment', shipment_id: S, order_id: O, now: T0 };
const complete: ShipmentCommand = { type: 'CompleteShipment', order_id: O, tracking_number: 'JP-123', now: T1 };
const fail: ShipmentCommand = { type: 'FailShipment', order_id: O, reason: ' carrier rejected ', now: T1 };

const histories: Record<ShipmentStatus, ShipmentEvent[]> = {
  initiated: [initiatedEvent],
  completed: [initiatedEvent, completedEvent],
  failed: [initiatedEvent, failedEvent],
};

describe('Shipment', () => {
  it('initiates a shipment for an order', () => {
    spec(shipmentDecider).given([]).when(initiate).then([initiatedEvent]);
    assert.equal(shipmentStreamId(O), S);
  });

  for (const status of ['initiated', 'completed', 'failed'] as const) {
    it(`refuses a second initiation when ${status}`, () => {
      const err = spec(shipmentDecider).given(histories[status]).when(initiate).thenThrows({ kind: 'conflict', code: 'shipment_exists' });
      assert.deepEqual(err.extra, { shipment_id: S, order_id: O, status });
    });
  }

  it('completes or fails an initiated shipment', () => {
    spec(shipmentDecider).given(histories.initiated).when(complete).then([completedEvent]);
    spec(shipmentDecider).given(histories.initiated).when(fail).then([failedEvent]);
  });

  for (const status of ['completed', 'failed'] as const) {
    for (const [verb, command] of [['complete', complete], ['fail', fail]] as const) {
      it(`refuses to ${verb} a ${status} shipment (terminal)`, () => {
        spec(shipmentDecider)
          .given(histories[status])
          .when(command)
          .thenThrows({ kind: 'conflict', code: 'illegal_transition', message: `cannot ${verb} a shipment that is ${status}` });
      });
    }
  }

  it('refuses to complete or fail a shipment that was never initiated', () => {
    spec(shipmentDecider).given([]).when(complete).thenThrows({ kind: 'not_found', message: 'shipment of order o-1 not found' });
    spec(shipmentDecider).given([]).when(fail).thenThrows({ kind: 'not_found' });
  });

  it('validates ids, tracking number and reason', () => {
    spec(shipmentDecider).given([]).when({ ...initiate, shipment_id: '' }).thenThrows((e) => e.errors?.[0]?.field === 'shipment_id');
    for (const tracking_number of ['', 'JP 123', 'x'.repeat(101)]) {
      spec(shipmentDecider).given(histories.initiated).when({ ...complete, tracking_number }).thenThrows((e) => e.errors?.[0]?.field === 'tracking_number');
    }
    for (const reason of ['', 'r'.repeat(501)]) {
      spec(shipmentDecider).given(histories.initiated).when({ ...fail, reason }).thenThrows((e) => e.errors?.[0]?.field === 'reason');
    }
  });

  it('folds status, tracking number and failure', () => {
    const done = fold(shipmentDecider, shipmentDecider.initialState(), histories.completed);
    assert.deepEqual(done, {
      shipment_id: S,
      order_id: O,
      initiated_at: T0,
      status: 'completed',
      tracking_number: 'JP-123',
      completed_at: T1,
      failure_reason: null,
      failed_at: null,
    });
    const failed = fold(shipmentDecider, shipmentDecider.initialState(), histories.failed);
    assert.equal(failed.status === 'failed' && failed.failure_reason, 'carrier rejected');
    assert.equal(isShipmentEventType('ShipmentFailed'), true);
    assert.equal(isShipmentEventType('OrderShipped'), false);
  });
});
