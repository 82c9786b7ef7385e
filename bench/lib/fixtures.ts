/**
 * Test data for the benchmark, decided by the project's own deciders (so every event is one the write side
 * could have produced) and appended straight through the event store, packed into transactions of up to 100
 * items: setting up hundreds of carts through the command path would cost more time than the measurements.
 */
import { randomUUID } from 'node:crypto';
import { CART_TIP_SCHEMA_VERSION, PRODUCT_TIP_SCHEMA_VERSION } from '../../src/kernel/streams.ts';
import { cartDecider, cartStreamId, type CartState } from '../../src/contexts/carts/index.ts';
import { productDecider, type ProductState } from '../../src/contexts/catalog/index.ts';
import { MAX_TRANSACTION_ITEMS, type EventStore, type StreamWrite } from '../../src/platform/eventstore/index.ts';
import {
  INVENTORY_SNAPSHOT_SCHEMA_VERSION,
  inventoryDecider,
  inventoryStreamId,
  toSnapshot,
  type InventoryState,
} from '../../src/contexts/inventory/index.ts';
import type { Principal } from '../../src/platform/shared/principal.ts';
import type { Publisher } from '../../src/platform/messaging/publisher.ts';
import type { DomainEvent } from '../../src/platform/shared/decider.ts';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';

export const iso = (date = new Date()): string => date.toISOString();

export const customer = (userId: string): Principal => ({ user_id: userId, email: `${userId}@bench.example.com`, role: 'customer' });

export const toWrite = (
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

export interface BenchProduct {
  id: string;
  state: ProductState;
  inventory: InventoryState;
  /** The product stream's and the inventory stream's writes that create it (ProductCreated, StockAdded), with their tips as POST /products writes them. */
  writes: StreamWrite[];
}

/** A new product with `stock` units (no StockAdded for 0), as POST /products would decide it. */
export function newProduct(name: string, price: number, stock: number, now = iso()): BenchProduct {
  const id = randomUUID();
  const events = productDecider.decide(
    {
      type: 'CreateProduct',
      product_id: id,
      name,
      description: `benchmark product ${name}`,
      price,
      category_id: null,
      category: null,
      now,
    },
    productDecider.initialState(),
  );
  const stockEvents =
    stock > 0 ? inventoryDecider.decide({ type: 'AddStock', product_id: id, quantity: stock, now }, inventoryDecider.initialState()) : [];
  const state = events.reduce(productDecider.evolve, productDecider.initialState());
  const inventory = stockEvents.reduce(inventoryDecider.evolve, inventoryDecider.initialState());
  return {
    id,
    state,
    inventory,
    writes: [
      { ...toWrite(id, 'Product', 0, events), tip: { schema_version: PRODUCT_TIP_SCHEMA_VERSION, state } },
      ...(stockEvents.length
        ? [
            {
              ...toWrite(inventoryStreamId(id), 'Inventory', 0, stockEvents),
              tip: { schema_version: INVENTORY_SNAPSHOT_SCHEMA_VERSION, state: toSnapshot(inventory) },
            },
          ]
        : []),
    ],
  };
}

/** A new cart (version 0) holding one unit of each product, as POST /cart/items would decide it line by line (and its tip, which POST /cart/items writes). */
export function newCart(userId: string, products: readonly BenchProduct[]): { state: CartState; write: StreamWrite } {
  let state = cartDecider.initialState();
  const events: DomainEvent[] = [];
  for (const p of products) {
    const decided = cartDecider.decide(
      { type: 'AddItem', user_id: userId, product_id: p.id, quantity: 1, product: p.state, available: p.inventory.available_quantity },
      state,
    );
    state = decided.reduce(cartDecider.evolve, state);
    events.push(...decided);
  }
  return { state, write: { ...toWrite(cartStreamId(userId), 'Cart', 0, events), tip: { schema_version: CART_TIP_SCHEMA_VERSION, state } } };
}

/**
 * Appends `writes` in as few transactions as the 100-item limit allows (a stream appears at most once per
 * transaction, so a stream longer than 100 events continues in the next one). Sequential: setup, not measured.
 */
export async function appendPacked(
  store: EventStore,
  writes: readonly StreamWrite[],
  correlation = 'bench-setup',
): Promise<EventEnvelope[]> {
  const chunks: StreamWrite[] = [];
  for (const w of writes) {
    if (w.events.length === 0) continue;
    for (let i = 0; i < w.events.length; i += MAX_TRANSACTION_ITEMS) {
      const { tip, ...rest } = w;
      const last = i + MAX_TRANSACTION_ITEMS >= w.events.length;
      // A tip is the state after the stream's last event: only its last chunk carries it.
      chunks.push({
        ...rest,
        expected_version: w.expected_version + i,
        events: w.events.slice(i, i + MAX_TRANSACTION_ITEMS),
        ...(tip && last ? { tip } : {}),
      });
    }
  }
  const stored: EventEnvelope[] = [];
  let batch: StreamWrite[] = [];
  let items = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    stored.push(...(await store.append(batch, { metadata: { correlation_id: correlation }, now: iso() })));
    batch = [];
    items = 0;
  };
  for (const chunk of chunks) {
    // A tip is an item of the transaction too (and the store drops every tip of one that would pass the limit).
    const size = chunk.events.length + (chunk.tip ? 1 : 0);
    if (items + size > MAX_TRANSACTION_ITEMS || batch.some((b) => b.aggregate_id === chunk.aggregate_id)) await flush();
    batch.push(chunk);
    items += size;
  }
  await flush();
  return stored;
}

/**
 * What the executor does after an append, for events the benchmark appended itself: publish them and clear
 * their outbox marker (so the worker's sweeper does not republish them in the middle of a later measurement).
 */
export async function publishAndMark(publisher: Publisher, store: EventStore, events: readonly EventEnvelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const chunk = events.slice(i, i + 500);
    await publisher.publish(chunk);
    await store.markPublished(chunk);
  }
}
