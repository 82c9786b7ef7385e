/**
 * Record-level encode/decode for batch v2. The broker itself only decodes records to answer ListOffsets by
 * timestamp (uncompressed and gzip batches; other codecs fall back to batch granularity). The encoder exists
 * for raw-protocol tests and tools, and produces exactly what kafkajs and librdkafka produce.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { Reader } from '../protocol/reader.ts';
import { Writer } from '../protocol/writer.ts';
import { crc32c } from './crc32c.ts';
import { BATCH_HEADER_SIZE, BatchField, Codec, CODEC_MASK, readBatchHeader } from './batch.ts';

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

export interface DecodedRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export class UnsupportedCodecError extends Error {
  override name = 'UnsupportedCodecError';
}

function recordsSection(batch: Buffer, codec: number): Buffer {
  const body = batch.subarray(BATCH_HEADER_SIZE);
  if (codec === Codec.none) return body;
  if (codec === Codec.gzip) return gunzipSync(body);
  throw new UnsupportedCodecError(`compression codec ${codec} is opaque to the broker`);
}

/** Decodes every record of one stored batch. Throws UnsupportedCodecError for snappy, lz4 and zstd. */
export function decodeRecords(batch: Buffer): DecodedRecord[] {
  const h = readBatchHeader(batch);
  const r = new Reader(recordsSection(batch, h.attributes & CODEC_MASK));
  const out: DecodedRecord[] = [];
  for (let i = 0; i < h.recordCount; i++) {
    r.varint(); // record length: the fields below are self-delimiting
    r.int8(); // record attributes, unused in v2
    const timestamp = h.firstTimestamp + r.varlong();
    const offset = h.baseOffset + r.varint();
    const key = r.varBytes();
    const value = r.varBytes();
    const headers: RecordHeader[] = [];
    const headerCount = r.varint();
    for (let j = 0; j < headerCount; j++) {
      const hk = r.varBytes();
      headers.push({ key: hk?.toString('utf8') ?? '', value: r.varBytes() });
    }
    out.push({ offset, timestamp, key, value, headers });
  }
  return out;
}

export interface NewRecord {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  timestamp?: number;
}

const toBuf = (v: Buffer | string | null | undefined): Buffer | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(v);

export interface EncodeOptions {
  gzip?: boolean;
  now?: number;
  /** Idempotent producer identity; without it the batch carries no producer id (-1), like a plain producer. */
  producer?: { id: number; epoch: number; sequence: number };
}

/** Encodes records into one batch v2 (base offset 0: the broker assigns offsets on append). */
export function encodeBatch(records: readonly NewRecord[], opts: EncodeOptions = {}): Buffer {
  const now = opts.now ?? Date.now();
  const firstTimestamp = records[0]?.timestamp ?? now;
  let maxTimestamp = firstTimestamp;
  const body = new Writer(1024);
  records.forEach((rec, i) => {
    const ts = rec.timestamp ?? now;
    maxTimestamp = Math.max(maxTimestamp, ts);
    const one = new Writer(128)
      .int8(0)
      .varlong(ts - firstTimestamp)
      .varint(i);
    one.varBytes(toBuf(rec.key)).varBytes(toBuf(rec.value));
    const headers = Object.entries(rec.headers ?? {});
    one.varint(headers.length);
    for (const [k, v] of headers) one.varBytes(Buffer.from(k)).varBytes(toBuf(v));
    body.varint(one.length).raw(one.finish());
  });
  const payload = opts.gzip ? gzipSync(body.finish()) : body.finish();

  const w = new Writer(BATCH_HEADER_SIZE + payload.length);
  w.int64(0).int32(0).int32(0).int8(2).uint32(0);
  w.int16(opts.gzip ? Codec.gzip : Codec.none).int32(records.length - 1);
  const producer = opts.producer ?? { id: -1, epoch: -1, sequence: -1 };
  w.int64(firstTimestamp).int64(maxTimestamp).int64(producer.id).int16(producer.epoch).int32(producer.sequence).int32(records.length);
  w.raw(payload);
  const out = Buffer.from(w.finish());
  out.writeInt32BE(out.length - 12, BatchField.batchLength);
  out.writeUInt32BE(crc32c(out, BatchField.attributes), BatchField.crc);
  return out;
}
