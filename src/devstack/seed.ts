/**
 * `npm run seed -- --events 200000`: a realistic shop history, generated and written straight into the DynamoDB
 * event store (BatchWriteItem, 25 items a call, several calls in flight), to have a big store to rebuild from.
 *
 * The history is what the write side would have recorded — the same event types, data shapes and stream naming
 * as the deciders (users, categories, products with their `inventory-<id>` stock, carts, orders with the
 * fulfilment saga's shipments), valid per the event contracts, consistent across streams (an order's lines
 * are reserved, then deducted or released; totals are the sum of subtotals; payments are the order total).
 * Ids carry a run prefix, so a seed never touches existing streams and can be run again.
 *
 * The events are written as published (no outbox attributes): the sweeper does not push 200,000 old events
 * through Kafka. The read model learns about them by a rebuild (`npm run rebuild`). Seeded customers have no
 * credentials (passwords are not events): they cannot log in.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteItemCommand } from '@aws-sdk/client-dynamodb';
import { eventItem, OUTBOX_AT, OUTBOX_SHARD } from '../platform/eventstore/dynamodb-items.ts';
import type { AggregateType, EventEnvelope } from '../platform/shared/envelope.ts';
import { exponentialDelay } from '../platform/shared/retry.ts';

export interface SeedOptions {
  /** About this many events (the last chunk completes its streams, so slightly more). */
  events: number;
  /** Deterministic: the same seed and prefix make the same history. */
  seed?: number;
  /** Id prefix of this run (default: seed-<random>). */
  prefix?: string;
  /** Time of the first event (default: 90 days ago); the history spans `spanMs` (default 90 days) whatever its size. */
  startMs?: number;
  spanMs?: number;
}

/** mulberry32: small, fast, good enough to make data look varied, and reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CATEGORIES = ['衣類', '靴', '食品', '文房具', 'キッチン', 'Books', 'Outdoor', 'Toys', '家電', 'Beauty'];
const PRODUCT_WORDS = ['綿100%の', 'ウールの', 'Organic ', 'Classic ', '限定 ', 'Eco ', 'プレミアム ', 'Travel ', '手作りの', 'Compact '];
const PRODUCT_NOUNS = [
  'Tシャツ',
  'socks',
  'マグカップ',
  'notebook',
  'スニーカー',
  'backpack',
  '緑茶',
  'umbrella',
  '腕時計',
  'lamp',
  'タオル',
  'pen',
];
const FAMILY = ['山田', '佐藤', '鈴木', '高橋', '田中', 'Smith', 'Garcia', '伊藤', '渡辺', 'Müller'];
const GIVEN = ['花子', '太郎', 'さくら', 'Ken', 'Emma', '陽菜', '蓮', 'Liam', '結衣', 'Noah'];

/**
 * Pure: the history, chunk by chunk (a chunk is a small shop: a category, its products and stock, customers
 * with carts and orders); every stream is whole within its chunk, so memory stays one chunk whatever the size.
 */
