/**
 * The fulfilment saga's process manager against a real PostgreSQL (timers, the simulated carrier's books, the
 * saga log) and the in-memory event store, with the real application commands and deciders:
 *   STACK_SERVICES=postgres npx tsx scripts/with-stack.ts -- node --import tsx --test test/integration/fulfilment.test.ts
 * Time is a fake clock and the carrier's draws are scripted: nothing waits for a carrier.
 * "Delivery" is explicit: the test hands the events the commands published to handleBatch, in the order,
 * and as many times, as it likes — that is how duplicates and out-of-order delivery are exercised.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createApplication } from '../../src/composition/application.ts';
import type { CommandHandler } from '../../src/kernel/handler.ts';
import type { OrderHandlers } from '../../src/contexts/orders/handlers.ts';
import { createMemoryEventStore } from '../../src/platform/eventstore/memory.ts';
import type { EventStore, StreamWrite } from '../../src/platform/eventstore/types.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { applySchema } from '../../src/platform/readmodel/schema.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { Carrier } from '../../src/contexts/shipping/carrier.ts';
import { createSimulatedCarrier } from '../../src/contexts/shipping/carrier-adapter.ts';
import type { FulfilmentManagerOptions } from '../../src/contexts/shipping/fulfilment-worker.ts';
import { createFulfilmentManager } from '../../src/contexts/shipping/fulfilment-worker.ts';
import { fulfilmentSagaId } from '../../src/kernel/saga-steps.ts';
import { uniq } from '../support/env.ts';

const databaseUrl = process.env.DATABASE_URL ?? '';
if (!databaseUrl) throw new Error('DATABASE_URL is not set: run through scripts/with-stack.ts (STACK_SERVICES=postgres)');

// Every test works in a schema of its own (see worker.test.ts): a tick fires every due row it can see.
const shared = new pg.Pool({ connectionString: databaseUrl, max: 2 });
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  await applySchema(shared);
});
after(async () => {
  for (const cleanup of cleanups) await cleanup();
  await shared.end();
});

async function freshPool(): Promise<pg.Pool> {
  const schema = uniq('ff').replace(/-/g, '_');
  await shared.query(`CREATE SCHEMA ${schema}`);
  for (const table of ['saga_log', 'sagas', 'order_deadlines', 'shipment_timers', 'simulated_carrier_parcels'])
    await shared.query(`CREATE TABLE ${schema}.${table} (LIKE public.${table} INCLUDING ALL)`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 12, options: `-c search_path=${schema}` });
  cleanups.push(async () => {
    await pool.end();
    await shared.query(`DROP SCHEMA ${schema} CASCADE`);
  });
  return pool;
}

const T0 = Date.parse('2030-06-01T12:00:00.000Z');
const DELAY = 2000;

/** A scripted draw: each booking takes the next value (0 → dispatched, 0.99 → failed at rate 0.5). */
const scripted = (values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

interface Harness {
  pool: pg.Pool;
  store: EventStore;
  now: (ms: number) => void;
  /** Everything published so far (and not yet taken). */
  take(): EventEnvelope[];
  deliver(events?: EventEnvelope[]): Promise<void>;
  seedPaidOrder(lines?: Array<[productId: string, quantity: number]>): Promise<{ orderId: string; userId: string; paid: EventEnvelope }>;
  manager: ReturnType<typeof createFulfilmentManager>;
  newManager(over?: Partial<FulfilmentManagerOptions>): ReturnType<typeof createFulfilmentManager>;
  orders: OrderHandlers;
  run: <C, R>(handler: CommandHandler<C, R>, command: C) => Promise<R>;
  types(aggregateId: string): Promise<string[]>;
  stock(productId: string): Promise<{ total: number; reserved: number }>;
  saga(
    orderId: string,
  ): Promise<{ status: string; steps: Array<{ step: string; status: string; event_ids: string[]; detail: Record<string, unknown> }> }>;
  parcels(): Promise<number>;
  timers(): Promise<Array<{ order_id: string; action: string; attempts: number }>>;
}

async function harness(
  opts: { failureRate?: number; random?: () => number; carrier?: (c: Carrier) => Carrier; pool?: pg.Pool; store?: EventStore } = {},
): Promise<Harness> {
  const pool = opts.pool ?? (await freshPool());
  const store = opts.store ?? createMemoryEventStore();
  let nowMs = T0;
  const clock = () => new Date(nowMs);
  let published: EventEnvelope[] = [];
  const app = createApplication({
    store,
    publisher: { publish: async (events) => void published.push(...events) },
    clock,
    newId: randomUUID,
    log: silentLogger(),
    snapshotEvery: 100,
    reservationTtlSeconds: 900,
  });
  const { executor, fulfilment: service, orders } = app;
  const run = <C, R>(handler: CommandHandler<C, R>, command: C) => executor.execute(handler, command, { metadata: {} });
  const simulated = createSimulatedCarrier({
    pool,
    clock,
    delayMs: DELAY,
    failureRate: opts.failureRate ?? 0,
    random: opts.random ?? scripted([0.5]),
  });
  const carrier = opts.carrier ? opts.carrier(simulated) : simulated;
  const newManager = (over: Partial<FulfilmentManagerOptions> = {}) =>
    createFulfilmentManager({
      pool,
      clock,
      log: silentLogger(),
      carrier,
      retryBaseMs: 1000,
      commands: {
        open: (id) => run(service.open, { order_id: id }),
        handOver: (id, booking) => run(service.handOver, { order_id: id, booking }),
        answer: (id, verdict) => run(service.answer, { order_id: id, verdict }),
      },
      ...over,
    });
  const manager = newManager();
  const take = () => {
    const out = published;
    published = [];
    return out;
  };
  return {
    pool,
    store,
    now: (ms) => void (nowMs = T0 + ms),
    take,
    deliver: (events = take()) => manager.handleBatch(events),
    manager,
    newManager,
    orders,
    run,
    async seedPaidOrder(
      lines = [
        [uniq('p'), 2],
        [uniq('p'), 1],
      ],
    ) {
      const orderId = randomUUID();
      const userId = uniq('u');
      const at = clock().toISOString();
      const items = lines.map(([product_id, quantity]) => ({
        product_id,
        name: `品 ${product_id}`,
        price: 1000,
        quantity,
        subtotal: 1000 * quantity,
      }));
      const total = items.reduce((n, i) => n + i.subtotal, 0);
      const expires_at = new Date(nowMs + 900_000).toISOString();
      const writes: StreamWrite[] = [
        {
          aggregate_id: orderId,
          aggregate_type: 'Order',
          expected_version: 0,
          events: [
            {
              event_type: 'OrderPlaced',
              data: { order_id: orderId, user_id: userId, user_email: `${userId}@example.com`, items, total, expires_at, placed_at: at },
            },
            { event_type: 'OrderPaid', data: { order_id: orderId, amount: total, paid_at: at } },
          ],
        },
        ...lines.map(([product_id, quantity]): StreamWrite => ({
          aggregate_id: `inventory-${product_id}`,
          aggregate_type: 'Inventory',
          expected_version: 0,
          events: [
            { event_type: 'StockAdded', data: { product_id, quantity: 10, added_at: at } },
            {
              event_type: 'StockReserved',
              data: { product_id, reservation_id: `r-${orderId}`, order_id: orderId, quantity, expires_at, reserved_at: at },
            },
            {
              event_type: 'StockDeducted',
              data: { product_id, reservation_id: `r-${orderId}`, order_id: orderId, quantity, deducted_at: at },
            },
          ],
        })),
      ];
      const appended = await store.append(writes, { metadata: {}, now: at });
      return { orderId, userId, paid: appended.find((e) => e.event_type === 'OrderPaid')! };
    },
    async types(aggregateId) {
      return (await store.readStream(aggregateId)).map((e) => e.event_type);
    },
    async stock(productId) {
      const inv = await executor.streams().inventory(productId);
      return { total: inv.state.total_quantity, reserved: inv.state.reserved_quantity };
    },
    async saga(orderId) {
      const id = fulfilmentSagaId(orderId);
      const head = await pool.query<{ status: string }>('SELECT status FROM sagas WHERE saga_id = $1', [id]);
      const steps = await pool.query('SELECT step, status, event_ids, detail FROM saga_log WHERE saga_id = $1 ORDER BY created_at, step', [
        id,
      ]);
      return { status: head.rows[0]?.status ?? 'none', steps: steps.rows };
    },
    async parcels() {
      return (await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM simulated_carrier_parcels')).rows[0]!.n;
    },
    async timers() {
      return (await pool.query('SELECT order_id, action, attempts FROM shipment_timers ORDER BY order_id')).rows;
    },
  };
}

const stepNames = (s: { steps: Array<{ step: string }> }) => s.steps.map((x) => x.step).sort();

describe('fulfilment saga (process manager, real PostgreSQL, in-memory event store)', () => {
  it('dispatched: OrderPaid → shipment opened and handed over → after the delay the order ships with the carrier tracking number', async () => {
    const h = await harness({ failureRate: 0 });
    const { orderId, paid } = await h.seedPaidOrder();
    await h.deliver([paid]);
    assert.deepEqual(await h.timers(), [{ order_id: orderId, action: 'request', attempts: 0 }]);

    assert.equal(await h.manager.tick(), 1);
    assert.deepEqual(await h.types(`shipment-${orderId}`), ['ShipmentInitiated', 'ShipmentRequested']);
    assert.deepEqual(
      (await h.timers()).map((t) => t.action),
      ['answer'],
    );
    h.now(DELAY - 1);
    assert.equal(await h.manager.tick(), 0, 'the carrier has not answered yet');

    h.now(DELAY);
    assert.equal(await h.manager.tick(), 1);
    const order = await h.store.readStream(orderId);
    const shipped = order.find((e) => e.event_type === 'OrderShipped')!;
    assert.match(String(shipped.data.tracking_number), /^SIM\d{4}-\d{4}-\d{4}$/);
    const shipment = await h.store.readStream(`shipment-${orderId}`);
    assert.deepEqual(
      shipment.map((e) => e.event_type),
      ['ShipmentInitiated', 'ShipmentRequested', 'ShipmentCompleted'],
    );
    assert.equal(shipment[2]!.data.tracking_number, shipped.data.tracking_number);
    assert.equal(shipment[2]!.data.dispatched_by, 'carrier');
    assert.equal(shipped.created_at, shipment[2]!.created_at, 'one transaction');
    assert.deepEqual(await h.timers(), []);

    await h.deliver();
    const saga = await h.saga(orderId);
    assert.equal(saga.status, 'completed');
    assert.deepEqual(stepNames(saga), ['completed', 'dispatched', 'shipment_opened', 'shipment_requested', 'started']);
    const dispatched = saga.steps.find((s) => s.step === 'dispatched')!;
    assert.deepEqual([...dispatched.event_ids].sort(), [shipment[2]!.event_id, shipped.event_id].sort());
    assert.equal(dispatched.detail.tracking_number, shipped.data.tracking_number);
    assert.deepEqual(saga.steps.find((s) => s.step === 'started')!.event_ids, [paid.event_id]);
  });

  it('failed: compensation in one transaction — shipment failed, order shipment_failed and refunded, every line returned', async () => {
    const h = await harness({ failureRate: 1 });
    const lines: Array<[string, number]> = [
      [uniq('p'), 2],
      [uniq('p'), 3],
    ];
    const { orderId, paid } = await h.seedPaidOrder(lines);
    await h.deliver([paid]);
    await h.manager.tick();
    h.now(DELAY);
    await h.manager.tick();

    const order = await h.store.readStream(orderId);
    assert.deepEqual(
      order.map((e) => e.event_type),
      ['OrderPlaced', 'OrderPaid', 'OrderShipmentFailed', 'OrderPaymentRefunded'],
    );
    const reason = order[2]!.data.reason;
    assert.ok(typeof reason === 'string' && reason.length > 0, 'the carrier reason');
    assert.equal(order[3]!.data.amount, 5000);
    const shipment = await h.store.readStream(`shipment-${orderId}`);
    assert.deepEqual(
      shipment.map((e) => [e.event_type, e.data.reason ?? null]),
      [
        ['ShipmentInitiated', null],
        ['ShipmentRequested', null],
        ['ShipmentFailed', reason],
      ],
    );
    for (const [productId] of lines) {
      assert.deepEqual(await h.types(`inventory-${productId}`), ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReturned']);
      assert.deepEqual(await h.stock(productId), { total: 10, reserved: 0 }, 'the stock adds up again');
    }
    const compensation = [
      ...order.slice(2),
      shipment[2]!,
      ...(await Promise.all(lines.map(([p]) => h.store.readStream(`inventory-${p}`)))).map((s) => s[3]!),
    ];
    assert.equal(new Set(compensation.map((e) => e.created_at)).size, 1, 'one transaction across order, shipment and inventories');

    // Delivered in a scrambled order (they come from several partitions): the log still adds up.
    await h.deliver(h.take().reverse());
    const saga = await h.saga(orderId);
    assert.equal(saga.status, 'compensated');
    assert.deepEqual(stepNames(saga), ['compensated', 'completed', 'failed', 'shipment_opened', 'shipment_requested', 'started']);
    const compensated = saga.steps.find((s) => s.step === 'compensated')!;
    assert.deepEqual(
      [...compensated.event_ids].sort(),
      compensation
        .filter((e) => e.aggregate_type !== 'Shipment')
        .map((e) => e.event_id)
        .sort(),
    );
    assert.equal(saga.steps.find((s) => s.step === 'failed')!.status, 'failed');
  });

  it('the same OrderPaid twice, before and after the outcome, and the whole stream again: one shipment, one booking, one outcome', async () => {
    const h = await harness({ failureRate: 0 });
    const { orderId, paid } = await h.seedPaidOrder();
    await h.deliver([paid, paid]);
    await h.manager.tick();
    await h.deliver([paid]);
    assert.deepEqual(
      (await h.timers()).map((t) => t.action),
      ['answer'],
      'a redelivery does not reset a waiting saga',
    );
    h.now(DELAY);
    await h.manager.tick();
    const all = h.take();
    await h.deliver([...all, paid, ...all]);
    await h.deliver([paid]);
    assert.deepEqual(await h.timers(), [], 'a finished saga is not re-armed');
    assert.equal(await h.manager.tick(), 0);
    assert.equal(await h.parcels(), 1);
    assert.deepEqual(await h.types(orderId), ['OrderPlaced', 'OrderPaid', 'OrderShipped']);
    const saga = await h.saga(orderId);
    assert.equal(saga.status, 'completed');
    assert.ok(
      saga.steps.every((s) => new Set(s.event_ids).size === s.event_ids.length),
      'no event id twice in a step',
    );
  });

  it('a worker that dies after recording the answer but before removing its timer: the rerun changes nothing', async () => {
    const h = await harness({ failureRate: 1 });
    const { orderId, paid } = await h.seedPaidOrder();
    await h.deliver([paid]);
    await h.manager.tick();
    const [timer] = (await h.pool.query('SELECT * FROM shipment_timers')).rows;
    h.now(DELAY);
    await h.manager.tick();
    // The crash: the compensation is in the event store, the timer row came back (its deletion never committed).
    await h.pool.query('INSERT INTO shipment_timers (order_id, action, due_at, carrier, carrier_reference) VALUES ($1, $2, $3, $4, $5)', [
      timer.order_id,
      timer.action,
      timer.due_at,
      timer.carrier,
      timer.carrier_reference,
    ]);
    assert.equal(await h.newManager().tick(), 1, 'a restarted worker resumes the timer');
    assert.deepEqual(
      await h.types(orderId),
      ['OrderPlaced', 'OrderPaid', 'OrderShipmentFailed', 'OrderPaymentRefunded'],
      'compensated once',
    );
    await h.deliver();
    assert.equal(
      (await h.saga(orderId)).steps.find((s) => s.step === 'carrier_answered'),
      undefined,
      'the repeat is not an ignored answer',
    );
  });

  it('two workers ticking at once on 20 paid orders: each order booked once and shipped once', async () => {
    const h = await harness({ failureRate: 0.5, random: scripted([0.1, 0.9, 0.3]) });
    const seeded = await Promise.all(Array.from({ length: 20 }, () => h.seedPaidOrder([[uniq('p'), 1]])));
    await h.deliver(seeded.map((s) => s.paid));
    const other = h.newManager();
    for (const at of [0, DELAY]) {
      h.now(at);
      const [a, b] = await Promise.all([h.manager.tick(), other.tick()]);
      assert.equal(a + b, 20, `both ticks together worked every order once (${a} + ${b})`);
    }
    assert.equal(await h.parcels(), 20);
    for (const { orderId } of seeded) {
      const types = await h.types(orderId);
      const outcomes = types.filter((t) => t === 'OrderShipped' || t === 'OrderShipmentFailed');
      assert.equal(outcomes.length, 1, `${orderId}: ${types.join(', ')}`);
      assert.equal((await h.types(`shipment-${orderId}`)).filter((t) => t === 'ShipmentInitiated').length, 1);
    }
  });

  it('an admin ships by hand before the carrier answers: the carrier answer later changes nothing (logged as skipped)', async () => {
    const h = await harness({ failureRate: 1 });
    const { orderId, paid } = await h.seedPaidOrder();
    await h.deliver([paid]);
    await h.manager.tick();
    const shipped = await h.run(h.orders.ship, { order_id: orderId, tracking_number: 'BYHAND-123' });
    assert.equal((shipped as { status: string }).status, 'shipped');
    h.now(DELAY);
    assert.equal(await h.manager.tick(), 1);
    assert.deepEqual(await h.types(orderId), ['OrderPlaced', 'OrderPaid', 'OrderShipped'], 'no compensation after a manual ship');
    const shipment = await h.store.readStream(`shipment-${orderId}`);
    assert.deepEqual(
      shipment.map((e) => [e.event_type, e.data.dispatched_by ?? null]),
      [
        ['ShipmentInitiated', null],
        ['ShipmentRequested', null],
        ['ShipmentCompleted', 'admin'],
      ],
    );
    await h.deliver();
    const saga = await h.saga(orderId);
    assert.equal(saga.status, 'completed');
    const skipped = saga.steps.find((s) => s.step === 'carrier_answered')!;
    assert.deepEqual([skipped.status, skipped.detail.answer, skipped.detail.why], ['skipped', 'failed', 'already dispatched by an admin']);
    assert.equal(saga.steps.find((s) => s.step === 'dispatched')!.detail.dispatched_by, 'admin');
  });

  it('a customer cancels the paid order before dispatch: the saga stops and compensates, the carrier answer is ignored', async () => {
    const h = await harness({ failureRate: 0 });
    const lines: Array<[string, number]> = [[uniq('p'), 4]];
    const { orderId, userId, paid } = await h.seedPaidOrder(lines);
    await h.deliver([paid]);
    await h.manager.tick();
    const customer = { user_id: userId, email: `${userId}@example.com`, role: 'customer' as const };
    await h.run(h.orders.cancel, { who: customer, order_id: orderId, reason: '気が変わった' });
    assert.deepEqual(await h.types(orderId), ['OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderPaymentRefunded']);
    assert.deepEqual(await h.types(`shipment-${orderId}`), ['ShipmentInitiated', 'ShipmentRequested', 'ShipmentCancelled']);
    assert.deepEqual(await h.stock(lines[0]![0]), { total: 10, reserved: 0 });
    h.now(DELAY);
    await h.manager.tick();
    assert.deepEqual(
      await h.types(orderId),
      ['OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderPaymentRefunded'],
      'never shipped after the cancel',
    );
    await h.deliver();
    const saga = await h.saga(orderId);
    assert.equal(saga.status, 'compensated');
    assert.deepEqual(stepNames(saga), [
      'cancelled',
      'carrier_answered',
      'compensated',
      'completed',
      'shipment_opened',
      'shipment_requested',
      'started',
    ]);
    assert.equal(saga.steps.find((s) => s.step === 'compensated')!.event_ids.length, 2, 'the refund and the one StockReturned');
    assert.equal(await h.manager.tick(), 0);
    assert.deepEqual(await h.timers(), []);
  });

  it('a cancel before the shipment is even opened: the saga finds the order not paid and stops without booking', async () => {
    const h = await harness({ failureRate: 0 });
    const { orderId, userId, paid } = await h.seedPaidOrder();
    await h.deliver([paid]);
    await h.run(h.orders.cancel, {
      who: { user_id: userId, email: 'x@example.com', role: 'customer' },
      order_id: orderId,
      reason: 'やめます',
    });
    await h.manager.tick();
    assert.deepEqual(await h.timers(), []);
    assert.equal(await h.parcels(), 0);
    assert.deepEqual(await h.types(`shipment-${orderId}`), []);
  });

  it('a cancel and the carrier answer at the same moment: exactly one outcome, 20 times', async (t) => {
    const h = await harness({ failureRate: 0 });
    const results: string[] = [];
    for (let i = 0; i < 20; i++) {
      h.now(0);
      const { orderId, userId, paid } = await h.seedPaidOrder([[uniq('p'), 2]]);
      await h.deliver([paid]);
      await h.manager.tick();
      h.now(DELAY);
      // The cancel starts a little later each round, so that either side gets there first.
      const [cancel, tick] = await Promise.allSettled([
        new Promise((r) => setTimeout(r, i % 10)).then(() =>
          h.run(h.orders.cancel, { who: { user_id: userId, email: 'x@example.com', role: 'customer' }, order_id: orderId, reason: '競合' }),
        ),
        h.manager.tick(),
      ]);
      assert.equal(tick.status, 'fulfilled');
      const types = await h.types(orderId);
      const shipped = types.includes('OrderShipped');
      const cancelled = types.includes('OrderCancelled');
      assert.ok(shipped !== cancelled, `exactly one outcome: ${types.join(', ')}`);
      if (cancelled) assert.equal(cancel.status, 'fulfilled');
      else assert.equal(cancel.status === 'rejected' && (cancel.reason as Error).message, 'cannot cancel an order that is shipped');
      const order = (await h.store.readStream(orderId))[0]!;
      const productId = (order.data.items as Array<{ product_id: string }>)[0]!.product_id;
      assert.deepEqual(await h.stock(productId), { total: cancelled ? 10 : 8, reserved: 0 });
      results.push(shipped ? 'shipped' : 'cancelled');
    }
    assert.equal(results.length, 20);
    t.diagnostic(
      `outcomes: ${results.filter((r) => r === 'shipped').length} shipped, ${results.filter((r) => r === 'cancelled').length} cancelled`,
    );
  });

  it('a carrier that fails: retried with backoff, the saga marked failed after repeated failures, then it finishes', async () => {
    let down = true;
    const h = await harness({
      failureRate: 0,
      carrier: (real) => ({
        ...real,
        name: real.name,
        book: async (r) => (down ? Promise.reject(new Error('carrier unreachable')) : real.book(r)),
      }),
    });
    const manager = h.newManager({ alertAfterAttempts: 3, retryBaseMs: 100, slowRetryMs: 1000 });
    const { orderId, paid } = await h.seedPaidOrder();
    await manager.handleBatch([paid]);
    for (const at of [0, 100, 300]) {
      h.now(at);
      assert.equal(await manager.tick(), 1);
    }
    assert.deepEqual(
      (await h.timers()).map((t) => t.attempts),
      [3],
    );
    await manager.handleBatch(h.take());
    let saga = await h.saga(orderId);
    assert.equal(saga.status, 'failed');
    assert.equal(saga.steps.find((s) => s.step === 'stalled')?.detail.error, 'carrier unreachable');

    down = false;
    h.now(300 + 999);
    assert.equal(await manager.tick(), 0, 'slow retries now');
    h.now(1300);
    assert.equal(await manager.tick(), 1);
    h.now(1300 + DELAY);
    await manager.tick();
    await manager.handleBatch(h.take());
    saga = await h.saga(orderId);
    assert.equal(saga.status, 'completed', 'recovered and finished');
    assert.ok((await h.types(orderId)).includes('OrderShipped'));
  });

  it('once started, works due timers on its own: the answer arrives about when the carrier said', async () => {
    const pool = await freshPool();
    const h = await harness({ pool, failureRate: 0 });
    // Real time for this one: the loop sleeps until the next due row.
    const clock = () => new Date();
    const store = h.store;
    const { executor, fulfilment: service } = createApplication({
      store,
      publisher: { publish: async () => {} },
      clock,
      newId: randomUUID,
      log: silentLogger(),
      snapshotEvery: 100,
      reservationTtlSeconds: 900,
    });
    const run = <C, R>(handler: CommandHandler<C, R>, command: C) => executor.execute(handler, command, { metadata: {} });
    const manager = createFulfilmentManager({
      pool,
      clock,
      log: silentLogger(),
      carrier: createSimulatedCarrier({ pool, clock, delayMs: 200, failureRate: 0 }),
      commands: {
        open: (id) => run(service.open, { order_id: id }),
        handOver: (id, b) => run(service.handOver, { order_id: id, booking: b }),
        answer: (id, v) => run(service.answer, { order_id: id, verdict: v }),
      },
    });
    const { orderId, paid } = await h.seedPaidOrder();
    manager.start();
    try {
      const started = Date.now();
      await manager.handleBatch([paid]);
      while (!(await store.readStream(orderId)).some((e) => e.event_type === 'OrderShipped')) {
        if (Date.now() - started > 20_000) assert.fail('not shipped within 20 s');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(Date.now() - started >= 200, 'not before the carrier answered');
    } finally {
      await manager.stop();
    }
  });
});
