/**
 * The outbox sweeper (DESIGN.md §3): the second half of the api's dual write. The api appends events with an
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
 */
import type { Publisher } from '../app/executor.ts';
import type { EventStore } from '../eventstore/types.ts';
import type { Logger } from '../messaging/log.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import type { Metrics } from '../shared/metrics.ts';
import { createLoop } from './loop.ts';

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
  /** While sweeps keep failing the pause doubles up to this, so a long outage is not a log flood. Default 30 s. */
  maxBackoffMs?: number;
  log: Logger;
  metrics?: Metrics;
}

export interface OutboxSweeper {
  /**
   * One sweep: republishes up to batchSize orphaned events, oldest first, then clears their markers. Resolves
   * to the number republished. Rejects if reading the outbox or publishing failed; the markers then stay and
   * the next sweep tries again.
   */
  sweepOnce(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * The order the stores return (created_at, then stream, then version). Sorted again here because the order
 * matters: Kafka keeps per-key order only for what one publish call sends in order, and a stream's events
 * appended together share one created_at, so only the version separates them.
 */
const byCreatedOrder = (a: EventEnvelope, b: EventEnvelope): number =>
  a.created_at < b.created_at ? -1
  : a.created_at > b.created_at ? 1
  : a.aggregate_id < b.aggregate_id ? -1
  : a.aggregate_id > b.aggregate_id ? 1
  : a.version - b.version;

export function createOutboxSweeper(opts: OutboxSweeperOptions): OutboxSweeper {
  const { store, publisher, clock, log } = opts;
  const graceMs = opts.graceMs ?? 5000;
  const batchSize = opts.batchSize ?? 200;
  const intervalMs = opts.intervalMs ?? 1000;
  const maxBackoffMs = opts.maxBackoffMs ?? 30_000;
  const republished = opts.metrics?.counter('worker_outbox_republished_total', 'Events the outbox sweeper republished');
  const failures = opts.metrics?.counter('worker_outbox_sweep_failures_total', 'Outbox sweeps that failed (broker or event store unavailable)');
  let consecutiveFailures = 0;

  async function sweepOnce(): Promise<number> {
    const before = new Date(clock().getTime() - graceMs).toISOString();
    const events = [...(await store.findUnpublished(before, batchSize))].sort(byCreatedOrder);
    if (events.length === 0) return 0;
    await publisher.publish(events);
    republished?.inc({}, events.length);
    try {
      await store.markPublished(events);
    } catch (err) {
      // The events are out; the markers only cost a duplicate on a later sweep, which consumers absorb.
      log.warn('outbox: republished but could not clear markers', { error: err, events: events.length });
    }
    log.info('outbox: republished orphaned events', { events: events.length, oldest: events[0]?.created_at });
    return events.length;
  }

  const loop = createLoop({
    async step() {
      try {
        const n = await sweepOnce();
        consecutiveFailures = 0;
        // A full batch means a backlog (after an outage): keep going instead of draining batchSize per interval.
        // The marker index is eventually consistent, so the next page may repeat a few events: duplicates, above.
        return n >= batchSize ? 0 : intervalMs;
      } catch (err) {
        consecutiveFailures += 1;
        failures?.inc();
        const delay = Math.min(intervalMs * 2 ** (consecutiveFailures - 1), Math.max(maxBackoffMs, intervalMs));
        log.warn('outbox: sweep failed; markers kept, retrying', { error: err, attempt: consecutiveFailures, retry_in_ms: delay });
        return delay;
      }
    },
    onError: (err) => log.error('outbox: sweeper loop error', { error: err }),
    fallbackDelayMs: intervalMs,
  });

  return { sweepOnce, start: loop.start, stop: loop.stop };
}
