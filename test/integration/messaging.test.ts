/**
 * The messaging layer against a real Kafka-protocol broker over TCP: the dev broker started in-process, or
 * whatever KAFKA_BROKERS points at. Every test uses fresh topics and groups, so tests never see each other's
 * records and need no clean-up. The outage tests always start their own dev broker: stopping a shared one
 * would break whatever else uses it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { kafkaTopics } from '../../src/platform/shared/config.ts';
import type { BatchHandler } from '../../src/platform/messaging/batch.ts';
import type { ConsumerOptions, RunningConsumer } from '../../src/platform/messaging/consumer.ts';
import { consumerLag } from '../../src/platform/messaging/lag.ts';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { createPublisher, producerFor, PublishTimeoutError, PublishUnavailableError } from '../../src/platform/messaging/publisher.ts';
import { decodeEnvelope } from '../../src/platform/messaging/codec.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import { runConsumer } from '../../src/platform/messaging/consumer.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { startBroker } from 'kafka-dev-broker';
import { createLogger } from '../../src/platform/shared/log.ts';
import { uniq } from '../support/env.ts';

const SESSION_TIMEOUT = 6_000; // the broker's (and Kafka's) minimum
const PARTITIONS = 3;
const { topic: TOPIC_EVENTS, dlqTopic: TOPIC_DLQ } = kafkaTopics();

let kafka: Kafka;
let closeBroker: (() => Promise<void>) | undefined;
const running: RunningConsumer[] = [];

before(async () => {
  let brokers = process.env.KAFKA_BROKERS?.split(',');
  if (!brokers) {
    const broker = await startBroker({ port: 0, logger: () => {} });
    closeBroker = () => broker.close();
    brokers = [`${broker.host}:${broker.port}`];
  }
  kafka = createKafka({
    brokers,
    clientId: uniq('messaging-test'),
    logger: createLogger('kafkajs', { level: 'error', write: (line) => process.stderr.write(`${line}\n`) }),
    logLevel: 'error',
  });
});

after(async () => {
  await Promise.allSettled(running.map((c) => c.stop()));
  await closeBroker?.();
});

// ---------------------------------------------------------------------------------------------------------------
// helpers

/** Polls until `check` returns a value (not undefined/false), or fails with `what` after the deadline. */
async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function freshTopics(): Promise<{ topic: string; dlq: string }> {
  const topic = uniq('ec-events-test');
  const dlq = `${topic}.dlq`;
  await ensureTopics(kafka, { topics: [topic, dlq], partitions: PARTITIONS });
  return { topic, dlq };
}

const envelope = (aggregateId: string, version: number, over: Partial<EventEnvelope> = {}): EventEnvelope => ({
  event_id: uniq('evt'),
  aggregate_id: aggregateId,
  aggregate_type: 'Order',
  event_type: 'OrderPlaced',
  version,
  data: { total: version * 100 },
  metadata: { correlation_id: 'corr-1' },
  created_at: new Date(Date.UTC(2024, 9, 18, 12, 0, version)).toISOString(),
  schema_version: 1,
  ...over,
});

async function publish(topic: string, events: EventEnvelope[]): Promise<void> {
  const publisher = createPublisher(kafka, { topic });
  try {
    await publisher.publish(events);
  } finally {
    await publisher.disconnect();
  }
}

interface Seen {
  event: EventEnvelope;
  partition: number;
}

/** A consumer whose handler records what it applied; `handler` can fail on purpose before recording. */
function consume(topic: string, dlqTopic: string, opts: Partial<ConsumerOptions> & { groupId?: string; before?: BatchHandler } = {}) {
  const seen: Seen[] = [];
  const consumer = runConsumer({
    kafka,
    groupId: opts.groupId ?? uniq('group'),
    topic,
    dlqTopic,
    sessionTimeout: SESSION_TIMEOUT,
    rebalanceTimeout: SESSION_TIMEOUT,
    maxWaitTimeInMs: 200,
    backoff: () => 20,
    log: silentLogger(),
    ...opts,
    handleBatch: async (events, ctx) => {
      await opts.before?.(events, ctx);
      for (const event of events) seen.push({ event, partition: ctx.partition });
    },
  });
  running.push(consumer);
  return { consumer, seen };
}

