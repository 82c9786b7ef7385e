/**
 * §10 item 3: projector throughput (createProjectionRunner.applyBatch, batches of 1,000) against raw batched
 * PostgreSQL upserts of the same events, and the throughput of a full rebuild (rebuild()) of whatever the
 * event store holds when it runs. Each gets a database of its own, so nothing the live shop reads is touched
 * (a rebuild truncates every read_* table of the database it is given).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { cartDecider, cartStreamId, type CartState } from '../../src/contexts/carts/index.ts';
import type { ProductState } from '../../src/contexts/catalog/index.ts';
import { inventoryDecider, inventoryStreamId, type InventoryState } from '../../src/contexts/inventory/index.ts';
import { decideCheckout, orderDecider, type OrderState } from '../../src/contexts/orders/index.ts';
import { rebuild } from '../../src/composition/projections/rebuild.ts';
import { STREAM_PROJECTIONS } from '../../src/composition/projections/registry.ts';
import { redactedJson } from '../../src/platform/projections/event-log.ts';
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

/** What the projector wrote in one batch, taken from its statements' parameters: the rows the raw side writes too. */
interface Written {
  /** Row upserts of table projections (saveRows): table → rows as the engine sent them. */
  rows: Map<string, Array<Record<string, unknown>>>;
  /** Aggregating upserts (marketing.flush): table → delta rows. */
  deltas: Map<string, Array<Record<string, unknown>>>;
  /** processed_events claims: projection → event ids. */
  claims: Map<string, string[]>;
}

const emptyWritten = (): Written => ({ rows: new Map(), deltas: new Map(), claims: new Map() });

