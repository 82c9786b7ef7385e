import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fold } from '../../platform/shared/decider.ts';
import { spec } from '../../../test/support/decider.ts';
import type { ShipmentCommand, ShipmentStatus } from './decider.ts';
import { shipmentDecider } from './decider.ts';
import type {
  ShipmentCancelled,
  ShipmentCompleted,
  ShipmentEvent,
  ShipmentFailed,
  ShipmentInitiated,
  ShipmentRequested,
} from './events.ts';
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
const failedEvent: ShipmentFailed = {
  type: 'ShipmentFailed',
  data: { shipment_id: S, order_id: O, reason: 'carrier rejected', failed_at: T1 },
};
const cancelledEvent: ShipmentCancelled = {
  type: 'ShipmentCancelled',
  data: { shipment_id: S, order_id: O, reason: 'order cancelled', cancelled_at: T1 },
};

const initiate: ShipmentCommand = { type: 'InitiateShipment', shipment_id: S, order_id: O, now: T0 };
const complete: ShipmentCommand = { type: 'CompleteShipment', order_id: O, tracking_number: 'JP-123', now: T1 };
const fail: ShipmentCommand = { type: 'FailShipment', order_id: O, reason: ' carrier rejected ', now: T1 };

const histories: Record<ShipmentStatus, ShipmentEvent[]> = {
  initiated: [initiatedEvent],
  completed: [initiatedEvent, completedEvent],
  failed: [initiatedEvent, failedEvent],
  cancelled: [initiatedEvent, cancelledEvent],
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
    for (const [verb, command] of [
      ['complete', complete],
      ['fail', fail],
    ] as const) {
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
    spec(shipmentDecider)
      .given([])
      .when({ ...initiate, shipment_id: '' })
      .thenThrows((e) => e.errors?.[0]?.field === 'shipment_id');
    for (const tracking_number of ['', 'JP 123', 'x'.repeat(101)]) {
      spec(shipmentDecider)
        .given(histories.initiated)
        .when({ ...complete, tracking_number })
        .thenThrows((e) => e.errors?.[0]?.field === 'tracking_number');
    }
    for (const reason of ['', 'r'.repeat(501)]) {
      spec(shipmentDecider)
        .given(histories.initiated)
        .when({ ...fail, reason })
        .thenThrows((e) => e.errors?.[0]?.field === 'reason');
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

describe('Shipment: carrier hand-over, dispatch by whom, cancellation', () => {
  const requestedEvent: ShipmentRequested = {
    type: 'ShipmentRequested',
    data: { shipment_id: S, order_id: O, carrier: 'simulated', carrier_reference: 'SIM-1', requested_at: T0 },
  };
  const request: ShipmentCommand = { type: 'RequestShipment', order_id: O, carrier: ' simulated ', carrier_reference: 'SIM-1', now: T0 };
  const cancel: ShipmentCommand = { type: 'CancelShipment', order_id: O, reason: ' order cancelled ', now: T1 };

  it('records the carrier and its reference once; a retried hand-over with the same reference is a no-op', () => {
    spec(shipmentDecider).given(histories.initiated).when(request).then([requestedEvent]);
    spec(shipmentDecider).given([initiatedEvent, requestedEvent]).when(request).then([]);
    const err = spec(shipmentDecider)
      .given([initiatedEvent, requestedEvent])
      .when({ ...request, carrier_reference: 'SIM-2' })
      .thenThrows({ kind: 'conflict', code: 'shipment_already_requested' });
    assert.deepEqual(err.extra, { shipment_id: S, carrier: 'simulated', carrier_reference: 'SIM-1' });
  });

  for (const status of ['completed', 'failed', 'cancelled'] as const) {
    it(`refuses to hand a ${status} shipment to a carrier`, () => {
      spec(shipmentDecider)
        .given(histories[status])
        .when(request)
        .thenThrows({ code: 'illegal_transition', message: `cannot request a shipment that is ${status}` });
    });
  }

  it('validates the carrier name and reference', () => {
    spec(shipmentDecider)
      .given(histories.initiated)
      .when({ ...request, carrier: '' })
      .thenThrows((e) => e.errors?.[0]?.field === 'carrier');
    spec(shipmentDecider)
      .given(histories.initiated)
      .when({ ...request, carrier_reference: 'SIM 1' })
      .thenThrows((e) => e.errors?.[0]?.field === 'carrier_reference');
  });

  it('says who dispatched when told, and keeps it in the state', () => {
    const byAdmin: ShipmentCompleted = { type: 'ShipmentCompleted', data: { ...completedEvent.data, dispatched_by: 'admin' } };
    spec(shipmentDecider)
      .given([initiatedEvent, requestedEvent])
      .when({ ...complete, dispatched_by: 'admin' })
      .then([byAdmin]);
    spec(shipmentDecider)
      .given(histories.initiated)
      .when({ ...complete, dispatched_by: 'robot' as never })
      .thenThrows((e) => e.errors?.[0]?.field === 'dispatched_by');
    const state = fold(shipmentDecider, shipmentDecider.initialState(), [initiatedEvent, requestedEvent, byAdmin]);
    assert.equal(state.status === 'completed' && state.dispatched_by, 'admin');
    assert.deepEqual(state.status === 'completed' && state.carrier, { name: 'simulated', reference: 'SIM-1', requested_at: T0 });
  });

  it('cancels an initiated shipment (the order was cancelled before dispatch); a cancelled one is terminal', () => {
    spec(shipmentDecider).given([initiatedEvent, requestedEvent]).when(cancel).then([cancelledEvent]);
    for (const [verb, command] of [
      ['complete', complete],
      ['fail', fail],
      ['cancel', cancel],
    ] as const) {
      spec(shipmentDecider)
        .given(histories.cancelled)
        .when(command)
        .thenThrows({ code: 'illegal_transition', message: `cannot ${verb} a shipment that is cancelled` });
    }
    spec(shipmentDecider).given(histories.completed).when(cancel).thenThrows({ message: 'cannot cancel a shipment that is completed' });
    spec(shipmentDecider).given([]).when(cancel).thenThrows({ kind: 'not_found' });
    const state = fold(shipmentDecider, shipmentDecider.initialState(), histories.cancelled);
    assert.deepEqual(state.status === 'cancelled' && [state.cancelled_at, state.cancel_reason], [T1, 'order cancelled']);
  });
});
