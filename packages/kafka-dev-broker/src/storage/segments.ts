/**
 * Append-only segment files of one partition, in Kafka's own on-disk layout: batches back to back, each
 * starting with its base offset and length, files named after the first offset they hold (20 digits, so
 * lexical order is offset order). Writes go straight to the kernel with writeSync, so a crashed broker
 * process loses nothing it acknowledged; a crashed machine may lose the unflushed tail, which loading
 * detects (short or CRC-broken batch) and truncates away.
 *
 * Batches are read back from the files (the page cache makes that cheap), so a persisted partition keeps
 * only its index in memory however long the broker runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BATCH_HEADER_SIZE, isCrcValid, readBatchHeader, type BatchHeader } from '../records/batch.ts';

const SEGMENT_SUFFIX = '.log';
const segmentName = (baseOffset: number): string => String(baseOffset).padStart(20, '0') + SEGMENT_SUFFIX;

export interface BatchLocation {
  segment: number;
  position: number;
}

export interface LoadedBatch {
  header: BatchHeader;
  location: BatchLocation;
}

interface Segment {
  file: string;
  fd: number;
  size: number;
}

export class SegmentFiles {
  private readonly segments: Segment[] = [];

  private constructor(
    private readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  /** Opens (creating if needed) the partition directory and indexes the batches that survived. */
  static open(dir: string, segmentBytes: number, log: (line: string) => void): { files: SegmentFiles; batches: LoadedBatch[] } {
    fs.mkdirSync(dir, { recursive: true });
    const files = new SegmentFiles(dir, segmentBytes);
    const batches: LoadedBatch[] = [];
    let damaged = false;
    for (const name of fs
      .readdirSync(dir)
      .filter((n) => n.endsWith(SEGMENT_SUFFIX))
      .sort()) {
      const file = path.join(dir, name);
      if (damaged) {
        // Offsets after a damaged point cannot be trusted to be contiguous any more.
        log(`removing segment ${file}: it follows a truncated segment`);
        fs.rmSync(file);
        continue;
      }
      const buf = fs.readFileSync(file);
      const last = batches.at(-1)?.header;
      const valid = scanSegment(buf, last ? last.baseOffset + last.lastOffsetDelta + 1 : null, files.segments.length, batches);
      if (valid < buf.length) {
        log(`truncating ${file} from ${buf.length} to ${valid} bytes: incomplete or corrupt tail`);
        fs.truncateSync(file, valid);
        damaged = true;
      }
      files.segments.push({ file, fd: fs.openSync(file, 'a+'), size: valid });
    }
    return { files, batches };
  }

  append(baseOffset: number, data: Buffer): BatchLocation {
    let active = this.segments.at(-1);
    if (!active || (active.size > 0 && active.size + data.length > this.segmentBytes)) {
      const file = path.join(this.dir, segmentName(baseOffset));
      active = { file, fd: fs.openSync(file, 'a+'), size: 0 };
      this.segments.push(active);
    }
    const location = { segment: this.segments.length - 1, position: active.size };
    let written = 0;
    while (written < data.length) written += fs.writeSync(active.fd, data, written);
    active.size += data.length;
    return location;
  }

  /** `length` bytes from a location: one batch, or several adjacent batches of the same segment. */
  read(location: BatchLocation, length: number): Buffer {
    const segment = this.segments[location.segment]!;
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = fs.readSync(segment.fd, out, done, length - done, location.position + done);
      if (n === 0) throw new Error(`${segment.file} ends before byte ${location.position + length}`);
      done += n;
    }
    return out;
  }

  close(): void {
    for (const s of this.segments.splice(0)) fs.closeSync(s.fd);
  }
}

/** Indexes the valid batches of one segment into `out` and returns the length of its valid prefix. */
function scanSegment(buf: Buffer, expectedNext: number | null, segment: number, out: LoadedBatch[]): number {
  let at = 0;
  let next = expectedNext;
  while (buf.length - at >= BATCH_HEADER_SIZE) {
    const header = readBatchHeader(buf, at);
    if (header.magic !== 2 || header.size < BATCH_HEADER_SIZE || at + header.size > buf.length) break;
    if (!isCrcValid(buf, at, header.size)) break;
    if (next !== null && header.baseOffset !== next) break;
    out.push({ header, location: { segment, position: at } });
    next = header.baseOffset + header.lastOffsetDelta + 1;
    at += header.size;
  }
  return at;
}
