/**
 * The fulfilment saga's decisions (DESIGN §6, seeds 002/003): pure functions over the order, its shipment and
 * the inventories of its lines, like checkout (src/contexts/orders/checkout.ts). The application loads those streams
 * from the event store, calls one of these, and appends everything returned in ONE TransactWriteItems
 * conditioned on the versions it loaded. The order stream is in every write set, so the order's own
 * transitions are the lock between the saga and the api: a carrier's answer, a customer's cancel and an
 * admin's manual ship of the same order cannot both commit, the loser re-decides and finds the new state.
 *
 * What never happens in here: the carrier's random draw, its tracking number, the clock. They come in as
 * arguments (the carrier adapter answers, the worker passes `now`).
 */
import type { InventoryState } from '../inventory/index.ts';
import { inventoryDecider } from '../inventory/index.ts';
import type { InventoryEvent, ReturnReason } from '../inventory/index.ts';
import type { OrderState, PlacedOrder } from '../orders/index.ts';
import { orderDecider } from '../orders/index.ts';
import type { CancelledBy, OrderEvent } from '../orders/index.ts';
import { fold } from '../../platform/shared/decider.ts';
import { notFound } from '../../platform/shared/errors.ts';
import type { ShipmentState } from './decider.ts';
import { shipmentDecider } from './decider.ts';
import type { ShipmentEvent } from './events.ts';
import { shipmentStreamId } from './events.ts';

/** Events to append, per stream. Inventories are keyed by product id, in the order's line order. */
export interface FulfilmentWrites {
  order: OrderEvent[];
  shipment: ShipmentEvent[];
  inventories: Map<string, InventoryEvent[]>;
}

/** What the carrier said about a shipment (from the carrier adapter, src/contexts/shipping/carrier-adapter.ts). */
export type CarrierVerdict = { kind: 'dispatched'; tracking_number: string } | { kind: 'failed'; reason: string };

const none = (): FulfilmentWrites => ({ order: [], shipment: [], inventories: new Map() });

const placedOrder = (order: OrderState, orderId: string): PlacedOrder => {
  if (order.status === 'none') throw notFound('order', orderId);
  return order;
};

/** StockReturned for every line of the order, whatever each inventory holds now (see ReturnStock). */
const returnGoods = (order: PlacedOrder, inventories: ReadonlyMap<string, InventoryState>, reason: ReturnReason, now: string) =>
  new Map(
    order.items.map((item) => [
      item.product_id,
      inventoryDecider.decide(
        { type: 'ReturnStock', product_id: item.product_id, order_id: order.order_id, quantity: item.quantity, reason, now },
        inventories.get(item.product_id) ?? inventoryDecider.initialState(),
      ),
    ]),
  );

/** The order's transition and its refund, decided one after the other on the evolving state. */
const thenRefund = (order: PlacedOrder, transition: OrderEvent[], now: string): OrderEvent[] => {
  const after = fold(orderDecider, order as OrderState, transition);
  return [...transition, ...orderDecider.decide({ type: 'RefundPayment', order_id: order.order_id, now }, after)];
};

export type OpenOutcome = 'opened' | 'exists' | 'not_paid';

/**
 * Step 1, on OrderPaid: open the order's shipment. Only a paid order gets one; a redelivered OrderPaid finds it
 * open already. The caller appends with the order stream as a guard, so a cancel committed meanwhile wins.
 */
export function decideOpenShipment(input: { order: OrderState; shipment: ShipmentState; order_id: string; now: string }): {
  outcome: OpenOutcome;
  shipment: ShipmentEvent[];
} {
  const order = placedOrder(input.order, input.order_id);
  if (input.shipment.status !== 'none') return { outcome: 'exists', shipment: [] };
  if (order.status !== 'paid') return { outcome: 'not_paid', shipment: [] };
  return {
    outcome: 'opened',
    shipment: shipmentDecider.decide(
      { type: 'InitiateShipment', shipment_id: shipmentStreamId(order.order_id), order_id: order.order_id, now: input.now },
      input.shipment,
    ),
  };
}

export type HandOverOutcome = 'requested' | 'already_requested' | 'stopped';

/**
 * Step 2, after the carrier accepted the shipment: record the hand-over. 'stopped' when the order left the
 * paid path while the carrier was being asked (cancelled, or shipped by hand): the booking is no longer needed.
 */
export function decideHandOver(input: {
  order: OrderState;
  shipment: ShipmentState;
  order_id: string;
  carrier: string;
  carrier_reference: string;
  now: string;
}): {
  outcome: HandOverOutcome;
  shipment: ShipmentEvent[];
} {
  const order = placedOrder(input.order, input.order_id);
  if (input.shipment.status === 'none') throw notFound('shipment of order', input.order_id);
  if (input.shipment.status !== 'initiated' || order.status !== 'paid') return { outcome: 'stopped', shipment: [] };
  const events = shipmentDecider.decide(
    {
      type: 'RequestShipment',
      order_id: order.order_id,
      carrier: input.carrier,
      carrier_reference: input.carrier_reference,
      now: input.now,
    },
    input.shipment,
  );
  return { outcome: events.length > 0 ? 'requested' : 'already_requested', shipment: events };
}

export type AnswerOutcome = 'dispatched' | 'compensated' | 'already_recorded' | 'ignored';

