/**
 * The outbox sweeper (docs/event-store.md, the outbox): the second half of the api's dual write. The api appends events with an
 * outbox marker, publishes them, and clears the marker once Kafka acknowledged. If the publish failed or the
 * api died in between, the marker stays, and this sweeper republishes the event and clears it. Nothing
 * appended is ever lost to a broker outage or a crash; at worst it reaches consumers a few seconds late.
 *
 * Duplicates are expected and harmless. The sweeper may publish an event the api also published (the api
 * died after the ack but before clearing the marker; the marker index is eventually consistent; two workers
 * sweep the same page), and publish is at-least-once anyway. Every consumer is idempotent (§5): projections
 * skip an event whose version is not above the row's, aggregating tables and the notifier record processed
 * event_ids, and the process managers decide from the event store. A duplicate costs a little work, never a
 * wrong read model or a second mail.
 *
 * Why graceMs: a freshly appended event is marked until the api's own publish is acknowledged, which
 * normally takes milliseconds. Sweeping it at once would race the api on nearly every event, doubling the
 * traffic and reordering streams for consumers (a republished v2 overtaking the api's v1 forces gap repair).
 * Only events still marked after the grace period are presumed orphaned.
 *
 * Order: a stream's events go out in version order, whatever their timestamps say (two api processes' clocks
 * disagree), and in one publish call, which keeps them in order within their partition. Streams follow one
 * another by their oldest event. Consumers still see a stream out of order whenever the api published a later
 * event before the sweeper republished an earlier one; each of them copes (gap repair, the notifier sending
 * earlier mail first), but the sweeper itself never adds to it.
 *
 * Isolation: a publish the broker refuses for the records themselves (too large, invalid) is bisected until the
 * one event it refuses is found; that event is parked — kept marked, skipped by later sweeps, retried rarely,
 * reported in the log and in outbox_parked_events — and everything else goes out. Without this one such event
 * among the oldest would fail every sweep forever and nothing after it would ever be republished. A parked
 * event still reaches the read model: its stream's next event makes the projector repair the gap from the store.
 */
import type { Publisher } from '../../kernel/executor.ts';
import type { EventStore } from '../../platform/eventstore/types.ts';
import type { Logger } from '../../platform/messaging/log.ts';
import { isRecordRejection, recordRejectionOf } from '../../platform/messaging/managed.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { Metrics } from '../../platform/shared/metrics.ts';
import { createLoop } from '../../platform/worker/loop.ts';
import { exponentialDelay } from '../../platform/shared/retry.ts';

export interface OutboxSweeperOptions {
  store: Pick<EventStore, 'findUnpublished' | 'markPublished'>;
  publisher: Publisher;
  clock: () => Date;
  /** Events younger than this are left to the api's own publish. Default 5 s. */
  graceMs?: number;
  /** Events per sweep (one publish call). Default 200. */
  batchSize?: number;
  /** Pause between sweeps when there is nothing (more) to do. Default 1 s. */
  intervalMs?: number;
  /**
   * While sweeps keep failing the pause doubles up to this. Default 5 s: short, because the first sweep after
   * an outage is what drains the outbox, and a failing sweep costs one fast-failing publish.
   */
  maxBackoffMs?: number;
  /** A parked event is tried again after this (the broker's limits may have been raised). Default 10 min. */
  parkRetryMs?: number;
  /** Parked events remembered at most; beyond it the oldest parks are forgotten (and retried). Default 1000. */
  maxParked?: number;
  log: Logger;
  metrics?: Metrics;
}

export interface SweeperHealth {
  /** False from a failed sweep until a sweep succeeds. */
  ok: boolean;
  consecutive_failures: number;
  last_success_at: string | null;
  last_error?: string;
  /** Orphaned events the last successful sweep found (at most batchSize). */
  orphaned: number;
  parked: number;
}

