/**
 * Record batch v2 (magic 2), the only message format this broker accepts or serves. The broker never needs
 * to look inside a batch to store or serve it: the header carries the record count, the last offset delta and
 * the max timestamp, and clients decompress on their own. So batches are stored and fetched byte for byte,
 * which makes every compression codec work; only ListOffsets-by-timestamp peeks at records (see records.ts).
 */
import { crc32c } from './crc32c.ts';

/** Byte offsets inside the batch header (Kafka protocol guide, "Record Batch"). */
export const BatchField = {
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  firstTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const;

export const BATCH_HEADER_SIZE = 61;
/** baseOffset + batchLength precede the part that batchLength counts. */
export const BATCH_LOG_OVERHEAD = 12;
const CRC_COVERS_FROM = BatchField.attributes;

export const CODEC_MASK = 0x07;
export const Codec = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

export interface BatchHeader {
  baseOffset: number;
  /** Total size in bytes including the 12-byte log overhead. */
  size: number;
  magic: number;
  attributes: number;
  lastOffsetDelta: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

export class InvalidBatchError extends Error {
  override name = 'InvalidBatchError';
  constructor(
    message: string,
    readonly reason: 'corrupt' | 'format' | 'invalid' | 'too-large',
  ) {
    super(message);
  }
}

/** Reads the header of the batch at `at`; the caller has checked that BATCH_HEADER_SIZE bytes are there. */
export function readBatchHeader(buf: Buffer, at = 0): BatchHeader {
  return {
    baseOffset: Number(buf.readBigInt64BE(at + BatchField.baseOffset)),
    size: buf.readInt32BE(at + BatchField.batchLength) + BATCH_LOG_OVERHEAD,
    magic: buf.readInt8(at + BatchField.magic),
    attributes: buf.readInt16BE(at + BatchField.attributes),
    lastOffsetDelta: buf.readInt32BE(at + BatchField.lastOffsetDelta),
    firstTimestamp: Number(buf.readBigInt64BE(at + BatchField.firstTimestamp)),
    maxTimestamp: Number(buf.readBigInt64BE(at + BatchField.maxTimestamp)),
    producerId: Number(buf.readBigInt64BE(at + BatchField.producerId)),
    producerEpoch: buf.readInt16BE(at + BatchField.producerEpoch),
    baseSequence: buf.readInt32BE(at + BatchField.baseSequence),
    recordCount: buf.readInt32BE(at + BatchField.recordCount),
  };
}

export interface ParsedBatch {
  header: BatchHeader;
  /** The whole batch, copied out of the request so that storing it never pins the request frame. */
  data: Buffer;
}

/**
 * Splits a produce payload into batches and checks each one the way the Java broker does before appending:
 * complete, magic 2, CRC-32C intact, and offset deltas consistent with the record count (the broker assigns
 * offsets as base + delta, so a batch lying about its deltas would corrupt the offset space).
 */
export function parseProducedBatches(records: Buffer, maxBatchBytes: number): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let at = 0;
  while (at < records.length) {
    if (records.length - at < BATCH_HEADER_SIZE) {
      throw new InvalidBatchError(`truncated batch header at byte ${at}`, 'corrupt');
    }
    const magic = records.readInt8(at + BatchField.magic);
    if (magic !== 2) throw new InvalidBatchError(`message format magic ${magic} is not supported (need 2)`, 'format');
    const header = readBatchHeader(records, at);
    if (header.size < BATCH_HEADER_SIZE || at + header.size > records.length) {
      throw new InvalidBatchError(`batch length ${header.size} does not fit the payload`, 'corrupt');
    }
    if (header.size > maxBatchBytes) {
      throw new InvalidBatchError(`batch of ${header.size} bytes exceeds ${maxBatchBytes}`, 'too-large');
    }
    const stored = records.readUInt32BE(at + BatchField.crc);
    const actual = crc32c(records, at + CRC_COVERS_FROM, at + header.size);
    if (stored !== actual) throw new InvalidBatchError('record batch CRC mismatch', 'corrupt');
    if (header.recordCount <= 0 || header.lastOffsetDelta !== header.recordCount - 1) {
      throw new InvalidBatchError(
        `record count ${header.recordCount} disagrees with last offset delta ${header.lastOffsetDelta}`,
        'invalid',
      );
    }
    out.push({ header, data: Buffer.from(records.subarray(at, at + header.size)) });
    at += header.size;
  }
  if (out.length === 0) throw new InvalidBatchError('empty record set', 'corrupt');
  return out;
}

/**
 * Stamps broker-owned fields. Neither is covered by the CRC (it starts at `attributes`), which is why the
 * broker can assign offsets without re-checksumming.
 */
export function stampBatch(data: Buffer, baseOffset: number): void {
  data.writeBigInt64BE(BigInt(baseOffset), BatchField.baseOffset);
  data.writeInt32BE(0, BatchField.partitionLeaderEpoch);
}

export function isCrcValid(buf: Buffer, at: number, size: number): boolean {
  return buf.readUInt32BE(at + BatchField.crc) === crc32c(buf, at + CRC_COVERS_FROM, at + size);
}
