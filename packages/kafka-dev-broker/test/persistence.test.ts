/**
 * With a data directory, topics (with their partition counts), messages and committed offsets survive a
 * restart; a torn segment tail is truncated on load; one data directory serves one broker at a time.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startBroker } from '../src/index.ts';
import { kafka, startTestBroker, tempDir, waitFor, type TestBroker } from './fixtures/helpers.ts';

const TOPIC = 'orders';
const GROUP = 'projector';

async function produce(address: string, from: number, count: number): Promise<void> {
  const producer = kafka(address).producer();
  await producer.connect();
  await producer.send({
    topic: TOPIC,
    messages: Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, value: `m${from + i}` })),
  });
  await producer.disconnect();
}

/** Consumes with `groupId` until `expected` messages arrived; the consumer commits on disconnect. */
async function consume(address: string, groupId: string, expected: number): Promise<string[]> {
  const consumer = kafka(address).consumer({ groupId, maxWaitTimeInMs: 300 });
  const values: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  try {
    await waitFor(`${expected} messages for ${groupId}`, () => values.length >= expected);
  } finally {
    await consumer.disconnect();
  }
  return values;
}

async function committedTotal(address: string, groupId: string): Promise<number> {
  const admin = kafka(address).admin();
  await admin.connect();
  const [committed] = await admin.fetchOffsets({ groupId, topics: [TOPIC] });
  await admin.disconnect();
  return committed!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

const sorted = (values: string[]): string[] => [...values].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
const range = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `m${from + i}`);

test('messages, topics and committed offsets survive a restart; the group resumes after its commits', async () => {
  const dataDir = tempDir('broker-restart');
  let t: TestBroker = await startTestBroker({ dataDir });
  try {
    const admin = kafka(t.address).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic: TOPIC, numPartitions: 3 },
        { topic: 'doomed', numPartitions: 2 },
      ],
    });
    await admin.deleteTopics({ topics: ['doomed'] });
    await admin.disconnect();
    await produce(t.address, 0, 20);
    assert.deepEqual(sorted(await consume(t.address, GROUP, 20)), range(0, 20));
    await waitFor('the group to commit 20', async () => (await committedTotal(t.address, GROUP)) === 20);
    await t.broker.close();

    t = await startTestBroker({ dataDir });
    const admin2 = kafka(t.address).admin();
    await admin2.connect();
    const { topics } = await admin2.fetchTopicMetadata({ topics: [TOPIC] });
    assert.equal(topics[0]!.partitions.length, 3, 'partition count persisted');
    assert.ok(!(await admin2.listTopics()).includes('doomed'), 'deleted topics stay deleted');
    assert.equal(
      (await admin2.fetchTopicOffsets(TOPIC)).reduce((n, o) => n + Number(o.high), 0),
      20,
    );
    await admin2.disconnect();
    assert.equal(await committedTotal(t.address, GROUP), 20, 'committed offsets persisted');

    await produce(t.address, 20, 10);
    assert.deepEqual(sorted(await consume(t.address, GROUP, 10)), range(20, 30), 'the group resumes after its committed offsets');
    assert.deepEqual(sorted(await consume(t.address, 'newcomer', 30)), range(0, 30), 'earlier messages are still fetchable from offset 0');
  } finally {
    await t.broker.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a torn write at the end of a segment is truncated on load; small segments roll and reload', async () => {
  const dataDir = tempDir('broker-torn');
  let t = await startTestBroker({ dataDir, segmentBytes: 512, defaultPartitions: 1 });
  try {
    for (let i = 0; i < 10; i++) await produce(t.address, i * 5, 5);
    await t.broker.close();
    const partitionDir = path.join(dataDir, 'topics', TOPIC, '0');
    const segments = fs.readdirSync(partitionDir).sort();
    assert.ok(segments.length > 1, `segments rolled: ${segments.join(', ')}`);
    fs.appendFileSync(path.join(partitionDir, segments.at(-1)!), Buffer.from([0, 0, 0, 0, 0, 0, 0, 50, 0, 0, 1]));

    t = await startTestBroker({ dataDir });
    assert.ok(
      t.logs.some((l) => /truncating .* incomplete or corrupt tail/.test(l)),
      'the torn tail was reported',
    );
    await produce(t.address, 50, 1);
    assert.deepEqual(sorted(await consume(t.address, 'reader', 51)), range(0, 51));
  } finally {
    await t.broker.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a data directory in use by a running broker is refused', async () => {
  const dataDir = tempDir('broker-lock');
  const t = await startTestBroker({ dataDir });
  try {
    await assert.rejects(startBroker({ port: 0, dataDir, logger: () => {} }), /in use by another broker/);
  } finally {
    await t.broker.close();
  }
  const again = await startTestBroker({ dataDir });
  await again.broker.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});
