/**
 * Poison events never freeze a stream's partition. A batch that fails for a reason that is not transient is
 * split by stream (bisection: one bad stream among n costs O(log n) extra transactions) until the failing
 * stream is alone; that stream is parked — parked_streams keeps the error and the event it was met at,
 * parked_events every event of the stream that arrived — and the rest of the batch is applied. From then on,
 * events of a parked stream are held back (added to parked_events) instead of being applied, so nothing of the
 * stream is lost and no later event re-fails the bad one. `retry` applies the held-back events after a fix (a
 * new release with an upcaster, a schema change) and unparks the stream in the same transaction.
 *
 * Transient failures (the database down, a lost connection) are not parking matters: they are rethrown and the
 * consumer waits them out. Holding back and retry serialise on the parked_streams row (FOR SHARE / FOR UPDATE),
 * so an event held back while a retry runs is either applied by that retry or found parked afterwards... never
 * dropped between the two.
 */
import type pg from 'pg';
import type { EventStore } from '../../platform/eventstore/types.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import { EventDataError } from '../../platform/shared/contract.ts';
import type { ApplyOptions, ApplyResult } from './engine.ts';
import { applyBatch, ParkedStreamsError } from './engine.ts';
import { applyWithLogFallback } from './runner.ts';
import { inTransaction, retryOnPgConflict } from '../../platform/shared/pg-tx.ts';

export interface ParkingOptions extends ApplyOptions {
  pool: pg.Pool;
  eventStore?: Pick<EventStore, 'readStream'>;
  /** Failures to rethrow (and wait out) rather than park. */
  isTransient: (err: unknown) => boolean;
  log?: (line: string) => void;
}

export interface ParkedBatchResult extends ApplyResult {
  /** Streams parked by this batch. */
  parked: string[];
  /** Events of already parked streams added to their held-back events. */
  held: number;
}

export interface ParkedStream {
  aggregate_id: string;
  error: string;
  event_id: string | null;
  event_type: string | null;
  version: number | null;
  attempts: number;
  parked_at: string;
  updated_at: string;
  held_events: number;
}

export interface ParkingProjector {
  applyBatch(events: readonly EventEnvelope[]): Promise<ParkedBatchResult>;
  /** Applies a parked stream's held-back events and unparks it; throws (and stays parked) if it still fails. */
  retry(aggregateId: string): Promise<{ applied: number; repaired: number } | undefined>;
  list(limit?: number): Promise<ParkedStream[]>;
}

const EMPTY = (): ParkedBatchResult => ({ applied: 0, duplicates: 0, repaired: 0, ignored: 0, streams: 0, parked: [], held: 0 });

const add = (a: ParkedBatchResult, b: ApplyResult) => {
  a.applied += b.applied;
  a.duplicates += b.duplicates;
  a.repaired += b.repaired;
  a.ignored += b.ignored;
  a.streams += b.streams;
};

const errorText = (err: unknown) => (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).slice(0, 4000);

