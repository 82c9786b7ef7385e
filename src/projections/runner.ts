import type pg from 'pg';
import type { EventStore } from '../eventstore/types.ts';
import type { Queryable } from '../readmodel/db.ts';
import { READ_MODEL_CHANNEL } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { StreamSlice } from './batch.ts';
import { planBatch } from './batch.ts';
import { appendEventLog } from './event-log.ts';
import * as marketing from './marketing.ts';
import { STREAM_PROJECTIONS, routeByEventType } from './registry.ts';
import type { SalesDeltas } from './sales.ts';
import { createSalesDeltas } from './sales.ts';
import type { StreamProjection } from './types.ts';

export interface ProjectionRunnerOptions {
  pool: pg.Pool;
  /** Where missing versions are read from when a stream arrives with a gap. Without it a gap fails the batch. */
  eventStore?: Pick<EventStore, 'readStream'>;
  log?: (line: string) => void;
  /** Attempts for a batch that PostgreSQL aborted as a deadlock or serialisation victim. Default 5. */
  maxAttempts?: number;
  /** Stream projections to run (default: all of them). */
  projections?: readonly StreamProjection[];
}

export interface BatchResult {
  /** Delivered events applied now. */
  applied: number;
  /** Delivered events already reflected (version <= stored) or delivered twice in this batch. */
  duplicates: number;
  /** Missing events read from the event store and applied before a delivered one. */
  repaired: number;
  /** Applied events no projection handles (unknown or not shown anywhere): they only advance the stream. */
  ignored: number;
  streams: number;
  attempts: number;
}

export interface ProjectionRunner {
  applyBatch(events: readonly EventEnvelope[]): Promise<BatchResult>;
}

/** A stream reached us with versions missing and they could not be obtained: retry later or dead-letter it. */
export class ProjectionGapError extends Error {
  constructor(
    readonly aggregateId: string,
    readonly storedVersion: number,
    readonly receivedVersion: number,
    why: string,
  ) {
    super(`gap in stream ${aggregateId}: read model at version ${storedVersion}, received ${receivedVersion}; ${why}`);
    this.name = 'ProjectionGapError';
  }
}

