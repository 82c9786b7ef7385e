import { createHash } from 'node:crypto';
import type { EventEnvelope, EventMetadata } from '../platform/shared/envelope.ts';
import type { Logger } from '../platform/shared/log.ts';
import { AppError } from '../platform/shared/errors.ts';
import { retryOnConflict } from '../platform/eventstore/aggregate.ts';
import { ConcurrencyError, IdempotencyKeyTaken, type EventStore } from '../platform/eventstore/types.ts';
import type { CommandHandler, Decision } from './handler.ts';
import { createStreamLocks, type StreamLock } from '../platform/commands/stream-locks.ts';
import {
  after,
  batchedProbe,
  batchedSnapshots,
  createAttemptSource,
  createCommitLog,
  withTips,
  type LoadMode,
  type Seen,
  type StreamSource,
} from '../platform/commands/loader.ts';
import { createStreams, type Streams } from './streams.ts';

export interface Publisher {
  publish(events: EventEnvelope[]): Promise<void>;
}

export interface ExecutorDeps {
  store: EventStore;
  publisher: Publisher;
  clock: () => Date;
  log: Logger;
  /** Inventory snapshots every this many events (DESIGN §3); default 100. */
  snapshotEvery?: number;
}

export interface Idempotency {
  /** Already scoped by the caller (user, method, path). */
  key: string;
  requestHash: string;
}

/** The answer recorded with an Idempotency-Key: what the caller turned the result into (an HTTP status and body). */
export interface Answer {
  status: number;
  body: unknown;
}

export type Executed<R> = { replayed: false; result: R } | { replayed: true; answer: Answer };

export const hashRequest = (body: string): string => createHash('sha256').update(body).digest('base64url');

const streamIdsOf = (d: Decision<unknown>): string[] => d.writes.map((w) => w.aggregate_id);
const changesNothing = (d: Decision<unknown>): boolean => d.writes.every((w) => w.events.length === 0) && !d.credential;

/**
 * Runs command handlers: decide → append atomically → answer, while publishing and clearing the outbox. Commands writing the same
 * stream in this process are queued (single-flight): one that had to wait decides again once it holds the
 * streams, so it sees its predecessor's effect instead of losing the optimistic check to it. A lost check
 * (another process) re-decides with jittered backoff. The dual write is safe because the outbox item is written
 * in the transaction: if the publish fails or this process dies, the worker's sweeper republishes. The publisher
 * fails fast while the broker is known to be down, so commands stay fast during a Kafka outage.
 */