interface RawRecord {
  partition: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

const headerText = (headers: IHeaders | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : String(v)]));

/** Reads a topic with a plain kafkajs consumer (no decoding) until `count` records arrived. */
async function readRaw(topic: string, count: number, timeoutMs = 15_000): Promise<RawRecord[]> {
  const records: RawRecord[] = [];
  const consumer = kafka.consumer({
    groupId: uniq('raw-reader'),
    sessionTimeout: SESSION_TIMEOUT,
    rebalanceTimeout: SESSION_TIMEOUT,
    maxWaitTimeInMs: 200,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }: { partition: number; message: KafkaMessage }) => {
        records.push({ partition, key: message.key?.toString('utf8') ?? null, value: message.value, headers: headerText(message.headers) });
      },
    });
    await waitFor(`${count} record(s) on ${topic}`, () => records.length >= count, timeoutMs);
    return records;
  } finally {
    await consumer.disconnect();
  }
}

async function committedOffsets(groupId: string, topic: string): Promise<Map<number, number>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((t?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------------------------

describe('ensureTopics', () => {
  it('creates the event topic and its DLQ with the requested partitions, and is idempotent', async () => {
    await ensureTopics(kafka, { topics: [TOPIC_EVENTS, TOPIC_DLQ], partitions: 6 });
    const again = await ensureTopics(kafka, { topics: [TOPIC_EVENTS, TOPIC_DLQ], partitions: 6 });
    assert.deepEqual(again.created, []);
    assert.deepEqual(again.existing, [TOPIC_EVENTS, TOPIC_DLQ]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [TOPIC_EVENTS, TOPIC_DLQ] });
      for (const t of topics) assert.equal(t.partitions.length, 6, t.name);
      const custom = uniq('topic');
      const created = await ensureTopics(kafka, { topics: [custom], partitions: 4 });
      assert.deepEqual(created.created, [custom]);
      const [meta] = (await admin.fetchTopicMetadata({ topics: [custom] })).topics;
      assert.equal(meta?.partitions.length, 4);
    } finally {
      await admin.disconnect();
    }
  });
});

