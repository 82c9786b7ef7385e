/**
 * A consumer-group member for the projector, the notifier and the worker. kafkajs does the group protocol and
 * fetching; batch.ts decides what is committed when. Offsets are never auto-committed: kafkajs' auto commit
 * would commit on a timer, possibly before the handler's effect is durable (docs/kafka.md).
 *
 * The member outlives its kafkajs consumer. kafkajs restarts a crashed consumer only for errors it deems
 * retriable, and a client can wedge without crashing (managed.ts); either way this member recreates the kafkajs
 * consumer after a backoff — on a non-restarted crash, on a failed start (the broker down at boot), and when no
 * fetch, heartbeat or batch happened for stallMs — and resumes from the committed offsets. A process therefore
 * never has to exit to recover its consumer, and health() says meanwhile that it is not consuming.
 */
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Producer } from 'kafkajs';
import type { BatchHandler, ConsumerStats } from './batch.ts';
import { createBatchProcessor, emptyStats } from './batch.ts';
import { toDeadLetter } from './dlq.ts';
import type { Logger } from './log.ts';
import { createManagedClient, isRecordRejection } from './managed.ts';
import { producerFor } from './publisher.ts';
import type { Backoff } from './retry.ts';
import { backoffDelay, isTransientError } from './retry.ts';
import { waitAtMost } from '../shared/timeout.ts';

export interface ConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  handleBatch: BatchHandler;
  /** Retries of a failing batch before the failing event(s) are isolated and dead-lettered. Default 5. */
  maxRetries?: number;
  /** Default: 200 ms doubling up to 5 s, ±20 % jitter. */
  backoff?: Backoff;
  /** Failures to wait out indefinitely instead of dead-lettering (outages). Default: isTransientError. */
  isTransient?: (err: unknown) => boolean;
  /** A connected producer to share; by default the consumer makes (and owns) its own. */
  dlqProducer?: Producer;
  dlqTopic: string;
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
  /** kafkajs gave up restarting its consumer (non-retriable crash); told before this member recreates it. */
  onFatal?: (err: Error) => void;
  /** A member with no fetch, heartbeat or batch for this long is recreated. Default 60 s. */
  stallMs?: number;
  /** health().ok turns false after this long without a fetch, heartbeat or batch. Default max(15 s, 3 rounds). */
  readyQuietMs?: number;
}

export interface RunningConsumer {
  /**
   * Resolves once the member has joined its group for the first time. A broker that is down at start is waited
   * out (the member keeps trying); rejects only if stop() comes first.
   */
  ready: Promise<void>;
  /** Finishes the in-flight batch, commits it, leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>;
  stats(): ConsumerStats;
  /** For readiness and metrics: is the member in its group and talking to the broker? */
  health(): ConsumerHealth;
  /** Records behind the end of each partition this member last handled, as of its last batch there. */
  lag(): Map<number, number>;
}

export interface ConsumerHealth {
  ok: boolean;
  state: 'starting' | 'running' | 'restarting' | 'stopped';
  /** In its group with an assignment (false between a rebalance starting and the next join). */
  joined: boolean;
  /** Since the last heartbeat, commit or batch; null before the first. */
  idle_ms: number | null;
  /** kafkajs consumers this member replaced after they crashed beyond kafkajs' own restarts or stalled. */
  restarts: number;
  last_error?: string;
}

/** A member silent for this long while not handling a batch is presumed wedged and is recreated. */
const DEFAULT_STALL_MS = 60_000;

