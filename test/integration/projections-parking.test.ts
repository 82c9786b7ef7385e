/**
 * Issue 10: one event that always fails to project must not freeze its stream's partition. It parks its stream
 * (error + held-back events) while every other stream goes on, and a retry after the fix brings it up to date.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, test } from 'node:test';
import { isTransientError } from '../../src/platform/messaging/retry.ts';
import { carts } from '../../src/contexts/carts/projection.ts';
import { createParkingProjector } from '../../src/composition/projections/parking.ts';
import { pruneProcessedEvents } from '../../src/platform/projections/pruning.ts';
import { STREAM_PROJECTIONS } from '../../src/composition/projections/registry.ts';
import { stream, tickingClock } from '../support/projection.ts';
import type { TableProjection } from '../../src/kernel/projection.ts';
import { anyRow } from '../../src/kernel/projection.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, fakeEventStore } from './projections-fixtures.ts';

let db: TestDatabase | undefined;
after(async () => db?.drop());

test('a poison event parks its stream while 1,000 events of other streams project; a retry after the fix catches it up', async () => {
  db = await createTestDatabase();
  const p = uniq('park');
  const clock = tickingClock();
  const poisonProduct = `${p}-cursed`;
  // The bug to be fixed: the carts fold throws on one product (as the integer overflow did).
  const bug = { on: true };
  const buggyCarts = anyRow({
    ...carts,
    evolve: (row, e) => {
      if (bug.on && e.event_type === 'ItemAddedToCart' && e.data.product_id === poisonProduct) throw new Error('cannot project this line');
      return carts.evolve(row, e);
    },
  } satisfies typeof carts);
  const projections: TableProjection[] = STREAM_PROJECTIONS.map((x) => (x.name === 'carts' ? buggyCarts : x));

  const add = (user: string, product: string, n: number) => ({
    cart_id: `cart-${user}`,
    user_id: user,
    product_id: product,
    quantity: 1,
    line_quantity: n,
    price: 100,
    name: product,
  });
  const history: EventEnvelope[] = [];
  const others: EventEnvelope[] = [];
  for (let u = 0; u < 200; u++) {
    const user = `${p}-u${u}`;
    const s = stream('Cart', `cart-${user}`, clock);
    for (let i = 1; i <= 5; i++) others.push(s.next('ItemAddedToCart', add(user, `${p}-prod`, i)));
  }
  const victim = `${p}-victim`;
  const poisoned = stream('Cart', `cart-${victim}`, clock);
  poisoned.next('ItemAddedToCart', add(victim, `${p}-ok`, 1));
  poisoned.next('ItemAddedToCart', add(victim, poisonProduct, 1));
  poisoned.next('ItemAddedToCart', add(victim, `${p}-ok`, 2));
  history.push(...others, ...poisoned.events);

  const logs: string[] = [];
  const projector = createParkingProjector({
    pool: db.pool,
    eventStore: fakeEventStore(history),
    projections,
    isTransient: isTransientError,
    log: (l) => logs.push(l),
  });

  // One delivery of everything, the poison stream in the middle of it.
  const first = await projector.applyBatch([...others.slice(0, 500), ...poisoned.events, ...others.slice(500)]);
  assert.equal(first.applied, 1000);
  assert.deepEqual(first.parked, [`cart-${victim}`]);

  const { rows: projected } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::integer AS n FROM read_carts WHERE user_id LIKE $1 AND version = 5`,
    [`${p}-u%`],
  );
  assert.equal(projected[0]?.n, 200, 'every other stream is fully projected');
  assert.equal(
    (await db.pool.query('SELECT 1 FROM read_carts WHERE user_id = $1', [victim])).rowCount,
    0,
    'the parked stream is applied all or nothing',
  );

  // Later events of the parked stream are held back, not re-failed; other streams keep going.
  const later = poisoned.next('ItemAddedToCart', add(victim, `${p}-ok`, 3));
  history.push(later);
  const bystander = stream('Cart', `cart-${p}-late`, clock).next('ItemAddedToCart', add(`${p}-late`, `${p}-prod`, 1));
  const second = await projector.applyBatch([later, bystander]);
  assert.deepEqual([second.applied, second.held, second.parked], [1, 1, []]);

  const [parked, ...more] = await projector.list();
  assert.equal(more.length, 0);
  assert.equal(parked?.aggregate_id, `cart-${victim}`);
  assert.match(parked!.error, /cannot project this line/);
  assert.equal(parked?.held_events, 4);

  // Still broken: the retry fails, says why, and the stream stays parked with its events.
  await assert.rejects(projector.retry(`cart-${victim}`), /cannot project this line/);
  assert.equal((await projector.list())[0]?.attempts, 2);

  // After the fix the retry applies the held-back events in order and unparks the stream.
  bug.on = false;
  assert.deepEqual(await projector.retry(`cart-${victim}`), { applied: 4, repaired: 0 });
  assert.deepEqual(await projector.list(), []);
  const { rows } = await db.pool.query<{ version: number; total: number; items: Array<{ product_id: string; quantity: number }> }>(
    'SELECT version, total, items FROM read_carts WHERE user_id = $1',
    [victim],
  );
  assert.equal(rows[0]?.version, 4);
  assert.deepEqual(
    rows[0]?.items.map((l) => [l.product_id, l.quantity]),
    [
      [`${p}-ok`, 3],
      [poisonProduct, 1],
    ],
  );
  assert.equal(await projector.retry(`cart-${victim}`), undefined, 'nothing left to retry');
  // And it projects normally again.
  const next = poisoned.next('CartCleared', { cart_id: `cart-${victim}`, user_id: victim, reason: 'user' });
  assert.equal((await projector.applyBatch([next])).applied, 1);
});

test('processed_events older than the redelivery window are pruned; newer ones stay', async () => {
  const own = await createTestDatabase();
  try {
    const old = randomUUID();
    const fresh = randomUUID();
    await own.pool.query(
      `INSERT INTO processed_events (event_id, projection, processed_at) VALUES ($1, 'marketing', now() - interval '31 days'), ($2, 'marketing', now() - interval '29 days')`,
      [old, fresh],
    );
    assert.equal(await pruneProcessedEvents(own.pool, { keepDays: 30, batch: 1 }), 1);
    const { rows } = await own.pool.query<{ event_id: string }>('SELECT event_id::text FROM processed_events');
    assert.deepEqual(
      rows.map((r) => r.event_id),
      [fresh],
    );
  } finally {
    await own.drop();
  }
});