export function createExecutor(deps: ExecutorDeps) {
  const inFlight = new Set<Promise<void>>();
  const locks = createStreamLocks();
  const commits = createCommitLog();
  const snapshots = batchedSnapshots(deps.store);
  const stillHead = batchedProbe(deps.store);
  const snapshotEvery = deps.snapshotEvery ?? 100;
  const streams = (): Streams => createStreams(deps.store, { snapshotEvery });
  const streamsOver = (source: StreamSource): Streams => createStreams(deps.store, { snapshotEvery, source });

  /** Runs work after the answer, tracked so that shutdown can wait for it. */
  const background = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  /**
   * Not awaited by the command: its answer means "in the event store", and the outbox item written in the same
   * transaction is what guarantees the publish (the sweeper republishes whatever this leaves marked). It starts
   * before the answer, so a client's next command on the stream is published after it (one producer, one
   * connection per partition leader, requests in order).
   */
  async function publishAndMark(events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await deps.publisher.publish(events);
    } catch (err) {
      deps.log.warn('publish failed; events stay in the outbox for the sweeper', { error: (err as Error).message, events: events.length });
      return;
    }
    // Needs no waiting for: if it is lost, the sweeper republishes and consumers drop the duplicate.
    background(
      deps.store.markPublished(events).catch((err: unknown) => {
        deps.log.warn('could not clear the outbox', { error: (err as Error).message });
      }),
    );
  }

  async function replay(idem: Idempotency): Promise<Answer | undefined> {
    const stored = await deps.store.findIdempotency(idem.key);
    if (!stored) return undefined;
    if (stored.request_hash !== idem.requestHash) {
      throw new AppError('validation', 'idempotency_key_reused', 'this Idempotency-Key was already used with a different request body');
    }
    return { status: stored.status, body: stored.body };
  }

  /**
   * One decision. A refusal or a "nothing to do" taken on an unverified tip counts only once the tips are
   * confirmed as their streams' heads (one batched probe for event tip + 1), else it is decided again on the
   * tails: only an append checks what the decision read.
   */
  async function decide<C, R>(
    handler: CommandHandler<C, R>,
    command: C,
    mode: LoadMode,
    startedAt: number,
    first?: ReadonlyMap<string, Seen>,
    /** Called before a refusal is confirmed: a command holding the streams' queue lets the next one decide meanwhile. */
    beforeConfirm?: () => void,
  ): Promise<{ decision: Decision<R>; seen: ReadonlyMap<string, Seen> }> {
    const attempt = createAttemptSource({ store: deps.store, snapshots, mode, log: commits, startedAt, ...(first ? { first } : {}) });
    const confirmed = async () => {
      beforeConfirm?.();
      const unverified = attempt.unverifiedStreams();
      return stillHead(
        unverified.map(([, s]) => s),
        unverified.map(([id]) => id),
      );
    };
    let decision: Decision<R>;
    try {
      decision = await handler(streamsOver(attempt.source), command);
    } catch (err) {
      if (err instanceof AppError && !(err instanceof ConcurrencyError) && attempt.unverified() && !(await confirmed()))
        return decide(handler, command, 'verify', startedAt);
      throw err;
    }
    if (changesNothing(decision) && attempt.unverified() && !(await confirmed())) return decide(handler, command, 'verify', startedAt);
    return { decision, seen: attempt.seen };
  }

  async function decideAndAppend<C, R>(
    handler: CommandHandler<C, R>,
    command: C,
    metadata: EventMetadata,
    once: { idempotency: Idempotency; status: number } | undefined,
  ): Promise<{ result: R; events: EventEnvelope[] }> {
    const startedAt = commits.now();
    return retryOnConflict(
      async (attemptNo) => {
        let { decision, seen } = await decide(handler, command, attemptNo === 1 ? 'tips' : 'verify', startedAt);
        // Nothing to write and no answer to record: done, without queueing behind anyone.
        if (changesNothing(decision) && !once) return { result: decision.result, events: [] };
        const lock: StreamLock = await locks.acquire(streamIdsOf(decision));
        try {
          if (lock.waited) {
            // A refusal to confirm (80 buyers after the stock ran out) probes outside the queue, so the probes of
            // all of them go out together instead of one round trip per buyer while the others wait.
            ({ decision, seen } = await decide(handler, command, 'locked', startedAt, seen, lock.release));
            // The cart changed while we waited (other lines now): decide again from the start, like a lost race.
            if (!streamIdsOf(decision).every((id) => lock.holds(id))) throw new ConcurrencyError(streamIdsOf(decision));
            if (changesNothing(decision) && !once) return { result: decision.result, events: [] };
          }
          // A decision that changes nothing still records its answer under the key (its writes are then all
          // guards): a delayed duplicate must get this answer, not act on whatever the streams hold by then.
          const appended = await deps.store
            .append(withTips(decision.writes, seen), {
              metadata,
              now: deps.clock().toISOString(),
              ...(decision.credential ? { credential: decision.credential } : {}),
              ...(once
                ? {
                    idempotency: {
                      key: once.idempotency.key,
                      request_hash: once.idempotency.requestHash,
                      status: once.status,
                      body: decision.result,
                    },
                  }
                : {}),
            })
            .catch((err: unknown) => {
              // Commands of this process on these streams queue here: the stream moved in another process.
              if (err instanceof ConcurrencyError) commits.lost(err.aggregateIds);
              throw err;
            });
          // The next command queued on a stream decides from the state this commit left, without reading it.
          for (const w of decision.writes) commits.committed(w.aggregate_id, after(seen.get(w.aggregate_id), w));
          return { result: decision.result, events: appended };
        } finally {
          lock.release();
        }
      },
      // Conflicts now come only from other processes: a few tries with jittered backoff, then 409.
      { attempts: 8, baseDelayMs: 15 },
    );
  }

  return {
    /** Runs a command and returns its typed result (the worker, seeding, tests). */
    async execute<C, R>(handler: CommandHandler<C, R>, command: C, opts: { metadata: EventMetadata }): Promise<R> {
      const { result, events } = await decideAndAppend(handler, command, opts.metadata, undefined);
      background(publishAndMark(events));
      return result;
    },

    /**
     * Runs a command at most once per idempotency key: the answer (`status`, chosen by the caller, and the result
     * as body) is stored in the command's transaction; a repeat gets the stored answer.
     */
    async executeOnce<C, R>(
      handler: CommandHandler<C, R>,
      command: C,
      opts: { metadata: EventMetadata; idempotency: Idempotency; status: number },
    ): Promise<Executed<R>> {
      const earlier = await replay(opts.idempotency);
      if (earlier) return { replayed: true, answer: earlier };
      try {
        const { result, events } = await decideAndAppend(handler, command, opts.metadata, {
          idempotency: opts.idempotency,
          status: opts.status,
        });
        background(publishAndMark(events));
        return { replayed: false, result };
      } catch (err) {
        // A duplicate that arrives while the first request is in flight can lose in two ways: its append finds
        // the key taken, or its (re-)decision already sees the first one's effect and refuses (the cart is
        // empty, the order is paid). Either way the command did happen once, and the first answer is the answer.
        if (err instanceof IdempotencyKeyTaken || err instanceof AppError) {
          const first = await replay(opts.idempotency);
          if (first) return { replayed: true, answer: first };
        }
        throw err;
      }
    },

    /** Streams for queries that decide from the event store (login, ownership checks). */
    streams,

    /** Waits for publishes and outbox clears in progress (graceful shutdown, tests, the bench). */
    async drain(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Executor = ReturnType<typeof createExecutor>;
