/**
 * A consumer-group member for the projector, the notifier and the worker. kafkajs does the group protocol and
 * fetching; batch.ts decides what is committed when. Offsets are never auto-committed: kafkajs' auto commit
 * would commit on a timer, possibly before the handler's effect is durable (DESIGN.md §4).
 */
import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { TOPIC_DLQ, TOPIC_EVENTS } from '../shared/envelope.ts';
import type { BatchHandler, ConsumerStats } from './batch.ts';
import { createBatchProcessor, emptyStats } from './batch.ts';
import { toDeadLetter } from './dlq.ts';
import type { Logger } from './log.ts';
import { producerFor } from './publisher.ts';
import type { Backoff } from './retry.ts';
import { isTransientError } from './retry.ts';

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic?: string;
  handleBatch: BatchHandler;
  /** Retries of a failing batch before the failing event(s) are isolated and dead-lettered. Default 5. */
  maxRetries?: number;
  /** Default: 200 ms doubling up to 5 s, ±20 % jitter. */
  backoff?: Backoff;
  /** Failures to wait out indefinitely instead of dead-lettering (outages). Default: isTransientError. */
  isTransient?: (err: unknown) => boolean;
  /** A connected producer to share; by default the consumer makes (and owns) its own. */
  dlqProducer?: Producer;
  dlqTopic?: string;
  log: Logger;
  /** How long a silent (crashed, frozen) member keeps its partitions. Default 10 s. */
  sessionTimeout?: number;
  /** How long the coordinator waits for members to rejoin during a rebalance. Default 30 s. */
  rebalanceTimeout?: number;
  /** Fetch long-poll; also roughly how long an idle consumer takes to notice stop(). Default 1 s. */
  maxWaitTimeInMs?: number;
  /** Only for a group without committed offsets. Default true: a new group must see the whole history. */
  fromBeginning?: boolean;
  /** Partitions handled in parallel by this member. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** kafkajs gave up restarting the consumer (non-retriable crash). The process should exit and be restarted. */
  onFatal?: (err: Error) => void;
}

export interface RunningConsumer {
  /** Resolves once the member has joined its group and has an assignment; rejects if it never can. */
  ready: Promise<void>;
  /** Finishes the in-flight batch, commits it, leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>;
  stats(): ConsumerStats;
}

export function runConsumer(opts: ConsumerOptions): RunningConsumer {
  const { kafka, groupId, log } = opts;
  const topic = opts.topic ?? TOPIC_EVENTS;
  const dlqTopic = opts.dlqTopic ?? TOPIC_DLQ;
  const sessionTimeout = opts.sessionTimeout ?? 10_000;
  // A third of the session, as Kafka recommends: two heartbeats may be lost before the member is evicted.
  const heartbeatInterval = Math.min(3_000, Math.floor(sessionTimeout / 3));
  const stats = emptyStats();
  const stopping = new AbortController();
  const dlq = opts.dlqProducer ?? producerFor(kafka);
  const ownsDlq = opts.dlqProducer === undefined;

  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval,
    rebalanceTimeout: opts.rebalanceTimeout ?? 30_000,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 1_000,
    // A consumer that subscribes before ensureTopics ran must fail, not auto-create a topic with the
    // broker's default partition count (1 on Apache Kafka), which would pin the group to one member forever.
    allowAutoTopicCreation: false,
  });

  const deadLetter = async (message: KafkaMessage, partition: number, error: unknown) => {
    await dlq.send({ topic: dlqTopic, acks: -1, messages: [toDeadLetter(message, { error, topic, partition, offset: message.offset, groupId })] });
  };

  const eachBatch = createBatchProcessor({
    groupId,
    handleBatch: opts.handleBatch,
    maxRetries: opts.maxRetries ?? 5,
    backoff: opts.backoff,
    isTransient: opts.isTransient ?? isTransientError,
    deadLetter,
    heartbeatSliceMs: heartbeatInterval,
    signal: stopping.signal,
    stats,
    log,
  });

  let markReady = () => {};
  let failReady: (err: Error) => void = () => {};
  const joined = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info('joined consumer group', { group: groupId, member_id: payload.memberId, leader: payload.isLeader, assignment: payload.memberAssignment });
    markReady();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) {
      log.warn('consumer crashed, kafkajs restarts it from the last committed offsets', { group: groupId, error: payload.error });
      return;
    }
    log.error('consumer crashed and will not restart', { group: groupId, error: payload.error });
    failReady(payload.error);
    opts.onFatal?.(payload.error);
  });

  const ready = (async () => {
    if (ownsDlq) await dlq.connect();
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
    await joined;
  })();
  // Marks the rejection as handled: a caller that never awaits `ready` must not crash the process with an
  // unhandled rejection; one that does still sees it.
  ready.catch(() => {});

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping.abort();
      failReady(new Error(`consumer of group ${groupId} stopped before it joined`));
      try {
        // kafkajs waits for the in-flight eachBatch (which commits what it completed), then leaves the group
        // so the partitions move to the other members at once instead of after a session timeout.
        await consumer.disconnect();
      } finally {
        if (ownsDlq) await dlq.disconnect();
      }
      log.info('consumer stopped', { group: groupId, ...stats });
    })());

  return { ready, stop, stats: () => ({ ...stats }) };
}
