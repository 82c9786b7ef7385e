import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventStoreContract } from './contract.ts';
import { createMemoryEventStore } from '../../../src/platform/eventstore/memory.ts';

// A small page size so scanAll's paging is exercised as it is against DynamoDB.
eventStoreContract('memory', async () => createMemoryEventStore({ pageSize: 7 }), {
  makeStoreWith: async (storedEvents) => createMemoryEventStore({ pageSize: 7, storedEvents }),
});

describe('memory event store, beyond the contract', () => {
  const opts = { metadata: {}, now: '2030-01-01T00:00:00.000Z' };

  it('refuses an expected_version beyond the end of the stream (a gap DynamoDB would silently write)', async () => {
    const store = createMemoryEventStore();
    await assert.rejects(
      store.append([{ aggregate_id: 's', aggregate_type: 'Cart', expected_version: 2, events: [{ event_type: 'X', data: {} }] }], opts),
      RangeError,
    );
    assert.deepEqual(await store.readStream('s'), []);
  });

  it('hands out copies: mutating a returned event or a saved state does not change the store', async () => {
    const store = createMemoryEventStore();
    const [event] = await store.append(
      [{ aggregate_id: 's', aggregate_type: 'Cart', expected_version: 0, events: [{ event_type: 'X', data: { items: [1] } }] }],
      opts,
    );
    (event?.data.items as number[]).push(2);
    const [read] = await store.readStream('s');
    (read?.data.items as number[]).push(3);
    assert.deepEqual((await store.readStream('s'))[0]?.data, { items: [1] });
    const state = { list: [1] };
    await store.saveSnapshot({ aggregate_id: 's', version: 1, schema_version: 1, state });
    state.list.push(2);
    assert.deepEqual((await store.loadSnapshot('s'))?.state, { list: [1] });
  });

  it('stores what JSON can hold, like DynamoDB would', async () => {
    const store = createMemoryEventStore();
    const [event] = await store.append(
      [
        {
          aggregate_id: 's',
          aggregate_type: 'Cart',
          expected_version: 0,
          events: [{ event_type: 'X', data: { when: new Date(0), map: new Map([[1, 2]]) } }],
        },
      ],
      opts,
    );
    assert.deepEqual(event?.data, { when: '1970-01-01T00:00:00.000Z', map: {} });
  });

  it('tells expired idempotency records by its clock', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const store = createMemoryEventStore({ clock: () => now });
    await store.append([], { ...opts, idempotency: { key: 'k', request_hash: 'h', status: 200, body: null } });
    now += 24 * 3600_000 - 1000;
    assert.equal((await store.findIdempotency('k'))?.status, 200);
    now += 1000;
    assert.equal(await store.findIdempotency('k'), undefined);
  });
});
