import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryEventStore } from '../eventstore/memory.ts';
import type { EventStore } from '../eventstore/types.ts';
import { mayRead } from './stream-access.ts';

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const ORDER = '33333333-3333-4333-8333-333333333333';
const PRODUCT = '44444444-4444-4444-8444-444444444444';
const now = '2030-01-01T00:00:00.000Z';

test('ownership is decided from the id or the first event only, never by reading the whole stream', async () => {
  const store = createMemoryEventStore();
  await store.append(
    [
      {
        aggregate_id: ORDER,
        aggregate_type: 'Order',
        expected_version: 0,
        events: Array.from({ length: 50 }, (_, i) => ({ event_type: i ? 'OrderPaid' : 'OrderPlaced', data: { user_id: A } })),
      },
      { aggregate_id: PRODUCT, aggregate_type: 'Product', expected_version: 0, events: [{ event_type: 'ProductCreated', data: {} }] },
    ],
    { metadata: {}, now },
  );
  const reads: Array<number | undefined> = [];
  const spy: EventStore = { ...store, readStream: (id, o) => (reads.push(o?.toVersion), store.readStream(id, o)) };
  const a = { user_id: A, email: 'a@example.com', role: 'customer' as const };
  const b = { user_id: B, email: 'b@example.com', role: 'customer' as const };
  assert.equal(await mayRead(spy, a, ORDER), true);
  assert.equal(await mayRead(spy, b, ORDER), false);
  assert.equal(await mayRead(spy, undefined, ORDER), false);
  assert.equal(await mayRead(spy, undefined, PRODUCT), false, 'products are not open unless asked');
  assert.equal(await mayRead(spy, undefined, PRODUCT, ['Product']), true);
  assert.deepEqual(reads, [1, 1, 1, 1, 1], 'one single-event read each');
  reads.length = 0;
  assert.equal(await mayRead(spy, a, `cart-${A}`), true);
  assert.equal(await mayRead(spy, b, `cart-${A}`), false);
  assert.equal(await mayRead(spy, a, A), true);
  for (const id of [`inventory-${PRODUCT}`, 'user-email:a@example.com', 'category-name:x', `shipment-${ORDER}`])
    assert.equal(await mayRead(spy, a, id), false, id);
  assert.deepEqual(reads, [], 'decided from the id alone');
  assert.equal(await mayRead(spy, { ...a, role: 'admin' }, `inventory-${PRODUCT}`), true);
});
