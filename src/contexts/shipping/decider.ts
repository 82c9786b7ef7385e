import type { Decider } from '../../platform/shared/decider.ts';
import { conflict, notFound } from '../../platform/shared/errors.ts';
import { ensure, id, nowMs, oneOf, pattern, singleLine, trimmed } from '../../platform/shared/validate.ts';
import type { DispatchedBy, ShipmentEvent, ShipmentInitiatedData } from './events.ts';
import { CARRIER_NAME_MAX, CARRIER_REFERENCE_MAX, DISPATCHERS, SHIPMENT_FAILURE_REASON_MAX } from './events.ts';

export type ShipmentCommand =
  | { type: 'InitiateShipment'; shipment_id: string; order_id: string; now: string }
  /** The carrier accepted the shipment; repeating it with the same reference is a no-op (a retried hand-over). */
  | { type: 'RequestShipment'; order_id: string; carrier: string; carrier_reference: string; now: string }
  | { type: 'CompleteShipment'; order_id: string; tracking_number: string; now: string; dispatched_by?: DispatchedBy }
  | { type: 'FailShipment'; order_id: string; reason: string; now: string }
  | { type: 'CancelShipment'; order_id: string; reason: string; now: string };

export type ShipmentStatus = 'initiated' | 'completed' | 'failed' | 'cancelled';

/**
 * The optional keys appear only once their event happened (and never in streams written before the saga
 * existed), so a state folded from an old stream is exactly what it was.
 */
export type ShipmentState =
  | { status: 'none' }
  | (ShipmentInitiatedData & {
      status: ShipmentStatus;
      tracking_number: string | null;
      completed_at: string | null;
      failure_reason: string | null;
      failed_at: string | null;
      /** The carrier it was handed to. */
      carrier?: { name: string; reference: string; requested_at: string };
      dispatched_by?: DispatchedBy;
      cancelled_at?: string;
      cancel_reason?: string;
    });

/** Same rule as the order's tracking number (the carrier's number becomes the order's). */
const TRACKING = /^[A-Za-z0-9-]{1,100}$/;
const REFERENCE = /^[A-Za-z0-9._:-]{1,100}$/;

const VERB = { complete: 'complete', fail: 'fail', cancel: 'cancel', request: 'request' } as const;

const initiated = (state: ShipmentState, orderId: string, verb: keyof typeof VERB) => {
  if (state.status === 'none') throw notFound('shipment of order', orderId);
  if (state.status !== 'initiated') {
    throw conflict('illegal_transition', `cannot ${VERB[verb]} a shipment that is ${state.status}`, {
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
      case 'RequestShipment': {
        const carrier = trimmed(command.carrier);
        ensure(
          singleLine('carrier', carrier, 1, CARRIER_NAME_MAX),
          pattern('carrier_reference', command.carrier_reference, REFERENCE, `1..${CARRIER_REFERENCE_MAX} letters, digits or ._:-`),
        );
        nowMs(command.now);
        const s = initiated(state, command.order_id, 'request');
        if (s.carrier) {
          if (s.carrier.name === carrier && s.carrier.reference === command.carrier_reference) return [];
          throw conflict(
            'shipment_already_requested',
            `shipment ${s.shipment_id} was already handed to ${s.carrier.name} (${s.carrier.reference})`,
            {
              shipment_id: s.shipment_id,
              carrier: s.carrier.name,
              carrier_reference: s.carrier.reference,
            },
          );
        }
        return [
          {
            type: 'ShipmentRequested',
            data: {
              shipment_id: s.shipment_id,
              order_id: s.order_id,
              carrier,
              carrier_reference: command.carrier_reference,
              requested_at: command.now,
            },
          },
        ];
      }
      case 'CompleteShipment': {
        ensure(
          pattern('tracking_number', command.tracking_number, TRACKING, '1..100 letters, digits or -'),
          command.dispatched_by === undefined ? null : oneOf('dispatched_by', command.dispatched_by, DISPATCHERS),
        );
        nowMs(command.now);
        const s = initiated(state, command.order_id, 'complete');
        return [
          {
            type: 'ShipmentCompleted',
            data: {
              shipment_id: s.shipment_id,
              order_id: s.order_id,
              tracking_number: command.tracking_number,
              completed_at: command.now,
              ...(command.dispatched_by ? { dispatched_by: command.dispatched_by } : {}),
            },
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
      case 'CancelShipment': {
        const reason = trimmed(command.reason);
        ensure(singleLine('reason', reason, 1, SHIPMENT_FAILURE_REASON_MAX));
        nowMs(command.now);
        const s = initiated(state, command.order_id, 'cancel');
        return [
          { type: 'ShipmentCancelled', data: { shipment_id: s.shipment_id, order_id: s.order_id, reason, cancelled_at: command.now } },
        ];
      }
    }
  },

  evolve: (state, event) => {
    if (event.type === 'ShipmentInitiated') {
      return { ...event.data, status: 'initiated', tracking_number: null, completed_at: null, failure_reason: null, failed_at: null };
    }
    if (state.status === 'none') return state;
    switch (event.type) {
      case 'ShipmentRequested':
        return {
          ...state,
          carrier: { name: event.data.carrier, reference: event.data.carrier_reference, requested_at: event.data.requested_at },
        };
      case 'ShipmentCompleted':
        return {
          ...state,
          status: 'completed',
          tracking_number: event.data.tracking_number,
          completed_at: event.data.completed_at,
          ...(event.data.dispatched_by ? { dispatched_by: event.data.dispatched_by } : {}),
        };
      case 'ShipmentFailed':
        return { ...state, status: 'failed', failure_reason: event.data.reason, failed_at: event.data.failed_at };
      case 'ShipmentCancelled':
        return { ...state, status: 'cancelled', cancelled_at: event.data.cancelled_at, cancel_reason: event.data.reason };
    }
  },
};
