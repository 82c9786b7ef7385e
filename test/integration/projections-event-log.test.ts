/**
 * The event log's two write paths against a real PostgreSQL: a large batch goes in by COPY, a small one by
 * insert-if-absent, and both give the same rows; a COPY that meets a row already logged (a stream position lost
 * while its log rows stayed) re-runs the batch insert-if-absent, with nothing logged or counted twice.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createParkingProjector } from '../../src/composition/projections/parking.ts';
import { createProjectionRunner } from '../../src/composition/projections/runner.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase, shopScenario, snapshot } from './projections-fixtures.ts';

const databases: TestDatabase[] = [];
after(async () => {
  await Promise.all(databases.map((d) => d.drop()));
});
const ownDatabase = async () => {
  const db = await createTestDatabase();
  databases.push(db);
  return db.pool;
};

/** Two shops' worth of events (82): above the COPY threshold in one batch. */
const workload = (): EventEnvelope[] => [...shopScenario({ prefix: 'log-a' }).events, ...shopScenario({ prefix: 'log-b' }).events];

test('one large batch (COPY) and the same events one by one (INSERT) give the same read model, secrets left out', async () => {
  const events = workload();
  assert.ok(events.length >= 64, `a batch large enough for COPY: ${events.length}`);
  const copied = await ownDatabase();
  const inserted = await ownDatabase();
  const copyResult = await createProjectionRunner({ pool: copied }).applyBatch(events);
  assert.equal(copyResult.applied, events.length);
  const one = createProjectionRunner({ pool: inserted });
  for (const e of events) await one.applyBatch([e]);
  assert.deepEqual(await snapshot(copied), await snapshot(inserted));
  const { rows } = await copied.query<{ n: number; secrets: number }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE data::text ~* 'password|secret|token')::int AS secrets FROM read_event_log`,
  );
  assert.deepEqual(rows[0], { n: events.length, secrets: 0 });
});

test('a COPY that meets an event already logged re-runs the batch insert-if-absent: nothing twice, the same read model', async () => {
  type Pool = Parameters<typeof createProjectionRunner>[0]['pool'];
  for (const make of [
    (pool: Pool, log: (l: string) => void) => createProjectionRunner({ pool, log }),
    (pool: Pool, log: (l: string) => void) => createParkingProjector({ pool, isTransient: () => false, log }),
  ]) {
    const lines: string[] = [];
    const log = (l: string) => lines.push(l);
    const events = workload();
    const reference = await ownDatabase();
    await make(reference, () => {}).applyBatch(events);

    const pool = await ownDatabase();
    const applier = make(pool, log);
    const orderId = events.find((e) => e.event_type === 'OrderPlaced')!.aggregate_id;
    const early = events.filter((e) => e.aggregate_id === orderId);
    await applier.applyBatch(early);
    // The order's position is lost while its log rows stay: the whole workload now redelivers those versions.
    await pool.query('UPDATE projection_streams SET version = 0 WHERE aggregate_id = $1', [orderId]);
    const result = await applier.applyBatch(events);
    assert.equal(result.applied, events.length, 'every event applied (the order again, from version 1)');
    if ('parked' in result) assert.deepEqual(result.parked, [], 'nothing parked');
    assert.ok(
      lines.some((l) => l.includes('read_event_log already holds')),
      `the COPY met the logged rows and the batch was re-run: ${lines.join(' | ')}`,
    );
    const logged = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM read_event_log WHERE aggregate_id = $1', [orderId]);
    assert.equal(logged.rows[0]!.n, early.length, 'each event of the order logged once');
    assert.deepEqual(await snapshot(pool), await snapshot(reference), 'the same read model as one clean delivery, marketing counted once');
  }
});
