/**
 * Wire-level behaviour with raw sockets: version negotiation, robustness against garbage, per-connection
 * response ordering around long polls, acks=0, and produce validation.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ApiKey, ErrorCode } from '../src/protocol/constants.ts';
import type { Reader } from '../src/protocol/reader.ts';
import type { Writer } from '../src/protocol/writer.ts';
import { encodeBatch } from '../src/records/records.ts';
import { RawClient, startTestBroker, unique, waitFor, type TestBroker } from './fixtures/helpers.ts';

/** The first flexible version of each API (Kafka protocol guide); the broker must stay below these. */
const FIRST_FLEXIBLE: Record<number, number> = {
  [ApiKey.Produce]: 9,
  [ApiKey.Fetch]: 12,
  [ApiKey.ListOffsets]: 6,
  [ApiKey.Metadata]: 9,
  [ApiKey.OffsetCommit]: 8,
  [ApiKey.OffsetFetch]: 6,
  [ApiKey.FindCoordinator]: 3,
  [ApiKey.JoinGroup]: 6,
  [ApiKey.Heartbeat]: 4,
  [ApiKey.LeaveGroup]: 4,
  [ApiKey.SyncGroup]: 4,
  [ApiKey.DescribeGroups]: 5,
  [ApiKey.ListGroups]: 3,
  [ApiKey.ApiVersions]: 3,
  [ApiKey.CreateTopics]: 5,
  [ApiKey.DeleteTopics]: 4,
  [ApiKey.InitProducerId]: 2,
};

let t: TestBroker;
before(async () => {
  t = await startTestBroker();
});
after(() => t.broker.close());

const readVersions = (r: Reader): Map<number, [number, number]> =>
  new Map(r.array((r) => [r.int16(), [r.int16(), r.int16()] as [number, number]]));

async function createTopic(topic: string, partitions = 1): Promise<void> {
  const c = await RawClient.connect(t.broker.port);
  c.send(ApiKey.CreateTopics, 0, 1, (w) => {
    w.int32(1).string(topic).int32(partitions).int16(1).int32(0).int32(0);
    w.int32(1000);
  });
  const { body } = await c.receive();
  body.int32();
  body.string();
  assert.equal(body.int16(), ErrorCode.NONE);
  c.close();
}

function produceBody(topic: string, partition: number, records: Buffer, acks = -1): (w: Writer) => void {
  return (w) => {
    w.nullableString(null).int16(acks).int32(5000);
    w.int32(1).string(topic).int32(1).int32(partition).bytes(records);
  };
}

/** Reads a Produce v7 response for one partition: [error, baseOffset]. */
function readProduce(r: Reader): [number, number] {
  r.int32();
  r.string();
  r.int32();
  r.int32();
  return [r.int16(), r.int64()];
}

test('ApiVersions advertises only non-flexible versions, and answers a too-new request with UNSUPPORTED_VERSION in the v0 layout', async () => {
  const c = await RawClient.connect(t.broker.port);
  c.send(ApiKey.ApiVersions, 2, 7);
  const ok = await c.receive();
  assert.equal(ok.correlationId, 7);
  assert.equal(ok.body.int16(), ErrorCode.NONE);
  const versions = readVersions(ok.body);
  assert.equal(ok.body.int32(), 0, 'throttle time (v1+)');
  assert.deepEqual(
    [...versions.keys()].sort((a, b) => a - b),
    Object.keys(FIRST_FLEXIBLE)
      .map(Number)
      .sort((a, b) => a - b),
  );
  for (const [key, [min, max]] of versions) {
    assert.ok(min <= max && max < FIRST_FLEXIBLE[key]!, `api ${key} advertises v${min}-v${max}`);
  }

  // librdkafka opens with ApiVersions v3, whose request header is the flexible v2 kind (tagged fields).
  c.send(ApiKey.ApiVersions, 3, 8, (w) => w.int8(0).int8(6).raw(Buffer.from('kcat\x00')));
  const refused = await c.receive();
  assert.equal(refused.correlationId, 8);
  assert.equal(refused.body.int16(), ErrorCode.UNSUPPORTED_VERSION);
  assert.deepEqual(readVersions(refused.body).get(ApiKey.ApiVersions), [0, 2]);
  assert.equal(refused.body.remaining, 0, 'v0 layout: no throttle time, no tagged fields');

  c.send(ApiKey.ApiVersions, 0, 9);
  assert.equal((await c.receive()).correlationId, 9, 'the connection stays usable for the retry');
  c.close();
});

