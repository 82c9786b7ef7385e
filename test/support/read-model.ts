/**
 * "The live read model equals a fresh rebuild from the event store", for the reliability and fault tests: the
 * streams a test touched, their versions in the store, waiting for the projectors to reach them, and a
 * row-by-row comparison with a rebuild into a database of its own on the same server.
 *
 * Two scopes: the ids a test created (the stack's read model is shared with other test files), or everything
 * (a test with event store tables and a database of its own).
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import pg from 'pg';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import { rebuild, type RebuildReport } from '../../src/composition/projections/rebuild.ts';
import type { Queryable } from '../../src/platform/readmodel/db.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import { uniq } from './env.ts';
import { eventually } from './http.ts';

export interface Scope {
  users: string[];
  products: string[];
  orders: string[];
}

/** Where the comparison runs: the live read model, the server to rebuild on, the source of truth. */
export interface ReadModelTarget {
  live: pg.Pool;
  /** A database URL on the server of the live read model; the rebuild gets a database of its own beside it. */
  databaseUrl: string;
  store: Pick<EventStore, 'scanAll' | 'readStream'>;
}

export const scopeOf = (
  w: { customers: Array<{ user_id: string }>; products: string[]; orders: Iterable<string> },
  extraOrders: Iterable<string> = [],
): Scope => ({
  users: w.customers.map((c) => c.user_id),
  products: w.products,
  orders: [...new Set([...w.orders, ...extraOrders])],
});

export const streamsOf = (s: Scope): string[] => [
  ...s.users,
  ...s.users.map((u) => `cart-${u}`),
  ...s.products,
  ...s.products.map((p) => `inventory-${p}`),
  ...s.orders,
];

/** Each stream's version in the event store (the source of truth). */
export async function storeVersions(store: Pick<EventStore, 'readStream'>, streams: string[]): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  for (let i = 0; i < streams.length; i += 16) {
    await Promise.all(
      streams.slice(i, i + 16).map(async (id) => {
        const stream = await store.readStream(id);
        versions.set(id, stream.at(-1)?.version ?? 0);
      }),
    );
  }
  return versions;
}

/** Every stream of the store and its version (for a store of the test's own). */
export async function allStoreVersions(store: Pick<EventStore, 'scanAll'>): Promise<Map<string, number>> {
  const versions = new Map<string, number>();
  await store.scanAll(async (page) => {
    for (const e of page) versions.set(e.aggregate_id, Math.max(versions.get(e.aggregate_id) ?? 0, e.version));
  });
  return versions;
}

/** Streams whose live projector position differs from their event store version (read model/store). */
export async function behind(live: Queryable, versions: Map<string, number>): Promise<string[]> {
  const { rows } = await live.query<{ aggregate_id: string; version: number }>(
    'SELECT aggregate_id, version FROM projection_streams WHERE aggregate_id = ANY($1)',
    [[...versions.keys()]],
  );
  const seen = new Map(rows.map((r) => [r.aggregate_id, r.version]));
  return [...versions].filter(([id, v]) => seen.get(id) !== v).map(([id, v]) => `${id}: ${seen.get(id) ?? 'none'}/${v}`);
}

