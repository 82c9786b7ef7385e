/**
 * The dual write survives a crash between append and publish (DESIGN §3): events appended to DynamoDB Local
 * but never published — the api died, or Kafka was down — are found by the worker's sweeper through the
 * outbox index, published to the real dev broker, and unmarked; a consumer group then sees each of them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Kafka } from 'kafkajs';
import { createExecutor } from '../../src/kernel/executor.ts';
import { createDynamoClient, createDynamoEventStore, ensureTables } from '../../src/platform/eventstore/index.ts';
import { createMemoryEventStore } from '../../src/platform/eventstore/memory.ts';
import type { EventStore } from '../../src/platform/eventstore/types.ts';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { createPublisher } from '../../src/platform/messaging/publisher.ts';
import { runConsumer } from '../../src/platform/messaging/consumer.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import type { EventEnvelope } from '../../src/platform/shared/envelope.ts';
import { silentLogger } from '../../src/platform/messaging/log.ts';
import { createOutboxSweeper } from '../../src/composition/worker/sweeper.ts';
import { stackEnv, uniq } from '../support/env.ts';
import { eventually } from '../support/http.ts';

const log = silentLogger();
let client: DynamoDBClient;
let store: EventStore;
let kafka: Kafka;
let topic: string;

before(async () => {
  const env = stackEnv();
  client = createDynamoClient({ endpoint: env.dynamodbEndpoint });
  const prefix = uniq('outbox');
  const tables = { events: `${prefix}-events`, snapshots: `${prefix}-snapshots`, idempotency: `${prefix}-idem` };
  await ensureTables(client, tables);
  store = createDynamoEventStore({ client, tables });
  kafka = createKafka({ brokers: env.kafkaBrokers, clientId: prefix, logger: log });
  topic = `${prefix}-events`;
  await ensureTopics(kafka, { topics: [topic, `${topic}.dlq`], partitions: 3 });
});
after(() => client.destroy());

const productEvents = (id: string) => ({
  aggregate_id: id,
  aggregate_type: 'Product' as const,
  expected_version: 0,
  events: [{ event_type: 'ProductCreated', data: { product_id: id, name: 'x' } }],
});

test('events appended but never published are republished by the sweeper and consumed exactly as stored', async () => {
  const ids = [uniq('p'), uniq('p'), uniq('p')];
  // The "crash": append, then no publish and no markPublished.
  const appended = await store.append(ids.map(productEvents), { metadata: {}, now: new Date().toISOString() });
  assert.equal(appended.length, 3);
  const marked = await store.findUnpublished(new Date(Date.now() + 1000).toISOString(), 100);
  assert.deepEqual(new Set(marked.map((e) => e.event_id)), new Set(appended.map((e) => e.event_id)));

  const seen: EventEnvelope[] = [];
  const consumer = runConsumer({
    kafka,
    groupId: uniq('g'),
    topic,
    dlqTopic: `${topic}.dlq`,
    log,
    sessionTimeout: 6000,
    handleBatch: async (events) => void seen.push(...events),
  });
  await consumer.ready;
  const publisher = createPublisher(kafka, { topic, log });
  const sweeper = createOutboxSweeper({ store, publisher, clock: () => new Date(), graceMs: 0, log });
  try {
    assert.equal(await sweeper.sweepOnce(), 3);
    await eventually(async () => seen.length >= 3, { what: 'the republished events to be consumed' });
    assert.deepEqual(new Set(seen.map((e) => e.event_id)), new Set(appended.map((e) => e.event_id)));
    assert.deepEqual(seen.find((e) => e.aggregate_id === ids[0])?.data, appended[0]!.data);
    // Unmarked: a second sweep finds nothing.
    assert.equal((await store.findUnpublished(new Date(Date.now() + 1000).toISOString(), 100)).length, 0);
    assert.equal(await sweeper.sweepOnce(), 0);
  } finally {
    await consumer.stop();
    await publisher.disconnect();
  }
});

test('with Kafka unreachable a command still commits; its events wait in the outbox until the sweeper publishes them', async () => {
  const deadKafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: uniq('dead'), logger: log, retry: { retries: 0 } });
  const deadPublisher = createPublisher(deadKafka, { topic, log, timeoutMs: 1000 });
  const executor = createExecutor({ store, publisher: deadPublisher, clock: () => new Date(), log });
  const id = uniq('p');
  const started = Date.now();
  const outcome = await executor.execute(async () => ({ writes: [productEvents(id)], result: { id } }), undefined, { metadata: {} });
  assert.deepEqual(outcome, { id });
  assert.ok(Date.now() - started < 5000, 'the command is not held up by the broker outage');
  const stream = await store.readStream(id);
  assert.equal(stream.length, 1);
  const pending = await store.findUnpublished(new Date(Date.now() + 1000).toISOString(), 100);
  assert.ok(
    pending.some((e) => e.aggregate_id === id),
    'the event is still marked for the sweeper',
  );
  await deadPublisher.disconnect().catch(() => {});

  const publisher = createPublisher(kafka, { topic, log });
  const sweeper = createOutboxSweeper({ store, publisher, clock: () => new Date(), graceMs: 0, log });
  try {
    assert.ok((await sweeper.sweepOnce()) >= 1);
    const left = await store.findUnpublished(new Date(Date.now() + 1000).toISOString(), 100);
    assert.ok(!left.some((e) => e.aggregate_id === id), 'published and unmarked once Kafka is reachable');
  } finally {
    await publisher.disconnect();
  }
});

test('an event the broker refuses (larger than its 1 MB limit) is parked; the rest of the outbox is published and the publisher stays healthy', async () => {
  // The in-memory store: DynamoDB's 400 KB item limit would refuse such an event before the broker could.
  const memory = createMemoryEventStore();
  const ids = [uniq('p'), uniq('p'), uniq('p'), uniq('p')];
  const huge = uniq('huge');
  const now = new Date(Date.now() - 60_000).toISOString();
  await memory.append([productEvents(ids[0]!), productEvents(ids[1]!)], { metadata: {}, now });
  await memory.append(
    [
      {
        aggregate_id: huge,
        aggregate_type: 'Product',
        expected_version: 0,
        events: [{ event_type: 'ProductCreated', data: { product_id: huge, description: 'x'.repeat(1_200_000) } }],
      },
    ],
    { metadata: {}, now },
  );
  await memory.append([productEvents(ids[2]!), productEvents(ids[3]!)], { metadata: {}, now });

  const seen: EventEnvelope[] = [];
  const consumer = runConsumer({
    kafka,
    groupId: uniq('g'),
    topic,
    dlqTopic: `${topic}.dlq`,
    log,
    sessionTimeout: 6000,
    handleBatch: async (events) => void seen.push(...events.filter((e) => ids.includes(e.aggregate_id) || e.aggregate_id === huge)),
  });
  await consumer.ready;
  const publisher = createPublisher(kafka, { topic, log });
  const sweeper = createOutboxSweeper({ store: memory, publisher, clock: () => new Date(), graceMs: 0, log });
  try {
    assert.equal(await sweeper.sweepOnce(), 5);
    assert.deepEqual([...sweeper.parked().keys()], [`${huge}@1`]);
    assert.match(sweeper.parked().get(`${huge}@1`) ?? '', /MESSAGE_TOO_LARGE/);
    assert.equal(publisher.health().ok, true, 'a refused record is not a broker outage');
    // By id, not by count: the bisection republishes what the refused request had already appended.
    await eventually(async () => new Set(seen.map((e) => e.aggregate_id)).size >= 4, { what: 'the other events to be consumed' });
    assert.deepEqual(new Set(seen.map((e) => e.aggregate_id)), new Set(ids));
    const left = await memory.findUnpublished(new Date(Date.now() + 1000).toISOString(), 100);
    assert.deepEqual(
      left.map((e) => e.aggregate_id),
      [huge],
      'only the refused event stays marked',
    );
    assert.equal(await sweeper.sweepOnce(), 0, 'and later sweeps pass it by');
  } finally {
    await consumer.stop();
    await publisher.disconnect();
  }
});
