/**
 * Durable timers for reservation expiry: a pending order past its expires_at (its payment window, 15 minutes by
 * default) is cancelled and its stock released, so unpaid checkouts cannot hold stock forever. Two halves:
 *  - handleBatch (consumer group `fulfillment`) keeps `order_deadlines` in step with the order events:
 *    OrderPlaced arms a timer, an event that takes the order out of `pending` disarms it.
 *  - tick fires due timers: it calls expireOrder, which decides from the event store, and records the step in
 *    the saga log (saga id = order id, type reservation_expiry; the events it wrote are added to the step by
 *    the fulfilment consumer, src/kernel/saga-steps.ts).
 * The table is only a timer index. Delivery is at-least-once and may be out of order (a sweeper republish), so a
 * timer can be armed again after it was disarmed, or fire before OrderPaid reached this consumer; expireOrder
 * then finds the order paid and does nothing. What must never happen is a timer dropped silently while the
 * order is still pending (its stock would stay reserved forever), so a failed expiry is retried, forever.
 */
import type pg from 'pg';
import { eventContracts } from '../../kernel/contracts.ts';
import { OrderPlacedV } from './events.ts';
import { EventDataError } from '../../platform/shared/contract.ts';
import type { Logger } from '../../platform/messaging/log.ts';
import { ORDER_AGGREGATE_TYPE, OrderEventTypes } from './index.ts';
import type { EventEnvelope } from '../../platform/shared/envelope.ts';
import type { Metrics } from '../../platform/shared/metrics.ts';
import { createLoop, drainInLanes, timerRetryDelay } from '../../platform/worker/loop.ts';
import { recordSagaStep } from '../../kernel/saga-log.ts';
import { inTransaction } from '../../platform/shared/pg-tx.ts';
import { withTimeout } from '../../platform/shared/timeout.ts';
import { EXPIRY_SAGA_TYPE } from '../../kernel/saga-steps.ts';

export { EXPIRY_SAGA_TYPE };

/**
 * The order service's expiry command: idempotent, a no-op ({ expired: false }) for an order no longer pending.
 * It must reject, not resolve, when the order is still pending but not due by its own clock (the decider's
 * `order_not_expired` conflict): a resolved no-op deletes the timer.
 */
export type ExpireOrder = (orderId: string) => Promise<{ expired: boolean }>;

export interface ExpirySchedulerOptions {
  pool: pg.Pool;
  expireOrder: ExpireOrder;
  clock: () => Date;
  /** Pause between ticks. Default 1 s: an order is cancelled at most about this long after its deadline. */
  intervalMs?: number;
  log: Logger;
  metrics?: Metrics;
  /** Timers fired per tick at most, so one tick behind a backlog still ends. Default 100. */
  batchSize?: number;
  /** Timers fired at once; each holds a pooled connection (and its row lock) while expireOrder runs. Default 4. */
  concurrency?: number;
  /** First retry delay after a failed expireOrder; it doubles with each attempt. Default 1 s. */
  retryBaseMs?: number;
  /** From this many failed attempts on, each failure is logged as an error and retried every slowRetryMs. Default 8. */
  alertAfterAttempts?: number;
  /** Default 5 min. */
  slowRetryMs?: number;
  /** An expireOrder call slower than this counts as failed (it is idempotent, so a late success is harmless). Default 30 s. */
  expireTimeoutMs?: number;
}

export interface ExpiryScheduler {
  /** Consumer side: arms and disarms timers for one batch, in one transaction. Idempotent per event. */
  handleBatch(events: EventEnvelope[]): Promise<void>;
  /** Fires the timers due at clock(); resolves to how many were resolved (expired or skipped). */
  tick(): Promise<number>;
  start(): void;
  stop(): Promise<void>;
}

/** Events after which an order is no longer pending (status machine in src/contexts/orders/decider.ts). */
const DISARMING: ReadonlySet<string> = new Set([
  OrderEventTypes.OrderPaid,
  OrderEventTypes.OrderCancelled,
  OrderEventTypes.OrderShipmentFailed,
  OrderEventTypes.OrderShipped,
  OrderEventTypes.OrderDelivered,
]);

type Outcome = 'expired' | 'skipped' | 'failed';

interface DueRow {
  order_id: string;
  expires_at: string;
  attempts: number;
}

type Timer = { arm: string; expires_at: string } | { disarm: string };

const expiresAtSchema = OrderPlacedV.schema.pick({ expires_at: true });

function expiresAtOf(event: EventEnvelope): string {
  const parsed = expiresAtSchema.safeParse(eventContracts.upcast(event).data);
  if (!parsed.success)
    throw new EventDataError(event, [
      `OrderPlaced ${event.aggregate_id} v${event.version} has no valid expires_at: ${JSON.stringify(event.data.expires_at)}`,
    ]);
  return parsed.data.expires_at;
}