describe('publish → consume', () => {
  it('delivers every event intact, keyed by aggregate id, with the contract headers', async () => {
    const { topic, dlq } = await freshTopics();
    const events = ['order-a', 'order-b', 'order-c'].flatMap((id) => [1, 2, 3].map((v) => envelope(id, v)));
    await publish(topic, events);

    const { consumer, seen } = consume(topic, dlq);
    await consumer.ready;
    await waitFor('all events consumed', () => seen.length >= events.length);
    assert.deepEqual(
      seen.map((s) => s.event).sort((a, b) => a.event_id.localeCompare(b.event_id)),
      [...events].sort((a, b) => a.event_id.localeCompare(b.event_id)),
    );
    // Same aggregate, same partition: that is what per-aggregate order rests on.
    for (const id of ['order-a', 'order-b', 'order-c']) {
      assert.equal(new Set(seen.filter((s) => s.event.aggregate_id === id).map((s) => s.partition)).size, 1, id);
    }

    const raw = await readRaw(topic, events.length);
    for (const r of raw) {
      const event = decodeEnvelope(r.value);
      assert.equal(r.key, event.aggregate_id);
      assert.deepEqual(r.headers, {
        'event-type': event.event_type,
        'aggregate-type': event.aggregate_type,
        'event-id': event.event_id,
        version: String(event.version),
      });
    }
    assert.equal(consumer.stats().processed, events.length);
    assert.equal(consumer.stats().dlq, 0);
  });

  it('keeps per-aggregate order within a partition across many publishes', async () => {
    const { topic, dlq } = await freshTopics();
    const ids = ['cart-1', 'cart-2', 'cart-3', 'cart-4'];
    const { consumer, seen } = consume(topic, dlq, { partitionsConsumedConcurrently: PARTITIONS });
    await consumer.ready;
    for (let v = 1; v <= 20; v += 4) {
      // Interleaved aggregates, several events of each per call, calls racing each other.
      await Promise.all(
        [0, 1].map((k) =>
          publish(
            topic,
            ids.flatMap((id) => [v + 2 * k, v + 2 * k + 1].map((ver) => envelope(id, ver))),
          ),
        ),
      );
    }
    await waitFor('80 events', () => seen.length >= 80);
    // Racing publish calls may land in either order, but within one aggregate every call's events are
    // contiguous and ascending, and each partition is consumed in offset order: check the strict form
    // on a sequential publish below, and here that nothing is lost or duplicated.
    for (const id of ids) {
      assert.deepEqual(
        seen
          .filter((s) => s.event.aggregate_id === id)
          .map((s) => s.event.version)
          .sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }

    const { topic: t2, dlq: d2 } = await freshTopics();
    for (let v = 1; v <= 10; v++)
      await publish(
        t2,
        ids.map((id) => envelope(id, v)),
      );
    const strict = consume(t2, d2, { partitionsConsumedConcurrently: PARTITIONS });
    await waitFor('40 events', () => strict.seen.length >= 40);
    for (const id of ids) {
      assert.deepEqual(
        strict.seen.filter((s) => s.event.aggregate_id === id).map((s) => s.event.version),
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        id,
      );
    }
  });
});

describe('commit after effect', () => {
  it('retries a failing batch, applies it once, commits only after success, and a restarted member does not redo it', async () => {
    const { topic, dlq } = await freshTopics();
    const groupId = uniq('group');
    const first = envelope('order-x', 1);
    await publish(topic, [first]);

    let failures = 0;
    const offsetsWhileFailing: Map<number, number>[] = [];
    const a = consume(topic, dlq, {
      groupId,
      before: async () => {
        if (failures < 2) {
          failures++;
          offsetsWhileFailing.push(await committedOffsets(groupId, topic));
          throw new Error(`transient-looking but not classified: attempt ${failures}`);
        }
      },
    });
    await waitFor('the event applied', () => a.seen.length === 1);
    assert.equal(failures, 2);
    assert.equal(a.consumer.stats().retries, 2);
    for (const offsets of offsetsWhileFailing) {
      assert.equal(
        [...offsets.values()].some((o) => o > 0),
        false,
        `committed while the handler was failing: ${[...offsets.entries()]}`,
      );
    }
    const partition = a.seen[0]!.partition;
    await waitFor('offset committed', async () => (await committedOffsets(groupId, topic)).get(partition) === 1);
    await a.consumer.stop();

    const second = envelope('order-x', 2);
    await publish(topic, [second]);
    const b = consume(topic, dlq, { groupId });
    await waitFor('the next event', () => b.seen.length >= 1);
    assert.deepEqual(
      b.seen.map((s) => s.event.event_id),
      [second.event_id],
    );
    assert.deepEqual(
      a.seen.map((s) => s.event.event_id),
      [first.event_id],
    );
  });

  it('on stop finishes the in-flight batch and commits it before leaving', async () => {
    const { topic, dlq } = await freshTopics();
    const groupId = uniq('group');
    await publish(topic, [envelope('order-s', 1)]);
    let entered = false;
    const { consumer, seen } = consume(topic, dlq, {
      groupId,
      before: async () => {
        entered = true;
        await new Promise((r) => setTimeout(r, 400));
      },
    });
    await waitFor('handler running', () => entered);
    await consumer.stop();
    assert.equal(seen.length, 1, 'stop returned before the in-flight batch finished');
    const partition = seen[0]!.partition;
    assert.equal((await committedOffsets(groupId, topic)).get(partition), 1);
  });
});

describe('dead letters', () => {
  it('sends an undecodable record to the DLQ with the error and keeps going', async () => {
    const { topic, dlq } = await freshTopics();
    const groupId = uniq('group');
    const producer = producerFor(kafka);
    await producer.connect();
    // Same key as the good event after it: same partition, so "keeps going" is about the next record in line.
    await producer.send({
      topic,
      messages: [{ key: 'order-p', value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), headers: { 'trace-id': 't-1' } }],
    });
    await producer.disconnect();
    const good = envelope('order-p', 1);
    await publish(topic, [good]);

    const { consumer, seen } = consume(topic, dlq, { groupId });
    await waitFor('the good event', () => seen.length === 1);
    assert.equal(seen[0]?.event.event_id, good.event_id);

    const [dead] = await readRaw(dlq, 1);
    assert.ok(dead);
    assert.deepEqual(dead.value, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    assert.equal(dead.key, 'order-p');
    assert.match(dead.headers.error ?? '', /PoisonMessageError: .*UTF-8/);
    assert.ok((dead.headers['error-stack'] ?? '').length > 0);
    assert.equal(dead.headers['trace-id'], 't-1');
    assert.equal(dead.headers['original-offset'], '0');
    assert.equal(dead.headers['original-partition'], String(seen[0]?.partition));
    assert.equal(dead.headers['consumer-group'], groupId);
    assert.deepEqual({ poison: consumer.stats().poison, dlq: consumer.stats().dlq }, { poison: 1, dlq: 1 });
    await waitFor('both offsets committed', async () => (await committedOffsets(groupId, topic)).get(seen[0]!.partition) === 2);
  });

  it('sends just the event whose handler always fails to the DLQ; its neighbours are applied in order', async () => {
    const { topic, dlq } = await freshTopics();
    const events = [1, 2, 3, 4, 5, 6].map((v) => envelope('order-f', v));
    const bad = events[3]!;
    await publish(topic, events);

    const { consumer, seen } = consume(topic, dlq, {
      maxRetries: 2,
      before: async (batch) => {
        if (batch.some((e) => e.event_id === bad.event_id)) throw new Error(`cannot project ${bad.event_id}`);
      },
    });
    await waitFor('5 events applied', () => seen.length >= 5);
    assert.deepEqual(
      seen.map((s) => s.event.version),
      [1, 2, 3, 5, 6],
    );

    const dead = await readRaw(dlq, 1);
    assert.equal(dead.length, 1);
    assert.equal(decodeEnvelope(dead[0]!.value).event_id, bad.event_id);
    assert.equal(dead[0]!.headers.error, `Error: cannot project ${bad.event_id}`);
    assert.equal(dead[0]!.headers['event-id'], bad.event_id);
    assert.equal(consumer.stats().dlq, 1);
  });
});

describe('consumerLag', () => {
  it('reports per-partition lag that falls to 0 once the group has consumed', async () => {
    const { topic, dlq } = await freshTopics();
    const groupId = uniq('group');
    await publish(
      topic,
      ['o-1', 'o-2', 'o-3', 'o-4', 'o-5'].flatMap((id) => [envelope(id, 1), envelope(id, 2)]),
    );

    const before = await consumerLag(kafka, [groupId], topic);
    assert.equal(before.total_lag, 10);
    const [g] = before.groups;
    assert.equal(g?.partitions.length, PARTITIONS);
    for (const p of g?.partitions ?? []) {
      assert.equal(p.committed_offset, null);
      assert.equal(p.lag, p.end_offset);
    }

    const { consumer } = consume(topic, dlq, { groupId });
    await consumer.ready;
    const afterLag = await waitFor('lag 0', async () => {
      const report = await consumerLag(kafka, [groupId], topic);
      return report.total_lag === 0 ? report : undefined;
    });
    for (const p of afterLag.groups[0]?.partitions ?? []) {
      assert.equal(p.committed_offset, p.end_offset);
      assert.equal(p.lag, 0);
    }
    assert.equal(afterLag.groups[0]?.members, 1);
    assert.equal(afterLag.groups[0]?.state, 'Stable');
  });
});

describe('broker restart', () => {
  it('a consumer rides it out and resumes from its committed offset', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ec-broker-'));
    let broker = await startBroker({ port: 0, dataDir, logger: () => {} });
    const port = broker.port;
    const own = createKafka({ brokers: [`${broker.host}:${port}`], clientId: uniq('restart'), logLevel: 'nothing' });
    await ensureTopics(own, { topics: [TOPIC_EVENTS, TOPIC_DLQ], partitions: 2 });
    const seen: number[] = [];
    const groupId = uniq('group');
    const consumer = runConsumer({
      kafka: own,
      topic: TOPIC_EVENTS,
      dlqTopic: TOPIC_DLQ,
      groupId,
      sessionTimeout: SESSION_TIMEOUT,
      rebalanceTimeout: SESSION_TIMEOUT,
      maxWaitTimeInMs: 200,
      log: silentLogger(),
      handleBatch: async (events) => void seen.push(...events.map((e) => e.version)),
    });
    const publisher = createPublisher(own, { topic: TOPIC_EVENTS, timeoutMs: 1_500 });
    try {
      await publisher.publish([envelope('order-r', 1)]);
      await waitFor(
        'first event committed',
        async () => seen.length === 1 && (await consumerLag(own, [groupId], TOPIC_EVENTS)).total_lag === 0,
      );
      await broker.close();
      broker = await startBroker({ port, dataDir, logger: () => {} });
      await waitFor('publish after restart', () =>
        publisher.publish([envelope('order-r', 2)]).then(
          () => true,
          () => false,
        ),
      );
      await waitFor('second event', () => seen.includes(2), 20_000);
      // At-least-once: 2 may arrive twice (its commit can race the rejoin), 1 must not (it was committed).
      assert.deepEqual([...new Set(seen)], [1, 2]);
      assert.equal(seen.filter((v) => v === 1).length, 1);
      assert.equal(consumer.stats().dlq, 0);
    } finally {
      await consumer.stop();
      await publisher.disconnect();
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe('publisher when the broker is down', () => {
  const BOUND_MS = 1_500;
  // What "within the bound" may add on a loaded machine (make test runs the fault tests' shops beside this):
  // the timer fires late by as much as the event loop lags. Still far from kafkajs' own 10 s+ of retries.
  const SLACK_MS = 1_500;

  it('rejects within the bound when no broker ever listened', async () => {
    const dead = await startBroker({ port: 0, logger: () => {} });
    const brokers = [`${dead.host}:${dead.port}`];
    await dead.close(); // the port is now closed
    // Short connection retries only so that no reconnect loop outlives the test and delays the run's exit.
    const down = createKafka({ brokers, clientId: uniq('down'), logLevel: 'nothing', retry: { retries: 1, initialRetryTime: 100 } });
    const publisher = createPublisher(down, { topic: TOPIC_EVENTS, timeoutMs: BOUND_MS });
    const started = Date.now();
    await assert.rejects(publisher.publish([envelope('order-d', 1)]));
    assert.ok(Date.now() - started < BOUND_MS + SLACK_MS, `took ${Date.now() - started} ms`);
    await publisher.disconnect();
  });

  it('rejects within the bound once a connected broker stops, and publishes again when it is back', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'ec-broker-'));
    let broker = await startBroker({ port: 0, dataDir, logger: () => {} });
    const port = broker.port;
    const own = createKafka({ brokers: [`${broker.host}:${port}`], clientId: uniq('outage'), logLevel: 'nothing' });
    await ensureTopics(own, { topics: [TOPIC_EVENTS, TOPIC_DLQ], partitions: 1 });
    const publisher = createPublisher(own, { topic: TOPIC_EVENTS, timeoutMs: BOUND_MS });
    try {
      await publisher.publish([envelope('order-o', 1)]);
      await broker.close();

      let started = Date.now();
      await assert.rejects(
        publisher.publish([envelope('order-o', 2)]),
        (err: Error) => err instanceof PublishTimeoutError || /ECONNREFUSED|Connection|broker/i.test(err.message),
      );
      assert.ok(Date.now() - started < BOUND_MS + SLACK_MS, `took ${Date.now() - started} ms`);
      // While that attempt is still retrying in the background, further publishes must not queue behind it.
      started = Date.now();
      await assert.rejects(publisher.publish([envelope('order-o', 2)]), PublishUnavailableError);
      assert.ok(Date.now() - started < 500, `fail-fast took ${Date.now() - started} ms`);

      broker = await startBroker({ port, dataDir, logger: () => {} });
      await waitFor('publish succeeding after the broker came back', () =>
        publisher.publish([envelope('order-o', 3)]).then(
          () => true,
          () => false,
        ),
      );
    } finally {
      await publisher.disconnect();
      await broker.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
