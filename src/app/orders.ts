import { cartStreamId } from '../carts/index.ts';
import { inventoryDecider, inventoryStreamId, type InventoryState } from '../inventory/index.ts';
import { decideCheckout, orderDecider, releaseReasonFor, type CancelledBy, type OrderItem, type OrderState, type PlacedOrder } from '../orders/index.ts';
import type { ProductState } from '../catalog/index.ts';
import { loadAggregate } from '../eventstore/aggregate.ts';
import type { StreamWrite } from '../eventstore/types.ts';
import { decideManualShipment, decidePaidCancellation, shipmentDecider, shipmentStreamId, type FulfilmentWrites } from '../shipping/index.ts';
import { notFound } from '../shared/errors.ts';
import type { Principal } from './principal.ts';
import type { AppContext } from './context.ts';
import type { Plan } from './executor.ts';
import { streamWrite, type Streams } from './streams.ts';

export interface OrderServiceOptions {
  reservationTtlSeconds: number;
}

/** A customer sees only their own orders: anyone else's is "not found", never "forbidden" (no id probing). */
function ownedOrder(state: OrderState, orderId: string, who: Principal | 'system'): PlacedOrder {
  if (state.status === 'none') throw notFound('order', orderId);
  if (who !== 'system' && who.role !== 'admin' && state.user_id !== who.user_id) throw notFound('order', orderId);
  return state;
}

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
export function createOrderService(ctx: AppContext, streams: Streams, opts: OrderServiceOptions) {
  const now = () => ctx.clock().toISOString();

  /** Applies one inventory command per order line and returns the inventory writes. */
  async function perLine(order: PlacedOrder, command: (item: OrderItem, state: InventoryState) => ReturnType<typeof inventoryDecider.decide>): Promise<StreamWrite[]> {
    const inventories = await Promise.all(order.items.map((item) => streams.inventory(item.product_id)));
    return order.items.map((item, i) => {
      const inventory = inventories[i]!;
      return streamWrite(inventoryStreamId(item.product_id), 'Inventory', inventory.version, command(item, inventory.state));
    });
  }

  const shipmentOf = (orderId: string) => loadAggregate(ctx.store, shipmentStreamId(orderId), shipmentDecider);

  /**
   * A paid order cancelled before dispatch: the fulfilment saga's compensation, decided here in the same
   * transaction as the cancel (src/shipping/fulfilment.ts) — refund, every line's units back (StockReturned),
   * the open shipment cancelled. The shipment stream is in the write set even when nothing happens to it (a
   * guard at version 0), so a worker opening the shipment at the same moment loses and re-decides.
   */
  async function planPaidCancel(order: PlacedOrder, orderVersion: number, cancelledBy: CancelledBy, reason: string, t: string): Promise<Plan> {
    const [shipment, inventories] = await Promise.all([
      shipmentOf(order.order_id),
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
        ...order.items.map((item, i) => streamWrite(inventoryStreamId(item.product_id), 'Inventory', inventories[i]!.version, decision.inventories.get(item.product_id) ?? [])),
      ],
      status: 200,
      body: { ...orderBody(after, orderVersion + decision.order.length), expired: false },
    };
  }

  async function planCancel(orderId: string, who: Principal | 'system', reason: string, expiry: boolean): Promise<Plan> {
    const loaded = await streams.order(orderId);
    const order = ownedOrder(loaded.state, orderId, who);
    const t = now();
    const cancelledBy: CancelledBy = who === 'system' ? 'system' : who.role === 'admin' && who.user_id !== order.user_id ? 'admin' : 'customer';
    if (!expiry && order.status === 'paid') return planPaidCancel(order, loaded.version, cancelledBy, reason, t);
    const events = expiry
      ? orderDecider.decide({ type: 'ExpireOrder', order_id: orderId, now: t }, loaded.state)
      : orderDecider.decide({ type: 'CancelOrder', order_id: orderId, reason, cancelled_by: cancelledBy, now: t }, loaded.state);
    if (events.length === 0) return { writes: [], status: 200, body: { ...orderBody(order, loaded.version), expired: false } };
    const cancelled = events[0]!.data as { reason: string; cancelled_by: CancelledBy };
    // Only a pending order gets here (a paid one is planPaidCancel's): it still holds reservations, release them.
    const stock = await perLine(order, ({ product_id }, state) =>
      inventoryDecider.decide({ type: 'ReleaseReservation', product_id, order_id: orderId, reason: releaseReasonFor(cancelled), now: t }, state),
    );
    const after = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
    return { writes: [streamWrite(orderId, 'Order', loaded.version, events), ...stock], status: 200, body: { ...orderBody(after, loaded.version + events.length), expired: expiry } };
  }

  return {
    checkout: (user: Principal) => {
      // Ids are drawn once, outside the retry loop, so a retried decision describes the same order.
      const order_id = ctx.newId();
      const reservationIds = new Map<string, string>();
      return async (): Promise<Plan> => {
        const cart = await streams.cart(user.user_id);
        const productIds = cart.state.lines.map((l) => l.product_id);
        for (const id of productIds) if (!reservationIds.has(id)) reservationIds.set(id, ctx.newId());
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
          reservation_ids: reservationIds,
          cart: cart.state,
          products: new Map<string, ProductState>(productIds.map((id, i) => [id, products[i]!.state])),
          inventories: new Map<string, InventoryState>(productIds.map((id, i) => [id, inventories[i]!.state])),
        });
        const placed = decision.order.reduce(orderDecider.evolve, orderDecider.initialState()) as PlacedOrder;
        return {
          writes: [
            streamWrite(order_id, 'Order', 0, decision.order),
            ...productIds.map((id, i) => streamWrite(inventoryStreamId(id), 'Inventory', inventories[i]!.version, decision.inventories.get(id) ?? [])),
            streamWrite(cartStreamId(user.user_id), 'Cart', cart.version, decision.cart),
            // Guards: a product deleted or repriced while we decided makes the whole checkout re-decide.
            ...productIds.map((id, i) => streamWrite(id, 'Product', products[i]!.version, [])),
          ],
          status: 201,
          body: { order_id, status: placed.status, total: placed.total, items: placed.items, expires_at: placed.expires_at, placed_at: placed.placed_at, version: decision.order.length },
        };
      };
    },

    pay: (user: Principal, orderId: string) => async (): Promise<Plan> => {
      const loaded = await streams.order(orderId);
      ownedOrder(loaded.state, orderId, user);
      const t = now();
      const events = orderDecider.decide({ type: 'PayOrder', order_id: orderId, now: t }, loaded.state);
      const paid = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      const stock = await perLine(paid, ({ product_id }, state) => inventoryDecider.decide({ type: 'ConfirmReservation', product_id, order_id: orderId, now: t }, state));
      return { writes: [streamWrite(orderId, 'Order', loaded.version, events), ...stock], status: 200, body: orderBody(paid, loaded.version + events.length) };
    },

    cancel: (who: Principal, orderId: string, reason: string) => () => planCancel(orderId, who, reason, false),

    /**
     * Manual dispatch by an admin (001): valid while the order is paid, i.e. until the carrier has dispatched.
     * The shipment completes as dispatched by an admin in the same transaction, so the carrier's later answer
     * changes nothing; a failed or cancelled order is refused (409).
     */
    ship: (orderId: string, trackingNumber: string) => async (): Promise<Plan> => {
      const [loaded, shipment] = await Promise.all([streams.order(orderId), shipmentOf(orderId)]);
      ownedOrder(loaded.state, orderId, 'system');
      const decision = decideManualShipment({ order: loaded.state, shipment: shipment.state, order_id: orderId, tracking_number: trackingNumber, now: now() });
      const shipped = decision.order.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      return {
        writes: [streamWrite(orderId, 'Order', loaded.version, decision.order), streamWrite(shipmentStreamId(orderId), 'Shipment', shipment.version, decision.shipment)],
        status: 200,
        body: orderBody(shipped, loaded.version + decision.order.length),
      };
    },

    deliver: (orderId: string) => async (): Promise<Plan> => {
      const loaded = await streams.order(orderId);
      ownedOrder(loaded.state, orderId, 'system');
      const events = orderDecider.decide({ type: 'DeliverOrder', order_id: orderId, now: now() }, loaded.state);
      const delivered = events.reduce(orderDecider.evolve, loaded.state) as PlacedOrder;
      return { writes: [streamWrite(orderId, 'Order', loaded.version, events)], status: 200, body: orderBody(delivered, loaded.version + events.length) };
    },

    /** The worker's reservation-expiry timer: cancels a still-pending order past its deadline, else nothing. */
    expire: (orderId: string) => () => planCancel(orderId, 'system', '', true),

    /** The order as the event store has it (for ownership checks and time travel), or undefined. */
    async load(orderId: string, who: Principal) {
      const loaded = await streams.order(orderId);
      return orderBody(ownedOrder(loaded.state, orderId, who), loaded.version);
    },
  };
}

export type OrderService = ReturnType<typeof createOrderService>;
