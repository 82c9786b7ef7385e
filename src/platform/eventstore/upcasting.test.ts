import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { createContractRegistry, defineEvent } from '../shared/contract.ts';
import { createMemoryEventStore } from './memory.ts';
import { withUpcasting } from './upcasting.ts';

// A contract at version 2: v1 data had no currency, v2 adds it. Old events (stored v1) must come out as v2.
const contracts = createContractRegistry([
  defineEvent('PriceSet', z.object({ amount: z.int(), currency: z.string() }), {
    version: 2,
    upcasters: { 1: (d) => ({ ...d, currency: 'JPY' }) },
  }),
]);
const at = '2026-12-03T10:00:00.000Z';
const opts = { metadata: {}, now: at };
const priceSet = (aggregate_id: string, data: Record<string, unknown>, schema_version?: number) => ({
  aggregate_id,
  aggregate_type: 'Product' as const,
  expected_version: 0,
  events: [{ event_type: 'PriceSet', data, ...(schema_version === undefined ? {} : { schema_version }) }],
});

test('an appended event without a schema_version is stamped with its contract current version, not 1', async () => {
  const raw = createMemoryEventStore();
  const store = withUpcasting(raw, contracts.upcast, contracts.currentVersion);
  const [stamped] = await store.append([priceSet('p-1', { amount: 100, currency: 'USD' })], opts);
  assert.equal(stamped!.schema_version, 2);
  // Read back through the store unwrapped: stored as v2, so the v1 → v2 upcaster never runs over it.
  const [stored] = await raw.readStream('p-1');
  assert.equal(stored!.schema_version, 2);
  assert.deepEqual((await store.readStream('p-1'))[0]!.data, { amount: 100, currency: 'USD' });
  // An explicit version (a writer that knows better, e.g. a migration) is kept; an unknown type gets 1.
  const [explicit] = await store.append([priceSet('p-2', { amount: 5 }, 1)], opts);
  assert.equal(explicit!.schema_version, 1);
  const [unknown] = await store.append([{ ...priceSet('p-3', {}), events: [{ event_type: 'SomethingElse', data: {} }] }], opts);
  assert.equal(unknown!.schema_version, 1);
});

test('the outbox the sweeper republishes comes out upcast, like readStream and scanAll', async () => {
  const raw = createMemoryEventStore();
  await raw.append([priceSet('p-old', { amount: 700 }, 1)], opts);
  const store = withUpcasting(raw, contracts.upcast, contracts.currentVersion);
  const [found] = await store.findUnpublished('2026-12-03T11:00:00.000Z', 10);
  assert.equal(found!.aggregate_id, 'p-old');
  assert.equal(found!.schema_version, 2);
  assert.deepEqual(found!.data, { amount: 700, currency: 'JPY' });
  // Republished and read by a rebuild, the same event has the same data.
  assert.deepEqual((await store.readStream('p-old'))[0]!.data, found!.data);
  await store.markPublished([found!]);
  assert.deepEqual(await store.findUnpublished('2026-12-03T11:00:00.000Z', 10), []);
});
