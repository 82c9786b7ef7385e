/**
 * §10 item 3: projector throughput (createProjectionRunner.applyBatch, batches of 1,000) against raw batched
 * PostgreSQL upserts of the same events, and the throughput of a full rebuild (rebuild()) of whatever the
 * event store holds when it runs. Each gets a database of its own, so nothing the live shop reads is touched
 * (a rebuild truncates every read_* table of the database it is given).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { cartDecider, cartStreamId, type CartState } from '../../src/contexts/carts/index.ts';
import type { ProductState } from '../../src/contexts/catalog/index.ts';
import { inventoryDecider, inventoryStreamId, type InventoryState } from '../../src/contexts/inventory/index.ts';
import { decideCheckout, orderDecider, type OrderState } from '../../src/contexts/orders/index.ts';
import { rebuild } from '../../src/composition/projections/rebuild.ts';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import type { DomainEvent } from '../../src/platform/shared/decider.ts';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { Bench } from './context.ts';
import { customer, newProduct } from './fixtures.ts';
import { ms, now, perSecond, rate, ratio, summarise } from './stats.ts';
import type { Row } from './table.ts';

const EVENTS = 20_000;
const WARM_UP_EVENTS = 1_000;
/** About what the projector's pacer settles at (src/platform/projections/pacer.ts): the engine's cost per batch is fixed. */
const BATCH = 1_000;
const PRODUCTS = 200;
const CUSTOMERS = 1_000;
const PHASE_BUDGET_MS = 90_000;

/** A database of its own on the stack's PostgreSQL, schema applied; the pool is the caller's to end. */
export async function scratchDatabase(databaseUrl: string, name: string, max: number): Promise<pg.Pool> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max });
  pool.on('error', () => {});
  await applySchema(pool);
  return pool;
}

/**
 * `total` events of a small shop, in the order a consumer would receive them: products with stock, then
 * customers filling 2-line carts and checking out; of every 4 orders two are paid (StockDeducted), one is
 * cancelled (StockReleased) and one stays pending. Every event is decided by the project's deciders.
 */
