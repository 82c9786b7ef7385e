/**
 * The batched projection engine: applies a batch of envelopes inside the caller's transaction at a cost that
 * does not grow in statements with the batch size —
 *   1 statement   lock (and read the applied version of) every stream of the batch;
 *   0..g reads    of the event store, only for streams that arrived with a gap;
 *   1 per table   load the current rows of every key the batch touches;
 *   (in memory)   fold the events through each projection's pure evolve, in stream order;
 *   1             claim the events the aggregating tables count (processed_events), then 1 per marketing table;
 *   1 per table   upsert the rows that changed;
 *   1 + 1         the event log (one COPY, event-log.ts), the stream positions with their NOTIFY (a batch too small
 *                 to COPY logs its events in that same statement, as a data-modifying CTE).
 * Exactly once in effect (docs/projections.md): a version at or below the stream's is a duplicate and skipped, one
 * beyond the next is a gap repaired from the event store first; aggregating tables are guarded by
 * processed_events in the same transaction. Table names are unqualified: search_path picks the schema, so a
 * rebuild can apply into a shadow schema through this same function.
 */
import type { EventStore } from '../../platform/eventstore/types.ts';
import type { KnownEvent } from '../../kernel/contracts.ts';
import { decodeEvent } from '../../kernel/contracts.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import { READ_MODEL_CHANNEL } from '../../platform/readmodel/db.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { StreamSlice } from '../../platform/projections/batch.ts';
import { planBatch } from '../../platform/projections/batch.ts';
import { appendEventLog, eventLogCopies, eventLogInsert } from '../../platform/projections/event-log.ts';

export { EventLogConflictError } from '../../platform/projections/event-log.ts';
import * as marketing from '../../contexts/reporting/marketing.ts';
import type { OrderRow } from '../../contexts/orders/projection.ts';
import { orders } from '../../contexts/orders/projection.ts';
import { STREAM_PROJECTIONS, routeByEventType } from './registry.ts';
import { createSalesDeltas } from '../../contexts/reporting/sales.ts';
import { loadRows, saveRows } from './table.ts';
import type { TableProjection } from '../../kernel/projection.ts';

export interface ApplyOptions {
  /** Table projections to run (default: all of them). */
  projections?: readonly TableProjection[];
  /** Where missing versions are read from when a stream arrives with a gap. Without it a gap fails the batch. */
  eventStore?: Pick<EventStore, 'readStream'>;
  log?: (line: string) => void;
  /** Whether to count into the marketing tables (default true; a projection subset for tests may turn it off). */
  marketing?: boolean;
  /** false: the event log by insert-if-absent only, never COPY (the re-run after an EventLogConflictError). */
  eventLogCopy?: boolean;
  /**
   * true: the lock statement also asks whether any stream of the batch is parked (parking.ts), and if one is the
   * batch fails with ParkedStreamsError before anything is written: the parking check costs no round trip of its own.
   */
  failIfParked?: boolean;
}

/** Streams of the batch are parked (found by the lock statement with failIfParked): nothing was applied. */
export class ParkedStreamsError extends Error {
  readonly transient = false;
  constructor(readonly aggregateIds: readonly string[]) {
    super(`parked streams in the batch: ${aggregateIds.slice(0, 5).join(', ')}${aggregateIds.length > 5 ? ', …' : ''}`);
    this.name = 'ParkedStreamsError';
  }
}

export interface ApplyResult {
  /** Delivered events applied now. */
  applied: number;
  /** Delivered events already reflected (version <= stored) or delivered twice in this batch. */
  duplicates: number;
  /** Missing events read from the event store and applied before a delivered one. */
  repaired: number;
  /** Applied events no projection handles (unknown or not shown anywhere): they only advance the stream. */
  ignored: number;
  streams: number;
}