export function createParkingProjector(opts: ParkingOptions): ParkingProjector {
  const log = opts.log ?? (() => {});
  const applyOpts: ApplyOptions = { ...opts, log };
  const apply = (events: readonly EventEnvelope[]): Promise<ApplyResult> =>
    retryOnPgConflict(() => applyWithLogFallback(opts.pool, events, applyOpts, log), { attempts: 5 });
  const checkedOpts: ApplyOptions = { ...applyOpts, failIfParked: true };
  const applyChecked = (events: readonly EventEnvelope[]): Promise<ApplyResult> =>
    retryOnPgConflict(() => applyWithLogFallback(opts.pool, events, checkedOpts, log), { attempts: 5 });

  /** Holds back the events of streams that are parked; returns the events of the others. */
  async function holdBack(events: readonly EventEnvelope[], result: ParkedBatchResult): Promise<EventEnvelope[]> {
    const ids = [...new Set(events.map((e) => e.aggregate_id))];
    // Only reached when the lock statement found a parked stream in the batch (applyBatch below).
    return inTransaction(opts.pool, async (client) => {
      const { rows } = await client.query<{ aggregate_id: string }>(
        'SELECT aggregate_id FROM parked_streams WHERE aggregate_id = ANY($1::text[]) FOR SHARE',
        [ids],
      );
      if (rows.length === 0) return [...events];
      const parked = new Set(rows.map((r) => r.aggregate_id));
      const held = events.filter((e) => parked.has(e.aggregate_id));
      await hold(client, held);
      result.held += held.length;
      return events.filter((e) => !parked.has(e.aggregate_id));
    });
  }

  async function park(stream: EventEnvelope[], err: unknown): Promise<void> {
    const at = err instanceof EventDataError ? err.event : stream[0];
    await inTransaction(opts.pool, async (client) => {
      await client.query(
        `INSERT INTO parked_streams (aggregate_id, error, event_id, event_type, version) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (aggregate_id) DO UPDATE SET error = EXCLUDED.error, attempts = parked_streams.attempts + 1, updated_at = now()`,
        [stream[0]!.aggregate_id, errorText(err), at?.event_id ?? null, at?.event_type ?? null, at?.version ?? null],
      );
      await hold(client, stream);
    });
    log(`[projector] parked stream ${stream[0]!.aggregate_id}: ${errorText(err)}`);
  }

  /** Applies `streams` (each an array of one stream's events); a failing stream is isolated and parked. */
  async function isolate(streams: EventEnvelope[][], err: unknown, result: ParkedBatchResult): Promise<void> {
    if (streams.length === 1) {
      await park(streams[0]!, err);
      result.parked.push(streams[0]![0]!.aggregate_id);
      return;
    }
    const mid = Math.ceil(streams.length / 2);
    for (const half of [streams.slice(0, mid), streams.slice(mid)]) {
      try {
        add(result, await apply(half.flat()));
      } catch (error) {
        if (opts.isTransient(error)) throw error;
        await isolate(half, error, result);
      }
    }
  }

  return {
    async applyBatch(events) {
      const result = EMPTY();
      if (events.length === 0) return result;
      let live: EventEnvelope[] = [...events];
      try {
        try {
          // The common case, no stream of the batch parked: the lock statement checks that (no extra round trip).
          add(result, await applyChecked(live));
          return result;
        } catch (err) {
          if (!(err instanceof ParkedStreamsError)) throw err;
        }
        live = await holdBack(events, result);
        if (live.length === 0) return result;
        add(result, await apply(live));
      } catch (err) {
        if (opts.isTransient(err)) throw err;
        const byStream = new Map<string, EventEnvelope[]>();
        for (const e of live) byStream.set(e.aggregate_id, [...(byStream.get(e.aggregate_id) ?? []), e]);
        await isolate([...byStream.values()], err, result);
      }
      return result;
    },

    async retry(aggregateId) {
      try {
        return await inTransaction(opts.pool, async (client) => {
          const { rows } = await client.query('SELECT 1 FROM parked_streams WHERE aggregate_id = $1 FOR UPDATE', [aggregateId]);
          if (rows.length === 0) return undefined;
          const held = await client.query<{ event: EventEnvelope }>(
            'SELECT event FROM parked_events WHERE aggregate_id = $1 ORDER BY version',
            [aggregateId],
          );
          // Insert-if-absent for the log: this transaction also unparks, so it cannot be re-run as a whole.
          const applied = await applyBatch(
            client,
            held.rows.map((r) => r.event),
            { ...applyOpts, eventLogCopy: false },
          );
          await client.query('DELETE FROM parked_events WHERE aggregate_id = $1', [aggregateId]);
          await client.query('DELETE FROM parked_streams WHERE aggregate_id = $1', [aggregateId]);
          log(`[projector] unparked stream ${aggregateId}: ${applied.applied} held-back events applied`);
          return { applied: applied.applied, repaired: applied.repaired };
        });
      } catch (err) {
        if (!opts.isTransient(err)) {
          await opts.pool.query(
            'UPDATE parked_streams SET error = $2, attempts = attempts + 1, updated_at = now() WHERE aggregate_id = $1',
            [aggregateId, errorText(err)],
          );
        }
        throw err;
      }
    },

    list: (limit = 100) => listParked(opts.pool, limit),
  };
}

async function hold(db: Queryable, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO parked_events (aggregate_id, version, event)
     SELECT e->>'aggregate_id', (e->>'version')::integer, e FROM jsonb_array_elements($1::jsonb) AS e
     ON CONFLICT DO NOTHING`,
    [JSON.stringify(events)],
  );
}

/** The parked streams, most recently parked first, with how many events each holds back. */
export async function listParked(db: Queryable, limit = 100): Promise<ParkedStream[]> {
  const { rows } = await db.query<ParkedStream>(
    `SELECT s.aggregate_id, s.error, s.event_id, s.event_type, s.version, s.attempts,
            to_json(s.parked_at)#>>'{}' AS parked_at, to_json(s.updated_at)#>>'{}' AS updated_at,
            (SELECT count(*)::integer FROM parked_events e WHERE e.aggregate_id = s.aggregate_id) AS held_events
       FROM parked_streams s ORDER BY s.parked_at DESC, s.aggregate_id LIMIT $1`,
    [limit],
  );
  return rows;
}