export function syntheticEvents(total: number, tag: string): EventEnvelope[] {
  const events: EventEnvelope[] = [];
  const versions = new Map<string, number>();
  let t = Date.now() - 24 * 3600 * 1000;
  const emit = (aggregateId: string, type: AggregateType, decided: readonly DomainEvent[]) => {
    for (const e of decided) {
      const version = (versions.get(aggregateId) ?? 0) + 1;
      versions.set(aggregateId, version);
      events.push({
        event_id: randomUUID(),
        aggregate_id: aggregateId,
        aggregate_type: type,
        event_type: e.type,
        version,
        data: e.data as Record<string, unknown>,
        metadata: { correlation_id: `bench-${tag}` },
        created_at: new Date(t).toISOString(),
        schema_version: 1,
      });
      t += 10;
    }
  };
  const at = () => new Date(t).toISOString();

  const products = Array.from({ length: PRODUCTS }, (_, i) => newProduct(`${tag} product ${i}`, 500 + 10 * i, 1_000_000, at()));
  const inventories = new Map<string, InventoryState>();
  for (const p of products) {
    emit(
      p.id,
      'Product',
      p.writes[0]!.events.map((e) => ({ type: e.event_type, data: e.data })),
    );
    emit(
      inventoryStreamId(p.id),
      'Inventory',
      p.writes[1]!.events.map((e) => ({ type: e.event_type, data: e.data })),
    );
    inventories.set(p.id, p.inventory);
  }
  const productStates = new Map<string, ProductState>(products.map((p) => [p.id, p.state]));
  const users = Array.from({ length: CUSTOMERS }, () => randomUUID());
  const carts = new Map<string, CartState>();

  const inventory = (productId: string, decided: ReturnType<typeof inventoryDecider.decide>) => {
    inventories.set(productId, decided.reduce(inventoryDecider.evolve, inventories.get(productId)!));
    emit(inventoryStreamId(productId), 'Inventory', decided);
  };

  for (let episode = 0; events.length < total; episode++) {
    const userId = users[episode % CUSTOMERS]!;
    const first = products[(episode * 7) % PRODUCTS]!;
    const second =
      products[(episode * 13 + 1) % PRODUCTS === (episode * 7) % PRODUCTS ? (episode * 13 + 2) % PRODUCTS : (episode * 13 + 1) % PRODUCTS]!;
    let cart = carts.get(userId) ?? cartDecider.initialState();
    for (const p of [first, second]) {
      const added = cartDecider.decide(
        {
          type: 'AddItem',
          user_id: userId,
          product_id: p.id,
          quantity: 1 + (episode % 3),
          product: p.state,
          available: inventories.get(p.id)!.available_quantity,
        },
        cart,
      );
      cart = added.reduce(cartDecider.evolve, cart);
      emit(cartStreamId(userId), 'Cart', added);
    }
    const orderId = randomUUID();
    const decision = decideCheckout({
      order_id: orderId,
      user_id: userId,
      user_email: customer(userId).email,
      now: at(),
      expires_at: new Date(t + 15 * 60 * 1000).toISOString(),
      reservation_ids: () => randomUUID(),
      cart,
      products: productStates,
      inventories,
    });
    let order: OrderState = decision.order.reduce(orderDecider.evolve, orderDecider.initialState());
    emit(orderId, 'Order', decision.order);
    for (const [productId, decided] of decision.inventories) inventory(productId, decided);
    carts.set(userId, decision.cart.reduce(cartDecider.evolve, cart));
    emit(cartStreamId(userId), 'Cart', decision.cart);

    const lines = [first.id, second.id];
    if (episode % 4 === 0 || episode % 4 === 2) {
      const paid = orderDecider.decide({ type: 'PayOrder', order_id: orderId, now: at() }, order);
      order = paid.reduce(orderDecider.evolve, order);
      emit(orderId, 'Order', paid);
      for (const id of lines)
        inventory(
          id,
          inventoryDecider.decide({ type: 'ConfirmReservation', product_id: id, order_id: orderId, now: at() }, inventories.get(id)!),
        );
    } else if (episode % 4 === 1) {
      const cancelled = orderDecider.decide(
        { type: 'CancelOrder', order_id: orderId, reason: 'changed my mind', cancelled_by: 'customer', now: at() },
        order,
      );
      emit(orderId, 'Order', cancelled);
      for (const id of lines) {
        inventory(
          id,
          inventoryDecider.decide(
            { type: 'ReleaseReservation', product_id: id, order_id: orderId, reason: 'cancelled', now: at() },
            inventories.get(id)!,
          ),
        );
      }
    }
  }
  // Cutting the tail keeps every stream a contiguous prefix from version 1: no gaps for the runner to repair.
  return events.slice(0, total);
}

/** The pool with every statement its clients run counted (the runner checks out one client per batch). */
function countingPool(pool: pg.Pool, counter: { statements: number }): pg.Pool {
  const bound = <T extends object>(target: T, prop: string | symbol) => {
    const value: unknown = Reflect.get(target, prop);
    return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
  };
  return new Proxy(pool, {
    get(target, prop) {
      if (prop !== 'connect') return bound(target, prop);
      return async () => {
        const client = await target.connect();
        return new Proxy(client, {
          get(c, p) {
            if (p !== 'query') return bound(c, p);
            return (...args: unknown[]) => {
              counter.statements++;
              return (c.query as (...a: unknown[]) => unknown)(...args);
            };
          },
        });
      };
    },
  });
}

const batches = (events: readonly EventEnvelope[]) =>
  Array.from({ length: Math.ceil(events.length / BATCH) }, (_, i) => events.slice(i * BATCH, (i + 1) * BATCH));

