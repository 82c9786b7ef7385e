/**
 * OffsetCommit v0–v7 and OffsetFetch v1–v5. Whether a commit is allowed is the coordinator's decision
 * (generation and membership checks); a refused commit fails every partition with the same error, which is
 * how clients detect that they must rejoin. An offset is durable (written to the offsets log) before the
 * response is sent.
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

/** Kafka's offset.metadata.max.bytes default. */
const MAX_METADATA_LENGTH = 4096;
const OFFSET_METADATA_TOO_LARGE = 12;

export const offsetCommit: ApiHandler = {
  key: ApiKey.OffsetCommit,
  name: 'OffsetCommit',
  minVersion: 0,
  maxVersion: 7,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const groupId = r.string();
    const generationId = v >= 1 ? r.int32() : -1;
    const memberId = v >= 1 ? r.string() : '';
    if (v >= 7) r.nullableString(); // group instance id
    if (v >= 2 && v <= 4) r.int64(); // retention time: offsets are kept forever here
    const topics = r.array((r) => ({
      name: r.string(),
      partitions: r.array((r) => {
        const index = r.int32();
        const offset = r.int64();
        const leaderEpoch = v >= 6 ? r.int32() : -1;
        if (v === 1) r.int64(); // commit timestamp
        return { index, offset, leaderEpoch, metadata: r.nullableString() };
      }),
    }));

    const refusal = ctx.broker.coordinator.checkCommit(groupId, memberId, generationId);
    const accepted: Parameters<typeof ctx.broker.offsets.commit>[1][number][] = [];
    const results = topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => {
        let error: number = refusal;
        if (error === ErrorCode.NONE && !ctx.broker.topics.partition(t.name, p.index)) error = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
        if (error === ErrorCode.NONE && (p.metadata?.length ?? 0) > MAX_METADATA_LENGTH) error = OFFSET_METADATA_TOO_LARGE;
        if (error === ErrorCode.NONE) {
          accepted.push({
            topic: t.name,
            partition: p.index,
            value: { offset: p.offset, leaderEpoch: p.leaderEpoch, metadata: p.metadata },
          });
        }
        return { index: p.index, error };
      }),
    }));
    ctx.broker.offsets.commit(groupId, accepted);

    return respond(ctx, (w) => {
      if (v >= 3) w.int32(NO_THROTTLE);
      w.array(results, (w, t) => w.string(t.name).array(t.partitions, (w, p) => w.int32(p.index).int16(p.error)));
    });
  },
};

export const offsetFetch: ApiHandler = {
  key: ApiKey.OffsetFetch,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 5,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const groupId = r.string();
    const requested = r.nullableArray((r) => ({ name: r.string(), partitions: r.array((r) => r.int32()) }));
    const { offsets } = ctx.broker;

    // A null topic list (v2+) asks for every offset the group has committed.
    const topics =
      requested ??
      Object.entries(
        offsets.forGroup(groupId).reduce<Record<string, number[]>>((acc, c) => {
          (acc[c.topic] ??= []).push(c.partition);
          return acc;
        }, {}),
      ).map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a - b) }));

    return respond(ctx, (w) => {
      if (v >= 3) w.int32(NO_THROTTLE);
      w.array(topics, (w, t) => {
        w.string(t.name).array(t.partitions, (w, partition) => {
          const c = offsets.get(groupId, t.name, partition);
          w.int32(partition).int64(c?.offset ?? -1);
          if (v >= 5) w.int32(c?.leaderEpoch ?? -1);
          w.nullableString(c ? c.metadata : '').int16(ErrorCode.NONE);
        });
      });
      if (v >= 2) w.int16(ErrorCode.NONE);
    });
  },
};
