/**
 * The fulfilment saga's process manager (DESIGN §6; seeds 002 and 003), consumer group `fulfillment`:
 *
 *   OrderPaid ─▶ started ─▶ shipment_opened ─▶ shipment_requested ─┬─▶ dispatched ─▶ completed
 *                                 (carrier booked, timer armed)    └─▶ failed ─▶ compensated ─▶ completed
 *   a customer's cancel before dispatch:                                cancelled ─▶ compensated ─▶ completed
 *
 * Two halves, like the reservation-expiry timers:
 *  - handleBatch (the consumer) records the saga log from the events (src/kernel/saga-steps.ts) and, for each
 *    OrderPaid, arms a durable timer row in shipment_timers, due at once. Nothing here talks to the carrier or
 *    the event store, so a slow or absent carrier never stalls the partition or sends OrderPaid to the DLQ.
 *  - tick fires due rows, FOR UPDATE SKIP LOCKED (several workers share them; a row is worked by one at a time):
 *      `request`: open the shipment (event store), book it with the carrier, record the hand-over, then turn
 *                 the row into `answer`, due when the carrier said it would know;
 *      `answer`:  ask the carrier; still pending → wait again; dispatched or failed → the order service's
 *                 decision over the order, the shipment and the inventories, appended atomically.
 *    A row is deleted only after its step is durable; a crash anywhere before leaves it, and doing the step
 *    again is a no-op (every command decides from the event store; bookings are idempotent per shipment), so
 *    a restarted worker resumes where the saga was, and a carrier answer is applied once.
 * A failing step is retried with backoff, forever: a paid order must never be left without an outcome. After
 * a few failures the saga is marked failed in the log (still retried), for an operator to see.
 */
import type pg from 'pg';
import type { Logger } from '../../platform/messaging/log.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { Metrics } from '../../platform/shared/metrics.ts';
import type { AnswerOutcome, CarrierVerdict, HandOverOutcome, OpenOutcome } from './fulfilment.ts';
import type { Carrier, CarrierBooking, ShipmentRequest } from './carrier.ts';
import { createLoop, drainInLanes, timerRetryDelay } from '../../platform/worker/loop.ts';
import { recordSagaStep, recordSagaSteps } from '../../kernel/saga-log.ts';
import { FULFILMENT_SAGA_TYPE, fulfilmentSagaId, sagaStepsOf } from '../../kernel/saga-steps.ts';
import { inTransaction } from '../../platform/shared/pg-tx.ts';
import { withTimeout } from '../../platform/shared/timeout.ts';

/** The saga's commands (src/contexts/shipping/handlers.ts through the executor): each decides from the event store, idempotently. */
export interface FulfilmentCommands {
  open(orderId: string): Promise<{ outcome: OpenOutcome; request: ShipmentRequest | null }>;
  handOver(orderId: string, booking: CarrierBooking): Promise<{ outcome: HandOverOutcome }>;
  answer(orderId: string, verdict: CarrierVerdict): Promise<{ outcome: AnswerOutcome; why: string | null }>;
}

export interface FulfilmentManagerOptions {
  pool: pg.Pool;
  commands: FulfilmentCommands;
  carrier: Carrier;
  clock: () => Date;
  log: Logger;
  metrics?: Metrics;
  /** Longest pause between polls (another worker's timers, or a missed wake-up). Default 1 s. */
  intervalMs?: number;
  /** Rows fired per tick at most. Default 100. */
  batchSize?: number;
  /** Rows worked at once; each holds a pooled connection and its row lock meanwhile. Default 4. */
  concurrency?: number;
  /** First retry delay after a failed step; doubles with each attempt. Default 1 s. */
  retryBaseMs?: number;
  /** From this many failed attempts on: logged as errors, retried every slowRetryMs, saga marked failed. Default 8. */
  alertAfterAttempts?: number;
  /** Default 5 min. */
  slowRetryMs?: number;
  /** A step slower than this counts as failed (it is idempotent, so a late success is harmless). Default 30 s. */
  stepTimeoutMs?: number;
}