test('garbage, oversized frames, unknown APIs and truncated requests close the connection, never the broker', async () => {
  const frame = (size: number, rest: Buffer = Buffer.alloc(0)): Buffer => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(size);
    return Buffer.concat([b, rest]);
  };
  const header = (key: number, version: number): Buffer => {
    const b = Buffer.alloc(10);
    b.writeInt16BE(key, 0);
    b.writeInt16BE(version, 2);
    b.writeInt32BE(1, 4);
    b.writeInt16BE(-1, 8);
    return b;
  };
  const attacks: [string, Buffer][] = [
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a negative size', frame(-5, Buffer.alloc(16))],
    ['a 2 GiB frame', frame(0x7fffffff, Buffer.alloc(16))],
    ['a frame too short for a header', frame(3, Buffer.alloc(3))],
    ['an unknown API key', frame(10, header(999, 0))],
    ['an unsupported Fetch version', frame(10, header(ApiKey.Fetch, 12))],
    ['a truncated Metadata body', frame(14, Buffer.concat([header(ApiKey.Metadata, 1), Buffer.from([0, 0, 0, 9])]))],
    ['a forged array length', frame(14, Buffer.concat([header(ApiKey.Metadata, 1), Buffer.from([0x7f, 0xff, 0xff, 0xff])]))],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
  ];
  for (const [what, bytes] of attacks) {
    const before = t.logs.length;
    const c = await RawClient.connect(t.broker.port);
    c.write(bytes);
    await c.waitClosed().catch(() => assert.fail(`broker kept the connection open after ${what}`));
    await waitFor(`a log line about ${what}`, () => t.logs.slice(before).some((l) => /closing it/.test(l)));
  }

  const c = await RawClient.connect(t.broker.port);
  c.send(ApiKey.ApiVersions, 0, 42);
  assert.equal((await c.receive()).correlationId, 42, 'broker still answers after all of that');
  c.close();
});

test('a long-polling Fetch returns as soon as data arrives, and later requests on its connection wait their turn', async () => {
  const topic = unique('longpoll');
  await createTopic(topic);
  const consumer = await RawClient.connect(t.broker.port);
  const started = Date.now();
  consumer.send(ApiKey.Fetch, 11, 100, (w) => {
    w.int32(-1)
      .int32(10_000)
      .int32(1)
      .int32(1 << 20)
      .int8(0)
      .int32(0)
      .int32(-1);
    w.int32(1)
      .string(topic)
      .int32(1)
      .int32(0)
      .int32(-1)
      .int64(0)
      .int64(-1)
      .int32(1 << 20);
    w.int32(0).string('');
  });
  consumer.send(ApiKey.Metadata, 1, 101, (w) => w.int32(0));

  await new Promise((r) => setTimeout(r, 150));
  const producer = await RawClient.connect(t.broker.port);
  producer.send(ApiKey.Produce, 7, 1, produceBody(topic, 0, encodeBatch([{ key: 'k', value: 'v' }])));
  assert.deepEqual(readProduce((await producer.receive()).body), [ErrorCode.NONE, 0]);

  const fetched = await consumer.receive();
  const metadata = await consumer.receive();
  assert.equal(fetched.correlationId, 100);
  assert.equal(metadata.correlationId, 101, 'responses keep request order');
  assert.ok(fetched.at - started < 2000, `fetch answered after ${fetched.at - started} ms, not at max_wait`);
  fetched.body.int32();
  assert.equal(fetched.body.int16(), ErrorCode.NONE);
  fetched.body.int32();
  fetched.body.int32();
  fetched.body.string();
  fetched.body.int32();
  fetched.body.int32();
  assert.equal(fetched.body.int16(), ErrorCode.NONE);
  assert.equal(fetched.body.int64(), 1, 'high watermark');
  producer.close();
  consumer.close();
});

