import { cartStreamId } from '../carts/index.ts';
import { inventoryDecider, inventoryStreamId, type InventoryState } from '../inventory/index.ts';
import {
  decideCheckout,
  orderDecider,
  releaseReasonFor,
  type CancelledBy,
  type OrderItem,
  type OrderState,
  type PlacedOrder,
} from './index.ts';
import type { ProductState } from '../catalog/index.ts';
import { createHash } from 'node:crypto';
import type { StreamWrite } from '../../platform/eventstore/types.ts';
import { decideManualShipment, decidePaidCancellation, shipmentStreamId, type FulfilmentWrites } from '../shipping/index.ts';
import { notFound } from '../../platform/shared/errors.ts';
import type { Principal } from '../../platform/shared/principal.ts';
import type { AppContext } from '../../kernel/context.ts';
import type { CommandHandler, Decision } from '../../kernel/handler.ts';
import { streamWrite, type Streams } from '../../kernel/streams.ts';

export interface OrderServiceOptions {
  reservationTtlSeconds: number;
}

/** A customer sees only their own orders: anyone else's is "not found", never "forbidden" (no id probing). */
function ownedOrder(state: OrderState, orderId: string, who: Principal | 'system'): PlacedOrder {
  if (state.status === 'none') throw notFound('order', orderId);
  if (who !== 'system' && who.role !== 'admin' && state.user_id !== who.user_id) throw notFound('order', orderId);
  return state;
}

/**
 * A reservation's id, derived from the order and the product: a decision taken again (after a lost race, or
 * once the command holds the inventory's queue) describes the same reservations, with no state kept between.
 */
