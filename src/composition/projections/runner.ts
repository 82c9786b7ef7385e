import type pg from 'pg';
import type { EventStore } from '../../platform/eventstore/types.ts';
import { inTransaction, retryOnPgConflict } from '../../platform/shared/pg-tx.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { ApplyOptions, ApplyResult } from './engine.ts';
import { applyBatch, EventLogConflictError } from './engine.ts';
import type { TableProjection } from '../../kernel/projection.ts';

export { ProjectionGapError } from './engine.ts';

/**
 * One batch in one transaction, its event log written with COPY; a COPY that meets a row already logged (only
 * when a stream position was lost: engine.ts) aborts, and the same batch runs again with the log written
 * insert-if-absent.
 */
export async function applyWithLogFallback(
  pool: pg.Pool,
  events: readonly EventEnvelope[],
  opts: ApplyOptions,
  log: (line: string) => void,
): Promise<ApplyResult> {
  try {
    return await inTransaction(pool, (client) => applyBatch(client, events, { ...opts, eventLogCopy: true }));
  } catch (err) {
    if (!(err instanceof EventLogConflictError)) throw err;
    log(`[projector] ${err.message}`);
    return inTransaction(pool, (client) => applyBatch(client, events, { ...opts, eventLogCopy: false }));
  }
}

export interface ProjectionRunnerOptions {
  pool: pg.Pool;
  /** Where missing versions are read from when a stream arrives with a gap. Without it a gap fails the batch. */
  eventStore?: Pick<EventStore, 'readStream'>;
  log?: (line: string) => void;
  /** Attempts for a batch that PostgreSQL aborted as a deadlock or serialisation victim. Default 5. */
  maxAttempts?: number;
  /** Table projections to run (default: all of them). */
  projections?: readonly TableProjection[];
}

export interface BatchResult extends ApplyResult {
  attempts: number;
}

export interface ProjectionRunner {
  applyBatch(events: readonly EventEnvelope[]): Promise<BatchResult>;
}

/**
 * Applies batches of events to the read model, exactly once in effect (docs/projections.md), through the batched
 * engine (engine.ts):
 * - one PostgreSQL transaction per batch: a batch is all applied or not at all, so the consumer commits its
 *   Kafka offsets only after `applyBatch` resolves, and a crash anywhere just redelivers;
 * - every stream in the batch is locked in projection_streams (sorted order, no deadlocks between runners) and
 *   its stored version decides: duplicate → skip, gap → read the missing versions from the event store first;
 * - aggregating tables are additionally guarded by processed_events rows written in the same transaction;
 * - NOTIFY is issued inside the transaction, which PostgreSQL delivers only on commit: a waiter never wakes up
 *   to a version it cannot read yet.
 * Correctness does not depend on Kafka partition ownership: any number of runners may see the same events.
 */
export function createProjectionRunner(opts: ProjectionRunnerOptions): ProjectionRunner {
  const log = opts.log ?? (() => {});
  const maxAttempts = opts.maxAttempts ?? 5;
  const applyOpts = {
    ...(opts.projections ? { projections: opts.projections } : {}),
    ...(opts.eventStore ? { eventStore: opts.eventStore } : {}),
    log,
  };

  return {
    async applyBatch(events) {
      if (events.length === 0) return { applied: 0, duplicates: 0, repaired: 0, ignored: 0, streams: 0, attempts: 0 };
      // PostgreSQL aborts one side of a deadlock / serialisation conflict; the batch is safe to run again.
      return retryOnPgConflict(async (attempts) => ({ ...(await applyWithLogFallback(opts.pool, events, applyOpts, log)), attempts }), {
        attempts: maxAttempts,
        onRetry: (err, attempts) =>
          log(`[projector] batch aborted by PostgreSQL (${(err as Error).message}); retry ${attempts}/${maxAttempts - 1}`),
      });
    },
  };
}
