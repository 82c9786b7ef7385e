import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryEventStore } from '../platform/eventstore/memory.ts';
import type { EventStore } from '../platform/eventstore/types.ts';
import { conflict } from '../platform/shared/errors.ts';
import { createLogger } from '../platform/shared/log.ts';
import { createExecutor, hashRequest } from './executor.ts';
import type { CommandHandler } from './handler.ts';

const log = createLogger('test', { level: 'error' });
const executorOn = (store: EventStore) => createExecutor({ store, publisher: { publish: async () => {} }, clock: () => new Date(), log });
const idempotency = { key: 'u1:POST /orders:k1', requestHash: hashRequest('') };
const metadata = { correlation_id: 'c' };

/** Checkout-like: places the order once, and refuses when there is nothing left to place (the cart was emptied). */
const checkout =
  (store: EventStore): CommandHandler<undefined, { order_id: string }> =>
  async () => {
    if ((await store.readStream('order-1')).length > 0) throw conflict('cart_empty', 'the cart is empty');
    return {
      writes: [
        { aggregate_id: 'order-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: { n: 1 } }] },
      ],
      result: { order_id: 'order-1' },
    };
  };

test('a duplicate that decides after the first request committed gets the first answer, not a refusal', async () => {
  const store = createMemoryEventStore();
  const first = await executorOn(store).executeOnce(checkout(store), undefined, { metadata, idempotency, status: 201 });
  assert.deepEqual(first, { replayed: false, result: { order_id: 'order-1' } });
  // The duplicate looked the key up just before the first request committed, and decides just after.
  let lookups = 0;
  const late: EventStore = { ...store, findIdempotency: async (key) => (lookups++ === 0 ? undefined : store.findIdempotency(key)) };
  const duplicate = await executorOn(late).executeOnce(checkout(store), undefined, { metadata, idempotency, status: 201 });
  assert.deepEqual(duplicate, { replayed: true, answer: { status: 201, body: { order_id: 'order-1' } } });
  assert.equal((await store.readStream('order-1')).length, 1);
});

test('a refusal without an earlier success stays a refusal', async () => {
  const store = createMemoryEventStore();
  await store.append(
    [{ aggregate_id: 'order-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: {} }] }],
    { metadata, now: new Date().toISOString() },
  );
  await assert.rejects(
    executorOn(store).executeOnce(checkout(store), undefined, { metadata, idempotency, status: 201 }),
    /the cart is empty/,
  );
});
