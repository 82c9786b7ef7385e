/**
 * CreateTopics v0–v4 and DeleteTopics v0–v3. Any partition count is accepted. The replication factor must
 * be 1 (or -1, "broker default"): accepting 3 here would hide a setting that fails on a one-broker Kafka.
 * Both operations complete before the response, so there is no "marked for deletion" window.
 */
import { ApiKey, ErrorCode } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { topicNameProblem } from '../storage/topics.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

/** Each partition is a directory and an in-memory log; a typo like 100000 should fail, not fill the disk. */
const MAX_PARTITIONS = 10_000;

interface TopicSpec {
  name: string;
  partitions: number;
  replicationFactor: number;
  assignments: { partition: number; brokers: number[] }[];
}

type Outcome = { error: number; message: string | null; partitions?: number };

function validate(ctx: RequestContext, t: TopicSpec, duplicated: boolean): Outcome {
  const fail = (error: number, message: string): Outcome => ({ error, message });
  const nameProblem = topicNameProblem(t.name);
  if (nameProblem) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
  if (duplicated) return fail(ErrorCode.INVALID_REQUEST, `topic '${t.name}' appears more than once in the request`);
  if (ctx.broker.topics.get(t.name)) return fail(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
  if (t.assignments.length > 0) {
    if (t.partitions !== -1 || t.replicationFactor !== -1) {
      return fail(ErrorCode.INVALID_REQUEST, 'both a partition count or replication factor and a replica assignment were given');
    }
    const indices = new Set(t.assignments.map((a) => a.partition));
    const contiguous = indices.size === t.assignments.length && t.assignments.every((a) => a.partition >= 0 && a.partition < indices.size);
    if (!contiguous || t.assignments.some((a) => a.brokers.length !== 1 || a.brokers[0] !== 0)) {
      return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'partitions must be numbered 0..n-1, each assigned to broker 0 only');
    }
    return { error: ErrorCode.NONE, message: null, partitions: t.assignments.length };
  }
  const partitions = t.partitions === -1 ? ctx.broker.settings.defaultPartitions : t.partitions;
  if (partitions < 1 || partitions > MAX_PARTITIONS)
    return fail(ErrorCode.INVALID_PARTITIONS, `number of partitions must be between 1 and ${MAX_PARTITIONS}`);
  if (t.replicationFactor !== -1 && t.replicationFactor !== 1) {
    return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${t.replicationFactor} larger than available brokers: 1.`);
  }
  return { error: ErrorCode.NONE, message: null, partitions };
}

export const createTopics: ApiHandler = {
  key: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    const specs = r.array((r): TopicSpec => {
      const name = r.string();
      const partitions = r.int32();
      const replicationFactor = r.int16();
      const assignments = r.array((r) => ({ partition: r.int32(), brokers: r.array((r) => r.int32()) }));
      r.array((r) => [r.string(), r.nullableString()]); // topic configs: not applicable to this broker
      return { name, partitions, replicationFactor, assignments };
    });
    r.int32(); // timeout: creation is synchronous
    const validateOnly = v >= 1 ? r.bool() : false;

    const seen = new Map<string, number>();
    for (const s of specs) seen.set(s.name, (seen.get(s.name) ?? 0) + 1);
    const outcomes = specs.map((s) => {
      const outcome = validate(ctx, s, (seen.get(s.name) ?? 0) > 1);
      if (outcome.error === ErrorCode.NONE && !validateOnly) ctx.broker.topics.create(s.name, outcome.partitions!);
      return { name: s.name, ...outcome };
    });

    return respond(ctx, (w) => {
      if (v >= 2) w.int32(NO_THROTTLE);
      w.array(outcomes, (w, o) => {
        w.string(o.name).int16(o.error);
        if (v >= 1) w.nullableString(o.message);
      });
    });
  },
};

export const deleteTopics: ApiHandler = {
  key: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  handle(ctx: RequestContext, r: Reader) {
    const names = r.array((r) => r.string());
    r.int32(); // timeout: deletion is synchronous
    const results = names.map((name) => {
      const deleted = ctx.broker.topics.delete(name);
      if (deleted) ctx.broker.offsets.deleteTopic(name);
      return { name, error: deleted ? ErrorCode.NONE : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
    });
    return respond(ctx, (w) => {
      if (ctx.apiVersion >= 1) w.int32(NO_THROTTLE);
      w.array(results, (w, x) => w.string(x.name).int16(x.error));
    });
  },
};