export interface FulfilmentManager {
  /** Consumer side: saga log and timers for one batch, in one transaction. Idempotent per event. */
  handleBatch(events: readonly EventEnvelope[]): Promise<void>;
  /** Fires the rows due at clock(); resolves to how many rows it worked (successfully or not). */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

type Outcome = 'requested' | 'stopped' | 'waiting' | AnswerOutcome | 'failed';

interface TimerRow {
  order_id: string;
  action: 'request' | 'answer';
  carrier: string | null;
  carrier_reference: string | null;
  attempts: number;
}

/** Shortest pause between polls while rows are due but held by another worker. */
const MIN_POLL_MS = 25;

export function createFulfilmentManager(opts: FulfilmentManagerOptions): FulfilmentManager {
  const { pool, commands, carrier, clock, log } = opts;
  const intervalMs = opts.intervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 100;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const alertAfterAttempts = opts.alertAfterAttempts ?? 8;
  const slowRetryMs = opts.slowRetryMs ?? 300_000;
  const stepTimeoutMs = opts.stepTimeoutMs ?? 30_000;
  const fired = opts.metrics?.counter('worker_fulfilment_steps_total', 'Fulfilment timer rows worked, by outcome');

  async function handleBatch(events: readonly EventEnvelope[]): Promise<void> {
    const steps = events.flatMap(sagaStepsOf);
    const paid = events.filter((e) => e.aggregate_type === 'Order' && e.event_type === 'OrderPaid');
    if (steps.length === 0 && paid.length === 0) return;
    const now = clock().toISOString();
    await inTransaction(pool, async (client) => {
      await recordSagaSteps(client, steps);
      for (const event of [...paid].sort((a, b) => (a.aggregate_id < b.aggregate_id ? -1 : 1))) {
        // DO NOTHING: a redelivered OrderPaid must not reset a saga already waiting for its carrier. A saga that
        // already ended (a late redelivery) gets no timer; one armed anyway would only find nothing to do.
        await client.query(
          `INSERT INTO shipment_timers (order_id, action, due_at)
           SELECT $1, 'request', $2
            WHERE NOT EXISTS (SELECT 1 FROM sagas WHERE saga_id = $3 AND status IN ('completed', 'compensated'))
           ON CONFLICT (order_id) DO NOTHING`,
          [event.aggregate_id, now, fulfilmentSagaId(event.aggregate_id)],
        );
      }
    });
    if (paid.length > 0) loop.wake();
  }

  const retryDelay = (attempts: number): number =>
    timerRetryDelay(attempts, { baseMs: retryBaseMs, alertAfter: alertAfterAttempts, slowMs: slowRetryMs });

  /** One step of one saga; the row is locked by the caller's transaction (`client`). */
  async function advance(client: pg.PoolClient, row: TimerRow, now: string): Promise<Outcome> {
    const orderId = row.order_id;
    const remove = () => client.query('DELETE FROM shipment_timers WHERE order_id = $1', [orderId]);
    if (row.action === 'request') {
      const opened = await commands.open(orderId);
      // Not paid any more (cancelled, shipped by hand meanwhile): the api's transaction already settled it.
      if (!opened.request) return remove().then(() => 'stopped');
      const booking = await carrier.book(opened.request);
      const handed = await commands.handOver(orderId, booking);
      if (handed.outcome === 'stopped') {
        await carrier
          .cancel(booking)
          .catch((err: unknown) => log.warn('fulfilment: could not cancel an unneeded booking', { order_id: orderId, error: err }));
        await remove();
        return 'stopped';
      }
      await client.query(
        `UPDATE shipment_timers SET action = 'answer', due_at = $2, carrier = $3, carrier_reference = $4,
                attempts = 0, next_attempt_at = NULL, last_error = NULL
          WHERE order_id = $1`,
        [orderId, booking.answer_expected_at, booking.carrier, booking.reference],
      );
      log.info('fulfilment: shipment handed to the carrier', {
        order_id: orderId,
        carrier: booking.carrier,
        reference: booking.reference,
        answer_expected_at: booking.answer_expected_at,
      });
      return 'requested';
    }

    if (row.carrier !== carrier.name || !row.carrier_reference) {
      throw new Error(`order ${orderId} was booked with carrier ${row.carrier ?? '(none)'}, this worker talks to ${carrier.name}`);
    }
    const answer = await carrier.answer({ reference: row.carrier_reference });
    if (answer.status === 'pending') {
      await client.query('UPDATE shipment_timers SET due_at = $2, attempts = 0, next_attempt_at = NULL WHERE order_id = $1', [
        orderId,
        new Date(Math.max(Date.parse(answer.retry_at), Date.parse(now) + MIN_POLL_MS)).toISOString(),
      ]);
      return 'waiting';
    }
    const verdict: CarrierVerdict =
      answer.status === 'dispatched'
        ? { kind: 'dispatched', tracking_number: answer.tracking_number }
        : { kind: 'failed', reason: answer.reason };
    const result = await commands.answer(orderId, verdict);
    if (result.outcome === 'ignored') {
      // No event records this one: the carrier answered after the order was settled (shipped by hand, cancelled).
      await recordSagaStep(client, {
        saga_id: fulfilmentSagaId(orderId),
        saga_type: FULFILMENT_SAGA_TYPE,
        order_id: orderId,
        step: 'carrier_answered',
        status: 'skipped',
        at: now,
        detail: {
          answer: answer.status,
          ...(answer.status === 'dispatched' ? { tracking_number: answer.tracking_number } : { reason: answer.reason }),
          why: result.why,
        },
        event_ids: [],
      });
    }
    await remove();
    log.info(`fulfilment: carrier answered ${answer.status}`, {
      order_id: orderId,
      outcome: result.outcome,
      ...(result.why ? { why: result.why } : {}),
    });
    return result.outcome;
  }

  async function fireOne(now: string): Promise<Outcome | undefined> {
    return inTransaction(pool, async (client) => {
      const { rows } = await client.query<TimerRow>(
        `SELECT order_id, action, carrier, carrier_reference, attempts FROM shipment_timers
          WHERE due_at <= $1 AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
          ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      const row = rows[0];
      if (!row) return undefined;
      try {
        return await withTimeout(advance(client, row, now), stepTimeoutMs, `fulfilment ${row.action} of ${row.order_id}`);
      } catch (err) {
        const attempts = row.attempts + 1;
        const retryAt = new Date(Date.parse(now) + retryDelay(attempts)).toISOString();
        const message = err instanceof Error ? err.message : String(err);
        await client.query('UPDATE shipment_timers SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE order_id = $1', [
          row.order_id,
          attempts,
          retryAt,
          message.slice(0, 1000),
        ]);
        const fields = { order_id: row.order_id, action: row.action, attempts, retry_at: retryAt, error: err };
        if (attempts >= alertAfterAttempts) log.error('fulfilment: step keeps failing; retrying slowly', fields);
        else log.warn('fulfilment: step failed; will retry', fields);
        if (attempts === alertAfterAttempts) {
          await recordSagaStep(client, {
            saga_id: fulfilmentSagaId(row.order_id),
            saga_type: FULFILMENT_SAGA_TYPE,
            order_id: row.order_id,
            step: 'stalled',
            status: 'failed',
            at: now,
            detail: { action: row.action, attempts, error: message.slice(0, 500), retrying_every_ms: slowRetryMs },
            event_ids: [],
            saga_status: 'failed',
          });
        }
        return 'failed';
      }
    });
  }

  async function tick(): Promise<number> {
    const now = clock().toISOString();
    const outcomes = await drainInLanes(() => fireOne(now), {
      budget: batchSize,
      concurrency,
      onOutcome: (outcome) => fired?.inc({ outcome }),
    });
    return outcomes.length;
  }

  /** Sleeps until the next row is due (the carrier's answer time), at most intervalMs. */
  async function nextDelay(): Promise<number> {
    const { rows } = await pool.query<{ ms: string | null }>(
      `SELECT EXTRACT(EPOCH FROM (min(GREATEST(due_at, COALESCE(next_attempt_at, due_at))) - $1::timestamptz)) * 1000 AS ms FROM shipment_timers`,
      [clock().toISOString()],
    );
    const ms = rows[0]?.ms === null || rows[0]?.ms === undefined ? intervalMs : Number(rows[0].ms);
    return Math.min(intervalMs, Math.max(MIN_POLL_MS, Math.ceil(ms)));
  }

  const loop = createLoop({
    async step() {
      try {
        if ((await tick()) >= batchSize) return 0;
        return await nextDelay();
      } catch (err) {
        log.error('fulfilment: tick failed; timers stay armed', { error: err });
        return intervalMs;
      }
    },
    onError: (err) => log.error('fulfilment: loop error', { error: err }),
    fallbackDelayMs: intervalMs,
  });

  return { handleBatch, tick, start: loop.start, stop: loop.stop };
}