/** One transaction per batch with one multi-row upsert: the stream's latest event as its row. */
export async function rawUpsert(pool: pg.Pool, batch: readonly EventEnvelope[]): Promise<void> {
  const latest = new Map<string, EventEnvelope>();
  for (const e of batch) if ((latest.get(e.aggregate_id)?.version ?? 0) < e.version) latest.set(e.aggregate_id, e);
  const rows = [...latest.values()].sort((a, b) => (a.aggregate_id < b.aggregate_id ? -1 : 1));
  const values: unknown[] = [];
  const tuples = rows.map((e, i) => {
    values.push(e.aggregate_id, e.aggregate_type, e.version, JSON.stringify(e.data), e.created_at);
    const p = i * 5;
    return `($${p + 1}, $${p + 2}, $${p + 3}, $${p + 4}::jsonb, $${p + 5}::timestamptz)`;
  });
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO bench_raw_upserts AS t (id, kind, version, data, updated_at) VALUES ${tuples.join(', ')}
       ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, version = EXCLUDED.version, data = EXCLUDED.data, updated_at = EXCLUDED.updated_at
        WHERE t.version < EXCLUDED.version`,
      values,
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

interface Timed {
  elapsedMs: number;
  events: number;
  batches: number[];
}

/**
 * Applies the same batches both ways, alternating batch by batch (ours, then raw), so a change in the machine's
 * load hits both sides alike; each side's time is the sum of its own batches.
 */
async function alternate(
  events: readonly EventEnvelope[],
  ours: (batch: readonly EventEnvelope[]) => Promise<void>,
  raw: (batch: readonly EventEnvelope[]) => Promise<void>,
): Promise<{ ours: Timed; raw: Timed }> {
  const result = { ours: { elapsedMs: 0, events: 0, batches: [] as number[] }, raw: { elapsedMs: 0, events: 0, batches: [] as number[] } };
  const deadline = now() + PHASE_BUDGET_MS;
  for (const batch of batches(events)) {
    if (now() > deadline) throw new Error(`time budget of ${PHASE_BUDGET_MS / 1000} s exhausted after ${result.ours.events} events`);
    for (const [side, apply] of [
      ['ours', ours],
      ['raw', raw],
    ] as const) {
      const t0 = now();
      await apply(batch);
      const took = now() - t0;
      result[side].elapsedMs += took;
      result[side].events += batch.length;
      result[side].batches.push(took);
    }
  }
  return result;
}

export interface ProjectorFigures {
  eventsPerSecond: number;
}

export async function benchProjector(bench: Bench): Promise<{ row: Row; figures: ProjectorFigures }> {
  const pool = await scratchDatabase(bench.config.databaseUrl, `bench_projector_${process.pid}`, 5);
  try {
    await pool.query(
      `CREATE TABLE bench_raw_upserts (id text PRIMARY KEY, kind text NOT NULL, version integer NOT NULL, data jsonb NOT NULL, updated_at timestamptz NOT NULL)`,
    );
    const warm = syntheticEvents(WARM_UP_EVENTS, 'warm');
    const measured = syntheticEvents(EVENTS, 'proj');
    // No event store: every stream is contiguous, and a gap would then fail loudly instead of being repaired.
    const sql = { statements: 0 };
    const runner = createProjectionRunner({ pool: countingPool(pool, sql) });
    let applied = 0;
    const ours = async (batch: readonly EventEnvelope[]) => {
      applied += (await runner.applyBatch(batch)).applied;
    };
    await alternate(warm, ours, (batch) => rawUpsert(pool, batch));
    applied = 0;
    sql.statements = 0;
    const measuredRuns = await alternate(measured, ours, (batch) => rawUpsert(pool, batch));
    const a = { ...measuredRuns.ours, batch: summarise(measuredRuns.ours.batches) };
    const b = { ...measuredRuns.raw, batch: summarise(measuredRuns.raw.batches) };
    const statementsPerEvent = sql.statements / Math.max(1, a.events);
    if (applied !== EVENTS) throw new Error(`the runner applied ${applied} of ${EVENTS} events`);
    const oursRate = rate(a.events, a.elapsedMs);
    const rawRate = rate(b.events, b.elapsedMs);
    const types = new Map<string, number>();
    for (const e of measured) types.set(e.event_type, (types.get(e.event_type) ?? 0) + 1);
    return {
      figures: { eventsPerSecond: oursRate },
      row: {
        id: '3a',
        measurement: 'projector: runner.applyBatch vs raw batched upserts',
        n: `${a.events.toLocaleString('en-US')} events, batches of ${BATCH}`,
        result: `ours ${perSecond(oursRate, 'events')}; batch p50 ${ms(a.batch.p50)}, p99 ${ms(a.batch.p99)}`,
        comparison: `raw ${perSecond(rawRate, 'events')}, batch p50 ${ms(b.batch.p50)}; ours/raw throughput ${ratio(oursRate / rawRate)}`,
        note:
          `${EVENTS.toLocaleString('en-US')} synthetic events decided by the project's deciders (${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}) ` +
          `over ${PRODUCTS} products and ${CUSTOMERS} customers, in arrival order, applied sequentially like one projector partition: one transaction per batch of ${BATCH} ` +
          `(stream locks, version checks, every read_* table, event log, marketing, NOTIFY; ${statementsPerEvent.toFixed(2)} SQL statements per event, BEGIN/COMMIT included), after a ${WARM_UP_EVENTS.toLocaleString('en-US')}-event warm-up, in a database of its own; ours and raw alternate batch by batch. ` +
          `Raw = per batch one transaction with one multi-row INSERT … ON CONFLICT (id) DO UPDATE … WHERE version < EXCLUDED.version into a scratch table, one row per stream touched (its latest event): the floor for writing that batch.`,
      },
    };
  } finally {
    await pool.end();
  }
}

