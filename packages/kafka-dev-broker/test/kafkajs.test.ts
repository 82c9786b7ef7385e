/**
 * kafkajs 2.2.4, the client the shop uses, against the broker: admin, producer (keys, headers, acks -1,
 * gzip, idempotent) and consumer (eachMessage, eachBatch, seek, pause/resume).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CompressionTypes, type Consumer, type EachMessagePayload, type Kafka } from 'kafkajs';
import { kafka, startTestBroker, unique, waitFor, type TestBroker } from './fixtures/helpers.ts';

let t: TestBroker;
let client: Kafka;
before(async () => {
  t = await startTestBroker();
  client = kafka(t.address);
});
after(() => t.broker.close());

interface Seen {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

const toSeen = ({ partition, message }: Pick<EachMessagePayload, 'partition' | 'message'>): Seen => ({
  partition,
  offset: Number(message.offset),
  key: message.key?.toString() ?? '',
  value: message.value?.toString() ?? '',
  headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
});

/** A consumer that records everything it receives; fast fetch turnaround so disconnect is quick. */
async function recordingConsumer(groupId: string, topic: string, seen: Seen[]): Promise<Consumer> {
  const consumer = client.consumer({ groupId, maxWaitTimeInMs: 300 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async (p) => void seen.push(toSeen(p)) });
  return consumer;
}

async function produce(topic: string, count: number, from = 0): Promise<void> {
  const producer = client.producer();
  await producer.connect();
  await producer.send({
    topic,
    acks: -1,
    messages: Array.from({ length: count }, (_, i) => ({
      key: `key-${(from + i) % 5}`,
      value: `value-${from + i}`,
      headers: { n: String(from + i), kind: 'test' },
    })),
  });
  await producer.disconnect();
}

test('admin: create (8 partitions, already exists, bad replication), metadata, offsets, groups, delete', async () => {
  const admin = client.admin();
  await admin.connect();
  const topic = unique('admin');
  const groupId = unique('admin-group');
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 8 }] }), true);
    assert.equal(await admin.createTopics({ topics: [{ topic, numPartitions: 8 }] }), false, 'TOPIC_ALREADY_EXISTS');
    await assert.rejects(
      admin.createTopics({ topics: [{ topic: unique('rf3'), numPartitions: 1, replicationFactor: 3 }] }),
      (err: { errors?: { type: string }[] }) => err.errors?.[0]?.type === 'INVALID_REPLICATION_FACTOR',
    );

    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(topics[0]!.partitions.length, 8);
    assert.ok(topics[0]!.partitions.every((p) => p.leader === 0 && p.replicas.length === 1));

    const before = Date.now();
    await produce(topic, 40);
    const offsets = await admin.fetchTopicOffsets(topic);
    assert.equal(offsets.length, 8);
    assert.equal(
      offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0),
      40,
    );
    const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, before - 1000);
    assert.ok(
      byTime.every((o) => Number(o.offset) === 0),
      'every partition starts after that timestamp',
    );

    const seen: Seen[] = [];
    const consumer = await recordingConsumer(groupId, topic, seen);
    try {
      await waitFor('40 messages', () => seen.length >= 40);
      const [group] = (await admin.describeGroups([groupId])).groups;
      assert.equal(group!.state, 'Stable');
      assert.equal(group!.protocolType, 'consumer');
      assert.equal(group!.members.length, 1);
      assert.ok(group!.members[0]!.memberAssignment.length > 0, 'the assignment is described');
      assert.ok((await admin.listGroups()).groups.some((g) => g.groupId === groupId && g.protocolType === 'consumer'));
      await waitFor('committed offsets to reach the end', async () => {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        return committed!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) === 40;
      });
    } finally {
      await consumer.disconnect();
    }
    assert.equal((await admin.describeGroups([groupId])).groups[0]!.state, 'Empty');

    await admin.deleteTopics({ topics: [topic] });
    assert.ok(!(await admin.listTopics()).includes(topic));
  } finally {
    await admin.disconnect();
  }
});

