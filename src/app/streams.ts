import { loadAggregate, type Loaded } from '../eventstore/aggregate.ts';
import type { StreamWrite } from '../eventstore/types.ts';
import type { DomainEvent } from '../shared/decider.ts';
import type { AggregateType } from '../shared/envelope.ts';
import { cartDecider, cartStreamId, type CartState } from '../carts/index.ts';
import { categoryDecider, categoryNameClaimDecider, categoryNameClaimStreamId, productDecider, type CategoryState, type ProductState } from '../catalog/index.ts';
import {
  INVENTORY_SNAPSHOT_SCHEMA_VERSION,
  fromSnapshot,
  inventoryDecider,
  inventoryStreamId,
  toSnapshot,
  type InventoryState,
} from '../inventory/index.ts';
import { orderDecider, type OrderState } from '../orders/index.ts';
import type { AppContext } from './context.ts';

/** The stream write for decided events, conditioned on the version the decision was made from. */
export const streamWrite = (aggregate_id: string, aggregate_type: AggregateType, expected_version: number, events: readonly DomainEvent[]): StreamWrite => ({
  aggregate_id,
  aggregate_type,
  expected_version,
  events: events.map((e) => ({ event_type: e.type, data: e.data as Record<string, unknown> })),
});

/**
 * Loading each aggregate from its stream. Inventory streams of popular products grow long (every reservation,
 * confirmation and release), so they load from a snapshot plus the tail; the others stay short.
 */
export function createStreams(ctx: AppContext) {
  return {
    category: (id: string): Promise<Loaded<CategoryState>> => loadAggregate(ctx.store, id, categoryDecider),
    categoryName: (name: string) => loadAggregate(ctx.store, categoryNameClaimStreamId(name), categoryNameClaimDecider),
    product: (id: string): Promise<Loaded<ProductState>> => loadAggregate(ctx.store, id, productDecider),
    inventory: (productId: string): Promise<Loaded<InventoryState>> =>
      loadAggregate(ctx.store, inventoryStreamId(productId), {
        initialState: inventoryDecider.initialState,
        evolve: inventoryDecider.evolve,
        snapshot: {
          schemaVersion: INVENTORY_SNAPSHOT_SCHEMA_VERSION,
          every: ctx.snapshotEvery,
          toSnapshot,
          fromSnapshot,
        },
      }),
    cart: (userId: string): Promise<Loaded<CartState>> => loadAggregate(ctx.store, cartStreamId(userId), cartDecider),
    order: (id: string): Promise<Loaded<OrderState>> => loadAggregate(ctx.store, id, orderDecider),
  };
}

export type Streams = ReturnType<typeof createStreams>;
