/**
 * ListOffsets v0–v5: latest (-1) is the high watermark, earliest (-2) the log start offset, any other value
 * a timestamp, answered with the first offset whose record timestamp is at or after it (offset -1 when the
 * log has nothing that recent, as in Kafka).
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

const LATEST = -1;
const EARLIEST = -2;

interface Lookup {
  partition: number;
  error: number;
  timestamp: number;
  offset: number;
}

function lookup(ctx: RequestContext, topic: string, partition: number, timestamp: number): Lookup {
  const log = ctx.broker.topics.partition(topic, partition);
  if (!log) return { partition, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, timestamp: -1, offset: -1 };
  if (timestamp === LATEST) return { partition, error: ErrorCode.NONE, timestamp: -1, offset: log.highWatermark };
  if (timestamp === EARLIEST) return { partition, error: ErrorCode.NONE, timestamp: -1, offset: log.logStartOffset };
  const found = log.offsetForTimestamp(timestamp);
  return { partition, error: ErrorCode.NONE, timestamp: found?.timestamp ?? -1, offset: found?.offset ?? -1 };
}

export const listOffsets: ApiHandler = {
  key: ApiKey.ListOffsets,
  name: 'ListOffsets',
  minVersion: 0,
  maxVersion: 5,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    r.int32(); // replica id
    if (v >= 2) r.int8(); // isolation level: no transactions, so both levels see the same offsets
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const partition = r.int32();
        if (v >= 4) r.int32(); // current leader epoch
        const timestamp = r.int64();
        if (v === 0) r.int32(); // max_num_offsets: v0 answers with at most one offset anyway
        return { partition, timestamp };
      }),
    }));

    return respond(ctx, (w) => {
      if (v >= 2) w.int32(NO_THROTTLE);
      w.array(topics, (w, t) => {
        w.string(t.name).array(t.partitions, (w, p) => {
          const found = lookup(ctx, t.name, p.partition, p.timestamp);
          w.int32(found.partition).int16(found.error);
          if (v === 0) {
            w.array(found.offset >= 0 ? [found.offset] : [], (w, o) => w.int64(o));
            return;
          }
          w.int64(found.timestamp).int64(found.offset);
          if (v >= 4) w.int32(0); // leader epoch
        });
      });
    });
  },
};
