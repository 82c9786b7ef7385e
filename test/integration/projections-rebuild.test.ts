/**
 * The blue/green rebuild (src/composition/projections/rebuild.ts), each test in a database of its own: it reproduces the live
 * read model exactly; under live traffic it ends equal to a rebuild without traffic, and the shop reads whole
 * tables throughout; one family alone; a rebuild failing on an event or killed halfway leaves the live tables
 * untouched and can start again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type pg from 'pg';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import { generateShop } from '../../src/devstack/seed.ts';
import { rebuild, RebuildBusyError } from '../../src/composition/projections/rebuild.ts';
import { listRebuilds } from '../../src/composition/ops-queries.ts';
import { createReadQueries } from '../../src/composition/queries.ts';
import { createParkingProjector } from '../../src/composition/projections/parking.ts';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import { isTransientError } from '../../src/platform/messaging/retry.ts';
import { shuffle } from '../support/projection.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, fakeEventStore, randomBatches, shopScenario, snapshot } from './projections-fixtures.ts';
import { uniq } from '../support/env.ts';

const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

async function liveShop(scenarios = 3): Promise<{ db: TestDatabase; events: EventEnvelope[]; store: ReturnType<typeof fakeEventStore> }> {
  const db = await createTestDatabase();
  databases.push(db);
  const events = Array.from({ length: scenarios }, () => shopScenario().events).flat();
  const store = fakeEventStore(events);
  // Live: shuffled, duplicated, gapped delivery.
  const live = createProjectionRunner({ pool: db.pool, eventStore: store });
  for (const batch of randomBatches(shuffle([...events, ...events.slice(0, 30)], 11), 4)) await live.applyBatch(batch);
  return { db, events, store };
}

const leftoverSchemas = async (pool: pg.Pool) =>
  (
    await pool.query<{ nspname: string }>(
      `SELECT nspname FROM pg_namespace WHERE nspname LIKE 'read\\_rebuild\\_%' OR nspname LIKE 'read\\_old\\_%'`,
    )
  ).rows.map((r) => r.nspname);
const opsRows = async (pool: pg.Pool) =>
  (
    await pool.query<{ rebuild_id: string; projection: string; status: string; events_done: string; error: string | null }>(
      'SELECT * FROM public.ops_rebuilds ORDER BY started_at, rebuild_id',
    )
  ).rows;

test('a rebuild reproduces the live read model exactly and leaves side-effect records alone', async () => {
  const { db, events, store } = await liveShop();
  const before = await snapshot(db.pool);
  await db.pool.query(
    `INSERT INTO sent_emails (event_id, kind, order_id, recipient, subject, message_id) VALUES (gen_random_uuid(), 'placed', 'o', 'a@example.com', 's', 'm')`,
  );
  await db.pool.query(`INSERT INTO saga_log (saga_id, saga_type, step, status) VALUES ('s1', 'shipping', 'initiated', 'done')`);
  await db.pool.query(`INSERT INTO order_deadlines (order_id, expires_at) VALUES ('o', now())`);
  // Damage the read model the way a bug would.
  await db.pool.query(`UPDATE read_orders SET status = 'lost'`);
  await db.pool.query(`UPDATE read_daily_sales SET revenue = revenue * 2`);

  const lines: string[] = [];
  const report = await rebuild({
    pool: db.pool,
    eventStore: store,
    batchSize: 25,
    segments: 3,
    log: (l) => lines.push(l),
    estimateTotal: async () => events.length,
  });

  assert.deepEqual(await snapshot(db.pool), before);
  assert.equal(report.events, events.length);
  assert.equal(report.streams, new Set(events.map((e) => e.aggregate_id)).size);
  assert.ok(report.batches >= Math.ceil(events.length / 25));
  assert.ok(report.events_per_second > 0);
  assert.ok(
    report.replaced.includes('read_orders') &&
      report.replaced.includes('processed_events') &&
      report.replaced.includes('projection_streams'),
  );
  assert.ok(!report.replaced.includes('sent_emails') && !report.replaced.includes('saga_log'));
  assert.equal((await db.pool.query('SELECT 1 FROM sent_emails')).rowCount, 1);
  assert.equal((await db.pool.query('SELECT 1 FROM saga_log')).rowCount, 1);
  assert.equal((await db.pool.query('SELECT 1 FROM order_deadlines')).rowCount, 1);
  assert.ok(
    lines.some((l) => /events\/s/.test(l)),
    lines.join('\n'),
  );
  // The switched tables keep their indexes under the live names (a later migration may name them).
  const { rows: idx } = await db.pool.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE schemaname = 'read_model' AND tablename = 'read_products' ORDER BY 1`,
  );
  assert.deepEqual(
    idx.map((r) => r.indexname),
    ['read_products_category', 'read_products_listing', 'read_products_pkey', 'read_products_search', 'read_products_search_trgm'],
  );
  assert.deepEqual(await leftoverSchemas(db.pool), []);
  const { items } = await listRebuilds(db.pool);
  assert.equal(items.length, 1);
  assert.equal(items[0]!.status, 'switched');
  assert.equal(items[0]!.events_done, events.length);
  assert.equal(items[0]!.events_total, events.length);
  assert.equal(items[0]!.percent, 100);
  assert.equal(items[0]!.eta_seconds, null);
  assert.ok(items[0]!.finished_at);
  console.log(
    `rebuild: ${report.events} events, ${report.streams} streams, ${report.batches} batches, ${report.events_per_second} events/s`,
  );
});

/** A store that grows while the rebuild runs; the scan sees it as it was when the scan started. */
function growingStore(initial: EventEnvelope[]): Pick<EventStore, 'readStream' | 'scanAll'> & { append(events: EventEnvelope[]): void } {
  const all = [...initial];
  const base = fakeEventStore(all);
  return {
    append: (events) => void all.push(...events),
    readStream: base.readStream,
    async scanAll(onPage) {
      const seen = shuffle([...all], 5);
      for (let i = 0; i < seen.length; i += 9) await onPage(seen.slice(i, i + 9));
    },
  };
}

