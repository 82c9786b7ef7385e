/**
 * Issue 10: dead letters listed one by one, replayed onto the events topic with their key and original headers
 * (the DLQ headers dropped), or discarded; what was done with each is kept in PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startBroker } from 'kafka-dev-broker';
import { toDeadLetter } from '../../src/platform/messaging/dlq.ts';
import { createDeadLetterAdmin } from '../../src/platform/messaging/dlq-admin.ts';
import { createKafka } from '../../src/platform/messaging/kafka.ts';
import { ensureTopics } from '../../src/platform/messaging/topics.ts';
import { producerFor } from '../../src/platform/messaging/publisher.ts';
import { createLogger } from '../../src/platform/shared/log.ts';
import { uniq } from '../support/env.ts';
import type { TestDatabase } from './projections-fixtures.ts';
import { createTestDatabase } from './projections-fixtures.ts';

let db: TestDatabase | undefined;
let closeBroker: (() => Promise<void>) | undefined;
after(async () => {
  await db?.drop();
  await closeBroker?.();
});

test('list, replay and discard dead letters', { timeout: 120_000 }, async () => {
  db = await createTestDatabase();
  const broker = await startBroker({ port: 0, logger: () => {} });
  closeBroker = () => broker.close();
  const kafka = createKafka({
    brokers: [`${broker.host}:${broker.port}`],
    clientId: uniq('dlq'),
    logger: createLogger('kafkajs', { level: 'error', write: () => {} }),
    logLevel: 'error',
  });
  const topic = uniq('ec-events-dlqtest');
  const dlqTopic = `${topic}.dlq`;
  await ensureTopics(kafka, { topics: [topic, dlqTopic], partitions: 1 });

  const original = (n: number) => ({
    key: Buffer.from(`order-${n}`),
    value: Buffer.from(JSON.stringify({ event_id: `e-${n}`, event_type: 'OrderPlaced' })),
    headers: { 'event-type': Buffer.from('OrderPlaced') },
  });
  const producer = producerFor(kafka);
  await producer.connect();
  await producer.send({
    topic: dlqTopic,
    messages: [1, 2].map((n) =>
      toDeadLetter(original(n), { error: new Error(`bad ${n}`), topic, partition: 0, offset: String(10 + n), groupId: 'projector' }),
    ),
  });
  await producer.disconnect();

  const admin = createDeadLetterAdmin({ kafka, db: db.pool, dlqTopic, targetTopic: topic });
  const listed = await admin.list();
  assert.deepEqual(
    listed.map((d) => [d.id, d.status, d.event_type, d.event_id, d.consumer_group, d.original.offset, d.key]),
    [
      ['0:0', 'open', 'OrderPlaced', 'e-1', 'projector', '11', 'order-1'],
      ['0:1', 'open', 'OrderPlaced', 'e-2', 'projector', '12', 'order-2'],
    ],
  );
  assert.match(listed[0]!.error ?? '', /Error: bad 1/);

  assert.equal((await admin.replay('0:0')).status, 'replayed');
  assert.equal((await admin.discard('0:1')).status, 'discarded');
  assert.deepEqual(
    (await admin.list({ status: 'open' })).map((d) => d.id),
    [],
  );
  await assert.rejects(admin.replay('0:7'), /no dead letter 0:7/);
  await assert.rejects(admin.replay('nonsense'), /partition>:<offset/);

  // The replayed record is on the events topic as it was first produced: key, value and its own headers only.
  const consumer = kafka.consumer({ groupId: uniq('read-back'), maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got = await new Promise<{ key: string; value: string; headers: string[] }>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) =>
        resolve({ key: String(message.key), value: String(message.value), headers: Object.keys(message.headers ?? {}) }),
    });
  });
  await consumer.disconnect();
  assert.deepEqual(got, { key: 'order-1', value: JSON.stringify({ event_id: 'e-1', event_type: 'OrderPlaced' }), headers: ['event-type'] });
});
