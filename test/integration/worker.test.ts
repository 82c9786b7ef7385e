/**
 * The worker's reservation-expiry timers against a real PostgreSQL:
 *   STACK_SERVICES=postgres npx tsx scripts/with-stack.ts -- node --import tsx --test test/integration/worker.test.ts
 * Time is a fake clock: nothing waits for a deadline to pass.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { LogFields, Logger } from '../../src/platform/messaging/log.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { ExpireOrder, ExpirySchedulerOptions } from '../../src/contexts/orders/expiry.ts';
import { createExpiryScheduler, EXPIRY_SAGA_TYPE } from '../../src/contexts/orders/expiry.ts';
import { uniq } from '../support/env.ts';
import { envelopeOf } from '../support/envelopes.ts';

const databaseUrl = process.env.DATABASE_URL ?? '';
if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through scripts/with-stack.ts (STACK_SERVICES=postgres)');

// ---- databases ----------------------------------------------------------------------------------------------

// A tick fires every due timer it can see, so each test works in a schema of its own: a leftover timer of one
// test must never fire inside another (CREATE DATABASE per test would cost about a second each).
const shared = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const cleanups: Array<() => Promise<void>> = [];
/** The tables the worker reads and writes (migrations/001_baseline.sql). */
const WORKER_TABLES = ['saga_log', 'sagas', 'order_deadlines', 'shipment_timers', 'simulated_carrier_parcels'];
before(async () => {
  await applySchema(shared); // the migrations: the real worker tables, copied into each test's schema below
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  await shared.end();
});

/** A pool whose tables are this test's own: copies of the worker's tables as the migrations made them in public. */
async function freshPool(): Promise<pg.Pool> {
  const schema = uniq('wk').replace(/-/g, '_');
  await shared.query(`CREATE SCHEMA ${schema}`);
  for (const table of WORKER_TABLES) await shared.query(`CREATE TABLE ${schema}.${table} (LIKE public.${table} INCLUDING ALL)`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, options: `-c search_path=${schema}` });
  cleanups.push(async () => {
    await pool.end();
    await shared.query(`DROP SCHEMA ${schema} CASCADE`);
  });
  return pool;
}

// ---- events, clock, fakes -----------------------------------------------------------------------------------

const T0 = Date.parse('2030-06-01T12:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();
const MINUTE = 60_000;

const envelope = (
  aggregate_type: AggregateType,
  aggregate_id: string,
  version: number,
  event_type: string,
  data: Record<string, unknown>,
): EventEnvelope => envelopeOf(aggregate_type, aggregate_id, version, event_type, data, iso(0));
const placed = (orderId: string, expiresInMs = 15 * MINUTE) =>
  envelope('Order', orderId, 1, 'OrderPlaced', {
    order_id: orderId,
    user_id: 'u',
    user_email: 'u@example.com',
    items: [],
    total: 100,
    expires_at: iso(expiresInMs),
    placed_at: iso(0),
  });
const next = (orderId: string, version: number, type: string) => envelope('Order', orderId, version, type, { order_id: orderId });

function fakeClock(startMs = 0) {
  let now = T0 + startMs;
  return { clock: () => new Date(now), set: (ms: number) => void (now = T0 + ms) };
}

/**
 * Stands in for the order service's expire command: idempotent like the real one (only the first call for
 * an order expires it), optionally failing, and slow enough (an awaited macrotask) that concurrent callers
 * really overlap.
 */
function fakeExpire(opts: { failFirst?: number } = {}) {
  const calls: string[] = [];
  const expired = new Set<string>();
  let failures = opts.failFirst ?? 0;
  const expireOrder: ExpireOrder = async (orderId) => {
    calls.push(orderId);
    await new Promise((r) => setTimeout(r, 2));
    if (failures > 0) {
      failures -= 1;
      throw new Error('DynamoDB unavailable');
    }
    if (expired.has(orderId)) return { expired: false };
    expired.add(orderId);
    return { expired: true };
  };
  return { expireOrder, calls };
}

function recordingLog() {
  const lines: Array<{ level: string; message: string; fields: LogFields | undefined }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, fields });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines };
}