/** Notes the rows a statement of the engine writes (the statement shapes of table.ts, marketing.ts and engine.ts). */
function record(written: Written, sql: string, params: unknown): void {
  if (!Array.isArray(params)) return;
  const upsert = /^\s*INSERT INTO (\w+) \(.*jsonb_populate_recordset/s.exec(sql);
  if (upsert) {
    written.rows.set(upsert[1]!, [
      ...(written.rows.get(upsert[1]!) ?? []),
      ...(JSON.parse(params[0] as string) as Array<Record<string, unknown>>),
    ]);
    return;
  }
  const aggregate = /^\s*INSERT INTO (\w+) AS t .*jsonb_to_recordset/s.exec(sql);
  if (aggregate) {
    written.deltas.set(aggregate[1]!, JSON.parse(params[0] as string) as Array<Record<string, unknown>>);
    return;
  }
  if (/^\s*INSERT INTO processed_events/.test(sql)) written.claims.set(params[1] as string, params[0] as string[]);
}

/** The pool with every statement its clients run counted and the rows it writes noted (the runner checks out one client per batch). */
function countingPool(pool: pg.Pool, counter: { statements: number; written: Written }): pg.Pool {
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
              if (typeof args[0] === 'string') record(counter.written, args[0], args[1]);
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

const RAW = 'bench_raw';
/** Where the projector writes (besides the read_* tables): stream positions and the aggregating tables' claims. */
const BOOKKEEPING = ['projection_streams', 'processed_events'];

/** Column types of the raw copies: table → column → SQL type (generated columns left out: nobody writes them). */
type Columns = Map<string, Map<string, string>>;

/**
 * The raw side's tables: a copy of every table the projector writes (every read_* table, projection_streams,
 * processed_events) in schema bench_raw, with the same columns, constraints and indexes (LIKE … INCLUDING ALL).
 */
async function rawTables(pool: pg.Pool): Promise<{ tables: string[]; columns: Columns }> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname = ANY(current_schemas(false)) AND (c.relname LIKE 'read\\_%' OR c.relname = ANY($1::text[]))
      ORDER BY 1`,
    [BOOKKEEPING],
  );
  const tables = rows.map((r) => r.name);
  await pool.query(`CREATE SCHEMA ${RAW}`);
  for (const t of tables) await pool.query(`CREATE TABLE ${RAW}.${t} (LIKE ${t} INCLUDING ALL)`);
  const { rows: cols } = await pool.query<{ t: string; c: string; type: string }>(
    `SELECT c.relname AS t, a.attname AS c, format_type(a.atttypid, a.atttypmod) AS type
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''`,
    [RAW],
  );
  const columns: Columns = new Map();
  for (const { t, c, type } of cols) {
    if (!columns.has(t)) columns.set(t, new Map());
    columns.get(t)!.set(c, type);
  }
  return { tables, columns };
}

/** The aggregating tables' primary keys (marketing.ts). */
const AGGREGATE_KEYS: Record<string, string> = {
  read_customer_summary: 'user_id',
  read_product_popularity: 'product_id',
  read_daily_sales: 'day',
};

const IS_JSON = /^jsonb?$/;
const IS_NUMBER = /^(integer|bigint|smallint|numeric.*)$/;

/** `rows` as one array parameter per column, for unnest (json values as their text). */
function columnArrays(rows: ReadonlyArray<Record<string, unknown>>, cols: readonly string[], types: Map<string, string>): unknown[][] {
  return cols.map((c) => {
    const json = IS_JSON.test(types.get(c)!);
    return rows.map((r) => (json && r[c] != null ? JSON.stringify(r[c]) : (r[c] ?? null)));
  });
}

/**
 * One plain multi-row upsert: INSERT … SELECT FROM unnest(one typed array per column) ON CONFLICT (key) DO UPDATE.
 * `aggregate`: numbers add up, text keeps the newer non-null value, timestamps the later one (marketing's deltas);
 * otherwise every column is replaced, guarded by version where the table has one.
 */
async function rawUpsert(
  db: pg.PoolClient,
  columns: Columns,
  table: string,
  key: string,
  cols: readonly string[],
  rows: ReadonlyArray<Record<string, unknown>>,
  aggregate: boolean,
): Promise<void> {
  if (rows.length === 0) return;
  const types = columns.get(table)!;
  const unnest = cols.map((c, i) => `$${i + 1}::${types.get(c)!}[]`).join(', ');
  const set = cols
    .filter((c) => c !== key)
    .map((c) => {
      if (!aggregate) return `${c} = EXCLUDED.${c}`;
      const type = types.get(c)!;
      if (IS_NUMBER.test(type)) return `${c} = t.${c} + EXCLUDED.${c}`;
      if (type.startsWith('timestamp')) return `${c} = GREATEST(t.${c}, EXCLUDED.${c})`;
      return `${c} = COALESCE(EXCLUDED.${c}, t.${c})`;
    });
  const guard = !aggregate && cols.includes('version') ? 'WHERE t.version < EXCLUDED.version' : '';
  await db.query(
    `INSERT INTO ${RAW}.${table} AS t (${cols.join(', ')}) SELECT * FROM unnest(${unnest})
     ON CONFLICT (${key}) DO ${set.length > 0 ? `UPDATE SET ${set.join(', ')} ${guard}` : 'NOTHING'}`,
    columnArrays(rows, cols, types),
  );
}

/** COPY text format escapes (as event-log.ts). */
const copyText = (s: string): string => s.replace(/[\\\t\n\r]/g, (ch) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[ch]!);

/**
 * The raw side of one batch: the rows the projector wrote for it, written the plain way in one transaction —
 * one multi-row upsert per table (unnest arrays), the stream positions in one upsert, the claims in one insert,
 * the event log in one COPY. No locks read back, no load of the current rows, no fold: the floor for writing them.
 */
async function rawBatch(pool: pg.Pool, columns: Columns, batch: readonly EventEnvelope[], written: Written): Promise<void> {
  const positions = new Map<string, EventEnvelope>();
  for (const e of batch) if ((positions.get(e.aggregate_id)?.version ?? 0) < e.version) positions.set(e.aggregate_id, e);
  const streams = [...positions.values()]
    .sort((a, b) => (a.aggregate_id < b.aggregate_id ? -1 : 1))
    .map((e) => ({ aggregate_id: e.aggregate_id, aggregate_type: e.aggregate_type, version: e.version, updated_at: e.created_at }));
  let log = '';
  for (const e of batch)
    log += `${e.event_id}\t${copyText(e.aggregate_id)}\t${copyText(e.aggregate_type)}\t${copyText(e.event_type)}\t${e.version}\t${copyText(redactedJson(e.data))}\t${copyText(redactedJson(e.metadata ?? {}))}\t${e.created_at}\n`;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await rawUpsert(
      client,
      columns,
      'projection_streams',
      'aggregate_id',
      ['aggregate_id', 'aggregate_type', 'version', 'updated_at'],
      streams,
      false,
    );
    for (const [projection, ids] of written.claims) {
      await client.query(
        `INSERT INTO ${RAW}.processed_events (event_id, projection) SELECT id, $2 FROM unnest($1::uuid[]) AS id ON CONFLICT DO NOTHING`,
        [ids, projection],
      );
    }
    for (const [table, rows] of written.deltas)
      await rawUpsert(client, columns, table, AGGREGATE_KEYS[table]!, Object.keys(rows[0]!), rows, true);
    for (const [table, rows] of written.rows) {
      const p = STREAM_PROJECTIONS.find((x) => x.table === table)!;
      await rawUpsert(client, columns, table, p.key, p.columns, rows, false);
    }
    const stream = client.query(
      copyFrom(
        `COPY ${RAW}.read_event_log (event_id, aggregate_id, aggregate_type, event_type, version, data, metadata, created_at) FROM STDIN`,
      ),
    );
    await new Promise<void>((resolve, reject) => {
      stream.on('finish', resolve);
      stream.on('error', reject);
      stream.end(log);
    });
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * After both runs: every raw copy holds as many rows as the projector's table and the same contents (compared
 * as the sorted JSON of the rows, processed_at left out: it is the time of the insert).
 */
async function compareTables(pool: pg.Pool, tables: readonly string[]): Promise<{ rows: number; tables: number }> {
  let total = 0;
  for (const t of tables) {
    const digest = (from: string) =>
      `SELECT count(*)::int AS n, md5(coalesce(string_agg(j, ',' ORDER BY j), '')) AS h
         FROM (SELECT (to_jsonb(x) - 'processed_at')::text AS j FROM ${from} x) y`;
    const [{ rows: a }, { rows: b }] = [
      await pool.query<{ n: number; h: string }>(digest(t)),
      await pool.query<{ n: number; h: string }>(digest(`${RAW}.${t}`)),
    ];
    if (a[0]!.n !== b[0]!.n) throw new Error(`raw baseline wrote ${b[0]!.n} rows into ${t}, the projector ${a[0]!.n}`);
    if (a[0]!.h !== b[0]!.h) throw new Error(`raw baseline's ${t} differs from the projector's (${a[0]!.n} rows each)`);
    total += a[0]!.n;
  }
  return { rows: total, tables: tables.length };
}

/**
 * The raw baseline of the same rows: `watch` wraps the pool the runner writes through (its statements counted,
 * the rows of each batch noted), `apply` writes the rows of the batch the runner applied last into the copies,
 * `compare` checks both sides hold the same rows.
 */
export async function rawBaseline(pool: pg.Pool) {
  const raw = await rawTables(pool);
  const sql = { statements: 0, written: emptyWritten() };
  let written = emptyWritten();
  return {
    sql,
    watch: (p: pg.Pool) => countingPool(p, sql),
    /** Call around each runner batch: the rows noted since `begin` are what `apply` writes. */
    begin: () => void (sql.written = emptyWritten()),
    end: () => void (written = sql.written),
    apply: (batch: readonly EventEnvelope[]) => rawBatch(pool, raw.columns, batch, written),
    compare: () => compareTables(pool, raw.tables),
  };
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
    const raw = await rawBaseline(pool);
    const warm = syntheticEvents(WARM_UP_EVENTS, 'warm');
    const measured = syntheticEvents(EVENTS, 'proj');
    // No event store: every stream is contiguous, and a gap would then fail loudly instead of being repaired.
    const runner = createProjectionRunner({ pool: raw.watch(pool) });
    let applied = 0;
    const ours = async (batch: readonly EventEnvelope[]) => {
      raw.begin();
      applied += (await runner.applyBatch(batch)).applied;
      raw.end();
    };
    await alternate(warm, ours, raw.apply);
    applied = 0;
    raw.sql.statements = 0;
    const measuredRuns = await alternate(measured, ours, raw.apply);
    const same = await raw.compare();
    const a = { ...measuredRuns.ours, batch: summarise(measuredRuns.ours.batches) };
    const b = { ...measuredRuns.raw, batch: summarise(measuredRuns.raw.batches) };
    const statementsPerEvent = raw.sql.statements / Math.max(1, a.events);
    if (applied !== EVENTS) throw new Error(`the runner applied ${applied} of ${EVENTS} events`);
    const oursRate = rate(a.events, a.elapsedMs);
    const rawRate = rate(b.events, b.elapsedMs);
    const types = new Map<string, number>();
    for (const e of measured) types.set(e.event_type, (types.get(e.event_type) ?? 0) + 1);
    return {
      figures: { eventsPerSecond: oursRate },
      row: {
        id: '3a',
        measurement: 'projector: runner.applyBatch vs raw batched upserts of the same rows',
        n: `${a.events.toLocaleString('en-US')} events, batches of ${BATCH}`,
        result: `ours ${perSecond(oursRate, 'events')}; batch p50 ${ms(a.batch.p50)}, p99 ${ms(a.batch.p99)}`,
        comparison: `raw ${perSecond(rawRate, 'events')}, batch p50 ${ms(b.batch.p50)}; ours/raw throughput ${ratio(oursRate / rawRate)}`,
        note:
          `${EVENTS.toLocaleString('en-US')} synthetic events decided by the project's deciders (${[...types].map(([t, n]) => `${n} ${t}`).join(', ')}) ` +
          `over ${PRODUCTS} products and ${CUSTOMERS} customers, in arrival order, applied sequentially like one projector partition: one transaction per batch of ${BATCH} ` +
          `(stream locks, version checks, every read_* table, event log, marketing, NOTIFY; ${statementsPerEvent.toFixed(2)} SQL statements per event, BEGIN/COMMIT included), after a ${WARM_UP_EVENTS.toLocaleString('en-US')}-event warm-up, in a database of its own; ours and raw alternate batch by batch. ` +
          `Raw = the same rows into copies of the same ${same.tables} tables (LIKE … INCLUDING ALL: same columns, constraints, indexes), per batch one transaction: one multi-row INSERT … SELECT FROM unnest(typed arrays) … ON CONFLICT DO UPDATE per table, stream positions in one upsert, processed ids in one insert, the event log in one COPY; ` +
          `no lock read-back, no row load, no fold: the floor for writing that batch. Checked after the run: all ${same.tables} table pairs hold the same ${same.rows.toLocaleString('en-US')} rows (count and contents).`,
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
