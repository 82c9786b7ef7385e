import type pg from 'pg';
import type { EventStore } from '../eventstore/types.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { ApplyResult } from './engine.ts';
import { applyBatch, EventLogConflictError } from './engine.ts';
import type { TableProjection } from './types.ts';

export { ProjectionGapError } from './engine.ts';

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

/** PostgreSQL aborts one side of a deadlock / serialisation conflict; the batch is safe to run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const isRetryable = (err: unknown) => RETRYABLE.has((err as { code?: string } | null)?.code ?? '');

/**
 * Applies batches of events to the read model, exactly once in effect (DESIGN.md §5), through the batched
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
  const applyOpts = { ...(opts.projections ? { projections: opts.projections } : {}), ...(opts.eventStore ? { eventStore: opts.eventStore } : {}), log };

  return {
    async applyBatch(events) {
      if (events.length === 0) return { applied: 0, duplicates: 0, repaired: 0, ignored: 0, streams: 0, attempts: 0 };
      let eventLogCopy = true;
      for (let attempts = 1; ; attempts++) {
        try {
          const result = await inTransaction(opts.pool, (client) => applyBatch(client, events, { ...applyOpts, eventLogCopy }));
          return { ...result, attempts };
        } catch (err) {
          if (err instanceof EventLogConflictError && eventLogCopy) {
            log(`[projector] ${err.message}`);
            eventLogCopy = false;
            continue;
          }
          if (!isRetryable(err) || attempts >= maxAttempts) throw err;
          log(`[projector] batch aborted by PostgreSQL (${(err as Error).message}); retry ${attempts}/${maxAttempts - 1}`);
          await new Promise((resolve) => setTimeout(resolve, 10 * attempts + Math.random() * 40 * attempts));
        }
      }
    },
  };
}

/** BEGIN … COMMIT on a pooled client; a connection that cannot even roll back is destroyed, not reused. */
export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: Error) => {
      broken = rollbackErr;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}