export function* generateShop(opts: SeedOptions): Generator<EventEnvelope[]> {
  const rnd = prng(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const prefix = opts.prefix ?? `seed-${randomUUID().slice(0, 8)}`;
  const span = opts.spanMs ?? 90 * 86_400_000;
  let t = opts.startMs ?? Date.now() - span;
  // Events spread evenly over the span on average (so daily sales have many days, like a shop's).
  const step = Math.max(2, Math.floor(span / opts.events));
  const tick = () => new Date((t += int(1, 2 * step - 1))).toISOString();
  let produced = 0;

  for (let chunk = 0; produced < opts.events; chunk++) {
    const out: EventEnvelope[] = [];
    const versions = new Map<string, number>();
    const emit = (type: AggregateType, id: string, eventType: string, data: Record<string, unknown>, at: string): void => {
      const version = (versions.get(id) ?? 0) + 1;
      versions.set(id, version);
      out.push({
        event_id: randomUUID(),
        aggregate_id: id,
        aggregate_type: type,
        event_type: eventType,
        version,
        data,
        metadata: { correlation_id: `${prefix}-seed` },
        created_at: at,
        schema_version: 1,
      });
    };
    const p = `${prefix}-${chunk}`;

    const categoryId = `${p}-cat`;
    emit(
      'Category',
      categoryId,
      'CategoryCreated',
      { category_id: categoryId, name: `${pick(CATEGORIES)} ${p}`, created_at: tick() },
      tick(),
    );
    const products = Array.from({ length: 6 }, (_, i) => {
      const id = `${p}-product-${i}`;
      const at = tick();
      const product = { id, name: `${pick(PRODUCT_WORDS)}${pick(PRODUCT_NOUNS)}`, price: int(3, 300) * 100 };
      emit(
        'Product',
        id,
        'ProductCreated',
        {
          product_id: id,
          name: product.name,
          description: `${product.name} — seeded`,
          price: product.price,
          category_id: categoryId,
          created_at: at,
        },
        at,
      );
      const stockAt = tick();
      emit('Inventory', `inventory-${id}`, 'StockAdded', { product_id: id, quantity: 100_000, added_at: stockAt }, stockAt);
      return product;
    });
    if (rnd() < 0.3) {
      const product = products[0]!;
      const at = tick();
      product.price += 100;
      emit(
        'Product',
        product.id,
        'ProductUpdated',
        {
          product_id: product.id,
          name: product.name,
          description: `${product.name} — new price`,
          price: product.price,
          category_id: categoryId,
          updated_at: at,
        },
        at,
      );
    }

    for (let c = 0; c < 12; c++) {
      const userId = `${p}-user-${c}`;
      const email = `${userId}@example.com`;
      const regAt = tick();
      emit(
        'User',
        userId,
        'UserRegistered',
        { user_id: userId, email, name: `${pick(FAMILY)}${pick(GIVEN)}`, role: 'customer', registered_at: regAt },
        regAt,
      );
      const cartId = `cart-${userId}`;
      for (let o = int(1, 3); o > 0; o--) {
        // Cart: a few adds (lines merge), sometimes a removal.
        const lines = new Map<string, { product: (typeof products)[number]; quantity: number }>();
        for (let a = int(1, 4); a > 0; a--) {
          const product = pick(products);
          const quantity = int(1, 3);
          const line = lines.get(product.id) ?? { product, quantity: 0 };
          line.quantity += quantity;
          lines.set(product.id, line);
          emit(
            'Cart',
            cartId,
            'ItemAddedToCart',
            {
              cart_id: cartId,
              user_id: userId,
              product_id: product.id,
              quantity,
              line_quantity: line.quantity,
              price: product.price,
              name: product.name,
            },
            tick(),
          );
        }
        if (lines.size > 1 && rnd() < 0.2) {
          const [removed] = lines.keys();
          lines.delete(removed!);
          emit('Cart', cartId, 'ItemRemovedFromCart', { cart_id: cartId, user_id: userId, product_id: removed }, tick());
        }
        // Checkout.
        const orderId = `${p}-order-${c}-${o}`;
        const items = [...lines.values()].map((l) => ({
          product_id: l.product.id,
          name: l.product.name,
          price: l.product.price,
          quantity: l.quantity,
          subtotal: l.product.price * l.quantity,
        }));
        const total = items.reduce((n, i) => n + i.subtotal, 0);
        const placedAt = tick();
        const expiresAt = new Date(Date.parse(placedAt) + 15 * 60_000).toISOString();
        emit(
          'Order',
          orderId,
          'OrderPlaced',
          { order_id: orderId, user_id: userId, user_email: email, items, total, expires_at: expiresAt, placed_at: placedAt },
          placedAt,
        );
        const reservations = items.map((item, i) => {
          const at = tick();
          const r = { product_id: item.product_id, reservation_id: `${orderId}-r${i}`, order_id: orderId, quantity: item.quantity };
          emit('Inventory', `inventory-${item.product_id}`, 'StockReserved', { ...r, expires_at: expiresAt, reserved_at: at }, at);
          return r;
        });
        emit('Cart', cartId, 'CartCleared', { cart_id: cartId, user_id: userId, reason: 'checkout', order_id: orderId }, tick());
        const release = (reason: string) => {
          for (const r of reservations) {
            const at = tick();
            emit('Inventory', `inventory-${r.product_id}`, 'StockReleased', { ...r, reason, released_at: at }, at);
          }
        };

        const fate = rnd();
        if (fate < 0.1) continue; // still pending
        if (fate < 0.2) {
          const at = tick();
          emit(
            'Order',
            orderId,
            'OrderCancelled',
            { order_id: orderId, reason: '気が変わった', cancelled_by: 'customer', cancelled_at: at },
            at,
          );
          release('cancelled');
          continue;
        }
        if (fate < 0.28) {
          const at = tick();
          emit(
            'Order',
            orderId,
            'OrderCancelled',
            { order_id: orderId, reason: 'payment timeout', cancelled_by: 'system', cancelled_at: at },
            at,
          );
          release('expired');
          continue;
        }
        const paidAt = tick();
        emit('Order', orderId, 'OrderPaid', { order_id: orderId, amount: total, paid_at: paidAt }, paidAt);
        // The fulfilment saga: hand to the carrier, wait for its answer.
        const shipmentId = `shipment-${orderId}`;
        const initiatedAt = tick();
        emit(
          'Shipment',
          shipmentId,
          'ShipmentInitiated',
          { shipment_id: shipmentId, order_id: orderId, initiated_at: initiatedAt },
          initiatedAt,
        );
        const requestedAt = tick();
        emit(
          'Shipment',
          shipmentId,
          'ShipmentRequested',
          {
            shipment_id: shipmentId,
            order_id: orderId,
            carrier: 'simulated',
            carrier_reference: `SIM-${orderId}`,
            requested_at: requestedAt,
          },
          requestedAt,
        );
        if (fate < 0.35) {
          const reason = 'carrier lost the parcel';
          const failedAt = tick();
          emit(
            'Shipment',
            shipmentId,
            'ShipmentFailed',
            { shipment_id: shipmentId, order_id: orderId, reason, failed_at: failedAt },
            failedAt,
          );
          const at = tick();
          emit('Order', orderId, 'OrderShipmentFailed', { order_id: orderId, reason, failed_at: at }, at);
          emit(
            'Order',
            orderId,
            'OrderPaymentRefunded',
            { order_id: orderId, amount: total, reason: 'shipment_failed', refunded_at: at },
            at,
          );
          release('shipment_failed');
          continue;
        }
        const tracking = `TRK-${orderId}`;
        const completedAt = tick();
        emit(
          'Shipment',
          shipmentId,
          'ShipmentCompleted',
          { shipment_id: shipmentId, order_id: orderId, tracking_number: tracking, completed_at: completedAt, dispatched_by: 'carrier' },
          completedAt,
        );
        const shippedAt = tick();
        emit('Order', orderId, 'OrderShipped', { order_id: orderId, tracking_number: tracking, shipped_at: shippedAt }, shippedAt);
        for (const r of reservations) {
          const at = tick();
          emit('Inventory', `inventory-${r.product_id}`, 'StockDeducted', { ...r, deducted_at: at }, at);
        }
        if (fate < 0.85) {
          const at = tick();
          emit('Order', orderId, 'OrderDelivered', { order_id: orderId, delivered_at: at }, at);
        }
      }
    }
    produced += out.length;
    yield out;
  }
}

/** Writes events in BatchWriteItem calls of 25, `concurrency` calls in flight, retrying unprocessed items. */
export async function writeEvents(client: DynamoDBClient, table: string, events: readonly EventEnvelope[], concurrency = 8): Promise<void> {
  const items = events.map((e) => {
    const item = eventItem(e, '0');
    // Written as already published: not in the outbox index.
    delete item[OUTBOX_SHARD];
    delete item[OUTBOX_AT];
    return item;
  });
  const batches: Array<Array<Record<string, AttributeValue>>> = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, exponentialDelay(attempt, { initialMs: 100, maxMs: 2000 })));
        if (attempt > 10) throw new Error(`DynamoDB left ${pending.length} items unprocessed after ${attempt} attempts`);
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = (out.UnprocessedItems?.[table] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}
