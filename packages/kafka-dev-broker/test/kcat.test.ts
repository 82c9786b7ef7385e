/**
 * librdkafka (Debian's `kcat`) against the broker. librdkafka opens every connection with ApiVersions v3,
 * so each of these also exercises the UNSUPPORTED_VERSION fallback. Requires the `kcat` package.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { kafka, startTestBroker, unique, waitFor, type TestBroker } from './fixtures/helpers.ts';

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
});
after(() => t.broker.close());

function kcat(args: string[], input = ''): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', ['-b', t.address, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', (err) => reject(new Error(`cannot run kcat (apt-get install kcat): ${err.message}`)));
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`kcat ${args.join(' ')} exited with ${code}\n${stderr}`));
    });
    child.stdin.end(input);
  });
}

interface KcatMessage {
  partition: number;
  offset: number;
  key: string;
  payload: string;
  headers: string[] | null;
}

const parseJsonLines = (out: string): KcatMessage[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as KcatMessage);

test('kcat -L lists the broker and topics with their partition counts', async () => {
  const topic = unique('kcat-meta');
  const admin = kafka(t.address).admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();

  const { stdout } = await kcat(['-L', '-J']);
  const metadata = JSON.parse(stdout) as { brokers: { id: number; name: string }[]; topics: { topic: string; partitions: unknown[] }[] };
  assert.deepEqual(
    metadata.brokers.map((b) => [b.id, b.name]),
    [[0, t.address]],
  );
  assert.equal(metadata.topics.find((x) => x.topic === topic)?.partitions.length, 3);
});

test('kcat produces keys and headers (-K: -H) and consumes them back (-e)', async () => {
  const topic = unique('kcat-rw');
  const lines = Array.from({ length: 30 }, (_, i) => `key-${i % 3}:payload ${i}`).join('\n') + '\n';
  await kcat(['-P', '-t', topic, '-K:', '-H', 'event-type=OrderPlaced', '-H', 'source=kcat'], lines);

  const { stdout } = await kcat(['-C', '-t', topic, '-e', '-J', '-o', 'beginning']);
  const messages = parseJsonLines(stdout);
  assert.equal(messages.length, 30);
  for (const m of messages) {
    const i = Number(m.payload.split(' ')[1]);
    assert.equal(m.key, `key-${i % 3}`);
    assert.deepEqual(m.headers, ['event-type', 'OrderPlaced', 'source', 'kcat']);
  }
  const partitionsOfKey = new Map(messages.map((m) => [m.key, new Set<number>()]));
  for (const m of messages) partitionsOfKey.get(m.key)!.add(m.partition);
  assert.ok(
    [...partitionsOfKey.values()].every((s) => s.size === 1),
    'one key, one partition',
  );

  // The other client reads what librdkafka wrote.
  const consumer = kafka(t.address).consumer({ groupId: unique('kcat-to-kafkajs'), maxWaitTimeInMs: 300 });
  const eventTypes: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void eventTypes.push(String(message.headers?.['event-type'])) });
  try {
    await waitFor('kafkajs to read the 30 messages', () => eventTypes.length >= 30);
  } finally {
    await consumer.disconnect();
  }
  assert.deepEqual(new Set(eventTypes), new Set(['OrderPlaced']));
});

test('kcat -G consumes as a group member and commits its offsets', async () => {
  const topic = unique('kcat-group');
  const groupId = unique('kcat-g');
  await kcat(['-P', '-t', topic, '-K:'], Array.from({ length: 24 }, (_, i) => `k${i}:m${i}`).join('\n') + '\n');

  const { stdout } = await kcat(['-G', groupId, topic, '-e', '-J', '-X', 'auto.offset.reset=earliest']);
  assert.deepEqual(
    parseJsonLines(stdout)
      .map((m) => m.payload)
      .sort(),
    Array.from({ length: 24 }, (_, i) => `m${i}`).sort(),
  );

  const admin = kafka(t.address).admin();
  await admin.connect();
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  await admin.disconnect();
  assert.equal(
    committed!.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0),
    24,
    'librdkafka committed on close',
  );

  const again = await kcat(['-G', groupId, topic, '-e', '-J', '-X', 'auto.offset.reset=earliest']);
  assert.equal(parseJsonLines(again.stdout).length, 0, 'a second run resumes after the committed offsets');
});
