/**
 * The fulfilment saga end to end (seeds 002, 003; issue #7) over HTTP against the real processes, in a shop of
 * its own (test/support/isolated.ts): the outcome of a shipment depends on the worker's SHIPMENT_FAILURE_RATE,
 * so no other test file's worker may take part. The carrier answers after 300 ms; the bounds below are
 * generous because CI is a loaded 2-core machine.
 *
 * Tests run in order and share the shop; between them the worker is replaced by one with other settings.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/platform/shared/config.ts';
import { connectEventStore, kafkaFor } from '../../src/processes/infra.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { createPublisher } from '../../src/platform/messaging/publisher.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';
import { startIsolatedShop, type IsolatedShop } from '../support/isolated.ts';
import { sagaHelpers } from '../support/saga.ts';
import { assertProblem, mailsAbout, mailsTo, waitForMails } from '../support/shop.ts';

const SHIPPED = '発送のお知らせ';
const FAILED = '配送失敗のお知らせ';
const CANCELLED = 'キャンセルのお知らせ';

let iso: IsolatedShop;
before(async () => {
  iso = await startIsolatedShop({ env: { SHIPMENT_DELAY_MS: '300', SHIPMENT_FAILURE_RATE: '1' } });
});
after(async () => {
  await iso?.stop();
});

const { useWorker, paidOrders, settled, stats, overview, todayRevenue, sagaOf, steps, sagaWhen, customers, mailsFor } = sagaHelpers(
  () => iso,
);

test('SHIPMENT_FAILURE_RATE=1: 20 paid orders all end shipment_failed — stock back, payment refunded, revenue 0, one mail each', async (t) => {
  const { a, admin } = iso;
  const p1 = await a.product({ price: 1200, stock: 100 });
  const p2 = await a.product({ price: 800, stock: 100 });
  const [statsBefore, overviewBefore, dailyBefore] = await Promise.all([stats(), overview(), todayRevenue()]);
  const orders = await paidOrders(20, await customers(5), [
    [p1.id, 2],
    [p2.id, 1],
  ]);

  const started = Date.now();
  const shown = await settled(orders, '20 sagas compensated');
  t.diagnostic(`20 sagas compensated ${Date.now() - started} ms after the last payment`);
  for (const o of shown) {
    assert.equal(o.status, 'shipment_failed', o.order_id);
    assert.equal(o.fulfilment.status, 'compensated');
    assert.ok(o.fulfilment.failure_reason?.length > 0, 'the carrier reason');
    assert.equal(o.refunded_amount, o.total, 'the payment was refunded');
    assert.equal(o.shipment.status, 'failed');
    assert.equal(o.shipment.carrier, 'simulated');
  }

  // Stock: every unit is back, in the event store (StockReturned per order) and in the read model.
  for (const p of [p1, p2]) {
    const stream = await a.stream(`inventory-${p.id}`);
    const returned = stream.events.filter((e) => e.event_type === 'StockReturned');
    assert.equal(returned.length, 20);
    assert.ok(returned.every((e) => e.data.reason === 'shipment_failed'));
    const inv = await a.inventory(p.id, stream.version);
    assert.deepEqual([inv.total_quantity, inv.reserved_quantity, inv.available_quantity], [100, 0, 100]);
  }

  // Revenue and marketing: nothing counted; the statistics count them as shipment_failed.
  await eventually(
    async () => {
      const s = await stats();
      return s.shipment_failed_count - statsBefore.shipment_failed_count === 20 && s.total_count - statsBefore.total_count === 20
        ? s
        : undefined;
    },
    { what: 'statistics' },
  );
  const s = await stats();
  assert.equal(s.total_revenue, statsBefore.total_revenue);
  assert.equal(s.paid_count, statsBefore.paid_count);
  assert.equal((await overview()).total_revenue, overviewBefore.total_revenue);
  assert.equal(await todayRevenue(), dailyBefore);
  const popular = (await a.http.get('/marketing/products?limit=100', admin)).body.items as Array<{
    product_id: string;
    revenue: number;
    units_sold: number;
  }>;
  for (const p of [p1, p2]) {
    const row = popular.find((r) => r.product_id === p.id);
    assert.ok(!row || (row.revenue === 0 && row.units_sold === 0), JSON.stringify(row));
  }
  const listed = (await a.http.get('/orders/status/shipment_failed?limit=100', admin)).body.items.map((o: any) => o.order_id);
  assert.ok(
    orders.every((o) => listed.includes(o.order_id)),
    '/orders/status/shipment_failed lists them',
  );

  // One failure mail per order, no shipping mail.
  const mails = await mailsFor(orders, FAILED);
  for (const o of orders) {
    assert.equal(mailsAbout(mails, o.order_id, FAILED).length, 1, `one failure mail for ${o.order_id}`);
    assert.equal(mailsAbout(mails, o.order_id, SHIPPED).length, 0);
  }

  // The saga log: every step with its time, outcome and events.
  const saga = await sagaWhen(
    orders[0]!.order_id,
    (x) => x.steps.length === 6 && x.steps.find((y: any) => y.step === 'compensated')?.event_ids.length === 4,
    'the whole log',
  );
  assert.equal(saga.saga_id, `fulfilment-${orders[0]!.order_id}`);
  assert.equal(saga.status, 'compensated');
  assert.deepEqual(steps(saga), ['started', 'shipment_opened', 'shipment_requested', 'failed', 'compensated', 'completed']);
  const order = await a.stream(orders[0]!.order_id);
  assert.deepEqual(
    order.events.map((e) => e.event_type),
    ['OrderPlaced', 'OrderPaid', 'OrderShipmentFailed', 'OrderPaymentRefunded'],
  );
  const compensated = saga.steps.find((x: any) => x.step === 'compensated');
  for (const id of [order.events[2].event_id, order.events[3].event_id]) assert.ok(compensated.event_ids.includes(id));
  assert.equal(compensated.event_ids.length, 4, 'the order events and one StockReturned per line');
  assert.equal(saga.steps.find((x: any) => x.step === 'failed').status, 'failed');
  assert.ok(saga.steps.every((x: any) => Number.isFinite(Date.parse(x.at))));
  const one = await a.http.get(`/sagas/${saga.saga_id}`, admin);
  assert.deepEqual(one.body, saga);
  assertProblem(await a.http.get(`/sagas/${uniq('nope')}`, admin), 404, 'unknown saga');
  assertProblem(
    await a.http.get(`/sagas?order_id=${orders[0]!.order_id}`, orders[0]!.customer.token),
    403,
    'a customer does not see the log',
  );
  const mine = await a.http.get(`/orders/${orders[0]!.order_id}`, orders[0]!.customer.token);
  assert.deepEqual(
    mine.body.fulfilment.steps.map((x: any) => x.step),
    steps(saga),
    'but sees the steps of their own order',
  );

  // Listing: filters and keyset paging, newest first.
  const page1 = await a.http.get('/sagas?type=fulfilment&status=compensated&limit=15', admin);
  assert.equal(page1.body.items.length, 15);
  const page2 = await a.http.get(`/sagas?type=fulfilment&status=compensated&limit=15&cursor=${page1.body.next_cursor}`, admin);
  const ids = [...page1.body.items, ...page2.body.items].map((x: any) => x.order_id);
  assert.equal(new Set(ids).size, ids.length, 'no saga twice across pages');
  assert.ok(orders.every((o) => ids.includes(o.order_id)));
  const starts = [...page1.body.items, ...page2.body.items].map((x: any) => Date.parse(x.started_at));
  assert.deepEqual(
    starts,
    [...starts].sort((x, y) => y - x),
    'newest first',
  );
  assertProblem(await a.http.get('/sagas?status=bogus', admin), 400, 'unknown status');
  assertProblem(await a.http.get('/sagas?cursor=garbage', admin), 400, 'bad cursor');
});

test('SHIPMENT_FAILURE_RATE=0: 20 paid orders all end shipped with the carrier tracking number and one shipping mail each', async (t) => {
  await useWorker({ SHIPMENT_FAILURE_RATE: '0' });
  const { a } = iso;
  const p1 = await a.product({ price: 1500, stock: 100 });
  const [statsBefore, overviewBefore] = await Promise.all([stats(), overview()]);
  const orders = await paidOrders(20, await customers(5), [[p1.id, 3]]);
  const started = Date.now();
  const shown = await settled(orders, '20 sagas completed');
  t.diagnostic(`20 sagas completed ${Date.now() - started} ms after the last payment`);
  for (const o of shown) {
    assert.equal(o.status, 'shipped', o.order_id);
    assert.match(o.tracking_number, /^SIM\d{4}-\d{4}-\d{4}$/);
    assert.equal(o.fulfilment.tracking_number, o.tracking_number);
    assert.equal(o.fulfilment.carrier, 'simulated');
    assert.equal(o.shipment.dispatched_by, 'carrier');
    assert.equal(o.refunded_amount, null);
  }
  const stream = await a.stream(`inventory-${p1.id}`);
  assert.equal(stream.events.filter((e) => e.event_type === 'StockReturned').length, 0);
  assert.equal((await a.inventory(p1.id, stream.version)).total_quantity, 100 - 60);

  const mails = await mailsFor(orders, SHIPPED);
  for (const o of shown) {
    const shipped = mailsAbout(mails, o.order_id, SHIPPED);
    assert.equal(shipped.length, 1, `one shipping mail for ${o.order_id}`);
    assert.ok(shipped[0]!.text.includes(o.tracking_number), 'the mail names the carrier tracking number');
    assert.equal(mailsAbout(mails, o.order_id, FAILED).length, 0);
  }
  const revenue = orders.reduce((n, o) => n + o.total, 0);
  await eventually(async () => ((await stats()).shipped_count - statsBefore.shipped_count === 20 ? true : undefined), {
    what: 'statistics',
  });
  assert.equal((await stats()).total_revenue - statsBefore.total_revenue, revenue);
  await eventually(async () => ((await overview()).total_revenue - overviewBefore.total_revenue === revenue ? true : undefined), {
    what: 'marketing revenue',
  });
  const saga = await sagaWhen(
    orders[0]!.order_id,
    (x) => x.steps.length === 5 && x.steps.find((y: any) => y.step === 'dispatched')?.event_ids.length === 2,
    'the whole log',
  );
  assert.deepEqual(
    [saga.status, steps(saga)],
    ['completed', ['started', 'shipment_opened', 'shipment_requested', 'dispatched', 'completed']],
  );
  const order = await a.stream(orders[0]!.order_id);
  assert.ok(
    saga.steps.find((x: any) => x.step === 'dispatched').event_ids.includes(order.events[2].event_id),
    'OrderShipped is part of the dispatch',
  );
});

test('default SHIPMENT_FAILURE_RATE (0.1): 20 paid orders each end shipped or compensated; the split is reported', async (t) => {
  await useWorker({ SHIPMENT_FAILURE_RATE: '' });
  const { a } = iso;
  const p1 = await a.product({ price: 900, stock: 100 });
  const orders = await paidOrders(20, await customers(4), [[p1.id, 1]]);
  const shown = await settled(orders, '20 sagas ended');
  const shipped = shown.filter((o) => o.status === 'shipped').length;
  const failed = shown.filter((o) => o.status === 'shipment_failed').length;
  t.diagnostic(`default failure rate: ${shipped} shipped, ${failed} shipment_failed of 20`);
  assert.equal(shipped + failed, 20);
  const stream = await a.stream(`inventory-${p1.id}`);
  assert.equal((await a.inventory(p1.id, stream.version)).total_quantity, 100 - shipped, 'the stock adds up');
});

test('an admin ships by hand before the carrier answers: it stays shipped with that number, the carrier answer changes nothing', async () => {
  // A slow carrier that would fail: its answer comes 4 s after the hand-over.
  await useWorker({ SHIPMENT_FAILURE_RATE: '1', SHIPMENT_DELAY_MS: '4000' });
  const { a, admin } = iso;
  const p1 = await a.product({ price: 2000, stock: 10 });
  const [buyer] = await customers(1);
  const [order] = await paidOrders(1, [buyer!], [[p1.id, 2]]);
  const orderId = order!.order_id;
  await sagaWhen(orderId, (x) => steps(x).includes('shipment_requested'), 'handed to the carrier');

  const tracking = `BYHAND-${Date.now()}`;
  const shipped = await a.http.post(`/orders/${orderId}/ship`, { tracking_number: tracking }, admin);
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  assert.equal(shipped.body.status, 'shipped');
  assertProblem(await a.http.post(`/orders/${orderId}/ship`, { tracking_number: 'AGAIN-1' }, admin), 409, 'ship twice');

  const saga = await sagaWhen(
    orderId,
    (x) => steps(x).includes('carrier_answered') && steps(x).includes('dispatched'),
    'the carrier answer, ignored',
  );
  const skipped = saga.steps.find((x: any) => x.step === 'carrier_answered');
  assert.deepEqual([skipped.status, skipped.detail.answer, skipped.detail.why], ['skipped', 'failed', 'already dispatched by an admin']);
  assert.equal(saga.status, 'completed');
  assert.equal(saga.steps.find((x: any) => x.step === 'dispatched').detail.dispatched_by, 'admin');
  const shown = (await a.http.get(`/orders/${orderId}`, buyer!.token)).body;
  assert.deepEqual([shown.status, shown.tracking_number, shown.fulfilment.tracking_number], ['shipped', tracking, tracking]);
  assert.deepEqual(
    (await a.stream(orderId)).events.map((e) => e.event_type),
    ['OrderPlaced', 'OrderPaid', 'OrderShipped'],
  );
  assert.deepEqual(
    (await a.stream(`shipment-${orderId}`)).events.map((e) => e.event_type),
    ['ShipmentInitiated', 'ShipmentRequested', 'ShipmentCompleted'],
  );
  const mails = await waitForMails(buyer!.email, (m) => mailsAbout(m, orderId, SHIPPED).length > 0, 'shipping mail');
  assert.equal(mailsAbout(mails, orderId, SHIPPED).length, 1);
  assert.ok(mailsAbout(mails, orderId, SHIPPED)[0]!.text.includes(tracking));
  assert.equal(mailsAbout(await mailsTo(buyer!.email), orderId, FAILED).length, 0);
});

test('a customer cancels a paid order before dispatch: refund, stock returned, the saga stops; a cancelled or failed order cannot be shipped', async () => {
  const { a, admin } = iso;
  const p1 = await a.product({ price: 3000, stock: 5 });
  const [buyer] = await customers(1);
  const [order] = await paidOrders(1, [buyer!], [[p1.id, 3]]);
  const orderId = order!.order_id;
  await sagaWhen(orderId, (x) => steps(x).includes('shipment_requested'), 'handed to the carrier');
  const cancelled = await a.http.post(`/orders/${orderId}/cancel`, { reason: 'サイズ違い' }, buyer!.token);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.status, 'cancelled');
  const shipCancelled = await a.http.post(`/orders/${orderId}/ship`, { tracking_number: 'NOPE-1' }, admin);
  assertProblem(shipCancelled, 409, 'ship a cancelled order');
  assert.equal(shipCancelled.body.detail, 'cannot ship an order that is cancelled');

  const inventory = await a.stream(`inventory-${p1.id}`);
  assert.deepEqual(
    inventory.events.map((e) => e.event_type),
    ['StockAdded', 'StockReserved', 'StockDeducted', 'StockReturned'],
  );
  assert.deepEqual([inventory.events[3].data.quantity, inventory.events[3].data.reason], [3, 'cancelled']);
  assert.deepEqual((await a.inventory(p1.id, inventory.version)).available_quantity, 5);
  assert.deepEqual(
    (await a.stream(orderId)).events.map((e) => e.event_type),
    ['OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderPaymentRefunded'],
  );

  const saga = await sagaWhen(
    orderId,
    (x) => steps(x).includes('carrier_answered') && x.steps.find((y: any) => y.step === 'compensated')?.event_ids.length === 2,
    'the carrier answer after the cancel, ignored',
  );
  assert.equal(saga.status, 'compensated');
  // The saga ended with the cancel; the carrier's late answer is logged after it, as skipped.
  assert.deepEqual(steps(saga), [
    'started',
    'shipment_opened',
    'shipment_requested',
    'cancelled',
    'compensated',
    'completed',
    'carrier_answered',
  ]);
  assert.equal(saga.steps.find((x: any) => x.step === 'cancelled').event_ids.length, 2, 'OrderCancelled and ShipmentCancelled');
  assert.deepEqual((await a.stream(orderId)).events.length, 4, 'the late answer appended nothing');
  const mails = await waitForMails(buyer!.email, (m) => mailsAbout(m, orderId, CANCELLED).length > 0, 'cancellation mail');
  assert.equal(mailsAbout(mails, orderId, CANCELLED).length, 1);
  assert.equal(mailsAbout(mails, orderId, SHIPPED).length + mailsAbout(mails, orderId, FAILED).length, 0);

  const failed = (await a.http.get('/orders/status/shipment_failed?limit=1', admin)).body.items[0];
  const shipFailed = await a.http.post(`/orders/${failed.order_id}/ship`, { tracking_number: 'NOPE-2' }, admin);
  assertProblem(shipFailed, 409, 'ship a failed order');
  assert.equal(shipFailed.body.detail, 'cannot ship an order that is shipment_failed');
});

test('the same OrderPaid delivered again and out of order: one shipment, one outcome, one mail', async () => {
  await useWorker({ SHIPMENT_FAILURE_RATE: '0', SHIPMENT_DELAY_MS: '300' });
  const { a, admin } = iso;
  const config = loadConfig({ ...process.env, ...iso.env });
  const events = await connectEventStore(config);
  const publisher = createPublisher(kafkaFor(config, 'saga-test-redelivery', silentLogger()), {
    topic: config.kafka.topic,
    log: silentLogger(),
  });
  try {
    const p1 = await a.product({ price: 700, stock: 10 });
    const [buyer] = await customers(1);
    const [done, inFlight] = await paidOrders(2, [buyer!], [[p1.id, 1]]);
    await settled([done!], 'the first order shipped');
    const paidOf = async (orderId: string): Promise<EventEnvelope> =>
      (await events.store.readStream(orderId)).find((e) => e.event_type === 'OrderPaid')!;
    // A finished saga gets its OrderPaid again, after its OrderShipped (out of order), twice; the second order
    // gets its own while its saga is still running.
    const stale = await paidOf(done!.order_id);
    const shippedEvent = (await events.store.readStream(done!.order_id)).find((e) => e.event_type === 'OrderShipped')!;
    await publisher.publish([stale, shippedEvent, stale]);
    const fresh = await paidOf(inFlight!.order_id);
    await publisher.publish([fresh, fresh]);
    await settled([done!, inFlight!], 'both sagas ended');
    // Everything delivered has been consumed by the worker and the notifier.
    await eventually(
      async () => {
        const lag = (await a.http.get('/ops/lag', admin)).body;
        return lag.groups.every((g: any) => g.total_lag === 0) ? true : undefined;
      },
      { what: 'consumer lag 0', timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const o of [done!, inFlight!]) {
      assert.deepEqual(
        (await a.stream(o.order_id)).events.map((e) => e.event_type),
        ['OrderPlaced', 'OrderPaid', 'OrderShipped'],
      );
      assert.deepEqual(
        (await a.stream(`shipment-${o.order_id}`)).events.map((e) => e.event_type),
        ['ShipmentInitiated', 'ShipmentRequested', 'ShipmentCompleted'],
      );
      const saga = await sagaOf(o.order_id);
      assert.deepEqual(
        [saga.status, steps(saga)],
        ['completed', ['started', 'shipment_opened', 'shipment_requested', 'dispatched', 'completed']],
      );
      assert.equal(saga.steps.find((x: any) => x.step === 'started').event_ids.length, 1, 'the duplicate is the same event');
    }
    const { rows } = await iso.db.query('SELECT count(*)::int AS n FROM simulated_carrier_parcels WHERE order_id = ANY($1)', [
      [done!.order_id, inFlight!.order_id],
    ]);
    assert.equal(rows[0].n, 2, 'one booking per order');
    const { rows: timers } = await iso.db.query('SELECT order_id FROM shipment_timers WHERE order_id = ANY($1)', [
      [done!.order_id, inFlight!.order_id],
    ]);
    assert.deepEqual(timers, [], 'no timer left behind');
    const mails = await mailsFor([done!, inFlight!], SHIPPED);
    for (const o of [done!, inFlight!]) assert.equal(mailsAbout(mails, o.order_id, SHIPPED).length, 1);
  } finally {
    await publisher.disconnect();
    events.close();
  }
});
