/**
 * Numbered migrations (node-pg-migrate): on an empty database, on one made by the old init.sql (no migration
 * history, with data), run twice, and run by several processes at once.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { after, test } from 'node:test';
import pg from 'pg';
import { migrate, READ_SCHEMA } from '../../src/platform/readmodel/schema.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { databaseUrl } from './projections-fixtures.ts';
import { uniq } from '../support/env.ts';

const databases: TestDatabase[] = [];
/** Every migration in the repository, in order (001_baseline, 002_read_model_schema, …). */
const ALL = (await readdir(new URL('../../migrations/', import.meta.url)))
  .filter((f) => f.endsWith('.sql'))
  .sort()
  .map((f) => f.replace(/\.sql$/, ''));
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

/** An empty database (no schema applied). */
async function emptyDatabase(): Promise<TestDatabase> {
  const name = uniq('mig').replace(/-/g, '_');
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`).finally(() => admin.end());
  const url = new URL(databaseUrl());
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  const db: TestDatabase = {
    pool,
    name,
    async drop() {
      await db.pool.end();
      const c = new pg.Client({ connectionString: databaseUrl() });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name}`).finally(() => c.end());
    },
  };
  databases.push(db);
  return db;
}

const tablesIn = async (pool: pg.Pool, schema: string) =>
  (await pool.query<{ tablename: string }>('SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1', [schema])).rows.map(
    (r) => r.tablename,
  );
const history = async (pool: pg.Pool) =>
  (await pool.query<{ name: string }>('SELECT name FROM public.schema_migrations ORDER BY id')).rows.map((r) => r.name);

test('on an empty database every migration applies once and is recorded; a second run does nothing', async () => {
  const db = await emptyDatabase();
  const lines: string[] = [];
  const first = await migrate(db.pool, { log: (l) => lines.push(l) });
  assert.equal(first.baseline, false);
  assert.deepEqual(first.applied, ALL);
  assert.deepEqual(ALL.slice(0, 2), ['001_baseline', '002_read_model_schema']);
  assert.deepEqual(await history(db.pool), first.applied);
  const read = await tablesIn(db.pool, READ_SCHEMA);
  for (const t of ['read_orders', 'read_products', 'read_event_log', 'projection_streams', 'processed_events'])
    assert.ok(read.includes(t), `${t} in ${READ_SCHEMA}`);
  const pub = await tablesIn(db.pool, 'public');
  for (const t of ['sent_emails', 'saga_log', 'sagas', 'order_deadlines', 'shipment_timers', 'ops_rebuilds', 'schema_migrations'])
    assert.ok(pub.includes(t), `${t} in public`);
  assert.ok(!pub.some((t) => t.startsWith('read_')), `no read table left in public: ${pub.join(', ')}`);
  // A new session (any client, not only the shop's pools) resolves the read tables unqualified.
  const c = new pg.Client({ connectionString: (db.pool.options as pg.PoolConfig).connectionString });
  await c.connect();
  try {
    assert.equal((await c.query('SELECT count(*)::int AS n FROM read_orders')).rows[0].n, 0);
  } finally {
    await c.end();
  }
  assert.deepEqual((await migrate(db.pool)).applied, []);
  assert.deepEqual(await history(db.pool), ALL);
});

test('a database created by the old init.sql (no migration history) is adopted: no error, no data lost', async () => {
  const db = await emptyDatabase();
  const c = await db.pool.connect();
  try {
    await c.query(await readFile(new URL('../fixtures/init-before-migrations.sql', import.meta.url), 'utf8'));
    await c.query(`INSERT INTO read_orders (order_id, user_id, user_email, items, total, status, placed_at, updated_at, version)
                   VALUES ('o-1', 'u-1', 'u@example.com', '[]', 1200, 'paid', now(), now(), 2)`);
    await c.query(`INSERT INTO projection_streams (aggregate_id, aggregate_type, version) VALUES ('o-1', 'Order', 2)`);
    await c.query(
      `INSERT INTO sent_emails (event_id, kind, recipient, subject, message_id) VALUES (gen_random_uuid(), 'placed', 'u@example.com', 's', 'm')`,
    );
    // An even older database: the saga upgrade columns missing (the old init.sql added them only where absent).
    await c.query('ALTER TABLE read_orders DROP COLUMN refunded_at');
  } finally {
    c.release();
  }
  const lines: string[] = [];
  const result = await migrate(db.pool, { log: (l) => lines.push(l) });
  assert.equal(result.baseline, true);
  assert.ok(
    lines.some((l) => /adopting/.test(l)),
    lines.join('\n'),
  );
  assert.deepEqual(await history(db.pool), ALL);
  await db.pool.end();
  db.pool = new pg.Pool({ connectionString: (db.pool.options as pg.PoolConfig).connectionString, max: 2 }); // new sessions: new search_path
  const order = (await db.pool.query(`SELECT order_id, total::int AS total, status, refunded_at FROM ${READ_SCHEMA}.read_orders`)).rows;
  assert.deepEqual(order, [{ order_id: 'o-1', total: 1200, status: 'paid', refunded_at: null }]);
  assert.equal((await db.pool.query('SELECT version FROM projection_streams')).rows[0].version, 2);
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM public.sent_emails')).rows[0].n, 1);
  // The later migrations went on from the adopted schema (003: money in bigint, parking tables).
  const type = await db.pool.query(
    `SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'read_orders' AND column_name = 'total'`,
    [READ_SCHEMA],
  );
  assert.equal(type.rows[0].data_type, 'bigint');
  assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM public.parked_streams')).rows[0].n, 0);
});

test('processes starting together: one migrates, the others wait for it and find nothing to do', async () => {
  const db = await emptyDatabase();
  const results = await Promise.all([1, 2, 3, 4].map(() => migrate(db.pool)));
  assert.deepEqual(results.flatMap((r) => r.applied).sort(), ALL);
  assert.deepEqual(await history(db.pool), ALL);
});
