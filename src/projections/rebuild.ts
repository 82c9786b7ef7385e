import type pg from 'pg';
import type { EventStore } from '../eventstore/types.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { createProjectionRunner } from './runner.ts';

export interface RebuildOptions {
  pool: pg.Pool;
  eventStore: Pick<EventStore, 'scanAll' | 'readStream'>;
  /** Events per transaction. Default 500. */
  batchSize?: number;
  /** Parallel lanes; each owns a disjoint set of streams. Default 4 (the pool needs at least that many clients). */
  concurrency?: number;
  /** Parallel scan segments of the event store. Default 4. */
  segments?: number;
  log?: (line: string) => void;
}

export interface RebuildReport {
  /** Tables emptied before replaying. */
  truncated: string[];
  events: number;
  streams: number;
  batches: number;
  scan_ms: number;
  apply_ms: number;
  total_ms: number;
  /** Events applied per second (apply phase only). */
  events_per_second: number;
}

/** Tables the rebuild owns besides read_*: the projector's bookkeeping, which must restart with them. */
const BOOKKEEPING = ['projection_streams', 'processed_events'];

/**
 * Rebuilds every read table from the event store (`npm run rebuild`): truncates all read_* tables plus the
 * projector's bookkeeping (never sent_emails or saga_log: they record side effects, which a replay must not
 * repeat), scans the whole store, and replays each stream in version order through the normal runner.
 *
 * Safe to run while projectors are consuming: they lock the same stream rows, so a live event that lands after
 * the truncate finds its stream at version 0, repairs the gap from the event store, and the replay then skips
 * those versions as duplicates. Readers see a partial read model until it finishes.
 */
export async function rebuildAll(opts: RebuildOptions): Promise<RebuildReport> {
  const log = opts.log ?? (() => {});
  const batchSize = opts.batchSize ?? 500;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const started = Date.now();

  const truncated = await truncateReadTables(opts.pool);
  log(`truncated ${truncated.join(', ')}`);

  const streams = new Map<string, EventEnvelope[]>();
  let events = 0;
  await opts.eventStore.scanAll(
    async (page) => {
      for (const event of page) {
        const list = streams.get(event.aggregate_id) ?? [];
        list.push(event);
        streams.set(event.aggregate_id, list);
      }
      events += page.length;
    },
    { segments: opts.segments ?? 4 },
  );
  const scanned = Date.now();
  log(`scanned ${events} events in ${streams.size} streams (${scanned - started} ms)`);

  const runner = createProjectionRunner({ pool: opts.pool, eventStore: opts.eventStore, log });
  const lanes = assignLanes(streams, concurrency).map((lane) => toBatches(lane, batchSize));
  let done = 0;
  await Promise.all(
    lanes.map(async (batches) => {
      for (const batch of batches) {
        await runner.applyBatch(batch);
        done += batch.length;
      }
    }),
  );
  const finished = Date.now();
  const applyMs = finished - scanned;
  const report: RebuildReport = {
    truncated,
    events: done,
    streams: streams.size,
    batches: lanes.reduce((n, l) => n + l.length, 0),
    scan_ms: scanned - started,
    apply_ms: applyMs,
    total_ms: finished - started,
    events_per_second: Math.round((done / Math.max(applyMs, 1)) * 1000),
  };
  log(`applied ${done} events in ${report.batches} batches: ${report.events_per_second} events/s`);
  return report;
}

async function truncateReadTables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'read\\_%' ORDER BY tablename`,
  );
  const tables = [...rows.map((r) => r.tablename), ...BOOKKEEPING];
  for (const t of tables) if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new Error(`refusing to truncate unexpected table name ${t}`);
  await pool.query(`TRUNCATE ${tables.map((t) => `"${t}"`).join(', ')}`);
  return tables;
}

/**
 * Pure: streams spread over lanes, largest first onto the least loaded lane. A stream never spans lanes, so each
 * lane replays its streams strictly in order and lanes never wait for each other's stream locks.
 */
export function assignLanes(streams: ReadonlyMap<string, EventEnvelope[]>, lanes: number): EventEnvelope[][][] {
  const result = Array.from({ length: lanes }, () => ({ load: 0, streams: [] as EventEnvelope[][] }));
  const bySize = [...streams.entries()].sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1));
  for (const [, events] of bySize) {
    const lane = result.reduce((min, l) => (l.load < min.load ? l : min), result[0]!);
    lane.streams.push([...events].sort((a, b) => a.version - b.version));
    lane.load += events.length;
  }
  return result.map((l) => l.streams).filter((l) => l.length > 0);
}

/** Pure: a lane's streams packed into batches of at most `size` events; a long stream continues in the next batch. */
export function toBatches(streams: readonly EventEnvelope[][], size: number): EventEnvelope[][] {
  const batches: EventEnvelope[][] = [];
  let current: EventEnvelope[] = [];
  for (const events of streams) {
    for (const event of events) {
      current.push(event);
      if (current.length >= size) {
        batches.push(current);
        current = [];
      }
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
