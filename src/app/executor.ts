import { createHash } from 'node:crypto';
import type { EventEnvelope, EventMetadata } from '../shared/envelope.ts';
import type { Logger } from '../shared/log.ts';
import { AppError } from '../shared/errors.ts';
import { retryOnConflict } from '../eventstore/aggregate.ts';
import { IdempotencyKeyTaken, type Credential, type EventStore, type StreamWrite } from '../eventstore/types.ts';

/** What a command decided: the writes to append and the answer to give once they are durable. */
export interface Plan<B = unknown> {
  writes: StreamWrite[];
  /** A new account's password hash, appended in the same transaction but never as an event (DESIGN §3). */
  credential?: Credential;
  status: number;
  body: B;
}

export interface Outcome<B = unknown> {
  status: number;
  body: B;
  /** True when the answer is the stored first answer of an earlier request with the same Idempotency-Key. */
  replayed: boolean;
}

export interface Publisher {
  publish(events: EventEnvelope[]): Promise<void>;
}

export interface ExecutorDeps {
  store: EventStore;
  publisher: Publisher;
  clock: () => Date;
  log: Logger;
}

export interface Idempotency {
  /** Already scoped by the caller (user, method, path). */
  key: string;
  requestHash: string;
}

export const hashRequest = (body: string): string => createHash('sha256').update(body).digest('base64url');

/**
 * Runs a command: decide (plan) → append atomically → publish → clear the outbox marker, re-deciding on a
 * concurrency conflict. The dual write is safe because the outbox marker is written with the events: if the
 * publish fails or this process dies, the worker's sweeper republishes. The publisher fails fast while the
 * broker is known to be down, so commands stay fast and keep being accepted during a Kafka outage.
 */
export function createExecutor(deps: ExecutorDeps) {
  const inFlight = new Set<Promise<void>>();

  /** Runs work after the answer, tracked so that shutdown can wait for it. */
  const background = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  async function publishAndMark(events: EventEnvelope[]): Promise<void> {
    if (events.length === 0) return;
    try {
      // Awaited: the answer then means "durable and on its way to every consumer", and a client's next command
      // on the same aggregate is published after this one.
      await deps.publisher.publish(events);
    } catch (err) {
      deps.log.warn('publish failed; events stay in the outbox for the sweeper', { error: (err as Error).message, events: events.length });
      return;
    }
    // Clearing the marker is one write per event and needs no waiting for: if it is lost, the sweeper
    // republishes and consumers drop the duplicate by version / event_id (npm run bench measured it as the
    // largest single cost of a checkout).
    background(
      deps.store.markPublished(events).catch((err: unknown) => {
        deps.log.warn('could not clear outbox marker', { error: (err as Error).message });
      }),
    );
  }

  async function replay(idem: Idempotency): Promise<Outcome | undefined> {
    const stored = await deps.store.findIdempotency(idem.key);
    if (!stored) return undefined;
    if (stored.request_hash !== idem.requestHash) {
      throw new AppError('validation', 'idempotency_key_reused', 'this Idempotency-Key was already used with a different request body');
    }
    return { status: stored.status, body: stored.body, replayed: true };
  }

  return {
    async run<B>(plan: () => Promise<Plan<B>>, opts: { metadata: EventMetadata; idempotency?: Idempotency }): Promise<Outcome<B>> {
      if (opts.idempotency) {
        const earlier = await replay(opts.idempotency);
        if (earlier) return earlier as Outcome<B>;
      }
      try {
        // Eight tries with jittered backoff (up to ~2 s in all): enough for a burst of buyers on one hot
        // product (npm run bench, row 5) to be refused for stock, not for losing the race.
        const { result, events } = await retryOnConflict(async () => {
          const decided = await plan();
          if (decided.writes.every((w) => w.events.length === 0) && !decided.credential) return { result: decided, events: [] as EventEnvelope[] };
          // Writes without events stay in as guards: the transaction then also requires that those streams
          // have not moved since the decision read them.
          const appended = await deps.store.append(
            decided.writes,
            {
              metadata: opts.metadata,
              now: deps.clock().toISOString(),
              ...(decided.credential ? { credential: decided.credential } : {}),
              ...(opts.idempotency
                ? { idempotency: { key: opts.idempotency.key, request_hash: opts.idempotency.requestHash, status: decided.status, body: decided.body } }
                : {}),
            },
          );
          return { result: decided, events: appended };
        }, { attempts: 8, baseDelayMs: 15 });
        await publishAndMark(events);
        return { status: result.status, body: result.body, replayed: false };
      } catch (err) {
        // A duplicate that arrives while the first request is in flight can lose in two ways: its append finds
        // the key taken, or its (re-)decision already sees the first one's effect and refuses (the cart is
        // empty, the order is paid). Either way the command did happen once, and the first answer is the answer.
        if (opts.idempotency && (err instanceof IdempotencyKeyTaken || err instanceof AppError)) {
          const earlier = await replay(opts.idempotency);
          if (earlier) return earlier as Outcome<B>;
        }
        throw err;
      }
    },
    /** Waits for publishes in progress (graceful shutdown). */
    async drain(): Promise<void> {
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Executor = ReturnType<typeof createExecutor>;