export async function benchRebuild(bench: Bench, projector: ProjectorFigures | undefined): Promise<Row> {
  const pool = await scratchDatabase(bench.config.databaseUrl, `bench_rebuild_${process.pid}`, 8);
  try {
    const t0 = now();
    const report = await rebuild({ pool, eventStore: bench.store });
    const totalMs = now() - t0;
    const { rows } = await pool.query<{ orders: string; inventories: string; carts: string }>(
      `SELECT (SELECT count(*) FROM read_orders) AS orders, (SELECT count(*) FROM read_inventory) AS inventories, (SELECT count(*) FROM read_carts) AS carts`,
    );
    const totalRate = rate(report.events, totalMs);
    return {
      id: '3b',
      measurement: 'rebuild: rebuild() over the whole event store',
      n: `${report.events.toLocaleString('en-US')} events, ${report.streams.toLocaleString('en-US')} streams`,
      result: `${perSecond(report.events_per_second, 'events')} (streamed scan + apply); ${perSecond(totalRate, 'events')} incl. switch`,
      comparison: `scan and apply ${ms(report.scan_ms)}, switch ${ms(report.switch_ms)}${projector ? `; apply vs projector (3a) ${ratio(report.events_per_second / projector.eventsPerSecond)}` : ''}`,
      note:
        `rebuild (blue/green, rebuild()'s defaults: 16 scan segments applying their pages as they come, batches of 2000, then indexes, catch-up and switch) of everything the event store held at the end of the run (items 1, 2, 4 and 5 plus their setup) into a fresh database; ` +
        `it rebuilt ${rows[0]?.orders ?? '?'} orders, ${rows[0]?.inventories ?? '?'} inventories and ${rows[0]?.carts ?? '?'} carts. The event store is read with strongly consistent parallel scans, at most 8 pages in memory.`,
    };
  } finally {
    await pool.end();
  }
}