/**
 * Step 3, the carrier's answer. Dispatched: the shipment completes and the order ships with the carrier's
 * tracking number. Failed: compensation — the shipment fails with the carrier's reason, the order becomes
 * shipment_failed, its payment is refunded and every line's units return to stock — all in one transaction.
 * An answer that arrives after the order was cancelled or shipped by hand changes nothing ('ignored', with
 * why); the same answer seen again (a retried timer) is 'already_recorded'.
 */
export function decideCarrierAnswer(input: {
  order: OrderState;
  shipment: ShipmentState;
  inventories: ReadonlyMap<string, InventoryState>;
  order_id: string;
  verdict: CarrierVerdict;
  now: string;
}): FulfilmentWrites & { outcome: AnswerOutcome; why?: string } {
  const order = placedOrder(input.order, input.order_id);
  const { shipment, verdict, now } = input;
  if (shipment.status === 'none') throw notFound('shipment of order', input.order_id);
  if (shipment.status === 'completed') {
    return shipment.dispatched_by !== 'admin' && verdict.kind === 'dispatched' && verdict.tracking_number === shipment.tracking_number
      ? { ...none(), outcome: 'already_recorded' }
      : {
          ...none(),
          outcome: 'ignored',
          why: shipment.dispatched_by === 'admin' ? 'already dispatched by an admin' : 'already dispatched',
        };
  }
  if (shipment.status === 'failed') {
    return verdict.kind === 'failed'
      ? { ...none(), outcome: 'already_recorded' }
      : { ...none(), outcome: 'ignored', why: 'the shipment already failed' };
  }
  if (shipment.status === 'cancelled') return { ...none(), outcome: 'ignored', why: 'the order was cancelled before dispatch' };
  // An initiated shipment belongs to a paid order: the transitions out of paid close it in the same transaction.
  if (order.status !== 'paid') return { ...none(), outcome: 'ignored', why: `the order is ${order.status}` };

  if (verdict.kind === 'dispatched') {
    return {
      outcome: 'dispatched',
      shipment: shipmentDecider.decide(
        { type: 'CompleteShipment', order_id: order.order_id, tracking_number: verdict.tracking_number, dispatched_by: 'carrier', now },
        shipment,
      ),
      order: orderDecider.decide({ type: 'ShipOrder', order_id: order.order_id, tracking_number: verdict.tracking_number, now }, order),
      inventories: new Map(),
    };
  }
  return {
    outcome: 'compensated',
    shipment: shipmentDecider.decide({ type: 'FailShipment', order_id: order.order_id, reason: verdict.reason, now }, shipment),
    order: thenRefund(
      order,
      orderDecider.decide({ type: 'MarkShipmentFailed', order_id: order.order_id, reason: verdict.reason, now }, order),
      now,
    ),
    inventories: returnGoods(order, input.inventories, 'shipment_failed', now),
  };
}

/**
 * A customer (or an admin) cancels a paid order before dispatch: the saga stops and compensates in the same
 * transaction as the cancel — refund, every line back to stock, the open shipment cancelled. A shipped order
 * cannot be cancelled (the order decider refuses: 409).
 */
export function decidePaidCancellation(input: {
  order: OrderState;
  shipment: ShipmentState;
  inventories: ReadonlyMap<string, InventoryState>;
  order_id: string;
  reason: string;
  cancelled_by: CancelledBy;
  now: string;
}): FulfilmentWrites {
  const order = placedOrder(input.order, input.order_id);
  const { now } = input;
  const cancelled = orderDecider.decide(
    { type: 'CancelOrder', order_id: order.order_id, reason: input.reason, cancelled_by: input.cancelled_by, now },
    order,
  );
  return {
    order: thenRefund(order, cancelled, now),
    shipment:
      input.shipment.status === 'initiated'
        ? shipmentDecider.decide(
            { type: 'CancelShipment', order_id: order.order_id, reason: 'order cancelled before dispatch', now },
            input.shipment,
          )
        : [],
    inventories: returnGoods(order, input.inventories, 'cancelled', now),
  };
}

/**
 * An admin ships a paid order by hand with their own tracking number (001's POST /orders/{id}/ship). It stays
 * valid until the carrier has dispatched: the order decider refuses any order that is not paid. The shipment
 * completes as dispatched by an admin (opened first if the saga had not opened it yet), so the carrier's later
 * answer finds it completed and changes nothing.
 */
export function decideManualShipment(input: {
  order: OrderState;
  shipment: ShipmentState;
  order_id: string;
  tracking_number: string;
  now: string;
}): FulfilmentWrites {
  const order = placedOrder(input.order, input.order_id);
  const { now, tracking_number } = input;
  const orderEvents = orderDecider.decide({ type: 'ShipOrder', order_id: order.order_id, tracking_number, now }, order);
  const opened = decideOpenShipment({ order: order as OrderState, shipment: input.shipment, order_id: order.order_id, now }).shipment;
  const shipment = fold(shipmentDecider, input.shipment, opened);
  const completed =
    shipment.status === 'initiated'
      ? shipmentDecider.decide(
          { type: 'CompleteShipment', order_id: order.order_id, tracking_number, dispatched_by: 'admin', now },
          shipment,
        )
      : [];
  return { order: orderEvents, shipment: [...opened, ...completed], inventories: new Map() };
}