export interface OutboxSweeper {
  /**
   * One sweep: republishes up to batchSize orphaned events, each stream in version order, then clears their
   * markers. Resolves to the number republished. Rejects if reading the outbox or publishing failed (other than
   * the broker refusing an event, which is parked); the markers then stay and the next sweep tries again.
   */
  sweepOnce(): Promise<number>;
  health(): SweeperHealth;
  /** Events parked because the broker refused them: `aggregate_id@version` → why. */
  parked(): Map<string, string>;
  start(): void;
  stop(): Promise<void>;
}

const keyOf = (e: Pick<EventEnvelope, 'aggregate_id' | 'version'>) => `${e.aggregate_id}@${e.version}`;

/** Each stream's events in version order, streams by their oldest event (then by id, for a stable order). */
export function inStreamOrder(events: readonly EventEnvelope[]): EventEnvelope[] {
  const streams = new Map<string, EventEnvelope[]>();
  for (const e of events) {
    const list = streams.get(e.aggregate_id);
    if (list) list.push(e);
    else streams.set(e.aggregate_id, [e]);
  }
  const ordered = [...streams.values()].map((list) => {
    const sorted = [...list].sort((a, b) => a.version - b.version);
    const oldest = list.reduce((min, e) => (e.created_at < min ? e.created_at : min), list[0]!.created_at);
    return { id: sorted[0]!.aggregate_id, oldest, sorted };
  });
  ordered.sort((a, b) => (a.oldest < b.oldest ? -1 : a.oldest > b.oldest ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return ordered.flatMap((s) => s.sorted);
}

export function createOutboxSweeper(opts: OutboxSweeperOptions): OutboxSweeper {
  const { store, publisher, clock, log } = opts;
  const graceMs = opts.graceMs ?? 5000;
  const batchSize = opts.batchSize ?? 200;
  const intervalMs = opts.intervalMs ?? 1000;
  const maxBackoffMs = opts.maxBackoffMs ?? 5_000;
  const parkRetryMs = opts.parkRetryMs ?? 600_000;
  const maxParked = opts.maxParked ?? 1000;
  const republished = opts.metrics?.counter('worker_outbox_republished_total', 'Events the outbox sweeper republished');
  const failures = opts.metrics?.counter(
    'worker_outbox_sweep_failures_total',
    'Outbox sweeps that failed (broker or event store unavailable)',
  );
  const parkedTotal = opts.metrics?.counter('worker_outbox_parked_total', 'Events the broker refused and the sweeper parked');
  const orphanedGauge = opts.metrics?.gauge(
    'outbox_orphaned_events',
    'Events still marked unpublished after the grace period, as of the last sweep (at most one batch)',
  );
  const oldestGauge = opts.metrics?.gauge(
    'outbox_oldest_orphan_age_seconds',
    'Age of the oldest orphaned event at the last sweep (0 when none)',
  );
  const parkedGauge = opts.metrics?.gauge(
    'outbox_parked_events',
    'Events parked because the broker refused them (kept marked, retried rarely)',
  );
  let consecutiveFailures = 0;
  let lastSuccess: number | null = null;
  let lastError: string | undefined;
  let orphaned = 0;
  // Insertion order = park order, so the oldest park is forgotten first when the map is full.
  const parked = new Map<string, { error: string; retryAt: number }>();

  const park = (e: EventEnvelope, err: unknown) => {
    const refusal = recordRejectionOf(err);
    const error = refusal ? `${refusal.type}: ${refusal.message}` : String(err);
    parked.delete(keyOf(e));
    parked.set(keyOf(e), { error, retryAt: clock().getTime() + parkRetryMs });
    while (parked.size > maxParked) parked.delete(parked.keys().next().value!);
    parkedTotal?.inc();
    parkedGauge?.set(parked.size);
    log.error('outbox: broker refused an event; parked it (kept marked, the rest is published)', {
      aggregate_id: e.aggregate_id,
      version: e.version,
      event_id: e.event_id,
      event_type: e.event_type,
      error,
      retry_in_ms: parkRetryMs,
    });
  };

  /** Publishes `events` in order; the ones the broker refuses are parked. Resolves to those published. */
  async function publishIsolating(events: EventEnvelope[]): Promise<EventEnvelope[]> {
    try {
      await publisher.publish(events);
      return events;
    } catch (err) {
      // An outage is not the events' fault: fail the sweep, keep every marker, try again later.
      if (!isRecordRejection(err)) throw err;
      const [only] = events;
      if (events.length === 1 && only) {
        park(only, err);
        return [];
      }
      // Halves in order: a stream split between them still goes out in version order.
      const mid = Math.ceil(events.length / 2);
      const first = await publishIsolating(events.slice(0, mid));
      return [...first, ...(await publishIsolating(events.slice(mid)))];
    }
  }

  async function sweepOnce(): Promise<number> {
    const now = clock().getTime();
    const before = new Date(now - graceMs).toISOString();
    // Parked events are among the oldest and stay marked: ask for that many more, so they never fill the page.
    const page = await store.findUnpublished(before, batchSize + parked.size);
    const due = page.filter((e) => {
      const p = parked.get(keyOf(e));
      return !p || p.retryAt <= now;
    });
    const events = inStreamOrder(due.slice(0, batchSize));
    orphaned = events.length;
    orphanedGauge?.set(events.length);
    oldestGauge?.set(events.length === 0 ? 0 : Math.max(0, (now - Math.min(...events.map((e) => Date.parse(e.created_at)))) / 1000));
    if (events.length === 0) return 0;
    for (const e of events) parked.delete(keyOf(e)); // due for a retry: parked again below if still refused
    const published = await publishIsolating(events);
    parkedGauge?.set(parked.size);
    republished?.inc({}, published.length);
    if (published.length > 0) {
      try {
        await store.markPublished(published);
      } catch (err) {
        // The events are out; the markers only cost a duplicate on a later sweep, which consumers absorb.
        log.warn('outbox: republished but could not clear markers', { error: err, events: published.length });
      }
      log.info('outbox: republished orphaned events', { events: published.length, oldest: events[0]?.created_at });
    }
    // Counted as swept: parked events were dealt with too, and a full page means a backlog either way.
    return events.length;
  }

  const loop = createLoop({
    async step() {
      try {
        const n = await sweepOnce();
        if (consecutiveFailures > 0) log.info('outbox: sweeping again after failures', { failures: consecutiveFailures });
        consecutiveFailures = 0;
        lastSuccess = clock().getTime();
        lastError = undefined;
        // A full batch means a backlog (after an outage): keep going instead of draining batchSize per interval.
        // The marker index is eventually consistent, so the next page may repeat a few events: duplicates, above.
        return n >= batchSize ? 0 : intervalMs;
      } catch (err) {
        consecutiveFailures += 1;
        lastError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        failures?.inc();
        const delay = exponentialDelay(consecutiveFailures, { initialMs: intervalMs, maxMs: Math.max(maxBackoffMs, intervalMs) });
        log.warn('outbox: sweep failed; markers kept, retrying', { error: err, attempt: consecutiveFailures, retry_in_ms: delay });
        return delay;
      }
    },
    onError: (err) => log.error('outbox: sweeper loop error', { error: err }),
    fallbackDelayMs: intervalMs,
  });

  return {
    sweepOnce,
    health: () => ({
      ok: consecutiveFailures === 0,
      consecutive_failures: consecutiveFailures,
      last_success_at: lastSuccess === null ? null : new Date(lastSuccess).toISOString(),
      ...(lastError ? { last_error: lastError } : {}),
      orphaned,
      parked: parked.size,
    }),
    parked: () => new Map([...parked].map(([k, v]) => [k, v.error])),
    start: loop.start,
    stop: loop.stop,
  };
}
