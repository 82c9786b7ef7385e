import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { inventoryStreamId } from '../contexts/inventory/index.ts';
import { createMemoryEventStore } from '../platform/eventstore/memory.ts';
import type { EventStore } from '../platform/eventstore/types.ts';
import { createLogger } from '../platform/shared/log.ts';
import { createApplication } from '../composition/application.ts';

const metadata = { correlation_id: 'c' };

/** The memory store, counting the reads and the appends a command makes. */
function countingStore() {
  const store = createMemoryEventStore();
  const calls = { snapshots: 0, reads: 0, appends: 0, conflicts: 0 };
  const counted: EventStore = {
    ...store,
    loadSnapshots: (ids) => ((calls.snapshots += 1), store.loadSnapshots(ids)),
    loadSnapshot: (id) => ((calls.snapshots += 1), store.loadSnapshot(id)),
    readStream: (id, o) => ((calls.reads += 1), store.readStream(id, o)),
    append: async (writes, o) => {
      calls.appends += 1;
      try {
        return await store.append(writes, o);
      } catch (err) {
        calls.conflicts += 1;
        throw err;
      }
    },
  };
  return { store, counted, calls };
}

test("a command decides from this process's own last commit without reading; another process's write costs one lost check, then it reads", async () => {
  const { store, counted, calls } = countingStore();
  const app = createApplication({
    store: counted,
    publisher: { publish: async () => {} },
    clock: () => new Date(),
    newId: randomUUID,
    log: createLogger('test', { level: 'error' }),
    snapshotEvery: 100,
    reservationTtlSeconds: 900,
  });
  const productId = randomUUID();
  await app.executor.execute(
    app.catalog.createProduct,
    { product_id: productId, name: 'mug', description: 'd', price: 1500, stock: 5, category: null },
    { metadata },
  );

  const before = { ...calls };
  const added = await app.executor.execute(app.inventory.addStock, { product_id: productId, quantity: 1 }, { metadata });
  assert.equal(added.total_quantity, 6);
  assert.deepEqual(
    { snapshots: calls.snapshots - before.snapshots, reads: calls.reads - before.reads, appends: calls.appends - before.appends },
    { snapshots: 0, reads: 0, appends: 1 },
    'product and inventory taken from the commits',
  );

  // Another process moves the inventory: the remembered state is stale, the append's check catches it.
  await store.append(
    [
      {
        aggregate_id: inventoryStreamId(productId),
        aggregate_type: 'Inventory',
        expected_version: 2,
        events: [{ event_type: 'StockAdded', data: { product_id: productId, quantity: 10, added_at: new Date().toISOString() } }],
      },
    ],
    {
      metadata,
      now: new Date().toISOString(),
    },
  );
  const next = await app.executor.execute(app.inventory.addStock, { product_id: productId, quantity: 1 }, { metadata });
  assert.equal(next.total_quantity, 17, 'decided again on the stream as it is');
  assert.equal(calls.conflicts, 1);

  // Seen shared: the next command reads the inventory (no lost check), though this process committed it last.
  const afterShared = { ...calls };
  const third = await app.executor.execute(app.inventory.addStock, { product_id: productId, quantity: 1 }, { metadata });
  assert.equal(third.total_quantity, 18);
  assert.equal(calls.conflicts, 1, 'no second lost check');
  assert.ok(calls.snapshots - afterShared.snapshots >= 1, 'the shared stream is read');
});