test('producer keys, headers and acks -1 arrive intact and in per-key order; gzip and idempotent producers work', async () => {
  const topic = unique('produce');
  await produce(topic, 50);
  const gzip = client.producer();
  await gzip.connect();
  await gzip.send({
    topic,
    compression: CompressionTypes.GZIP,
    messages: [{ key: 'key-0', value: 'value-50', headers: { n: '50', kind: 'test' } }],
  });
  await gzip.disconnect();
  const idempotent = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await idempotent.connect();
  await idempotent.send({ topic, messages: [{ key: 'key-1', value: 'value-51', headers: { n: '51', kind: 'test' } }] });
  await idempotent.disconnect();

  const seen: Seen[] = [];
  const consumer = await recordingConsumer(unique('produce-group'), topic, seen);
  try {
    await waitFor('52 messages', () => seen.length >= 52);
  } finally {
    await consumer.disconnect();
  }
  assert.equal(seen.length, 52);
  for (const m of seen) {
    const n = Number(m.value.slice('value-'.length));
    assert.equal(m.key, `key-${n % 5}`);
    assert.deepEqual(m.headers, { n: String(n), kind: 'test' });
  }
  const partitionsOfKey = new Map<string, Set<number>>();
  for (const m of seen) partitionsOfKey.set(m.key, (partitionsOfKey.get(m.key) ?? new Set()).add(m.partition));
  assert.ok(
    [...partitionsOfKey.values()].every((s) => s.size === 1),
    'one key, one partition',
  );
  for (const key of partitionsOfKey.keys()) {
    const values = seen.filter((m) => m.key === key).map((m) => Number(m.value.slice(6)));
    assert.deepEqual(
      values,
      [...values].sort((a, b) => a - b),
      `order of ${key} preserved`,
    );
  }
});

test('eachBatch receives batches with offsets and high watermarks', async () => {
  const topic = unique('batch');
  await produce(topic, 30);
  const consumer = client.consumer({ groupId: unique('batch-group'), maxWaitTimeInMs: 300 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let messages = 0;
  const watermarks = new Map<number, string>();
  await consumer.run({
    eachBatch: async ({ batch, resolveOffset, heartbeat }) => {
      for (const m of batch.messages) {
        messages++;
        resolveOffset(m.offset);
      }
      watermarks.set(batch.partition, batch.highWatermark);
      await heartbeat();
    },
  });
  try {
    await waitFor('30 messages in batches', () => messages >= 30);
  } finally {
    await consumer.disconnect();
  }
  assert.equal(messages, 30);
  assert.equal(
    [...watermarks.values()].reduce((n, w) => n + Number(w), 0),
    30,
  );
});

test('seek re-reads from an offset; pause stops delivery until resume', async () => {
  const topic = unique('seek');
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
  await admin.disconnect();
  await produce(topic, 10);

  const seen: Seen[] = [];
  const consumer = await recordingConsumer(unique('seek-group'), topic, seen);
  try {
    await waitFor('the first 10 messages', () => seen.length >= 10);
    consumer.seek({ topic, partition: 0, offset: '3' });
    await waitFor('messages 3..9 again', () => seen.length >= 17);
    assert.deepEqual(
      seen.slice(10, 17).map((m) => m.offset),
      [3, 4, 5, 6, 7, 8, 9],
    );

    consumer.pause([{ topic }]);
    await waitFor('the pause to apply', () => consumer.paused().length === 1);
    const countAtPause = seen.length;
    await produce(topic, 5, 10);
    // The absence of deliveries can only be observed over a window; 800 ms spans several fetch cycles.
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(seen.length, countAtPause, 'nothing delivered while paused');
    consumer.resume([{ topic }]);
    await waitFor('the 5 messages after resume', () => seen.length >= countAtPause + 5);
    assert.deepEqual(
      seen.slice(-5).map((m) => m.offset),
      [10, 11, 12, 13, 14],
    );
  } finally {
    await consumer.disconnect();
  }
});
