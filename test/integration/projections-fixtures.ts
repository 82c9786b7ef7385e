/**
 * Shared by the projections*.test.ts files: databases, a whole-shop event scenario, a fake event store and
 * table snapshots for comparing read models.
 */
import pg from 'pg';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import { stream, shuffle, tickingClock } from '../support/projection.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { uniq } from '../support/env.ts';

export function databaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run through scripts/with-stack.ts (STACK_SERVICES=postgres)');
  return url;
}

/**
 * Money columns are bigint (totals can pass 2^31 yen), which pg hands over as strings; the read queries turn
 * them into numbers (rows.ts num), and so do the pools these tests read tables through.
 */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface TestDatabase {
  pool: pg.Pool;
  name: string;
  drop(): Promise<void>;
}

/** The shared database of the stack, schema applied. Tests in it use fresh ids and never truncate. */
export async function sharedDatabase(): Promise<pg.Pool> {
  const pool = new pg.Pool({ connectionString: databaseUrl(), max: 10, types });
  await applySchema(pool);
  return pool;
}

/** A database of its own (whole-table comparisons, exact global numbers, truncation), schema applied. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniq('rm').replace(/-/g, '_');
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 10, types });
  await applySchema(pool);
  return {
    pool,
    name,
    async drop() {
      // pool.end() resolves before its connections are closed; plain DROP waits (up to 5 s) for them to go,
      // where WITH (FORCE) would kill them and surface as errors on clients nobody listens to any more.
      await pool.end();
      const c = new pg.Client({ connectionString: databaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => c.end());
    },
  };
}

export interface ShopIds {
  customer: string;
  admin: string;
  category: string;
  tshirt: string;
  socks: string;
  gone: string;
  orders: { delivered: string; cancelled: string; failed: string; paid: string };
}

/**
 * A small shop's history touching every event type, with known outcomes:
 * - orders: delivered (Tシャツ×3 + socks×2 = 12000), cancelled while pending (3000), paid then shipment failed
 *   (socks×1 = 1500, reversed), paid (Tシャツ×1 = 3000, plus an event type from the future);
 * - revenue (paid/shipped/delivered) = 15000; Tシャツ stock 10 - 3 deducted, 1 still reserved;
 * - the Tシャツ's inventory shares the product's stream (id = product id), the socks' has its own
 *   `inventory-<id>` stream: the projector must be right whichever way the write side names it.
 */
