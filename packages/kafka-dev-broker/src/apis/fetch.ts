/**
 * Fetch v4–v11 (v4 is the first that returns record batch v2). The request long-polls: if fewer than
 * min_bytes are available it parks until an append to one of its partitions makes min_bytes available, or
 * max_wait expires, and answers at once with whatever is there then. Errors (unknown partition, offset out
 * of range) answer immediately, as in Kafka.
 *
 * Fetch sessions (KIP-227, v7+) are declined by always answering session id 0, which every client treats as
 * "keep sending full fetch requests"; that is legal and keeps the broker stateless per fetch.
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import type { PartitionLog } from '../storage/partition-log.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

interface PartitionRequest {
  partition: number;
  fetchOffset: number;
  maxBytes: number;
}

interface TopicRequest {
  name: string;
  partitions: PartitionRequest[];
}

interface PartitionAnswer {
  partition: number;
  error: number;
  highWatermark: number;
  logStartOffset: number;
  chunks: Buffer[];
  bytes: number;
}

const outOfRange = (log: PartitionLog, offset: number): boolean => offset < log.logStartOffset || offset > log.highWatermark;

/** What the request could get right now, without reading any data: enough to decide whether to answer. */
function available(ctx: RequestContext, topics: readonly TopicRequest[]): { bytes: number; failed: boolean } {
  let bytes = 0;
  for (const t of topics) {
    for (const p of t.partitions) {
      const log = ctx.broker.topics.partition(t.name, p.partition);
      if (!log || outOfRange(log, p.fetchOffset)) return { bytes, failed: true };
      bytes += log.bytesAfter(p.fetchOffset, p.maxBytes);
    }
  }
  return { bytes, failed: false };
}

function collect(
  ctx: RequestContext,
  topics: readonly TopicRequest[],
  maxBytes: number,
): { name: string; partitions: PartitionAnswer[] }[] {
  let bytes = 0;
  return topics.map((t) => ({
    name: t.name,
    partitions: t.partitions.map((p): PartitionAnswer => {
      const log = ctx.broker.topics.partition(t.name, p.partition);
      const empty = { partition: p.partition, chunks: [], bytes: 0 };
      if (!log) return { ...empty, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, highWatermark: -1, logStartOffset: -1 };
      const answer = { ...empty, error: ErrorCode.NONE, highWatermark: log.highWatermark, logStartOffset: log.logStartOffset };
      if (outOfRange(log, p.fetchOffset)) return { ...answer, error: ErrorCode.OFFSET_OUT_OF_RANGE };
      // The first partition with data may exceed the limits by one batch, so oversized batches still flow.
      const read = log.read(p.fetchOffset, Math.min(p.maxBytes, maxBytes - bytes), bytes === 0);
      bytes += read.bytes;
      return { ...answer, chunks: read.chunks, bytes: read.bytes };
    }),
  }));
}

/** Resolves true when a partition of the request is appended to, false on timeout or disconnect. */
function nextAppend(logs: readonly PartitionLog[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const unsubscribes: (() => void)[] = [];
    const finish = (appended: boolean): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      for (const u of unsubscribes) u();
      resolve(appended);
    };
    const onAbort = (): void => finish(false);
    const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
    signal.addEventListener('abort', onAbort);
    for (const log of logs) unsubscribes.push(log.onAppend(() => finish(true)));
  });
}

/** Waits until min_bytes are available, an error shows up or max_wait passes; false if the client went away. */
async function longPoll(ctx: RequestContext, topics: readonly TopicRequest[], minBytes: number, maxWaitMs: number): Promise<boolean> {
  const deadline = Date.now() + maxWaitMs;
  const logs = topics
    .flatMap((t) => t.partitions.map((p) => ctx.broker.topics.partition(t.name, p.partition)))
    .filter((l): l is PartitionLog => !!l);
  for (;;) {
    const now = available(ctx, topics);
    if (now.failed || now.bytes >= minBytes || Date.now() >= deadline) return true;
    const appended = await nextAppend(logs, deadline - Date.now(), ctx.signal);
    if (ctx.signal.aborted) return false;
    if (!appended) return true;
  }
}

export const fetch: ApiHandler = {
  key: ApiKey.Fetch,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 11,
  async handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    r.int32(); // replica id: always a consumer here
    const maxWaitMs = r.int32();
    const minBytes = r.int32();
    const maxBytes = r.int32();
    r.int8(); // isolation level: without transactions, the last stable offset is the high watermark
    if (v >= 7) r.skip(8); // session id and epoch: sessions are declined (see above)
    const topics = r.array((r): TopicRequest => ({
      name: r.string(),
      partitions: r.array((r) => {
        const partition = r.int32();
        if (v >= 9) r.int32(); // current leader epoch
        const fetchOffset = r.int64();
        if (v >= 5) r.int64(); // follower log start offset
        return { partition, fetchOffset, maxBytes: r.int32() };
      }),
    }));

    if (maxWaitMs > 0 && !(await longPoll(ctx, topics, minBytes, maxWaitMs))) return null;
    const answers = collect(ctx, topics, maxBytes);
    const size = answers.flatMap((t) => t.partitions).reduce((n, p) => n + p.bytes, 0);

    return respond(
      ctx,
      (w) => {
        w.int32(NO_THROTTLE);
        if (v >= 7) w.int16(ErrorCode.NONE).int32(0);
        w.array(answers, (w, t) => {
          w.string(t.name).array(t.partitions, (w, p) => {
            w.int32(p.partition).int16(p.error).int64(p.highWatermark);
            w.int64(p.highWatermark); // last stable offset
            if (v >= 5) w.int64(p.logStartOffset);
            w.int32(0); // aborted transactions: none, there are no transactions
            if (v >= 11) w.int32(-1); // preferred read replica: none
            w.int32(p.bytes);
            for (const chunk of p.chunks) w.raw(chunk);
          });
        });
      },
      size + 256,
    );
  },
};