/** PostgreSQL aborts one side of a deadlock / serialisation conflict; the batch is safe to run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const isRetryable = (err: unknown) => RETRYABLE.has((err as { code?: string } | null)?.code ?? '');

/**
 * Applies batches of events to the read model, exactly once in effect (DESIGN.md §5):
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
  const routes = routeByEventType(opts.projections ?? STREAM_PROJECTIONS);
  const marketingTypes = new Set<string>(marketing.eventTypes);

  async function fetchGap(slice: StreamSlice, stored: number, version: number): Promise<EventEnvelope[]> {
    const fail = (why: string) => new ProjectionGapError(slice.aggregate_id, stored, version, why);
    if (!opts.eventStore) throw fail('no event store to repair from');
    const fetched = await opts.eventStore.readStream(slice.aggregate_id, { afterVersion: stored, toVersion: version });
    const missing = fetched.filter((e) => e.version > stored && e.version < version).sort((a, b) => a.version - b.version);
    const contiguous = missing.length === version - stored - 1 && missing.every((e, i) => e.version === stored + 1 + i);
    if (!contiguous) throw fail(`event store returned versions [${missing.map((e) => e.version).join(', ')}]`);
    log(`[projector] repaired gap in ${slice.aggregate_id}: versions ${stored + 1}..${version - 1} read from the event store`);
    return missing;
  }

  async function runInTransaction(db: Queryable, slices: StreamSlice[]): Promise<Omit<BatchResult, 'attempts'>> {
    const result = { applied: 0, duplicates: 0, repaired: 0, ignored: 0, streams: slices.length };
    const deltas: SalesDeltas = createSalesDeltas();
    const applied: EventEnvelope[] = [];

    const applyOne = async (event: EventEnvelope) => {
      applied.push(event);
      // Marketing first: it judges a payment or reversal against the order row as it was before this event.
      const counted = marketingTypes.has(event.event_type) && (await claim(db, event.event_id, marketing.name));
      if (counted) await marketing.collect(db, event, deltas);
      const projection = routes.get(event.event_type);
      if (projection) await projection.apply(db, event);
      else if (!counted) result.ignored++;
    };

    const stored = await lockStreams(db, slices);
    const positions: Array<{ aggregate_id: string; version: number; updated_at: string }> = [];
    for (const slice of slices) {
      let version = stored.get(slice.aggregate_id) ?? 0;
      const before = version;
      let lastCreatedAt = '';
      for (const event of slice.events) {
        if (event.version <= version) {
          result.duplicates++;
          continue;
        }
        if (event.version > version + 1) {
          for (const missing of await fetchGap(slice, version, event.version)) {
            await applyOne(missing);
            result.repaired++;
          }
        }
        await applyOne(event);
        result.applied++;
        version = event.version;
        lastCreatedAt = event.created_at;
      }
      if (version > before) positions.push({ aggregate_id: slice.aggregate_id, version, updated_at: lastCreatedAt });
    }

    await marketing.flush(db, deltas);
    await appendEventLog(db, applied);
    if (positions.length > 0) {
      await db.query(
        `UPDATE projection_streams s SET version = p.version, updated_at = p.updated_at
           FROM jsonb_to_recordset($1::jsonb) AS p(aggregate_id text, version integer, updated_at timestamptz)
          WHERE s.aggregate_id = p.aggregate_id`,
        [JSON.stringify(positions)],
      );
      await db.query(`SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n`, [
        READ_MODEL_CHANNEL,
        positions.map((p) => `${p.aggregate_id}:${p.version}`),
      ]);
    }
    return result;
  }

  async function attempt(slices: StreamSlice[]): Promise<Omit<BatchResult, 'attempts'>> {
    const client = await opts.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await runInTransaction(client, slices);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr; // the connection is unusable: destroy it instead of returning it to the pool
      });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  return {
    async applyBatch(events) {
      const slices = planBatch(events);
      // Redeliveries inside the batch itself, already dropped by planBatch.
      const repeats = events.length - slices.reduce((n, s) => n + s.events.length, 0);
      if (slices.length === 0) return { applied: 0, duplicates: 0, repaired: 0, ignored: 0, streams: 0, attempts: 0 };
      for (let attempts = 1; ; attempts++) {
        try {
          const result = await attempt(slices);
          return { ...result, duplicates: result.duplicates + repeats, attempts };
        } catch (err) {
          if (!isRetryable(err) || attempts >= maxAttempts) throw err;
          log(`[projector] batch aborted by PostgreSQL (${(err as Error).message}); retry ${attempts}/${maxAttempts - 1}`);
          await new Promise((resolve) => setTimeout(resolve, 10 * attempts + Math.random() * 40 * attempts));
        }
      }
    },
  };
}

/**
 * Locks (creating if needed) the projection_streams row of every stream in the batch in one statement, in the
 * slices' sorted order, and returns the stored versions. The no-op DO UPDATE is what takes the row lock on an
 * existing row; a concurrent runner blocks here until this transaction ends and then reads the new version.
 */
async function lockStreams(db: Queryable, slices: StreamSlice[]): Promise<Map<string, number>> {
  const { rows } = await db.query<{ aggregate_id: string; version: number }>(
    `INSERT INTO projection_streams AS s (aggregate_id, aggregate_type, version)
     SELECT id, type, 0 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(id, type, n) ORDER BY n
     ON CONFLICT (aggregate_id) DO UPDATE SET aggregate_id = s.aggregate_id
     RETURNING aggregate_id, version`,
    [slices.map((s) => s.aggregate_id), slices.map((s) => s.aggregate_type)],
  );
  return new Map(rows.map((r) => [r.aggregate_id, r.version]));
}

/** processed_events insert-if-absent: true the first time this projection sees the event. */
async function claim(db: Queryable, eventId: string, projection: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'INSERT INTO processed_events (event_id, projection) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [eventId, projection],
  );
  return rowCount === 1;
}