export function shopScenario(opts: { prefix?: string; clock?: () => string } = {}): { events: EventEnvelope[]; ids: ShopIds } {
  const p = opts.prefix ?? uniq('shop');
  const clock = opts.clock ?? tickingClock();
  const ids: ShopIds = {
    customer: `${p}-user`,
    admin: `${p}-admin`,
    category: `${p}-cat`,
    tshirt: `${p}-tshirt`,
    socks: `${p}-socks`,
    gone: `${p}-gone`,
    orders: { delivered: `${p}-o1`, cancelled: `${p}-o2`, failed: `${p}-o3`, paid: `${p}-o4` },
  };
  const all: EventEnvelope[] = [];
  const s = (type: Parameters<typeof stream>[0], id: string) => {
    const b = stream(type, id, clock);
    return (eventType: string, data: Record<string, unknown>) => {
      const t = clock();
      const e = b.next(eventType, data, t);
      all.push(e);
      return t;
    };
  };
  const at = () => clock();

  s('User', ids.customer)('UserRegistered', {
    user_id: ids.customer,
    email: `${p}@example.com`,
    name: '山田花子',
    role: 'customer',
    password_hash: 'scrypt$secret',
    registered_at: at(),
  });
  s('User', ids.admin)('UserRegistered', {
    user_id: ids.admin,
    email: `${p}-admin@example.com`,
    name: 'Admin',
    role: 'admin',
    password_hash: 'scrypt$secret2',
    registered_at: at(),
  });
  s('Category', ids.category)('CategoryCreated', { category_id: ids.category, name: `衣類 ${p}`, created_at: at() });

  const tshirt = s('Product', ids.tshirt); // product and inventory in one stream
  tshirt('ProductCreated', {
    product_id: ids.tshirt,
    name: '綿100%のTシャツ',
    description: 'やわらかい cotton tee',
    price: 3000,
    category_id: ids.category,
    created_at: at(),
  });
  tshirt('StockAdded', { product_id: ids.tshirt, quantity: 10, added_at: at() });
  const socks = s('Product', ids.socks);
  socks('ProductCreated', {
    product_id: ids.socks,
    name: 'Wool socks',
    description: 'Warm winter socks',
    price: 1200,
    category_id: ids.category,
    created_at: at(),
  });
  socks('ProductUpdated', {
    product_id: ids.socks,
    name: 'Wool socks',
    description: 'Warm winter socks',
    price: 1500,
    category_id: ids.category,
    updated_at: at(),
  });
  const socksStock = s('Inventory', `inventory-${ids.socks}`);
  socksStock('StockAdded', { product_id: ids.socks, quantity: 5, added_at: at() });
  const gone = s('Product', ids.gone);
  gone('ProductCreated', {
    product_id: ids.gone,
    name: 'Discontinued hat',
    description: '',
    price: 800,
    category_id: null,
    created_at: at(),
  });
  gone('ProductDeleted', { product_id: ids.gone, deleted_at: at() });

  const cart = s('Cart', `cart-${ids.customer}`);
  const line = (product_id: string, quantity: number, line_quantity: number, price: number, name: string) => ({
    cart_id: `cart-${ids.customer}`,
    user_id: ids.customer,
    product_id,
    quantity,
    line_quantity,
    price,
    name,
  });
  cart('ItemAddedToCart', line(ids.tshirt, 2, 2, 3000, '綿100%のTシャツ'));
  cart('ItemAddedToCart', line(ids.socks, 1, 1, 1500, 'Wool socks'));
  cart('ItemAddedToCart', line(ids.tshirt, 1, 3, 3000, '綿100%のTシャツ'));
  cart('ItemRemovedFromCart', { cart_id: `cart-${ids.customer}`, user_id: ids.customer, product_id: ids.socks });
  cart('ItemAddedToCart', line(ids.socks, 2, 2, 1500, 'Wool socks'));

  const item = (product_id: string, name: string, price: number, quantity: number) => ({
    product_id,
    name,
    price,
    quantity,
    subtotal: price * quantity,
  });
  const placed = (order_id: string, items: ReturnType<typeof item>[]) => ({
    order_id,
    user_id: ids.customer,
    user_email: `${p}@example.com`,
    items,
    total: items.reduce((n, i) => n + i.subtotal, 0),
    expires_at: '2030-01-01T00:00:00.000Z',
    placed_at: at(),
  });
  const reserve = (inv: ReturnType<typeof s>, product_id: string, reservation_id: string, order_id: string, quantity: number) =>
    inv('StockReserved', { product_id, reservation_id, order_id, quantity, expires_at: '2030-01-01T00:00:00.000Z' });

  // Order 1: delivered.
  const o1 = s('Order', ids.orders.delivered);
  o1('OrderPlaced', placed(ids.orders.delivered, [item(ids.tshirt, '綿100%のTシャツ', 3000, 3), item(ids.socks, 'Wool socks', 1500, 2)]));
  reserve(tshirt, ids.tshirt, `${p}-r1`, ids.orders.delivered, 3);
  reserve(socksStock, ids.socks, `${p}-r2`, ids.orders.delivered, 2);
  cart('CartCleared', { cart_id: `cart-${ids.customer}`, user_id: ids.customer, reason: 'checkout', order_id: ids.orders.delivered });
  o1('OrderPaid', { order_id: ids.orders.delivered, paid_at: at(), amount: 12000 });
  const ship1 = s('Shipment', `shipment-${ids.orders.delivered}`);
  ship1('ShipmentInitiated', { shipment_id: `shipment-${ids.orders.delivered}`, order_id: ids.orders.delivered, initiated_at: at() });
  ship1('ShipmentCompleted', {
    shipment_id: `shipment-${ids.orders.delivered}`,
    order_id: ids.orders.delivered,
    tracking_number: 'TRK-1',
    completed_at: at(),
  });
  o1('OrderShipped', { order_id: ids.orders.delivered, tracking_number: 'TRK-1', shipped_at: at() });
  tshirt('StockDeducted', { product_id: ids.tshirt, reservation_id: `${p}-r1`, order_id: ids.orders.delivered, quantity: 3 });
  socksStock('StockDeducted', { product_id: ids.socks, reservation_id: `${p}-r2`, order_id: ids.orders.delivered, quantity: 2 });
  o1('OrderDelivered', { order_id: ids.orders.delivered, delivered_at: at() });

  // Order 2: cancelled while pending.
  const o2 = s('Order', ids.orders.cancelled);
  o2('OrderPlaced', placed(ids.orders.cancelled, [item(ids.tshirt, '綿100%のTシャツ', 3000, 1)]));
  reserve(tshirt, ids.tshirt, `${p}-r3`, ids.orders.cancelled, 1);
  o2('OrderCancelled', { order_id: ids.orders.cancelled, reason: '気が変わった', cancelled_by: 'customer', cancelled_at: at() });
  tshirt('StockReleased', {
    product_id: ids.tshirt,
    reservation_id: `${p}-r3`,
    order_id: ids.orders.cancelled,
    quantity: 1,
    reason: 'cancelled',
  });

  // Order 3: paid, shipment failed (revenue reversed).
  const o3 = s('Order', ids.orders.failed);
  o3('OrderPlaced', placed(ids.orders.failed, [item(ids.socks, 'Wool socks', 1500, 1)]));
  reserve(socksStock, ids.socks, `${p}-r4`, ids.orders.failed, 1);
  o3('OrderPaid', { order_id: ids.orders.failed, paid_at: at(), amount: 1500 });
  const ship3 = s('Shipment', `shipment-${ids.orders.failed}`);
  // The failed shipment carries no timestamps of its own: the projection falls back to created_at.
  ship3('ShipmentInitiated', { order_id: ids.orders.failed });
  ship3('ShipmentFailed', { order_id: ids.orders.failed, reason: 'carrier lost the parcel' });
  o3('OrderShipmentFailed', { order_id: ids.orders.failed, reason: 'carrier lost the parcel', failed_at: at() });
  socksStock('StockReleased', {
    product_id: ids.socks,
    reservation_id: `${p}-r4`,
    order_id: ids.orders.failed,
    quantity: 1,
    reason: 'shipment_failed',
  });

  // Order 4: paid, with an event type this projector does not know yet.
  const o4 = s('Order', ids.orders.paid);
  o4('OrderPlaced', placed(ids.orders.paid, [item(ids.tshirt, '綿100%のTシャツ', 3000, 1)]));
  reserve(tshirt, ids.tshirt, `${p}-r5`, ids.orders.paid, 1);
  o4('OrderGiftWrapped', { order_id: ids.orders.paid, paper: 'washi' });
  o4('OrderPaid', { order_id: ids.orders.paid, paid_at: at(), amount: 3000 });

  return { events: all, ids };
}

