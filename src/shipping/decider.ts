import type { Decider } from '../shared/decider.ts';
import { conflict, notFound } from '../shared/errors.ts';
import { ensure, id, nowMs, pattern, singleLine, trimmed } from '../shared/validate.ts';
import type { ShipmentEvent, ShipmentInitiatedData } from './events.ts';
import { SHIPMENT_FAILURE_REASON_MAX } from './events.ts';

export type ShipmentCommand =
  | { type: 'InitiateShipment'; shipment_id: string; order_id: string; now: string }
  | { type: 'CompleteShipment'; order_id: string; tracking_number: string; now: string }
  | { type: 'FailShipment'; order_id: string; reason: string; now: string };

export type ShipmentStatus = 'initiated' | 'completed' | 'failed';

export type ShipmentState =
  | { status: 'none' }
  | (ShipmentInitiatedData & {
      status: ShipmentStatus;
      tracking_number: string | null;
      completed_at: string | null;
      failure_reason: string | null;
      failed_at: string | null;
    });

/** Same rule as the order's tracking number (the carrier's number becomes the order's). */
const TRACKING = /^[A-Za-z0-9-]{1,100}$/;

const initiated = (state: ShipmentState, orderId: string, verb: 'complete' | 'fail') => {
  if (state.status === 'none') throw notFound('shipment of order', orderId);
  if (state.status !== 'initiated') {
    throw conflict('illegal_transition', `cannot ${verb} a shipment that is ${state.status}`, {
      shipment_id: state.shipment_id,
      order_id: state.order_id,
      status: state.status,
    });
  }
  return state;
};

export const shipmentDecider: Decider<ShipmentCommand, ShipmentState, ShipmentEvent> = {
  initialState: () => ({ status: 'none' }),

  decide: (command, state) => {
    switch (command.type) {
      case 'InitiateShipment': {
        ensure(id('shipment_id', command.shipment_id), id('order_id', command.order_id));
        nowMs(command.now);
        if (state.status !== 'none') {
          throw conflict('shipment_exists', `order ${state.order_id} already has a shipment (${state.status})`, {
            shipment_id: state.shipment_id,
            order_id: state.order_id,
            status: state.status,
          });
        }
        const { shipment_id, order_id, now } = command;
        return [{ type: 'ShipmentInitiated', data: { shipment_id, order_id, initiated_at: now } }];
      }
      case 'CompleteShipment': {
        ensure(pattern('tracking_number', command.tracking_number, TRACKING, '1..100 letters, digits or -'));
        nowMs(command.now);
        const s = initiated(state, command.order_id, 'complete');
        return [
          {
            type: 'ShipmentCompleted',
            data: { shipment_id: s.shipment_id, order_id: s.order_id, tracking_number: command.tracking_number, completed_at: command.now },
          },
        ];
      }
      case 'FailShipment': {
        const reason = trimmed(command.reason);
        ensure(singleLine('reason', reason, 1, SHIPMENT_FAILURE_REASON_MAX));
        nowMs(command.now);
        const s = initiated(state, command.order_id, 'fail');
        return [{ type: 'ShipmentFailed', data: { shipment_id: s.shipment_id, order_id: s.order_id, reason, failed_at: command.now } }];
      }
    }
  },

  evolve: (state, event) => {
    if (event.type === 'ShipmentInitiated') {
      return { ...event.data, status: 'initiated', tracking_number: null, completed_at: null, failure_reason: null, failed_at: null };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'ShipmentCompleted':
        return { ...state, status: 'completed', tracking_number: event.data.tracking_number, completed_at: event.data.completed_at };
      case 'ShipmentFailed':
        return { ...state, status: 'failed', failure_reason: event.data.reason, failed_at: event.data.failed_at };
    }
  },
};
