import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryEventStore } from '../eventstore/memory.ts';
import type { EventStore } from '../eventstore/types.ts';
import { silentLogger } from '../messaging/log.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { createOutboxSweeper } from './sweeper.ts';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function envelope(aggregateId: string, version: number, createdAt: string): EventEnvelope {
  return {
    event_id: `${aggregateId}-${version}`,
    aggregate_id: aggregateId,
    aggregate_type: 'Order',
    event_type: 'OrderPlaced',
    version,
    data: {},
    metadata: {},
    created_at: createdAt,
    schema_version: 1,
  };
}

/** An outbox that answers in the order it was filled (deliberately not sorted) and records what it was asked. */
function fakeStore(events: EventEnvelope[]) {
  const marked = new Set(events.map((e) => e.event_id));
  const queries: Array<{ before: string; limit: number }> = [];
  let failMark = false;
  const store: Pick<EventStore, 'findUnpublished' | 'markPublished'> = {
    async findUnpublished(before, limit) {
      queries.push({ before, limit });
      return events.filter((e) => marked.has(e.event_id) && e.created_at < before).slice(0, limit);
    },
    async markPublished(done) {
      if (failMark) throw new Error('DynamoDB throttled');
      for (const d of done) for (const e of events) if (e.aggregate_id === d.aggregate_id && e.version === d.version) marked.delete(e.event_id);
    },
  };
  return { store, marked, queries, failMarkPublished: () => (failMark = true) };
}

function fakePublisher() {
  const published: string[][] = [];
  let failures = 0;
  return {
    published,
    failNext(n: number) {
      failures = n;
    },
    async publish(events: EventEnvelope[]) {
      if (failures > 0) {
        failures -= 1;
        throw new Error('Kafka is unavailable');
      }
      published.push(events.map((e) => e.event_id));
    },
  };
}

const fixedClock = (ms: number) => () => new Date(T0 + ms);

describe('outbox sweeper', () => {
  it('republishes orphaned events in created order (stream version breaking ties), then clears their markers', async () => {
    const events = [envelope('b', 2, at(2000)), envelope('b', 1, at(2000)), envelope('a', 3, at(1000)), envelope('c', 1, at(1500))];
    const { store, marked } = fakeStore(events);
    const publisher = fakePublisher();
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(60_000), log: silentLogger() });

    assert.equal(await sweeper.sweepOnce(), 4);
    assert.deepEqual(publisher.published, [['a-3', 'c-1', 'b-1', 'b-2']]);
    assert.equal(marked.size, 0);
    assert.equal(await sweeper.sweepOnce(), 0, 'nothing left to sweep');
    assert.equal(publisher.published.length, 1);
  });

  it('leaves events younger than the grace period to the api', async () => {
    const { store, marked, queries } = fakeStore([envelope('old', 1, at(0)), envelope('fresh', 1, at(4_000))]);
    const publisher = fakePublisher();
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(9_000), graceMs: 5_000, log: silentLogger() });

    assert.equal(await sweeper.sweepOnce(), 1);
    assert.deepEqual(queries[0], { before: at(4_000), limit: 200 });
    assert.deepEqual(publisher.published, [['old-1']]);
    assert.deepEqual([...marked], ['fresh-1']);
  });

  it('keeps the markers when publishing fails, and the next sweep publishes the same events', async () => {
    const { store, marked } = fakeStore([envelope('a', 1, at(0)), envelope('a', 2, at(0))]);
    const publisher = fakePublisher();
    publisher.failNext(1);
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(10_000), log: silentLogger() });

    await assert.rejects(sweeper.sweepOnce(), /Kafka is unavailable/);
    assert.equal(marked.size, 2, 'markers untouched');
    assert.equal(await sweeper.sweepOnce(), 2);
    assert.deepEqual(publisher.published, [['a-1', 'a-2']]);
    assert.equal(marked.size, 0);
  });

  it('counts events as republished even when clearing their markers fails (a later duplicate is harmless)', async () => {
    const { store, marked, failMarkPublished } = fakeStore([envelope('a', 1, at(0))]);
    failMarkPublished();
    const publisher = fakePublisher();
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(10_000), log: silentLogger() });

    assert.equal(await sweeper.sweepOnce(), 1);
    assert.equal(marked.size, 1);
    assert.equal(await sweeper.sweepOnce(), 1, 'republished again: at-least-once');
  });

  it('sweeps at most batchSize events at a time', async () => {
    const { store, queries } = fakeStore(Array.from({ length: 5 }, (_, i) => envelope(`s${i}`, 1, at(i))));
    const publisher = fakePublisher();
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(10_000), batchSize: 2, log: silentLogger() });

    assert.deepEqual([await sweeper.sweepOnce(), await sweeper.sweepOnce(), await sweeper.sweepOnce(), await sweeper.sweepOnce()], [2, 2, 1, 0]);
    assert.ok(queries.every((q) => q.limit === 2));
    assert.deepEqual(publisher.published.flat(), ['s0-1', 's1-1', 's2-1', 's3-1', 's4-1']);
  });

  it('keeps running through publish failures once started, and stop() ends it', async () => {
    const { store, marked } = fakeStore([envelope('a', 1, at(0))]);
    const publisher = fakePublisher();
    publisher.failNext(3);
    const warnings: string[] = [];
    const log = { ...silentLogger(), warn: (message: string) => void warnings.push(message) };
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(10_000), intervalMs: 1, maxBackoffMs: 4, log });

    sweeper.start();
    const deadline = Date.now() + 5_000;
    while (marked.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await sweeper.stop();

    assert.equal(marked.size, 0, 'published after the broker came back');
    assert.deepEqual(publisher.published, [['a-1']]);
    assert.equal(warnings.filter((w) => /sweep failed/.test(w)).length, 3);
    const calls = publisher.published.length;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(publisher.published.length, calls, 'no sweeps after stop()');
  });

  it('works against the in-memory event store: only events older than the grace period, cleared afterwards', async () => {
    const store = createMemoryEventStore();
    await store.append([{ aggregate_id: 'o-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: {} }] }], { metadata: {}, now: at(0) });
    await store.append([{ aggregate_id: 'o-1', aggregate_type: 'Order', expected_version: 1, events: [{ event_type: 'OrderPaid', data: {} }] }], { metadata: {}, now: at(3_000) });
    const publisher = fakePublisher();
    let now = 4_000;
    const sweeper = createOutboxSweeper({ store, publisher, clock: () => new Date(T0 + now), graceMs: 2_000, log: silentLogger() });

    assert.equal(await sweeper.sweepOnce(), 1, 'OrderPlaced is 4 s old, OrderPaid only 1 s');
    now = 10_000;
    assert.equal(await sweeper.sweepOnce(), 1);
    assert.deepEqual(await store.findUnpublished(at(60_000), 10), []);
    assert.equal(publisher.published.length, 2);
  });
});
