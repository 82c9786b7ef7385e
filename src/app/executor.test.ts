import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryEventStore } from '../eventstore/memory.ts';
import type { EventStore } from '../eventstore/types.ts';
import { conflict } from '../shared/errors.ts';
import { createLogger } from '../shared/log.ts';
import { createExecutor, hashRequest, type Plan } from './executor.ts';

const log = createLogger('test', { level: 'error' });
const executorOn = (store: EventStore) => createExecutor({ store, publisher: { publish: async () => {} }, clock: () => new Date(), log });
const idempotency = { key: 'u1:POST /orders:k1', requestHash: hashRequest('') };
const metadata = { correlation_id: 'c' };

/** Checkout-like: places the order once, and refuses when there is nothing left to place (the cart was emptied). */
const checkout = (store: EventStore) => async (): Promise<Plan> => {
  if ((await store.readStream('order-1')).length > 0) throw conflict('cart_empty', 'the cart is empty');
  return {
    writes: [{ aggregate_id: 'order-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: { n: 1 } }] }],
    status: 201,
    body: { order_id: 'order-1' },
  };
};

test('a duplicate that decides after the first request committed gets the first answer, not a refusal', async () => {
  const store = createMemoryEventStore();
  const first = await executorOn(store).run(checkout(store), { metadata, idempotency });
  // The duplicate looked the key up just before the first request committed, and decides just after.
  let lookups = 0;
  const late: EventStore = { ...store, findIdempotency: async (key) => (lookups++ === 0 ? undefined : store.findIdempotency(key)) };
  const duplicate = await executorOn(late).run(checkout(store), { metadata, idempotency });
  assert.deepEqual(duplicate, { status: 201, body: first.body, replayed: true });
  assert.equal((await store.readStream('order-1')).length, 1);
});

test('a refusal without an earlier success stays a refusal', async () => {
  const store = createMemoryEventStore();
  await store.append([{ aggregate_id: 'order-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: {} }] }], { metadata, now: new Date().toISOString() });
  await assert.rejects(executorOn(store).run(checkout(store), { metadata, idempotency }), /the cart is empty/);
});
