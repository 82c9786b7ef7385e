import { inventoryStreamId, type InventoryState } from '../inventory/index.ts';
import type { OrderState, PlacedOrder } from '../orders/index.ts';
import {
  decideCarrierAnswer,
  decideHandOver,
  decideOpenShipment,
  shipmentDecider,
  shipmentStreamId,
  type AnswerOutcome,
  type CarrierBooking,
  type CarrierVerdict,
  type HandOverOutcome,
  type OpenOutcome,
  type ShipmentRequest,
  type ShipmentState,
} from './index.ts';
import type { AppContext } from '../../kernel/context.ts';
import type { CommandHandler } from '../../kernel/handler.ts';
import { streamWrite, type Streams } from '../../kernel/streams.ts';

export interface OpenedShipment {
  outcome: OpenOutcome;
  /** What to hand to the carrier; null when there is nothing to ship any more (the order left `paid`). */
  request: ShipmentRequest | null;
}

const requestOf = (order: PlacedOrder, shipment: ShipmentState): ShipmentRequest | null =>
  order.status === 'paid' && shipment.status === 'initiated'
    ? {
        shipment_id: shipment.shipment_id,
        order_id: order.order_id,
        recipient: { user_id: order.user_id, email: order.user_email },
        items: order.items.map(({ product_id, name, quantity }) => ({ product_id, name, quantity })),
      }
    : null;

/**
 * The fulfilment saga's commands, run by the worker through the executor (DESIGN §6). Each decides from the
 * event store — never from the saga log or a read model — and is idempotent: run again after a crash or by a
 * second worker, it finds its effect already there and appends nothing. Every write set includes the order
 * stream (events or a guard at the version read), so the api's cancel and manual ship serialise with it.
 */
export function createFulfilmentHandlers(ctx: AppContext) {
  const now = () => ctx.clock().toISOString();
  const load = async (streams: Streams, orderId: string) => {
    const [order, shipment] = await Promise.all([streams.order(orderId), streams.shipment(orderId)]);
    return { order, shipment };
  };
  const placed = (state: OrderState) => state as PlacedOrder;

  return {
    /** Step 1 (OrderPaid): opens the shipment of a paid order. */
    open: (async (streams, { order_id: orderId }) => {
      const { order, shipment } = await load(streams, orderId);
      const decision = decideOpenShipment({ order: order.state, shipment: shipment.state, order_id: orderId, now: now() });
      const after = decision.shipment.reduce(shipmentDecider.evolve, shipment.state);
      return {
        writes: [
          streamWrite(shipmentStreamId(orderId), 'Shipment', shipment.version, decision.shipment),
          streamWrite(orderId, 'Order', order.version, []),
        ],
        result: { outcome: decision.outcome, request: requestOf(placed(order.state), after) },
      };
    }) satisfies CommandHandler<{ order_id: string }, OpenedShipment>,

    /** Step 2: the carrier accepted the shipment. */
    handOver: (async (streams, { order_id: orderId, booking }) => {
      const { order, shipment } = await load(streams, orderId);
      const decision = decideHandOver({
        order: order.state,
        shipment: shipment.state,
        order_id: orderId,
        carrier: booking.carrier,
        carrier_reference: booking.reference,
        now: now(),
      });
      return {
        writes: [
          streamWrite(shipmentStreamId(orderId), 'Shipment', shipment.version, decision.shipment),
          streamWrite(orderId, 'Order', order.version, []),
        ],
        result: { outcome: decision.outcome },
      };
    }) satisfies CommandHandler<{ order_id: string; booking: CarrierBooking }, { outcome: HandOverOutcome }>,

    /** Step 3: the carrier's answer — dispatch, or compensation across order, shipment and every line's inventory. */
    answer: (async (streams, { order_id: orderId, verdict }) => {
      const { order, shipment } = await load(streams, orderId);
      // Inventories only matter for compensation; loading them for a dispatch would only widen the write set.
      const lines = verdict.kind === 'failed' && order.state.status !== 'none' ? order.state.items.map((i) => i.product_id) : [];
      const inventories = await Promise.all(lines.map((id) => streams.inventory(id)));
      const decision = decideCarrierAnswer({
        order: order.state,
        shipment: shipment.state,
        inventories: new Map<string, InventoryState>(lines.map((id, i) => [id, inventories[i]!.state])),
        order_id: orderId,
        verdict,
        now: now(),
      });
      return {
        writes: [
          streamWrite(orderId, 'Order', order.version, decision.order),
          streamWrite(shipmentStreamId(orderId), 'Shipment', shipment.version, decision.shipment),
          ...lines.map((id, i) =>
            streamWrite(inventoryStreamId(id), 'Inventory', inventories[i]!.version, decision.inventories.get(id) ?? []),
          ),
        ],
        result: { outcome: decision.outcome, why: decision.why ?? null },
      };
    }) satisfies CommandHandler<{ order_id: string; verdict: CarrierVerdict }, { outcome: AnswerOutcome; why: string | null }>,
  };
}
