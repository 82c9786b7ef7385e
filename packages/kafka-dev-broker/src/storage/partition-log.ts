/**
 * One partition: an index of its record batches (whose bytes are kept in memory, or in segment files when
 * the broker has a data directory), the offsets the broker assigned, and the wake-ups long-polling fetches
 * wait on. With a single replica, the high watermark is simply the log end offset.
 */
import { stampBatch, type BatchHeader, type ParsedBatch } from '../records/batch.ts';
import { decodeRecords, UnsupportedCodecError } from '../records/records.ts';
import type { BatchLocation, LoadedBatch, SegmentFiles } from './segments.ts';

/** A batch's index entry; its bytes live either in memory (`data`) or in a segment file (`location`). */
interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  size: number;
  data: Buffer | null;
  location: BatchLocation | null;
}

/** The last batch each idempotent producer wrote here, enough to recognise a retried send. */
interface ProducerState {
  epoch: number;
  baseSequence: number;
  baseOffset: number;
}

export interface ReadResult {
  chunks: Buffer[];
  bytes: number;
}

export class PartitionLog {
  private readonly batches: StoredBatch[] = [];
  private endOffset = 0;
  private readonly listeners = new Set<() => void>();
  private readonly producers = new Map<number, ProducerState>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly files: SegmentFiles | null,
    restored: readonly LoadedBatch[] = [],
  ) {
    for (const b of restored) this.push(b.header, null, b.location);
  }

  /** Nothing is ever deleted (no retention in a dev broker), so the log always starts at 0. */
  get logStartOffset(): number {
    return this.batches[0]?.baseOffset ?? this.endOffset;
  }

  get highWatermark(): number {
    return this.endOffset;
  }

  private push(h: BatchHeader, data: Buffer | null, location: BatchLocation | null): void {
    const lastOffset = h.baseOffset + h.lastOffsetDelta;
    this.batches.push({ baseOffset: h.baseOffset, lastOffset, maxTimestamp: h.maxTimestamp, size: h.size, data, location });
    this.endOffset = lastOffset + 1;
    if (h.producerId >= 0 && h.baseSequence >= 0) {
      this.producers.set(h.producerId, { epoch: h.producerEpoch, baseSequence: h.baseSequence, baseOffset: h.baseOffset });
    }
  }

  /**
   * Assigns offsets and appends; returns the base offset of the first batch. A batch an idempotent producer
   * already wrote (same producer id, epoch and base sequence as its last one, i.e. a retry after a lost
   * response) is not appended again: the original offset is returned, as the Java broker does.
   */
  append(batches: readonly ParsedBatch[]): number {
    let first: number | null = null;
    for (const { header, data } of batches) {
      const prev = header.producerId >= 0 ? this.producers.get(header.producerId) : undefined;
      if (prev && prev.epoch === header.producerEpoch && prev.baseSequence === header.baseSequence) {
        first ??= prev.baseOffset;
        continue;
      }
      const baseOffset = this.endOffset;
      stampBatch(data, baseOffset);
      const location = this.files?.append(baseOffset, data) ?? null;
      this.push({ ...header, baseOffset }, location ? null : data, location);
      first ??= baseOffset;
    }
    if (this.listeners.size > 0) for (const wake of [...this.listeners]) wake();
    return first ?? this.endOffset;
  }

  /** Index of the first batch whose last offset is >= offset (the batch that contains it). */
  private indexOf(offset: number): number {
    let lo = 0;
    let hi = this.batches.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid]!.lastOffset < offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Whole batches from the one containing `offset`, up to `maxBytes`. Batches are never cut: clients decode
   * batch by batch. With `minOne` the first batch is returned even when larger than `maxBytes`, so that a
   * consumer can always make progress (KIP-74). Adjacent batches of one segment are read with one call.
   */
  read(offset: number, maxBytes: number, minOne: boolean): ReadResult {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let run: { location: BatchLocation; size: number } | null = null;
    const flush = (): void => {
      if (run) chunks.push(this.files!.read(run.location, run.size));
      run = null;
    };
    for (let i = this.indexOf(offset); i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (bytes + b.size > maxBytes && !(minOne && bytes === 0)) break;
      bytes += b.size;
      if (b.data) {
        chunks.push(b.data);
      } else if (run && run.location.segment === b.location!.segment && run.location.position + run.size === b.location!.position) {
        run.size += b.size;
      } else {
        flush();
        run = { location: b.location!, size: b.size };
      }
    }
    flush();
    return { chunks, bytes };
  }

  private bytesOf(b: StoredBatch): Buffer {
    return b.data ?? this.files!.read(b.location!, b.size);
  }

  /** Bytes a fetch from `offset` could return right now; used to decide whether min_bytes is satisfied. */
  bytesAfter(offset: number, limit: number): number {
    let bytes = 0;
    for (let i = this.indexOf(offset); i < this.batches.length && bytes < limit; i++) bytes += this.batches[i]!.size;
    return bytes;
  }

  /**
   * The earliest offset whose record timestamp is >= `timestamp`. Batch max timestamps find the batch; inside
   * it, records are decoded when the codec allows it, otherwise the batch's base offset is the answer.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    const batch = this.batches.find((b) => b.maxTimestamp >= timestamp);
    if (!batch) return null;
    try {
      const rec = decodeRecords(this.bytesOf(batch)).find((r) => r.timestamp >= timestamp);
      if (rec) return { offset: rec.offset, timestamp: rec.timestamp };
    } catch (err) {
      if (!(err instanceof UnsupportedCodecError)) throw err;
    }
    return { offset: batch.baseOffset, timestamp: batch.maxTimestamp };
  }

  /** Calls `wake` after every append until the returned function is called. */
  onAppend(wake: () => void): () => void {
    this.listeners.add(wake);
    return () => this.listeners.delete(wake);
  }

  /** Wakes waiting fetches one last time (they then see the topic is gone) and releases the files. */
  close(): void {
    for (const wake of [...this.listeners]) wake();
    this.listeners.clear();
    this.files?.close();
  }
}