export const reservationIdFor = (orderId: string, productId: string): string => {
  const h = createHash('sha256').update(`reservation\0${orderId}\0${productId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
};

const orderBody = (order: PlacedOrder, version: number) => ({
  order_id: order.order_id,
  user_id: order.user_id,
  status: order.status,
  items: order.items,
  total: order.total,
  expires_at: order.expires_at,
  placed_at: order.placed_at,
  paid_at: order.paid_at,
  shipped_at: order.shipped_at,
  tracking_number: order.tracking_number,
  cancelled_at: order.cancelled_at,
  cancel_reason: order.cancel_reason,
  version,
});

/**
 * The order lifecycle (001, 000, 004). Every command that touches stock decides over the order and the
 * inventory streams of its lines and appends them in one transaction, so an order and its stock can never
 * disagree: checkout reserves, paying confirms (StockDeducted), cancelling or expiring a pending order
 * releases, cancelling a paid order returns the goods (StockReturned) and refunds the payment.
 */
export type OrderView = ReturnType<typeof orderBody>;
export type CancelledOrder = OrderView & { expired: boolean };
export interface PlacedOrderView {
  order_id: string;
  status: PlacedOrder['status'];
  total: number;
  items: OrderItem[];
  expires_at: string;
  placed_at: string;
  version: number;
}

export interface Checkout {
  user: Principal;
  /** Drawn once by the caller, so every decision of this command describes the same order. */
  order_id: string;
}

export function createOrderHandlers(ctx: AppContext, opts: OrderServiceOptions) {
  const now = () => ctx.clock().toISOString();

  /** Applies one inventory command per order line and returns the inventory writes. */
  async function perLine(
    streams: Streams,
    order: PlacedOrder,
    command: (item: OrderItem, state: InventoryState) => ReturnType<typeof inventoryDecider.decide>,
  ): Promise<StreamWrite[]> {
    const inventories = await Promise.all(order.items.map((item) => streams.inventory(item.product_id)));
    return order.items.map((item, i) => {
      const inventory = inventories[i]!;
      return streamWrite(inventoryStreamId(item.product_id), 'Inventory', inventory.version, command(item, inventory.state));
    });
  }

  /**
   * A paid order cancelled before dispatch: the fulfilment saga's compensation, decided here in the same
   * transaction as the cancel (src/contexts/shipping/fulfilment.ts) — refund, every line's units back (StockReturned),
   * the open shipment cancelled. The shipment stream is in the write set even when nothing happens to it (a
   * guard at version 0), so a worker opening the shipment at the same moment loses and re-decides.
   */
  async function decidePaidCancel(
    streams: Streams,
    order: PlacedOrder,
    orderVersion: number,
    cancelledBy: CancelledBy,
    reason: string,
    t: string,
  ): Promise<Decision<CancelledOrder>> {
    const [shipment, inventories] = await Promise.all([
      streams.shipment(order.order_id),
      Promise.all(order.items.map((item) => streams.inventory(item.product_id))),
    ]);
    const decision: FulfilmentWrites = decidePaidCancellation({
      order,
      shipment: shipment.state,
      inventories: new Map(order.items.map((item, i) => [item.product_id, inventories[i]!.state])),
      order_id: order.order_id,
      reason,
      cancelled_by: cancelledBy,
      now: t,
    });
    const after = decision.order.reduce(orderDecider.evolve, order as OrderState) as PlacedOrder;
    return {
      writes: [
        streamWrite(order.order_id, 'Order', orderVersion, decision.order),
        streamWrite(shipmentStreamId(order.order_id), 'Shipment', shipment.version, decision.shipment),
        ...order.items.map((item, i) =>
          streamWrite(
            inventoryStreamId(item.product_id),
            'Inventory',
            inventories[i]!.version,
            decision.inventories.get(item.product_id) ?? [],
          ),
        ),
      ],
      result: { ...orderBody(after, orderVersion + decision.order.length), expired: false },
    };
  }

  async function decideCancel(
    streams: Streams,
    orderId: string,
    who: Principal | 'system',
    reason: string,
    expiry: boolean,
  ): Promise<Decision<CancelledOrder>> {
    const loaded = await streams.order(orderId);
    const order = ownedOrder(loaded.state, orderId, who);
    const t = now();
    const cancelledBy: CancelledBy =
      who === 'system' ? 'system' : who.role === 'admin' && who.user_id !== order.user_id ? 'admin' : 'customer';
    if (!expiry && order.status === 'paid') return decidePaidCancel(streams, order, loaded.version, cancelledBy, reason, t);
    const events = expiry
      ? orderDecider.decide({ type: 'ExpireOrder', order_id: orderId, now: t }, loaded.state)
      : orderDecider.decide({ type: 'CancelOrder', order_id: orderId, reason, cancelled_by: cancelledBy, now: t }, loaded.state);
    // Nothing to do (already cancelled, or not due): the order stream stays in as a guard.
    if (events.length === 0)
      return {
        writes: [streamWrite(orderId, 'Order', loaded.version, [])],
        result: { ...orderBody(order, loaded.version), expired: false },
      };
    const cancelled = events[0]!.data as { reason: string; cancelled_by: CancelledBy };
    // Only a pending order gets here (a paid one is planPaidCancel's): it still holds reservations, release them.
    const stock = await perLine(streams, order, ({ product_id }, state) =>
      inventoryDecider.decide(
        { type: 'ReleaseReservation', product_id, order_id: orderId, reason: releaseReasonFor(cancelled), now: t },
        state,
      ),
    );
    const after = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
    return {
      writes: [streamWrite(orderId, 'Order', loaded.version, events), ...stock],
      result: { ...orderBody(after, loaded.version + events.length), expired: expiry },
    };
  }

  const checkout: CommandHandler<Checkout, PlacedOrderView> = async (streams, { user, order_id }) => {
    const cart = await streams.cart(user.user_id);
    const productIds = cart.state.lines.map((l) => l.product_id);
    const [products, inventories] = await Promise.all([
      Promise.all(productIds.map((id) => streams.product(id))),
      Promise.all(productIds.map((id) => streams.inventory(id))),
    ]);
    const t = ctx.clock();
    const decision = decideCheckout({
      order_id,
      user_id: user.user_id,
      user_email: user.email,
      now: t.toISOString(),
      expires_at: new Date(t.getTime() + opts.reservationTtlSeconds * 1000).toISOString(),
      reservation_ids: new Map(productIds.map((id) => [id, reservationIdFor(order_id, id)])),
      cart: cart.state,
      products: new Map<string, ProductState>(productIds.map((id, i) => [id, products[i]!.state])),
      inventories: new Map<string, InventoryState>(productIds.map((id, i) => [id, inventories[i]!.state])),
    });
    const placed = decision.order.reduce(orderDecider.evolve, orderDecider.initialState()) as PlacedOrder;
    return {
      writes: [
        streamWrite(order_id, 'Order', 0, decision.order),
        ...productIds.map((id, i) =>
          streamWrite(inventoryStreamId(id), 'Inventory', inventories[i]!.version, decision.inventories.get(id) ?? []),
        ),
        streamWrite(cartStreamId(user.user_id), 'Cart', cart.version, decision.cart),
        // Guards: a product deleted or repriced while we decided makes the whole checkout re-decide.
        ...productIds.map((id, i) => streamWrite(id, 'Product', products[i]!.version, [])),
      ],
      result: {
        order_id,
        status: placed.status,
        total: placed.total,
        items: placed.items,
        expires_at: placed.expires_at,
        placed_at: placed.placed_at,
        version: decision.order.length,
      },
    };
  };

  return {
    checkout,

    pay: (async (streams, { user, order_id: orderId }) => {
      const loaded = await streams.order(orderId);
      ownedOrder(loaded.state, orderId, user);
      const t = now();
      const events = orderDecider.decide({ type: 'PayOrder', order_id: orderId, now: t }, loaded.state);
      const paid = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      const stock = await perLine(streams, paid, ({ product_id }, state) =>
        inventoryDecider.decide({ type: 'ConfirmReservation', product_id, order_id: orderId, now: t }, state),
      );
      return {
        writes: [streamWrite(orderId, 'Order', loaded.version, events), ...stock],
        result: orderBody(paid, loaded.version + events.length),
      };
    }) satisfies CommandHandler<{ user: Principal; order_id: string }, OrderView>,

    cancel: ((streams, c) => decideCancel(streams, c.order_id, c.who, c.reason, false)) satisfies CommandHandler<
      { who: Principal; order_id: string; reason: string },
      CancelledOrder
    >,

    /**
     * Manual dispatch by an admin (001): valid while the order is paid, i.e. until the carrier has dispatched.
     * The shipment completes as dispatched by an admin in the same transaction, so the carrier's later answer
     * changes nothing; a failed or cancelled order is refused (409).
     */
    ship: (async (streams, { order_id: orderId, tracking_number: trackingNumber }) => {
      const [loaded, shipment] = await Promise.all([streams.order(orderId), streams.shipment(orderId)]);
      ownedOrder(loaded.state, orderId, 'system');
      const decision = decideManualShipment({
        order: loaded.state,
        shipment: shipment.state,
        order_id: orderId,
        tracking_number: trackingNumber,
        now: now(),
      });
      const shipped = decision.order.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      return {
        writes: [
          streamWrite(orderId, 'Order', loaded.version, decision.order),
          streamWrite(shipmentStreamId(orderId), 'Shipment', shipment.version, decision.shipment),
        ],
        result: orderBody(shipped, loaded.version + decision.order.length),
      };
    }) satisfies CommandHandler<{ order_id: string; tracking_number: string }, OrderView>,

    deliver: (async (streams, { order_id: orderId }) => {
      const loaded = await streams.order(orderId);
      ownedOrder(loaded.state, orderId, 'system');
      const events = orderDecider.decide({ type: 'DeliverOrder', order_id: orderId, now: now() }, loaded.state);
      const delivered = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      return {
        writes: [streamWrite(orderId, 'Order', loaded.version, events)],
        result: orderBody(delivered, loaded.version + events.length),
      };
    }) satisfies CommandHandler<{ order_id: string }, OrderView>,

    /** The worker's reservation-expiry timer: cancels a still-pending order past its deadline, else nothing. */
    expire: ((streams, { order_id }) => decideCancel(streams, order_id, 'system', '', true)) satisfies CommandHandler<
      { order_id: string },
      CancelledOrder
    >,

    /** The order as the event store has it (for ownership checks and time travel), or undefined. */
    async load(streams: Streams, orderId: string, who: Principal) {
      const loaded = await streams.order(orderId);
      return orderBody(ownedOrder(loaded.state, orderId, who), loaded.version);
    },
  };
}

export type OrderHandlers = ReturnType<typeof createOrderHandlers>;
