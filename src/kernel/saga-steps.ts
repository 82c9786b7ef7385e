/**
 * The saga log (003) as the events tell it: which step of which saga an event is part of. Pure.
 *
 * Steps are recorded from the events, by the worker's consumer, rather than by the code that appended them:
 * the events are durable before anything else happens, and the consumer sees each at least once, so a worker
 * that dies between its append and its bookkeeping loses no step, and steps taken by the api (a customer's
 * cancel, an admin's manual ship) land in the same log. A step made of several events (compensation: the order's
 * events and a StockReturned per line, on several partitions) collects their ids as they arrive.
 */
import { ORDER_EXPIRED_REASON } from '../contexts/orders/events.ts';
import type { EventEnvelope } from '../platform/shared/envelope.ts';

export const FULFILMENT_SAGA_TYPE = 'fulfilment';
export const EXPIRY_SAGA_TYPE = 'reservation_expiry';
export type SagaType = typeof FULFILMENT_SAGA_TYPE | typeof EXPIRY_SAGA_TYPE;
export type SagaStatus = 'running' | 'completed' | 'compensated' | 'failed';
export type StepStatus = 'completed' | 'failed' | 'skipped';

/** A fulfilment saga per order. (Reservation-expiry sagas keep the order id itself, as they always had.) */
export const fulfilmentSagaId = (orderId: string): string => `fulfilment-${orderId}`;

export interface SagaStep {
  saga_id: string;
  saga_type: SagaType;
  order_id: string;
  /** snake_case, past tense: started, shipment_opened, shipment_requested, dispatched, failed, cancelled, compensated, completed, … */
  step: string;
  status: StepStatus;
  /** When it happened (ISO-8601): the time of the events it is made of. */
  at: string;
  detail: Record<string, unknown>;
  event_ids: string[];
  /** The saga's status after this step. Completed and compensated stick; undefined leaves the status alone. */
  saga_status?: SagaStatus;
  /** Only for a saga that already exists: e.g. a cancel is part of a fulfilment saga only if the order was paid. */
  only_if_started?: boolean;
}

const text = (data: Record<string, unknown>, key: string): string | undefined =>
  typeof data[key] === 'string' ? (data[key] as string) : undefined;
const int = (data: Record<string, unknown>, key: string): number | undefined =>
  Number.isSafeInteger(data[key]) ? (data[key] as number) : undefined;
/** Only the fields that are there: a step's detail never says "undefined". */
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The saga steps an event is part of (none for most events). */
export function sagaStepsOf(event: EventEnvelope): SagaStep[] {
  const d = event.data ?? {};
  const orderId = event.aggregate_type === 'Order' ? event.aggregate_id : text(d, 'order_id');
  if (!orderId) return [];
  const step = (name: string, over: Partial<SagaStep> = {}): SagaStep => ({
    saga_id: fulfilmentSagaId(orderId),
    saga_type: FULFILMENT_SAGA_TYPE,
    order_id: orderId,
    step: name,
    status: 'completed',
    at: event.created_at,
    detail: {},
    event_ids: [event.event_id],
    saga_status: 'running',
    ...over,
  });
  const completed = (outcome: string, saga_status: SagaStatus): SagaStep =>
    step('completed', { detail: { outcome }, event_ids: [], saga_status });
  const expired = (): SagaStep => ({ ...step('expired', { saga_status: 'completed' }), saga_id: orderId, saga_type: EXPIRY_SAGA_TYPE });

  switch (`${event.aggregate_type}/${event.event_type}`) {
    case 'Order/OrderPaid':
      return [step('started', { detail: defined({ amount: int(d, 'amount'), paid_at: text(d, 'paid_at') }) })];
    case 'Shipment/ShipmentInitiated':
      return [step('shipment_opened', { detail: { shipment_id: event.aggregate_id } })];
    case 'Shipment/ShipmentRequested':
      return [
        step('shipment_requested', { detail: defined({ carrier: text(d, 'carrier'), carrier_reference: text(d, 'carrier_reference') }) }),
      ];
    case 'Shipment/ShipmentCompleted':
      return [
        step('dispatched', { detail: defined({ tracking_number: text(d, 'tracking_number'), dispatched_by: text(d, 'dispatched_by') }) }),
      ];
    case 'Order/OrderShipped':
      return [step('dispatched', { detail: defined({ tracking_number: text(d, 'tracking_number') }) }), completed('shipped', 'completed')];
    case 'Shipment/ShipmentFailed':
      return [step('failed', { status: 'failed', detail: defined({ reason: text(d, 'reason') }) })];
    case 'Order/OrderShipmentFailed':
      return [
        step('compensated', { detail: defined({ reason: text(d, 'reason') }), saga_status: 'compensated' }),
        completed('shipment_failed', 'compensated'),
      ];
    case 'Order/OrderPaymentRefunded': {
      const refunded = step('compensated', { detail: defined({ refunded_amount: int(d, 'amount') }), saga_status: 'compensated' });
      return text(d, 'reason') === 'cancelled' ? [refunded, completed('cancelled', 'compensated')] : [refunded];
    }
    case 'Inventory/StockReturned':
      return [step('compensated', { detail: {}, saga_status: 'compensated' })];
    case 'Order/OrderCancelled':
      if (text(d, 'cancelled_by') === 'system' && text(d, 'reason') === ORDER_EXPIRED_REASON) return [expired()];
      // A pending order's cancel has no fulfilment saga; a paid one's is its compensation (with the refund).
      return [
        step('cancelled', {
          detail: defined({ reason: text(d, 'reason'), cancelled_by: text(d, 'cancelled_by') }),
          saga_status: undefined,
          only_if_started: true,
        }),
      ];
    case 'Shipment/ShipmentCancelled':
      return [step('cancelled', { detail: { shipment_cancelled: true }, saga_status: undefined })];
    case 'Inventory/StockReleased':
      return text(d, 'reason') === 'expired' ? [expired()] : [];
    default:
      return [];
  }
}