test('Fetch honours min_bytes, max_wait and per-partition max bytes with whole batches', async () => {
  const topic = unique('limits');
  await createTopic(topic);
  const c = await RawClient.connect(t.broker.port);
  const batch = encodeBatch(Array.from({ length: 20 }, (_, i) => ({ value: `value-${i}`.padEnd(50, '.') })));
  for (let i = 0; i < 3; i++) {
    c.send(ApiKey.Produce, 7, i, produceBody(topic, 0, batch));
    await c.receive();
  }
  const fetch = (correlationId: number, minBytes: number, maxWait: number, partitionMax: number): void =>
    c.send(ApiKey.Fetch, 4, correlationId, (w) => {
      w.int32(-1)
        .int32(maxWait)
        .int32(minBytes)
        .int32(1 << 20)
        .int8(0);
      w.int32(1).string(topic).int32(1).int32(0).int64(0).int32(partitionMax);
    });
  const recordBytes = (r: Reader): number => {
    r.int32();
    r.int32();
    r.string();
    r.int32();
    r.int32();
    r.int16();
    r.int64();
    r.int64();
    r.array((r) => [r.int64(), r.int64()]);
    return r.int32();
  };

  const started = Date.now();
  fetch(1, 10 * batch.length, 300, 1 << 20);
  const waited = await c.receive();
  assert.ok(Date.now() - started >= 250, 'min_bytes not reached: the fetch waits for max_wait');
  assert.equal(recordBytes(waited.body), 3 * batch.length, 'then returns what there is');

  fetch(2, 1, 0, batch.length + 10);
  assert.equal(recordBytes((await c.receive()).body), batch.length, 'partition max bytes cuts between batches');
  fetch(3, 1, 0, 10);
  assert.equal(recordBytes((await c.receive()).body), batch.length, 'but the first batch always comes whole');
  c.close();
});

test('acks=0 produces get no response; invalid batches are rejected with the matching error', async () => {
  const topic = unique('acks0');
  await createTopic(topic);
  const c = await RawClient.connect(t.broker.port);
  c.send(ApiKey.Produce, 7, 1, produceBody(topic, 0, encodeBatch([{ value: 'fire and forget' }]), 0));
  c.send(ApiKey.ApiVersions, 0, 2);
  assert.equal((await c.receive()).correlationId, 2, 'the acks=0 request got no response');

  const corrupt = encodeBatch([{ value: 'x' }]);
  corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 1) ^ 0xff, corrupt.length - 1);
  c.send(ApiKey.Produce, 7, 3, produceBody(topic, 0, corrupt));
  assert.equal(readProduce((await c.receive()).body)[0], ErrorCode.CORRUPT_MESSAGE);

  const oldFormat = encodeBatch([{ value: 'x' }]);
  oldFormat[16] = 1;
  c.send(ApiKey.Produce, 7, 4, produceBody(topic, 0, oldFormat));
  assert.equal(readProduce((await c.receive()).body)[0], ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);

  c.send(ApiKey.Produce, 7, 5, produceBody(topic, 7, encodeBatch([{ value: 'x' }])));
  assert.equal(readProduce((await c.receive()).body)[0], ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);

  c.send(ApiKey.Produce, 7, 6, produceBody(topic, 0, encodeBatch([{ value: 'counted' }])));
  assert.deepEqual(readProduce((await c.receive()).body), [ErrorCode.NONE, 1], 'only the acks=0 record was appended before');
  c.close();
});
