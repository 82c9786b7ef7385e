/**
 * Record batch v2 encoding, CRC-32C, and the partition log's use of batch headers: timestamp lookup inside
 * plain and gzip batches, and recognising an idempotent producer's retried batch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProducedBatches, readBatchHeader, type InvalidBatchError } from '../src/records/batch.ts';
import { crc32c } from '../src/records/crc32c.ts';
import { decodeRecords, encodeBatch } from '../src/records/records.ts';
import { PartitionLog } from '../src/storage/partition-log.ts';

const MAX = 1 << 20;

test('CRC-32C matches the standard check value and every split of the input', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 31) % 256));
  const whole = crc32c(data);
  for (const start of [0, 1, 7, 8, 9]) assert.equal(crc32c(Buffer.concat([Buffer.alloc(start), data]), start), whole);
});

test('batches round-trip keys, values, null values, headers and timestamps, plain and gzip', () => {
  const records = [
    { key: 'k1', value: 'v1', headers: { 'event-type': 'OrderPlaced', bin: Buffer.from([0, 1, 2]) }, timestamp: 1000 },
    { key: null, value: null, timestamp: 1005 },
    { key: 'k3', value: 'x'.repeat(300), timestamp: 999 },
  ];
  for (const gzip of [false, true]) {
    const batch = encodeBatch(records, { gzip });
    const [parsed] = parseProducedBatches(batch, MAX);
    assert.equal(parsed!.header.recordCount, 3);
    assert.equal(parsed!.header.maxTimestamp, 1005);
    const decoded = decodeRecords(batch);
    assert.deepEqual(
      decoded.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
      [
        [0, 1000, 'k1', 'v1'],
        [1, 1005, null, null],
        [2, 999, 'k3', 'x'.repeat(300)],
      ],
    );
    assert.deepEqual(
      decoded[0]!.headers.map((h) => [h.key, h.value]),
      [
        ['event-type', Buffer.from('OrderPlaced')],
        ['bin', Buffer.from([0, 1, 2])],
      ],
    );
  }
});

test('produce validation rejects truncation, bad CRCs, old formats, lying counts and oversized batches', () => {
  const good = encodeBatch([{ value: 'a' }, { value: 'b' }]);
  const reason = (bytes: Buffer, max = MAX): string => {
    try {
      parseProducedBatches(bytes, max);
      return 'accepted';
    } catch (err) {
      return (err as InvalidBatchError).reason;
    }
  };
  assert.equal(reason(Buffer.concat([good, good])), 'accepted');
  assert.equal(reason(good.subarray(0, good.length - 1)), 'corrupt');
  const flipped = Buffer.from(good);
  flipped.writeUInt8(flipped.readUInt8(70) ^ 1, 70);
  assert.equal(reason(flipped), 'corrupt');
  const magic1 = Buffer.from(good);
  magic1.writeInt8(1, 16);
  assert.equal(reason(magic1), 'format');
  const lying = Buffer.from(good);
  lying.writeInt32BE(5, 57);
  lying.writeUInt32BE(crc32c(lying, 21), 17);
  assert.equal(reason(lying), 'invalid');
  assert.equal(reason(good, 10), 'too-large');
});

test('offsets are assigned on append; timestamps are found inside plain and gzip batches', () => {
  const log = new PartitionLog('t', 0, null);
  const at = (ts: number): { key: string; value: string; timestamp: number } => ({ key: 'k', value: String(ts), timestamp: ts });
  assert.equal(log.append(parseProducedBatches(encodeBatch([at(100), at(200)]), MAX)), 0);
  assert.equal(log.append(parseProducedBatches(encodeBatch([at(300), at(400), at(500)], { gzip: true }), MAX)), 2);
  assert.equal(log.highWatermark, 5);
  assert.equal(readBatchHeader(log.read(2, MAX, true).chunks[0]!).baseOffset, 2, 'stored batches carry their assigned offset');
  assert.deepEqual(log.offsetForTimestamp(150), { offset: 1, timestamp: 200 });
  assert.deepEqual(log.offsetForTimestamp(400), { offset: 3, timestamp: 400 });
  assert.equal(log.offsetForTimestamp(501), null);
});

test('an idempotent producer retrying its last batch gets the original offset, not a duplicate', () => {
  const log = new PartitionLog('t', 0, null);
  const batch = (sequence: number): Buffer => encodeBatch([{ value: `s${sequence}` }], { producer: { id: 77, epoch: 0, sequence } });
  assert.equal(log.append(parseProducedBatches(batch(0), MAX)), 0);
  assert.equal(log.append(parseProducedBatches(batch(1), MAX)), 1);
  assert.equal(log.append(parseProducedBatches(batch(1), MAX)), 1, 'the retry is acknowledged with its first offset');
  assert.equal(log.highWatermark, 2);
  assert.equal(log.append(parseProducedBatches(encodeBatch([{ value: 'plain' }]), MAX)), 2, 'plain producers are never deduplicated');
});