export function runConsumer(opts: ConsumerOptions): RunningConsumer {
  const { kafka, groupId, log } = opts;
  const topic = opts.topic;
  const dlqTopic = opts.dlqTopic;
  const sessionTimeout = opts.sessionTimeout ?? 10_000;
  // A third of the session, as Kafka recommends: two heartbeats may be lost before the member is evicted.
  const heartbeatInterval = Math.min(3_000, Math.floor(sessionTimeout / 3));
  const maxWaitTimeInMs = opts.maxWaitTimeInMs ?? 1_000;
  const stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
  // Healthy members fetch every maxWaitTimeInMs and heartbeat every heartbeatInterval; a few missed rounds
  // (a request timeout is 10 s) mean the broker is not answering.
  const quietMs = opts.readyQuietMs ?? Math.max(15_000, 3 * heartbeatInterval, 3 * maxWaitTimeInMs);
  const stats = emptyStats();
  const stopping = new AbortController();
  // The DLQ producer is a managed client too: a dead letter written right after a broker freeze must not meet
  // a producer wedged by that freeze (managed.ts).
  const ownDlq = opts.dlqProducer
    ? undefined
    : createManagedClient({ make: () => producerFor(kafka), name: 'dlq producer', log, keepOn: isRecordRejection });
  const sendDeadLetter = (record: Parameters<Producer['send']>[0]) =>
    ownDlq ? ownDlq.use((p) => p.send(record)) : opts.dlqProducer!.send(record);

  const deadLetter = async (message: KafkaMessage, partition: number, error: unknown) => {
    await sendDeadLetter({
      topic: dlqTopic,
      acks: -1,
      messages: [toDeadLetter(message, { error, topic, partition, offset: message.offset, groupId })],
    });
  };

  const processBatch = createBatchProcessor({
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

  let state: ConsumerHealth['state'] = 'starting';
  let joined = false;
  let lastActivity: number | undefined;
  let inBatch = 0;
  let restarts = 0;
  let consecutiveFailures = 0;
  let lastError: string | undefined;
  const lagByPartition = new Map<number, number>();
  const touch = () => {
    lastActivity = Date.now();
  };

  let markReady = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  // Marks the rejection as handled: a caller that never awaits `ready` must not crash the process with an
  // unhandled rejection; one that does still sees it.
  ready.catch(() => {});

  /** The kafkajs consumer of this moment; replaced when it crashed beyond its own restarts or stalled. */
  let current: Consumer | undefined;
  let restartTimer: NodeJS.Timeout | undefined;

  const eachBatch = async (payload: EachBatchPayload) => {
    inBatch += 1;
    try {
      await processBatch(payload);
      // Fetched, handled and committed: the broker is answering.
      touch();
      const lag = Number(payload.batch.offsetLag());
      if (Number.isFinite(lag)) lagByPartition.set(payload.batch.partition, Math.max(0, lag));
    } finally {
      inBatch -= 1;
    }
  };

  const launch = async (): Promise<void> => {
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout,
      heartbeatInterval,
      rebalanceTimeout: opts.rebalanceTimeout ?? 30_000,
      maxWaitTimeInMs,
      // A consumer that subscribes before ensureTopics ran must fail, not auto-create a topic with the
      // broker's default partition count (1 on Apache Kafka), which would pin the group to one member forever.
      allowAutoTopicCreation: false,
    });
    current = consumer;
    const mine = () => current === consumer;
    const { events } = consumer;
    // Answers from the broker only: kafkajs emits FETCH_START and FETCH even for a fetch that timed out (it
    // swallows the error), so a member talking to a frozen broker would look busy. Heartbeats come every
    // heartbeatInterval when idle, commits and batches when busy.
    for (const event of [events.HEARTBEAT, events.COMMIT_OFFSETS, events.END_BATCH_PROCESS]) {
      consumer.on(event, () => mine() && touch());
    }
    consumer.on(events.REBALANCING, () => {
      if (mine()) joined = false;
    });
    consumer.on(events.GROUP_JOIN, ({ payload }) => {
      if (!mine()) return;
      joined = true;
      state = 'running';
      consecutiveFailures = 0;
      touch();
      log.info('joined consumer group', {
        group: groupId,
        member_id: payload.memberId,
        leader: payload.isLeader,
        assignment: payload.memberAssignment,
      });
      markReady();
    });
    consumer.on(events.CRASH, ({ payload }) => {
      if (!mine()) return;
      joined = false;
      lastError = `${payload.error.name}: ${payload.error.message}`;
      if (payload.restart) {
        log.warn('consumer crashed, kafkajs restarts it from the last committed offsets', { group: groupId, error: payload.error });
        return;
      }
      // kafkajs gives up on errors it deems non-retriable. The cause is usually the broker's state at that
      // moment (a freeze, a restart), not ours: a fresh consumer, after a pause, rejoins and resumes from the
      // committed offsets. Exiting instead would need a supervisor, and take the process's other work with it.
      log.error('consumer crashed and kafkajs will not restart it; recreating it', { group: groupId, error: payload.error });
      opts.onFatal?.(payload.error);
      restart(payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch,
    });
  };

  const start = () => {
    launch().catch((err: unknown) => {
      lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      log.warn('consumer could not start; retrying', { group: groupId, error: err });
      restart(err);
    });
  };

  function restart(reason: unknown): void {
    if (stopping.signal.aborted || state === 'restarting') return;
    state = 'restarting';
    joined = false;
    restarts += 1;
    consecutiveFailures += 1;
    const old = current;
    current = undefined;
    const delay = backoffDelay({ initialMs: 1_000, maxMs: 30_000 }, consecutiveFailures);
    log.info('recreating the consumer', {
      group: groupId,
      in_ms: delay,
      restarts,
      reason: reason instanceof Error ? reason.message : String(reason),
    });
    // disconnect() waits for the batch in flight; bounded, because a wedged client may never answer.
    void waitAtMost(old?.disconnect() ?? Promise.resolve(), 15_000).then(() => {
      if (stopping.signal.aborted) return;
      restartTimer = setTimeout(() => {
        if (stopping.signal.aborted) return;
        state = 'starting';
        start();
      }, delay);
    });
  }

  // A member that neither fetches nor heartbeats for stallMs, outside a batch, is stuck somewhere in kafkajs
  // without crashing: recreate it rather than sit on its partitions (the group reassigns them meanwhile).
  const watchdog = setInterval(
    () => {
      if (state !== 'running' || inBatch > 0 || lastActivity === undefined) return;
      if (Date.now() - lastActivity > stallMs) {
        log.error('consumer silent beyond its stall limit; recreating it', { group: groupId, idle_ms: Date.now() - lastActivity });
        restart(new Error(`no fetch or heartbeat for ${Date.now() - lastActivity} ms`));
      }
    },
    Math.min(5_000, stallMs),
  );
  watchdog.unref();

  start();

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping.abort();
      clearInterval(watchdog);
      clearTimeout(restartTimer);
      state = 'stopped';
      failReady(new Error(`consumer of group ${groupId} stopped before it joined`));
      try {
        // kafkajs waits for the in-flight eachBatch (which commits what it completed), then leaves the group
        // so the partitions move to the other members at once instead of after a session timeout.
        await current?.disconnect();
      } finally {
        await ownDlq?.disconnect().catch(() => {});
      }
      log.info('consumer stopped', { group: groupId, ...stats });
    })());

  const health = (): ConsumerHealth => {
    const idle = lastActivity === undefined ? null : Date.now() - lastActivity;
    // Not "in a batch": a batch stuck on a commit to a frozen broker, or on a frozen database, is not consuming.
    const talking = idle !== null && idle < quietMs;
    return {
      ok: state === 'running' && joined && talking,
      state,
      joined,
      idle_ms: idle,
      restarts,
      ...(lastError ? { last_error: lastError } : {}),
    };
  };

  return { ready, stop, stats: () => ({ ...stats }), health, lag: () => new Map(lagByPartition) };
}