/** An in-memory event store over a fixed history; records readStream calls. */
export function fakeEventStore(history: readonly EventEnvelope[]): Pick<EventStore, 'readStream' | 'scanAll'> & {
  calls: Array<{ aggregateId: string; afterVersion?: number; toVersion?: number }>;
} {
  const calls: Array<{ aggregateId: string; afterVersion?: number; toVersion?: number }> = [];
  return {
    calls,
    async readStream(aggregateId, opts = {}) {
      calls.push({ aggregateId, ...opts });
      return history
        .filter((e) => e.aggregate_id === aggregateId && e.version > (opts.afterVersion ?? 0) && e.version <= (opts.toVersion ?? Infinity))
        .sort((a, b) => a.version - b.version);
    },
    async scanAll(onPage) {
      // Like a parallel scan: pages of arbitrary events, in no particular order.
      const scrambled = shuffle(history, 99);
      for (let i = 0; i < scrambled.length; i += 7) await onPage(scrambled.slice(i, i + 7));
    },
  };
}

/** Splits events into batches of pseudo-random sizes 1..max. */
export function randomBatches<T>(items: readonly T[], seed: number, max = 6): T[][] {
  const sizes = shuffle(
    Array.from({ length: items.length }, (_, i) => (i % max) + 1),
    seed,
  );
  const out: T[][] = [];
  for (let i = 0, k = 0; i < items.length; k++) {
    const n = sizes[k % sizes.length]!;
    out.push(items.slice(i, i + n));
    i += n;
  }
  return out;
}

const SNAPSHOT_ORDER: Record<string, string> = {
  projection_streams: 'aggregate_id',
  processed_events: 'event_id, projection',
  read_users: 'user_id',
  read_categories: 'category_id',
  read_products: 'product_id',
  read_inventory: 'product_id',
  read_carts: 'user_id',
  read_orders: 'order_id',
  read_shipments: 'shipment_id',
  read_event_log: 'event_id',
  read_customer_summary: 'user_id',
  read_product_popularity: 'product_id',
  read_daily_sales: 'day',
};

/** Every row of every read table (and the bookkeeping), as plain JSON, for whole-database comparisons. */
export async function snapshot(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const [table, order] of Object.entries(SNAPSHOT_ORDER)) {
    // processed_at is when the projector ran, the one column that is not a function of the events.
    const cols = table === 'processed_events' ? 'event_id, projection' : '*';
    const { rows } = await pool.query(`SELECT ${cols} FROM ${table} ORDER BY ${order}`);
    out[table] = JSON.parse(JSON.stringify(rows));
  }
  return out;
}