export function createExpiryScheduler(opts: ExpirySchedulerOptions): ExpiryScheduler {
  const { pool, expireOrder, clock, log } = opts;
  const intervalMs = opts.intervalMs ?? 1000;
  const batchSize = opts.batchSize ?? 100;
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const alertAfterAttempts = opts.alertAfterAttempts ?? 8;
  const slowRetryMs = opts.slowRetryMs ?? 300_000;
  const expireTimeoutMs = opts.expireTimeoutMs ?? 30_000;
  const fired = opts.metrics?.counter(
    'worker_reservation_expiry_total',
    'Reservation-expiry timers fired, by outcome (expired, skipped, failed)',
  );

  async function handleBatch(events: EventEnvelope[]): Promise<void> {
    // Decoded once here, before the transaction: a malformed OrderPlaced must not arm a timer at a wrong time,
    // and its EventDataError (not transient) lets the consumer dead-letter it. Only the fields the timer uses
    // are decoded (the contract's own schema, picked): a disarming event needs nothing but its type.
    const relevant = events
      .filter(
        (e) => e.aggregate_type === ORDER_AGGREGATE_TYPE && (e.event_type === OrderEventTypes.OrderPlaced || DISARMING.has(e.event_type)),
      )
      .map((e): Timer =>
        e.event_type === OrderEventTypes.OrderPlaced ? { arm: e.aggregate_id, expires_at: expiresAtOf(e) } : { disarm: e.aggregate_id },
      );
    if (relevant.length === 0) return;
    // In delivery order, one statement each: OrderPlaced then OrderPaid in one batch must end disarmed.
    await inTransaction(pool, async (client) => {
      for (const event of relevant) {
        if ('arm' in event) {
          // DO NOTHING, not an update: a redelivered OrderPlaced must not reset a timer's retry state.
          await client.query('INSERT INTO order_deadlines (order_id, expires_at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING', [
            event.arm,
            event.expires_at,
          ]);
        } else {
          await client.query('DELETE FROM order_deadlines WHERE order_id = $1', [event.disarm]);
        }
      }
    });
  }

  const retryDelay = (attempts: number): number =>
    timerRetryDelay(attempts, { baseMs: retryBaseMs, alertAfter: alertAfterAttempts, slowMs: slowRetryMs });

  /**
   * Claims one due timer and fires it, in one transaction. FOR UPDATE SKIP LOCKED makes concurrent workers
   * (and this tick's other lanes) take different rows, and the lock is held while expireOrder runs, so a timer
   * fires once at a time. The saga log row and the deletion commit together, after expireOrder succeeded; a
   * crash before the commit leaves the timer, and firing it again repeats an idempotent no-op (logged then
   * as 'skipped').
   */
  async function fireOne(now: string): Promise<Outcome | undefined> {
    return inTransaction(pool, async (client) => {
      const { rows } = await client.query<DueRow>(
        `SELECT order_id, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS expires_at, attempts
           FROM order_deadlines
          WHERE expires_at <= $1 AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
          ORDER BY expires_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        [now],
      );
      const row = rows[0];
      if (!row) return undefined;
      let result: { expired: boolean };
      try {
        result = await withTimeout(expireOrder(row.order_id), expireTimeoutMs, `expireOrder(${row.order_id})`);
      } catch (err) {
        const attempts = row.attempts + 1;
        const retryAt = new Date(Date.parse(now) + retryDelay(attempts)).toISOString();
        const message = err instanceof Error ? err.message : String(err);
        await client.query('UPDATE order_deadlines SET attempts = $2, next_attempt_at = $3, last_error = $4 WHERE order_id = $1', [
          row.order_id,
          attempts,
          retryAt,
          message.slice(0, 1000),
        ]);
        const fields = { order_id: row.order_id, attempts, retry_at: retryAt, error: err };
        if (attempts >= alertAfterAttempts) log.error('expiry: order still not expired after repeated failures; retrying slowly', fields);
        else log.warn('expiry: expireOrder failed; will retry', fields);
        return 'failed';
      }
      const step = result.expired ? 'expired' : 'skipped';
      const detail = {
        expires_at: row.expires_at,
        fired_at: now,
        attempts: row.attempts + 1,
        ...(result.expired ? {} : { reason: 'order no longer pending' }),
      };
      // A timer armed again by a redelivered OrderPlaced resolves again; its first record stands (the detail's
      // keys it had are kept). The events the expiry wrote join the step when the consumer sees them.
      await recordSagaStep(client, {
        saga_id: row.order_id,
        saga_type: EXPIRY_SAGA_TYPE,
        order_id: row.order_id,
        step,
        status: 'completed',
        at: now,
        detail,
        event_ids: [],
        saga_status: 'completed',
      });
      await client.query('DELETE FROM order_deadlines WHERE order_id = $1', [row.order_id]);
      if (result.expired) log.info('expiry: order expired, stock released', { order_id: row.order_id, expires_at: detail.expires_at });
      return step;
    });
  }

  async function tick(): Promise<number> {
    // One instant for the whole tick: a row that failed gets next_attempt_at > now, so no lane takes it again.
    const now = clock().toISOString();
    const outcomes = await drainInLanes(() => fireOne(now), {
      budget: batchSize,
      concurrency,
      onOutcome: (outcome) => fired?.inc({ outcome }),
    });
    return outcomes.filter((o) => o !== 'failed').length;
  }

  const loop = createLoop({
    async step() {
      try {
        // A full tick means a backlog (the worker was down): carry on at once.
        return (await tick()) >= batchSize ? 0 : intervalMs;
      } catch (err) {
        log.error('expiry: tick failed; timers stay armed', { error: err });
        return intervalMs;
      }
    },
    onError: (err) => log.error('expiry: loop error', { error: err }),
    fallbackDelayMs: intervalMs,
  });

  return { handleBatch, tick, start: loop.start, stop: loop.stop };
}
