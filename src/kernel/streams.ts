import { loadAggregate, type Loaded } from '../platform/eventstore/aggregate.ts';
import type { EventStore, StreamWrite } from '../platform/eventstore/types.ts';
import type { DomainEvent } from '../platform/shared/decider.ts';
import type { AggregateType } from '../platform/shared/envelope.ts';
import { notFound } from '../platform/shared/errors.ts';
import { cartDecider, cartStreamId, isCartEventType, type CartState } from '../contexts/carts/index.ts';
import {
  categoryDecider,
  categoryNameClaimDecider,
  categoryNameClaimStreamId,
  isCategoryEventType,
  isCategoryNameClaimEventType,
  isProductEventType,
  legacyCategoryNameClaimStreamId,
  productDecider,
  type CategoryState,
  type ProductState,
} from '../contexts/catalog/index.ts';
import {
  INVENTORY_SNAPSHOT_SCHEMA_VERSION,
  fromSnapshot,
  inventoryDecider,
  inventoryStreamId,
  isInventoryEventType,
  toSnapshot,
  type InventoryState,
} from '../contexts/inventory/index.ts';
import { isOrderEventType, orderDecider, type OrderState } from '../contexts/orders/index.ts';
import type { StreamSource } from '../platform/commands/loader.ts';
import { shipmentDecider, shipmentStreamId, type ShipmentState } from '../contexts/shipping/index.ts';
import { emailClaimDecider, isEmailClaimEventType, isUserEventType, userDecider } from '../contexts/users/index.ts';

/** The stream write for decided events, conditioned on the version the decision was made from. */
export const streamWrite = (
  aggregate_id: string,
  aggregate_type: AggregateType,
  expected_version: number,
  events: readonly DomainEvent[],
): StreamWrite => ({
  aggregate_id,
  aggregate_type,
  expected_version,
  events: events.map((e) => ({ event_type: e.type, data: e.data as Record<string, unknown> })),
});

/**
 * A decider's evolve that refuses events of another aggregate. Ids come from clients (paths, bodies), and every
 * stream shares one key space: an order id given as a product id, or a claim stream as a category, must be
 * "not found", never folded into a state that the decider does not know (a 500 at best).
 */
export const onlyEvents =
  <S, E extends DomainEvent>(isType: (type: string) => boolean, what: string, id: string, evolve: (state: S, event: E) => S) =>
  (state: S, event: E): S => {
    if (!isType(event.type)) throw notFound(what, id);
    return evolve(state, event);
  };

const decided = <S, E extends DomainEvent>(
  decider: { initialState: () => S; evolve: (s: S, e: E) => S },
  isType: (type: string) => boolean,
  what: string,
  id: string,
) => ({
  initialState: decider.initialState,
  evolve: onlyEvents(isType, what, id, decider.evolve),
});

/**
 * Loading each aggregate from its stream. Inventory streams of popular products grow long (every reservation,
 * confirmation and release), so they load from a snapshot plus the tail; the others stay short.
 */
export type StreamReader = Pick<EventStore, 'loadSnapshot' | 'readStream' | 'saveSnapshot'>;

/** Products are read by every cart change and checkout: their tip makes that one batched read. */
export const PRODUCT_TIP_SCHEMA_VERSION = 1;
const productFromSnapshot = (data: unknown): ProductState | undefined =>
  typeof data === 'object' && data !== null && ['none', 'active', 'deleted'].includes((data as { status?: unknown }).status as string)
    ? (data as ProductState)
    : undefined;

/** A checkout's first read: with its tip, the carts of many buyers at once are one batched read. */
export const CART_TIP_SCHEMA_VERSION = 1;
const cartFromSnapshot = (data: unknown): CartState | undefined =>
  typeof data === 'object' && data !== null && Array.isArray((data as { lines?: unknown }).lines) ? (data as CartState) : undefined;

export function createStreams(store: StreamReader, opts: { snapshotEvery: number; source?: StreamSource }) {
  const ctx = { snapshotEvery: opts.snapshotEvery };
  const load: StreamSource['load'] = opts.source ? (id, o) => opts.source!.load(id, o) : (id, o) => loadAggregate(store, id, o);
  return {
    category: (id: string): Promise<Loaded<CategoryState>> => load(id, decided(categoryDecider, isCategoryEventType, 'category', id)),
    categoryName: (name: string) =>
      load(categoryNameClaimStreamId(name), decided(categoryNameClaimDecider, isCategoryNameClaimEventType, 'category', name)),
    /** Read only: claims written before the hashed stream ids (legacyCategoryNameClaimStreamId). */
    legacyCategoryName: (name: string) =>
      load(legacyCategoryNameClaimStreamId(name), decided(categoryNameClaimDecider, isCategoryNameClaimEventType, 'category', name)),
    product: (id: string): Promise<Loaded<ProductState>> =>
      load(id, {
        ...decided(productDecider, isProductEventType, 'product', id),
        snapshot: {
          schemaVersion: PRODUCT_TIP_SCHEMA_VERSION,
          every: ctx.snapshotEvery,
          toSnapshot: (state) => state,
          fromSnapshot: productFromSnapshot,
        },
      }),
    inventory: (productId: string): Promise<Loaded<InventoryState>> =>
      load(inventoryStreamId(productId), {
        initialState: inventoryDecider.initialState,
        evolve: onlyEvents(isInventoryEventType, 'inventory of product', productId, inventoryDecider.evolve),
        snapshot: {
          schemaVersion: INVENTORY_SNAPSHOT_SCHEMA_VERSION,
          every: ctx.snapshotEvery,
          toSnapshot,
          fromSnapshot,
        },
      }),
    cart: (userId: string): Promise<Loaded<CartState>> =>
      load(cartStreamId(userId), {
        ...decided(cartDecider, isCartEventType, 'cart', userId),
        snapshot: {
          schemaVersion: CART_TIP_SCHEMA_VERSION,
          every: ctx.snapshotEvery,
          toSnapshot: (state) => state,
          fromSnapshot: cartFromSnapshot,
        },
      }),
    order: (id: string): Promise<Loaded<OrderState>> => load(id, decided(orderDecider, isOrderEventType, 'order', id)),
    shipment: (orderId: string): Promise<Loaded<ShipmentState>> => load(shipmentStreamId(orderId), shipmentDecider),
    emailClaim: (streamId: string) => load(streamId, decided(emailClaimDecider, isEmailClaimEventType, 'email claim', streamId)),
    user: (userId: string) => load(userId, decided(userDecider, isUserEventType, 'user', userId)),
  };
}

export type Streams = ReturnType<typeof createStreams>;
