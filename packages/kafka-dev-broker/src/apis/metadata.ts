/**
 * Metadata v0–v8. One broker (node 0) leads every partition with itself as the only replica. Unknown topics
 * are created on request (always for v0–v3, when allow_auto_topic_creation is set for v4+) with the default
 * partition count. Creation is synchronous, so unlike a real cluster the first answer already carries a
 * leader and clients never see LEADER_NOT_AVAILABLE for a fresh topic.
 */
import { ApiKey, AUTHORIZED_OPERATIONS_OMITTED, ErrorCode, NODE_ID } from '../protocol/constants.ts';
import type { Reader } from '../protocol/reader.ts';
import { topicNameProblem, type Topic } from '../storage/topics.ts';
import { NO_THROTTLE, respond, type ApiHandler, type RequestContext } from './api.ts';

export const CLUSTER_ID = 'ec-shop-dev-broker';

type TopicAnswer = { name: string; error: number; topic: Topic | null };

function resolveTopics(ctx: RequestContext, requested: string[] | null, allowCreate: boolean): TopicAnswer[] {
  const { topics, settings } = ctx.broker;
  if (requested === null) return topics.list().map((t) => ({ name: t.name, error: ErrorCode.NONE, topic: t }));
  return requested.map((name) => {
    const existing = topics.get(name);
    if (existing) return { name, error: ErrorCode.NONE, topic: existing };
    if (topicNameProblem(name)) return { name, error: ErrorCode.INVALID_TOPIC_EXCEPTION, topic: null };
    if (!allowCreate || !settings.autoCreateTopics) return { name, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic: null };
    return { name, error: ErrorCode.NONE, topic: topics.create(name, settings.defaultPartitions) };
  });
}

export const metadata: ApiHandler = {
  key: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 8,
  handle(ctx: RequestContext, r: Reader) {
    const v = ctx.apiVersion;
    let requested = v === 0 ? r.array((x) => x.string()) : r.nullableArray((x) => x.string());
    // v0 has no null: an empty list there means "all topics".
    if (v === 0 && requested?.length === 0) requested = null;
    const allowCreate = v >= 4 ? r.bool() : true;
    const answers = resolveTopics(ctx, requested, allowCreate);

    return respond(ctx, (w) => {
      if (v >= 3) w.int32(NO_THROTTLE);
      w.array([NODE_ID], (w, id) => {
        w.int32(id).string(ctx.advertised.host).int32(ctx.advertised.port);
        if (v >= 1) w.nullableString(null); // rack
      });
      if (v >= 2) w.nullableString(CLUSTER_ID);
      if (v >= 1) w.int32(NODE_ID); // controller
      w.array(answers, (w, a) => {
        w.int16(a.error).string(a.name);
        if (v >= 1) w.bool(false); // is_internal
        w.array(a.topic?.partitions ?? [], (w, p) => {
          w.int16(ErrorCode.NONE).int32(p.partition).int32(NODE_ID);
          if (v >= 7) w.int32(0); // leader epoch
          w.int32Array([NODE_ID]).int32Array([NODE_ID]);
          if (v >= 5) w.int32Array([]); // offline replicas
        });
        if (v >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
      });
      if (v >= 8) w.int32(AUTHORIZED_OPERATIONS_OMITTED);
    });
  },
};
