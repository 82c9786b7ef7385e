/**
 * rebuildAll in a database of its own (it truncates every read table).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { rebuildAll } from '../../src/projections/rebuild.ts';
import { createProjectionRunner } from '../../src/projections/runner.ts';
import { shuffle } from '../../src/projections/testing.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, fakeEventStore, randomBatches, shopScenario, snapshot } from './projections-fixtures.ts';

const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});

test('a rebuild reproduces the live read model exactly and leaves side-effect records alone', async () => {
  const db = await createTestDatabase();
  databases.push(db);
  const histories = [shopScenario(), shopScenario(), shopScenario()];
  const events = histories.flatMap((h) => h.events);
  const store = fakeEventStore(events);

  // Live: shuffled, duplicated, gapped delivery.
  const live = createProjectionRunner({ pool: db.pool, eventStore: store });
  for (const batch of randomBatches(shuffle([...events, ...events.slice(0, 30)], 11), 4)) await live.applyBatch(batch);
  const before = await snapshot(db.pool);
  await db.pool.query(`INSERT INTO sent_emails (event_id, kind, order_id, recipient, subject, message_id) VALUES (gen_random_uuid(), 'placed', 'o', 'a@example.com', 's', 'm')`);
  await db.pool.query(`INSERT INTO saga_log (saga_id, saga_type, step, status) VALUES ('s1', 'shipping', 'initiated', 'done')`);
  // Damage the read model the way a bug would.
  await db.pool.query(`UPDATE read_orders SET status = 'lost'`);
  await db.pool.query(`UPDATE read_daily_sales SET revenue = revenue * 2`);

  const lines: string[] = [];
  const report = await rebuildAll({ pool: db.pool, eventStore: store, batchSize: 25, concurrency: 3, log: (l) => lines.push(l) });

  assert.deepEqual(await snapshot(db.pool), before);
  assert.equal(report.events, events.length);
  assert.equal(report.streams, new Set(events.map((e) => e.aggregate_id)).size);
  assert.ok(report.batches >= Math.ceil(events.length / 25));
  assert.ok(report.events_per_second > 0);
  assert.ok(report.truncated.includes('read_orders') && report.truncated.includes('processed_events') && report.truncated.includes('projection_streams'));
  assert.ok(!report.truncated.includes('sent_emails') && !report.truncated.includes('saga_log'));
  assert.equal((await db.pool.query('SELECT 1 FROM sent_emails')).rowCount, 1);
  assert.equal((await db.pool.query('SELECT 1 FROM saga_log')).rowCount, 1);
  assert.ok(lines.some((l) => /events\/s/.test(l)), lines.join('\n'));
  console.log(`rebuild: ${report.events} events, ${report.streams} streams, ${report.batches} batches, ${report.events_per_second} events/s`);
});