test('under live traffic a rebuild ends equal to a rebuild without traffic; the shop reads whole tables throughout', async () => {
  const { db, events } = await liveShop();
  const store = growingStore(events);
  const live = createProjectionRunner({ pool: db.pool, eventStore: store });
  const ordersBefore = Number((await db.pool.query('SELECT count(*) AS n FROM read_orders')).rows[0].n);

  // Traffic: new streams, and new versions of streams the scan has already read (so they need catching up).
  const traffic: EventEnvelope[] = [...shopScenario().events, ...shopScenario().events];
  const lastOf = new Map<string, EventEnvelope>();
  for (const e of events) if ((lastOf.get(e.aggregate_id)?.version ?? 0) < e.version) lastOf.set(e.aggregate_id, e);
  for (const e of [...lastOf.values()].filter((e) => e.aggregate_type === 'Product' && e.event_type !== 'ProductDeleted').slice(0, 3)) {
    const at = new Date(Date.parse(e.created_at) + 3_600_000).toISOString();
    const data = {
      product_id: e.aggregate_id,
      name: `改名 ${e.version}`,
      description: 'updated during the rebuild',
      price: 999,
      updated_at: at,
    };
    traffic.push({ ...e, event_id: crypto.randomUUID(), version: e.version + 1, event_type: 'ProductUpdated', data, created_at: at });
  }
  let stop = false;
  let applied = 0;
  const reads: number[] = [];
  const liveLoop = (async () => {
    while (!stop || applied < traffic.length) {
      if (applied < traffic.length) {
        const batch = traffic.slice(applied, applied + 5);
        store.append(batch);
        await live.applyBatch(batch);
        applied += batch.length;
      }
      reads.push(Number((await db.pool.query('SELECT count(*) AS n FROM read_orders')).rows[0].n));
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  // Readers of the shop's queries (joins over several tables) never fail, before, during or at the switch.
  const q = createReadQueries({ pool: db.pool });
  const readerErrors: string[] = [];
  let queries = 0;
  const readers = [0, 1, 2].map(async (k) => {
    for (let i = k; !stop; i++) {
      try {
        await [() => q.listOrders({ limit: 20 }), () => q.listProducts({ limit: 20 }), () => q.orderStatistics()][i % 3]!();
        queries++;
      } catch (err) {
        readerErrors.push((err as Error).message);
      }
    }
  });
  const seen: Array<{ status: string; done: number; rate: number | null; eta: number | null }> = [];
  const report = await rebuild({
    pool: db.pool,
    eventStore: store,
    batchSize: 10,
    segments: 2,
    estimateTotal: async () => events.length,
    progressEveryMs: 20,
    // Pace the scan so the traffic overlaps it, and watch the progress GET /ops/rebuilds shows.
    onBatch: async () => {
      const [current] = (await listRebuilds(db.pool)).items;
      if (current)
        seen.push({ status: current.status, done: current.events_done, rate: current.events_per_second, eta: current.eta_seconds });
      await new Promise((r) => setTimeout(r, 5));
    },
  });
  const moving = seen.filter((s) => s.status === 'running' && s.done > 0);
  assert.ok(
    moving.length > 0 && moving.every((s) => s.rate !== null && s.rate > 0 && s.eta !== null),
    `progress while running: ${JSON.stringify(seen)}`,
  );
  assert.ok(moving.at(-1)!.done > moving[0]!.done, 'events done grows');
  stop = true;
  await Promise.all([liveLoop, ...readers]);
  assert.deepEqual(readerErrors, [], `${queries} queries`);
  assert.ok(queries > 10);
  assert.ok(report.caught_up > 0, `the traffic overlapped the scan and needed catching up (${JSON.stringify(report)})`);
  const underTraffic = await snapshot(db.pool);

  // The shop never saw a half-built table: orders only ever grew.
  assert.ok(reads.length > 5);
  assert.ok(
    reads.every((n, i) => n >= ordersBefore && (i === 0 || n >= reads[i - 1]!)),
    `read_orders counts seen during the rebuild: ${reads.join(',')}`,
  );

  // The same store rebuilt with no traffic.
  await rebuild({ pool: db.pool, eventStore: store, batchSize: 10, segments: 2 });
  assert.deepEqual(await snapshot(db.pool), underTraffic);
  const names = (await db.pool.query<{ name: string }>(`SELECT name FROM read_products WHERE description = 'updated during the rebuild'`))
    .rows;
  assert.equal(names.length, 3, 'the tails applied while live was ahead of the scan are in the rebuilt tables');
});

test('one projection family alone: only its tables are replaced, the rest stay as they were', async () => {
  const { db, store } = await liveShop(2);
  const before = await snapshot(db.pool);
  await db.pool.query(`UPDATE read_orders SET status = 'lost'`);
  await db.pool.query(`UPDATE read_products SET name = 'damaged'`);
  const damaged = await snapshot(db.pool);
  const report = await rebuild({ pool: db.pool, eventStore: store, projection: 'orders', batchSize: 20 });
  assert.deepEqual(report.replaced, ['read_orders']);
  const after = await snapshot(db.pool);
  assert.deepEqual(after.read_orders, before.read_orders, 'orders rebuilt');
  assert.deepEqual(
    { ...after, read_orders: [] },
    { ...damaged, read_orders: [] },
    'every other table untouched (read_products still damaged)',
  );
  assert.equal((await opsRows(db.pool))[0]?.projection, 'orders');
  await assert.rejects(rebuild({ pool: db.pool, eventStore: store, projection: 'order' }), /unknown projection "order"/);
});

test('a rebuild failing on an event leaves the live tables untouched, and runs again once the event is fixed', async () => {
  const { db, events } = await liveShop(2);
  const before = await snapshot(db.pool);
  // An event the projection cannot apply (its data lacks what OrderPlaced needs): the live projector
  // dead-lettered it; the rebuild meets it in the store.
  const poison: EventEnvelope = {
    ...events.find((e) => e.event_type === 'OrderPlaced')!,
    event_id: crypto.randomUUID(),
    aggregate_id: 'order-poison',
    version: 1,
    data: { order_id: 'order-poison' },
  };
  const broken = fakeEventStore([...events, poison]);
  const lines: string[] = [];
  await assert.rejects(rebuild({ pool: db.pool, eventStore: broken, batchSize: 20, log: (l) => lines.push(l) }));
  assert.deepEqual(await snapshot(db.pool), before, 'live tables untouched');
  assert.deepEqual(await leftoverSchemas(db.pool), [], 'the half-built schema is dropped');
  const [failed] = await opsRows(db.pool);
  assert.equal(failed?.status, 'failed');
  assert.ok(failed?.error, 'the failure says why');
  assert.ok(
    lines.some((l) => /failed, live tables untouched/.test(l)),
    lines.join('\n'),
  );

  const report = await rebuild({ pool: db.pool, eventStore: fakeEventStore(events), batchSize: 20 });
  assert.equal(report.events, events.length);
  assert.deepEqual(await snapshot(db.pool), before);
});

test('a stream the live projector parked does not fail the rebuild: applied up to its failing event and kept parked; after a fix a rebuild unparks it', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const { events: good, ids } = shopScenario();
  const orderId = ids.orders.delivered;
  const paid = good.find((e) => e.aggregate_id === orderId && e.event_type === 'OrderPaid')!;
  // A payment this release cannot decode (its data lacks paid_at): the live projector parks the order's stream.
  const broken = good.map((e) => (e === paid ? { ...e, data: { order_id: orderId } } : e));
  const brokenStore = fakeEventStore(broken);
  const live = createParkingProjector({ pool: db.pool, eventStore: brokenStore, isTransient: isTransientError });
  for (const e of broken) await live.applyBatch([e]);
  const [parkedRow] = await live.list();
  assert.equal(parkedRow?.aggregate_id, orderId);
  assert.equal(parkedRow?.version, paid.version);
  const held = parkedRow!.held_events;
  assert.ok(held >= 2, 'the payment and what came after it are held back');
  const before = await snapshot(db.pool);

  // The rebuild meets the same event: it applies the stream up to it, goes on with the rest, keeps the parking.
  const lines: string[] = [];
  const report = await rebuild({ pool: db.pool, eventStore: brokenStore, batchSize: 20, segments: 2, log: (l) => lines.push(l) });
  assert.deepEqual([report.parked, report.unparked], [[orderId], []]);
  assert.equal(report.events, broken.length);
  assert.deepEqual(await snapshot(db.pool), before, 'the same read model as the live projector built around the parked stream');
  const order = (
    await db.pool.query<{ status: string; version: number }>('SELECT status, version FROM read_orders WHERE order_id = $1', [orderId])
  ).rows[0];
  assert.deepEqual(order, { status: 'pending', version: paid.version - 1 });
  const [stillParked, ...others] = await live.list();
  assert.deepEqual(others, []);
  assert.equal(stillParked?.aggregate_id, orderId);
  assert.equal(stillParked?.version, paid.version);
  assert.equal(stillParked?.event_type, 'OrderPaid');
  assert.match(stillParked!.error, /paid_at/);
  assert.equal(stillParked?.held_events, held, 'nothing held back is lost');
  assert.ok(
    lines.some((l) => l.includes(`still parked (failing here too): ${orderId}`)),
    lines.join('\n'),
  );

  // After the fix (here: the event as it should have been, as an upcaster would give it) a rebuild applies the
  // stream whole and unparks it; the read model equals one projected from the fixed events.
  const fixed = await rebuild({ pool: db.pool, eventStore: fakeEventStore(good), batchSize: 20, segments: 2 });
  assert.deepEqual([fixed.parked, fixed.unparked], [[], [orderId]]);
  assert.deepEqual(await live.list(), []);
  assert.equal((await db.pool.query('SELECT 1 FROM parked_events WHERE aggregate_id = $1', [orderId])).rowCount, 0);
  const reference = await createTestDatabase();
  databases.push(reference);
  const runner = createProjectionRunner({ pool: reference.pool, eventStore: fakeEventStore(good) });
  for (const batch of randomBatches(good, 5)) await runner.applyBatch(batch);
  assert.deepEqual(await snapshot(db.pool), await snapshot(reference.pool));
  assert.equal(
    (await db.pool.query<{ status: string }>('SELECT status FROM read_orders WHERE order_id = $1', [orderId])).rows[0]?.status,
    'delivered',
  );
});

test('a rebuild killed halfway leaves the live tables untouched; the next one cleans up after it and succeeds', async () => {
  const { db, events, store } = await liveShop(2);
  const before = await snapshot(db.pool);
  const dir = await mkdtemp(path.join(tmpdir(), 'rebuild-kill-'));
  try {
    const file = path.join(dir, 'events.json');
    await writeFile(file, JSON.stringify(events));
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${db.name}`;
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/rebuild-child.ts'], {
      env: { ...process.env, DATABASE_URL: url.toString(), EVENTS_FILE: file },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => void (String(chunk).includes('scanning') && resolve()));
      child.once('exit', (code) => reject(new Error(`the rebuild child exited (${code}) before it was killed`)));
    });
    // While it runs, a second rebuild is refused rather than racing it.
    await assert.rejects(rebuild({ pool: db.pool, eventStore: store }), RebuildBusyError);
    child.kill('SIGKILL');
    await exited;

    assert.deepEqual(await snapshot(db.pool), before, 'live tables untouched');
    const leftovers = await leftoverSchemas(db.pool);
    assert.equal(leftovers.length, 1, 'the killed rebuild left its half-built schema');
    assert.equal((await opsRows(db.pool))[0]?.status, 'running');

    const lines: string[] = [];
    const report = await rebuild({ pool: db.pool, eventStore: store, log: (l) => lines.push(l) });
    assert.ok(
      lines.some((l) => l.includes(`schema ${leftovers[0]} dropped`)),
      lines.join('\n'),
    );
    assert.equal(report.events, events.length);
    assert.deepEqual(await snapshot(db.pool), before);
    assert.deepEqual(await leftoverSchemas(db.pool), []);
    assert.deepEqual(
      (await opsRows(db.pool)).map((r) => r.status),
      ['abandoned', 'switched'],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a seeded store (npm run seed) is accepted by the projections: every order, consistent revenue', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const events = [...generateShop({ events: 2500, seed: 11, prefix: uniq('seed') })].flat();
  const report = await rebuild({ pool: db.pool, eventStore: fakeEventStore(events), batchSize: 200 });
  assert.equal(report.events, events.length);
  const count = (type: string) => events.filter((e) => e.event_type === type).length;
  const q = async (sql: string) => Number((await db.pool.query(sql)).rows[0].n);
  assert.equal(await q('SELECT count(*) AS n FROM read_orders'), count('OrderPlaced'));
  assert.equal(await q("SELECT count(*) AS n FROM read_orders WHERE status = 'delivered'"), count('OrderDelivered'));
  assert.equal(await q('SELECT count(*) AS n FROM read_users'), count('UserRegistered'));
  assert.equal(await q('SELECT count(*) AS n FROM read_event_log'), events.length);
  // The marketing rule holds on seeded data: daily revenue = totals of orders paid and not reversed.
  assert.equal(
    await q('SELECT coalesce(sum(revenue), 0) AS n FROM read_daily_sales'),
    await q("SELECT coalesce(sum(total), 0) AS n FROM read_orders WHERE status IN ('paid', 'shipped', 'delivered')"),
  );
  assert.equal(await q('SELECT count(*) AS n FROM read_inventory WHERE reserved_quantity < 0 OR available_quantity < 0'), 0);
});