async function setup(opts: Partial<ExpirySchedulerOptions> & Pick<ExpirySchedulerOptions, 'expireOrder'>) {
  const pool = await freshPool();
  const time = fakeClock();
  const scheduler = createExpiryScheduler({ pool, clock: time.clock, log: silentLogger(), ...opts });
  return { pool, time, scheduler };
}

const deadlines = async (pool: pg.Pool, orderId: string) =>
  (
    await pool.query('SELECT order_id, expires_at, attempts, next_attempt_at, last_error FROM order_deadlines WHERE order_id = $1', [
      orderId,
    ])
  ).rows;
const sagaRows = async (pool: pg.Pool, orderId: string) =>
  (await pool.query('SELECT saga_type, step, status, detail FROM saga_log WHERE saga_id = $1 ORDER BY step', [orderId])).rows;

// ---- tests --------------------------------------------------------------------------------------------------

describe('reservation expiry timers', () => {
  it('fires once after expires_at: expireOrder called once, saga log row written, timer removed', async () => {
    const fake = fakeExpire();
    const { pool, time, scheduler } = await setup({ expireOrder: fake.expireOrder });
    const orderId = uniq('order');
    await scheduler.handleBatch([placed(orderId, 15 * MINUTE)]);
    assert.equal((await deadlines(pool, orderId)).length, 1);

    time.set(15 * MINUTE - 1);
    assert.equal(await scheduler.tick(), 0, 'one millisecond early: nothing due');
    assert.deepEqual(fake.calls, []);

    time.set(15 * MINUTE);
    assert.equal(await scheduler.tick(), 1);
    assert.deepEqual(fake.calls, [orderId]);
    assert.deepEqual(await sagaRows(pool, orderId), [
      {
        saga_type: EXPIRY_SAGA_TYPE,
        step: 'expired',
        status: 'completed',
        detail: { expires_at: iso(15 * MINUTE), fired_at: iso(15 * MINUTE), attempts: 1 },
      },
    ]);
    assert.deepEqual(await deadlines(pool, orderId), []);

    time.set(60 * MINUTE);
    assert.equal(await scheduler.tick(), 0);
    assert.deepEqual(fake.calls, [orderId], 'never fired twice');
  });

  it('disarms the timer when the order is paid, cancelled or fails shipment before expiry', async () => {
    const fake = fakeExpire();
    const { pool, time, scheduler } = await setup({ expireOrder: fake.expireOrder });
    const paid = uniq('paid');
    const cancelled = uniq('cancelled');
    const failed = uniq('failed');
    const pending = uniq('pending');
    await scheduler.handleBatch([placed(paid), placed(cancelled), placed(failed), placed(pending)]);
    await scheduler.handleBatch([
      next(paid, 2, 'OrderPaid'),
      next(cancelled, 2, 'OrderCancelled'),
      next(failed, 2, 'OrderPaid'),
      next(failed, 3, 'OrderShipmentFailed'),
    ]);

    time.set(20 * MINUTE);
    assert.equal(await scheduler.tick(), 1);
    assert.deepEqual(fake.calls, [pending], 'only the order still pending');
    for (const id of [paid, cancelled, failed]) assert.deepEqual(await sagaRows(pool, id), []);
  });

  it('arms and disarms within one batch in delivery order', async () => {
    const fake = fakeExpire();
    const { pool, time, scheduler } = await setup({ expireOrder: fake.expireOrder });
    const orderId = uniq('order');
    await scheduler.handleBatch([placed(orderId), next(orderId, 2, 'OrderPaid')]);
    assert.deepEqual(await deadlines(pool, orderId), []);
    time.set(20 * MINUTE);
    assert.equal(await scheduler.tick(), 0);
    assert.deepEqual(fake.calls, []);
  });

  it('keeps one timer for a duplicate OrderPlaced delivery, and a redelivery does not reset its retry state', async () => {
    const fake = fakeExpire({ failFirst: 1 });
    const { pool, time, scheduler } = await setup({ expireOrder: fake.expireOrder });
    const orderId = uniq('order');
    const event = placed(orderId);
    await scheduler.handleBatch([event, event]);
    await scheduler.handleBatch([event]);
    assert.equal((await deadlines(pool, orderId)).length, 1);

    time.set(15 * MINUTE);
    assert.equal(await scheduler.tick(), 0, 'the first attempt fails');
    await scheduler.handleBatch([event]);
    assert.equal((await deadlines(pool, orderId))[0]?.attempts, 1, 'redelivery kept the attempt count');

    time.set(16 * MINUTE);
    assert.equal(await scheduler.tick(), 1);
    assert.deepEqual(fake.calls, [orderId, orderId]);
    assert.equal((await sagaRows(pool, orderId)).length, 1);
  });

  it('a timer armed after the order was paid (out-of-order redelivery) resolves as skipped: the event store decides', async () => {
    const expireOrder: ExpireOrder = async () => ({ expired: false });
    const { pool, time, scheduler } = await setup({ expireOrder });
    const orderId = uniq('order');
    await scheduler.handleBatch([next(orderId, 2, 'OrderPaid')]);
    await scheduler.handleBatch([placed(orderId)]);
    time.set(15 * MINUTE);
    assert.equal(await scheduler.tick(), 1);
    const [row] = await sagaRows(pool, orderId);
    assert.equal(row?.step, 'skipped');
    assert.equal(row?.detail.reason, 'order no longer pending');
    assert.deepEqual(await deadlines(pool, orderId), []);
  });

  it('two schedulers ticking concurrently expire each due order exactly once', async () => {
    const fake = fakeExpire();
    const pool = await freshPool();
    const time = fakeClock();
    // Two workers: separate pools, as separate processes would have.
    const otherPool = new pg.Pool({ ...pool.options, max: 10 });
    cleanups.unshift(() => otherPool.end());
    const make = (p: pg.Pool) =>
      createExpiryScheduler({ pool: p, expireOrder: fake.expireOrder, clock: time.clock, log: silentLogger(), concurrency: 4 });
    const [a, b] = [make(pool), make(otherPool)];
    const ids = Array.from({ length: 40 }, () => uniq('order'));
    await a.handleBatch(ids.map((id, i) => placed(id, MINUTE + i)));

    time.set(10 * MINUTE);
    const [firedA, firedB] = await Promise.all([a.tick(), b.tick()]);
    assert.equal(firedA + firedB, ids.length);
    assert.ok(firedA > 0 && firedB > 0, `both workers took part (a=${firedA}, b=${firedB})`);
    assert.deepEqual([...fake.calls].sort(), [...ids].sort(), 'each order exactly once');
    const steps = (await pool.query('SELECT step, count(*)::int AS n FROM saga_log WHERE saga_type = $1 GROUP BY step', [EXPIRY_SAGA_TYPE]))
      .rows;
    assert.deepEqual(steps, [{ step: 'expired', n: ids.length }]);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM order_deadlines')).rows[0]?.n, 0);
  });

  it('retries a failing expireOrder on a later tick with backoff, and keeps retrying slowly after repeated failures', async () => {
    const fake = fakeExpire({ failFirst: 3 });
    const { log, lines } = recordingLog();
    const { pool, time, scheduler } = await setup({
      expireOrder: fake.expireOrder,
      log,
      retryBaseMs: 1_000,
      alertAfterAttempts: 3,
      slowRetryMs: 10 * MINUTE,
    });
    const orderId = uniq('order');
    await scheduler.handleBatch([placed(orderId, MINUTE)]);

    time.set(MINUTE);
    assert.equal(await scheduler.tick(), 0);
    let [row] = await deadlines(pool, orderId);
    assert.equal(row?.attempts, 1);
    assert.equal(row?.last_error, 'DynamoDB unavailable');
    assert.equal((row?.next_attempt_at as Date).toISOString(), iso(MINUTE + 1_000));

    assert.equal(await scheduler.tick(), 0, 'same instant: backing off');
    assert.equal(fake.calls.length, 1);

    time.set(MINUTE + 1_000);
    assert.equal(await scheduler.tick(), 0, 'second attempt fails too');
    [row] = await deadlines(pool, orderId);
    assert.equal((row?.next_attempt_at as Date).toISOString(), iso(MINUTE + 3_000), 'the delay doubled');

    time.set(MINUTE + 3_000);
    assert.equal(await scheduler.tick(), 0, 'third attempt fails: now an alert, and slow retries');
    [row] = await deadlines(pool, orderId);
    assert.equal(row?.attempts, 3);
    assert.equal((row?.next_attempt_at as Date).toISOString(), iso(11 * MINUTE + 3_000));
    assert.deepEqual(
      lines.filter((l) => l.level !== 'info').map((l) => l.level),
      ['warn', 'warn', 'error'],
    );
    assert.equal(lines.find((l) => l.level === 'error')?.fields?.order_id, orderId);

    time.set(11 * MINUTE + 3_000);
    assert.equal(await scheduler.tick(), 1, 'never dropped: the fourth attempt succeeds');
    assert.equal(fake.calls.length, 4);
    assert.equal((await sagaRows(pool, orderId))[0]?.detail.attempts, 4);
    assert.deepEqual(await deadlines(pool, orderId), []);
  });

  it('a failing timer does not hold up the other due timers of the tick', async () => {
    const bad = uniq('bad');
    const good = uniq('good');
    const calls: string[] = [];
    const expireOrder: ExpireOrder = async (id) => {
      calls.push(id);
      if (id === bad) throw new Error('order_not_expired');
      return { expired: true };
    };
    const { pool, time, scheduler } = await setup({ expireOrder, concurrency: 1 });
    await scheduler.handleBatch([placed(bad, MINUTE), placed(good, 2 * MINUTE)]);
    time.set(5 * MINUTE);
    assert.equal(await scheduler.tick(), 1);
    assert.deepEqual(calls, [bad, good], 'the failed row is not taken again within the tick');
    assert.equal((await deadlines(pool, bad)).length, 1);
    assert.deepEqual(await deadlines(pool, good), []);
  });

  it('rejects a batch with a malformed OrderPlaced without arming any of its timers', async () => {
    const { pool, scheduler } = await setup({ expireOrder: fakeExpire().expireOrder });
    const good = uniq('good');
    const broken = uniq('broken');
    const malformed = { ...placed(broken), data: { order_id: broken, expires_at: 'tomorrow' } };
    await assert.rejects(scheduler.handleBatch([placed(good), malformed]), /no valid expires_at/);
    assert.deepEqual(await deadlines(pool, good), [], 'the whole batch rolled back');
  });

  it('ignores events that are not about orders', async () => {
    const { pool, scheduler } = await setup({ expireOrder: fakeExpire().expireOrder });
    const id = uniq('cart');
    await scheduler.handleBatch([
      envelope('Cart', id, 1, 'OrderPlaced', { expires_at: iso(0) }),
      envelope('Inventory', id, 1, 'StockReserved', { expires_at: iso(0) }),
    ]);
    assert.equal((await pool.query('SELECT count(*)::int AS n FROM order_deadlines')).rows[0]?.n, 0);
  });

  it('once started, fires due timers on its own until stopped', async () => {
    const fake = fakeExpire();
    const { time, scheduler } = await setup({ expireOrder: fake.expireOrder, intervalMs: 5 });
    const orderId = uniq('order');
    await scheduler.handleBatch([placed(orderId, MINUTE)]);
    time.set(2 * MINUTE);
    scheduler.start();
    const deadline = Date.now() + 5_000;
    while (fake.calls.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await scheduler.stop();
    assert.deepEqual(fake.calls, [orderId]);
  });
});
