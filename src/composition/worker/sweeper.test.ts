import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryEventStore } from '../../platform/eventstore/memory.ts';
import type { EventStore } from '../../platform/eventstore/types.ts';
import { silentLogger } from '../../platform/messaging/log.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
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
      for (const d of done)
        for (const e of events) if (e.aggregate_id === d.aggregate_id && e.version === d.version) marked.delete(e.event_id);
    },
  };
  return { store, marked, queries, failMarkPublished: () => (failMark = true) };
}

/** What kafkajs throws when the broker refuses a record batch (KafkaJSProtocolError, inside a retry error). */
const tooLarge = () =>
  Object.assign(new Error('Number of retries exceeded'), {
    cause: Object.assign(new Error('The request included a message larger than the max message size the server will accept'), {
      type: 'MESSAGE_TOO_LARGE',
    }),
  });

function fakePublisher(refuse: Set<string> = new Set()) {
  const published: string[][] = [];
  const calls: string[][] = [];
  let failures = 0;
  return {
    published,
    calls,
    failNext(n: number) {
      failures = n;
    },
    async publish(events: EventEnvelope[]) {
      calls.push(events.map((e) => e.event_id));
      if (failures > 0) {
        failures -= 1;
        throw new Error('Kafka is unavailable');
      }
      // Like a broker: the request fails as a whole when any of its records is refused.
      if (events.some((e) => refuse.has(e.event_id))) throw tooLarge();
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

    assert.deepEqual(
      [await sweeper.sweepOnce(), await sweeper.sweepOnce(), await sweeper.sweepOnce(), await sweeper.sweepOnce()],
      [2, 2, 1, 0],
    );
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
    await store.append(
      [{ aggregate_id: 'o-1', aggregate_type: 'Order', expected_version: 0, events: [{ event_type: 'OrderPlaced', data: {} }] }],
      { metadata: {}, now: at(0) },
    );
    await store.append(
      [{ aggregate_id: 'o-1', aggregate_type: 'Order', expected_version: 1, events: [{ event_type: 'OrderPaid', data: {} }] }],
      { metadata: {}, now: at(3_000) },
    );
    const publisher = fakePublisher();
    let now = 4_000;
    const sweeper = createOutboxSweeper({ store, publisher, clock: () => new Date(T0 + now), graceMs: 2_000, log: silentLogger() });

    assert.equal(await sweeper.sweepOnce(), 1, 'OrderPlaced is 4 s old, OrderPaid only 1 s');
    now = 10_000;
    assert.equal(await sweeper.sweepOnce(), 1);
    assert.deepEqual(await store.findUnpublished(at(60_000), 10), []);
    assert.equal(publisher.published.length, 2);
  });
  it('republishes a stream in version order even when its timestamps disagree (api clocks differ)', async () => {
    // b-2 was appended by an api whose clock is behind the one that appended b-1.
    const events = [envelope('b', 2, at(900)), envelope('a', 1, at(950)), envelope('b', 1, at(1000)), envelope('b', 3, at(1100))];
    const { store } = fakeStore(events);
    const publisher = fakePublisher();
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(60_000), log: silentLogger() });

    await sweeper.sweepOnce();
    assert.deepEqual(publisher.published, [['b-1', 'b-2', 'b-3', 'a-1']], 'b starts at 900 (its oldest), and goes out 1, 2, 3');
  });

  it('isolates an event the broker refuses: parks it, publishes every other one in order, and stops retrying it on every sweep', async () => {
    const events = Array.from({ length: 8 }, (_, i) => envelope(`s${i % 3}`, Math.floor(i / 3) + 1, at(i)));
    const poison = events[4]!; // s1 v2
    const { store, marked, queries } = fakeStore(events);
    const publisher = fakePublisher(new Set([poison.event_id]));
    const errors: string[] = [];
    const log = { ...silentLogger(), error: (m: string) => void errors.push(m) };
    let now = 60_000;
    const sweeper = createOutboxSweeper({ store, publisher, clock: () => new Date(T0 + now), parkRetryMs: 600_000, log });

    assert.equal(await sweeper.sweepOnce(), 8);
    const published = publisher.published.flat();
    assert.deepEqual(
      [...published].sort(),
      events
        .filter((e) => e !== poison)
        .map((e) => e.event_id)
        .sort(),
      'everything else went out',
    );
    for (const stream of ['s0', 's1', 's2']) {
      const versions = published.filter((id) => id.startsWith(`${stream}-`)).map((id) => Number(id.split('-')[1]));
      assert.deepEqual(
        versions,
        [...versions].sort((x, y) => x - y),
        `${stream} in version order`,
      );
    }
    assert.deepEqual([...marked], [poison.event_id], 'only the refused event stays marked');
    assert.deepEqual([...sweeper.parked().keys()], ['s1@2']);
    assert.match(sweeper.parked().get('s1@2') ?? '', /larger than the max message size/);
    assert.equal(errors.length, 1);
    assert.ok(publisher.calls.length <= 1 + 2 * Math.log2(8) + 1, `bisected: ${publisher.calls.length} publish calls`);
    assert.equal(sweeper.health().ok, true, 'a parked event is not a failing sweeper');
    assert.equal(sweeper.health().parked, 1);

    // Later sweeps skip it (and look past it: the page asks for one more) …
    const callsBefore = publisher.calls.length;
    assert.equal(await sweeper.sweepOnce(), 0);
    assert.equal(publisher.calls.length, callsBefore, 'not retried on every sweep');
    assert.equal(queries.at(-1)?.limit, 201);
    // … until its retry is due; a broker that now takes it clears it.
    now += 600_001;
    publisher.published.length = 0;
    const accepting = fakePublisher();
    const later = createOutboxSweeper({ store, publisher: accepting, clock: () => new Date(T0 + now), log: silentLogger() });
    assert.equal(await later.sweepOnce(), 1);
    assert.equal(marked.size, 0);
    assert.equal(await sweeper.sweepOnce(), 0, 'the first sweeper finds nothing left either');
  });

  it('does not bisect an outage: the sweep fails as a whole and every marker stays', async () => {
    const { store, marked } = fakeStore([envelope('a', 1, at(0)), envelope('b', 1, at(1))]);
    const publisher = fakePublisher();
    publisher.failNext(1);
    const sweeper = createOutboxSweeper({ store, publisher, clock: fixedClock(60_000), log: silentLogger() });
    await assert.rejects(sweeper.sweepOnce(), /Kafka is unavailable/);
    assert.equal(publisher.calls.length, 1);
    assert.equal(marked.size, 2);
    assert.deepEqual([...sweeper.parked()], []);
  });

  it('reports its health: failing from the first failed sweep until one succeeds', async () => {
    const { store } = fakeStore([envelope('a', 1, at(0))]);
    const publisher = fakePublisher();
    publisher.failNext(2);
    const sweeper = createOutboxSweeper({
      store,
      publisher,
      clock: fixedClock(60_000),
      intervalMs: 1,
      maxBackoffMs: 2,
      log: silentLogger(),
    });
    assert.equal(sweeper.health().ok, true);
    sweeper.start();
    const deadline = Date.now() + 5_000;
    let sawFailing = false;
    while (publisher.published.length === 0 && Date.now() < deadline) {
      if (!sweeper.health().ok) sawFailing = true;
      await new Promise((r) => setTimeout(r, 1));
    }
    await sweeper.stop();
    assert.ok(sawFailing, 'unhealthy while failing');
    assert.equal(sweeper.health().ok, true);
    assert.equal(sweeper.health().consecutive_failures, 0);
    assert.ok(sweeper.health().last_success_at);
  });
});