/** A stream reached us with versions missing and they could not be obtained: retry later or park it. */
export class ProjectionGapError extends Error {
  readonly transient = false;
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

/**
 * Applies `envelopes` (any order, duplicates allowed) in the caller's transaction: `db` must be a client inside
 * BEGIN … COMMIT, and a throw means the caller rolls back. NOTIFY is issued here and delivered on commit.
 */
export async function applyBatch(db: Queryable, envelopes: readonly EventEnvelope[], opts: ApplyOptions = {}): Promise<ApplyResult> {
  const slices = planBatch(envelopes);
  const repeats = envelopes.length - slices.reduce((n, s) => n + s.events.length, 0);
  const result: ApplyResult = { applied: 0, duplicates: repeats, repaired: 0, ignored: 0, streams: slices.length };
  if (slices.length === 0) return result;
  const projections = opts.projections ?? STREAM_PROJECTIONS;
  const routes = routeByEventType(projections);
  const countMarketing = opts.marketing ?? true;

  // 1. Lock the streams, decide what is new, repair gaps.
  const stored = await lockStreams(db, slices, opts.failIfParked ?? false);
  const toApply: EventEnvelope[] = [];
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
        const missing = await fetchGap(opts, slice, version, event.version);
        toApply.push(...missing);
        result.repaired += missing.length;
      }
      toApply.push(event);
      result.applied++;
      version = event.version;
      lastCreatedAt = event.created_at;
    }
    if (version > before) positions.push({ aggregate_id: slice.aggregate_id, version, updated_at: lastCreatedAt });
  }

  // 2. Decode once. An event of a type this release does not know only advances its stream.
  const decoded: Array<KnownEvent | undefined> = toApply.map(decodeEvent);

  // 3. Load every touched row, one query per table (orders always, when marketing needs prior orders).
  const touched = new Map<TableProjection, Set<string>>();
  const keyed: Array<Array<[TableProjection, string]>> = decoded.map((event) => {
    if (!event) return [];
    const projection = routes.get(event.event_type);
    const key = projection?.keyOf(event);
    if (!projection || key === undefined) return [];
    let keys = touched.get(projection);
    if (!keys) touched.set(projection, (keys = new Set()));
    keys.add(key);
    return [[projection, key]];
  });
  const needsOrders = countMarketing && decoded.some((e) => e && marketing.counts(e) && e.aggregate_type === 'Order');
  const ordersProjection = projections.find((p) => p.table === orders.table) as TableProjection | undefined;
  if (needsOrders && !ordersProjection) throw new Error('marketing needs the orders projection');
  const state = new Map<TableProjection, Map<string, unknown>>();
  for (const [projection, keys] of touched) state.set(projection, await loadRows(db, projection, [...keys]));
  const dirty = new Map<TableProjection, Set<string>>();

  // 4. Fold, in stream order. Marketing first: it judges a payment or reversal against the order before it.
  const notes: Array<{ event_id: string; note: marketing.Note }> = [];
  decoded.forEach((event, i) => {
    if (!event) {
      result.ignored++;
      return;
    }
    let handled = false;
    if (countMarketing && marketing.counts(event)) {
      handled = true;
      const prior = ordersProjection ? (state.get(ordersProjection)?.get(event.aggregate_id) as OrderRow | undefined) : undefined;
      const note = marketing.collect(event, prior);
      if (note) notes.push({ event_id: event.event_id, note });
    }
    for (const [projection, key] of keyed[i]!) {
      handled = true;
      const rows = state.get(projection)!;
      const row = rows.get(key) as { version?: number } | undefined;
      // Second line of defence: a row already at or past this version (its stream position was lost) stays.
      if (row?.version !== undefined && row.version >= event.version) continue;
      const next = projection.evolve(row, event);
      if (next !== row && next !== undefined) {
        rows.set(key, next);
        let keys = dirty.get(projection);
        if (!keys) dirty.set(projection, (keys = new Set()));
        keys.add(key);
      }
    }
    if (!handled) result.ignored++;
  });

  // 5. Aggregating tables: count only events claimed now (first time seen), in one statement.
  if (notes.length > 0) {
    const claimed = await claim(db, [...new Set(notes.map((n) => n.event_id))], marketing.name);
    const deltas = createSalesDeltas();
    for (const { event_id, note } of notes) if (claimed.has(event_id)) note(deltas);
    await marketing.flush(db, deltas);
  }

  // 6. Write back, one upsert per table; then the log, the positions and the wake-up.
  for (const [projection, keys] of dirty) {
    const rows = state.get(projection)!;
    await saveRows(
      db,
      projection,
      [...keys].sort().map((k) => rows.get(k)!),
    );
  }
  const logOpts = { copy: opts.eventLogCopy ?? true };
  // A batch too small to COPY (the live case) logs its events in the positions statement: one round trip less.
  const logInline = positions.length > 0 && toApply.length > 0 && !eventLogCopies(db, toApply, logOpts);
  if (!logInline) await appendEventLog(db, toApply, logOpts);
  if (positions.length > 0) {
    const logged = logInline ? eventLogInsert(toApply, 5) : undefined;
    // The stream positions and the wake-up in one statement: NOTIFY is delivered on commit, with the rows.
    await db.query(
      `WITH ${logged ? `logged AS (${logged.sql}), ` : ''}moved AS (
         UPDATE projection_streams s SET version = p.version, updated_at = p.updated_at
           FROM unnest($2::text[], $3::integer[], $4::timestamptz[]) AS p(aggregate_id, version, updated_at)
          WHERE s.aggregate_id = p.aggregate_id
         RETURNING s.aggregate_id, s.version)
       SELECT count(pg_notify($1, aggregate_id || ':' || version)) AS notified FROM moved`,
      [
        READ_MODEL_CHANNEL,
        positions.map((p) => p.aggregate_id),
        positions.map((p) => p.version),
        positions.map((p) => p.updated_at),
        ...(logged?.params ?? []),
      ],
    );
  }
  return result;
}