/** Waits until the live projector position of every stream equals its event store version. */
export async function caughtUp(live: Queryable, versions: Map<string, number>, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let lagging: string[] = [];
  try {
    await eventually(
      async () => {
        lagging = await behind(live, versions);
        return lagging.length === 0;
      },
      { what: 'the read model to catch up', timeoutMs, intervalMs: 200 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; behind (read model/store): ${lagging.slice(0, 20).join(', ')}`);
  }
  return Date.now() - started;
}

/**
 * The rows compared with a rebuild, per table: which ids select them and which column names a row. Every
 * column is compared — init.sql derives every one of them from the events alone (timestamps from event data or
 * created_at, never now()), so nothing legitimately differs and nothing is ignored. Left out in a shared read
 * model: read_daily_sales (one row per day for the whole shop, which other test files change too),
 * read_categories and read_shipments (streams the workload does not write). A read model of the test's own is
 * compared whole (snapshotAll).
 */
const COMPARED: Array<{ table: string; by: string; key: string; ids: (s: Scope) => string[] }> = [
  { table: 'read_orders', by: 'order_id', key: 'order_id', ids: (s) => s.orders },
  { table: 'read_carts', by: 'user_id', key: 'user_id', ids: (s) => s.users },
  { table: 'read_inventory', by: 'product_id', key: 'product_id', ids: (s) => s.products },
  { table: 'read_products', by: 'product_id', key: 'product_id', ids: (s) => s.products },
  { table: 'read_users', by: 'user_id', key: 'user_id', ids: (s) => s.users },
  // The aggregating tables count deltas: a redelivered event applied twice would show here first.
  { table: 'read_customer_summary', by: 'user_id', key: 'user_id', ids: (s) => s.users },
  { table: 'read_product_popularity', by: 'product_id', key: 'product_id', ids: (s) => s.products },
  { table: 'read_event_log', by: 'aggregate_id', key: 'event_id', ids: streamsOf },
  { table: 'projection_streams', by: 'aggregate_id', key: 'aggregate_id', ids: streamsOf },
];

export type Snapshot = Map<string, Record<string, unknown>>;

export async function snapshot(db: Queryable, scope: Scope): Promise<Snapshot> {
  const rows: Snapshot = new Map();
  for (const { table, by, key, ids } of COMPARED) {
    const res = await db.query<{ key: string; row: Record<string, unknown> }>(
      `SELECT ${key}::text AS key, to_jsonb(t) AS row FROM ${table} t WHERE ${by} = ANY($1)`,
      [ids(scope)],
    );
    for (const r of res.rows) rows.set(`${table} ${r.key}`, r.row);
  }
  return rows;
}

/** Every row of every read_* table and of projection_streams, keyed by table and primary key. */
export async function snapshotAll(db: Queryable): Promise<Snapshot> {
  const { rows: tables } = await db.query<{ table: string; keys: string[] }>(
    `SELECT c.relname AS table, array_agg(a.attname::text ORDER BY a.attnum) AS keys
       FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
      WHERE i.indisprimary AND n.nspname = current_schema() AND (c.relname LIKE 'read\\_%' OR c.relname = 'projection_streams')
      GROUP BY c.relname ORDER BY c.relname`,
  );
  assert.ok(tables.length >= 10, `the read model has its tables: ${tables.map((t) => t.table).join(', ')}`);
  const out: Snapshot = new Map();
  for (const { table, keys } of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(table) || keys.some((k) => !/^[a-z_][a-z0-9_]*$/.test(k)))
      throw new Error(`unexpected name in ${table}(${keys.join(', ')})`);
    const res = await db.query<{ key: string; row: Record<string, unknown> }>(
      `SELECT concat_ws('|', ${keys.map((k) => `${k}::text`).join(', ')}) AS key, to_jsonb(t) AS row FROM ${table} t`,
    );
    for (const r of res.rows) out.set(`${table} ${r.key}`, r.row);
  }
  return out;
}

/** Every difference: a row only on one side, or a column whose values differ. */
export function diff(liveRows: Snapshot, rebuilt: Snapshot): string[] {
  const out: string[] = [];
  for (const [where, row] of liveRows) {
    const other = rebuilt.get(where);
    if (!other) {
      out.push(`${where}: only in the live read model`);
      continue;
    }
    for (const column of new Set([...Object.keys(row), ...Object.keys(other)])) {
      const [x, y] = [JSON.stringify(row[column]), JSON.stringify(other[column])];
      if (x !== y) out.push(`${where} ${column}: live ${x?.slice(0, 200)} ≠ rebuilt ${y?.slice(0, 200)}`);
    }
  }
  for (const where of rebuilt.keys()) if (!liveRows.has(where)) out.push(`${where}: missing from the live read model`);
  return out;
}

/** A database of its own on the same server, the schema applied, rebuilt from the whole event store. */
export async function withRebuild<T>(target: ReadModelTarget, use: (pool: pg.Pool, report: RebuildReport) => Promise<T>): Promise<T> {
  const name = uniq('rebuild').replace(/-/g, '_');
  const adminDb = new pg.Client({ connectionString: target.databaseUrl });
  await adminDb.connect();
  await adminDb.query(`CREATE DATABASE ${name}`).finally(() => adminDb.end());
  const url = new URL(target.databaseUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 6 });
  pool.on('error', () => {});
  try {
    await applySchema(pool);
    return await use(pool, await rebuild({ pool, eventStore: target.store }));
  } finally {
    await pool.end();
    const c = new pg.Client({ connectionString: target.databaseUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => c.end());
  }
}

/**
 * The read model of `scope` (or all of it) equals a fresh rebuild. Self-check first, so a green result means
 * something: the same comparison, run on the live rows corrupted inside a transaction that is rolled back, must
 * report exactly the corruption (one changed column, one missing row).
 */
export async function assertEqualsRebuild(t: TestContext, target: ReadModelTarget, scope: Scope | 'all'): Promise<void> {
  const { live } = target;
  const take = (db: Queryable) => (scope === 'all' ? snapshotAll(db) : snapshot(db, scope));
  const liveRows = await take(live);
  if (scope !== 'all') {
    for (const { table, ids } of COMPARED.filter((c) =>
      ['read_orders', 'read_carts', 'read_inventory', 'read_products'].includes(c.table),
    )) {
      const n = [...liveRows.keys()].filter((k) => k.startsWith(`${table} `)).length;
      assert.equal(n, ids(scope).length, `every id of the test has a ${table} row`);
    }
  }
  const someKey = (table: string) => [...liveRows.keys()].find((k) => k.startsWith(`${table} `))?.slice(table.length + 1);
  const order = scope === 'all' ? someKey('read_orders') : scope.orders[0];
  const user = scope === 'all' ? someKey('read_carts') : scope.users[0];
  assert.ok(order && user, 'the read model has an order and a cart to corrupt for the self-check');
  await withRebuild(target, async (pool, report) => {
    const rebuilt = await take(pool);
    const client = await live.connect();
    try {
      await client.query('BEGIN');
      await client.query('UPDATE read_orders SET total = total + 1 WHERE order_id = $1', [order]);
      await client.query('DELETE FROM read_carts WHERE user_id = $1', [user]);
      assert.deepEqual(
        diff(await take(client), rebuilt).map((d) => d.replace(/:.*/, '')),
        [`read_orders ${order} total`, `read_carts ${user}`],
        'the comparison catches a corrupted row',
      );
    } finally {
      await client.query('ROLLBACK').catch(() => {});
      client.release();
    }
    t.diagnostic(`rebuild: ${report.events} events in ${report.streams} streams, ${report.total_ms} ms; compared ${liveRows.size} rows`);
    assert.deepEqual(diff(liveRows, rebuilt), [], 'the live read model equals a fresh rebuild');
  });
}