async function fetchGap(opts: ApplyOptions, slice: StreamSlice, stored: number, version: number): Promise<EventEnvelope[]> {
  const fail = (why: string) => new ProjectionGapError(slice.aggregate_id, stored, version, why);
  if (!opts.eventStore) throw fail('no event store to repair from');
  const fetched = await opts.eventStore.readStream(slice.aggregate_id, { afterVersion: stored, toVersion: version });
  const missing = fetched.filter((e) => e.version > stored && e.version < version).sort((a, b) => a.version - b.version);
  const contiguous = missing.length === version - stored - 1 && missing.every((e, i) => e.version === stored + 1 + i);
  if (!contiguous) throw fail(`event store returned versions [${missing.map((e) => e.version).join(', ')}]`);
  opts.log?.(`[projector] repaired gap in ${slice.aggregate_id}: versions ${stored + 1}..${version - 1} read from the event store`);
  return missing;
}

/**
 * Locks (creating if needed) the projection_streams row of every stream in the batch in one statement, in the
 * slices' sorted order, and returns the stored versions. The no-op DO UPDATE is what takes the row lock on an
 * existing row; a concurrent runner blocks here until this transaction ends and then reads the new version.
 */
async function lockStreams(db: Queryable, slices: StreamSlice[], failIfParked: boolean): Promise<Map<string, number>> {
  // The parked question reads the statement's snapshot: a stream unparked by a retry that this statement waited
  // for still reads as parked, which only sends the batch the careful way (parking.ts holdBack), never the reverse.
  const parked = failIfParked ? ', EXISTS (SELECT 1 FROM parked_streams p WHERE p.aggregate_id = s.aggregate_id) AS parked' : '';
  const { rows } = await db.query<{ aggregate_id: string; version: number; parked?: boolean }>(
    `INSERT INTO projection_streams AS s (aggregate_id, aggregate_type, version)
     SELECT id, type, 0 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(id, type, n) ORDER BY n
     ON CONFLICT (aggregate_id) DO UPDATE SET aggregate_id = s.aggregate_id
     RETURNING aggregate_id, version${parked}`,
    [slices.map((s) => s.aggregate_id), slices.map((s) => s.aggregate_type)],
  );
  if (failIfParked) {
    const ids = rows.filter((r) => r.parked).map((r) => r.aggregate_id);
    if (ids.length > 0) throw new ParkedStreamsError(ids);
  }
  return new Map(rows.map((r) => [r.aggregate_id, r.version]));
}

/** processed_events insert-if-absent for many events at once: the ids seen for the first time. */
async function claim(db: Queryable, eventIds: string[], projection: string): Promise<Set<string>> {
  const { rows } = await db.query<{ event_id: string }>(
    `INSERT INTO processed_events (event_id, projection) SELECT id, $2 FROM unnest($1::uuid[]) AS id ORDER BY id
     ON CONFLICT DO NOTHING RETURNING event_id::text`,
    [eventIds, projection],
  );
  return new Set(rows.map((r) => r.event_id));
}
