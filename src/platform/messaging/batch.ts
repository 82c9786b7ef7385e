/**
 * What a consumer does with one fetched batch of one partition (docs/kafka.md), kept apart from the kafkajs
 * wiring so it can be tested without a broker.
 *
 * Invariant: an offset is resolved (and later committed) only once every record up to it has either had its
 * effect made durable by the handler or been written to the DLQ. A crash anywhere therefore means
 * redelivery, never loss: at-least-once, made exactly-once in effect by the idempotent handlers (§5).
 */
import type { Batch, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { EventEnvelope } from '../shared/envelope.ts';
import { decodeEnvelope, PoisonMessageError } from './codec.ts';
import type { Logger } from './log.ts';
import type { Backoff } from './retry.ts';
import { backoffDelay, sleepWithHeartbeat } from './retry.ts';

export interface BatchContext {
  partition: number;
  /**
   * Keeps the group membership alive during long work. Throws once the group has rebalanced: let that
   * propagate, the batch will be redelivered to whoever owns the partition now.
   */
  heartbeat(): Promise<void>;
}

/** Must be idempotent per event: the same events can arrive again after any failure or rebalance. */
export type BatchHandler = (events: EventEnvelope[], ctx: BatchContext) => Promise<void>;

export interface ConsumerStats {
  batches: number;
  /** Events whose handler call succeeded. */
  processed: number;
  /** Handler calls that threw (each retry counts). */
  failed: number;
  retries: number;
  /** Records written to the DLQ, undecodable ones included. */
  dlq: number;
  /** Undecodable records (also counted in dlq). */
  poison: number;
}

export const emptyStats = (): ConsumerStats => ({ batches: 0, processed: 0, failed: 0, retries: 0, dlq: 0, poison: 0 });

export interface BatchProcessorOptions {
  groupId: string;
  handleBatch: BatchHandler;
  /** Retries of a whole batch for non-transient failures before isolating the culprit. */
  maxRetries: number;
  backoff: Backoff | undefined;
  isTransient: (err: unknown) => boolean;
  /** Writes one record to the DLQ, durably (acks = all); throws if it cannot. */
  deadLetter: (message: KafkaMessage, partition: number, error: unknown) => Promise<void>;
  /** Backoff sleeps are cut into slices of this length with a heartbeat after each. */
  heartbeatSliceMs: number;
  /** Aborted on shutdown: ends backoff sleeps, abandons (without committing) a batch still being retried. */
  signal: AbortSignal;
  stats: ConsumerStats;
  log: Logger;
}

export type BatchPayload = Pick<
  EachBatchPayload,
  'resolveOffset' | 'heartbeat' | 'commitOffsetsIfNecessary' | 'uncommittedOffsets' | 'isRunning' | 'isStale'
> & {
  batch: Pick<Batch, 'topic' | 'partition' | 'messages' | 'lastOffset'>;
};

interface Item {
  message: KafkaMessage;
  event: EventEnvelope;
}

type Attempt = { kind: 'ok' } | { kind: 'stopped' } | { kind: 'failed'; error: unknown };

export function createBatchProcessor(opts: BatchProcessorOptions): (payload: BatchPayload) => Promise<void> {
  const { stats, log, groupId } = opts;

  return async (payload) => {
    const { batch } = payload;
    const { partition } = batch;
    stats.batches++;
    const alive = () => payload.isRunning() && !payload.isStale() && !opts.signal.aborted;
    let membershipLost: { error: unknown } | undefined;
    const heartbeat = async () => {
      try {
        await payload.heartbeat();
      } catch (error) {
        membershipLost ??= { error };
        throw error;
      }
    };
    const ctx: BatchContext = { partition, heartbeat };
    const base = { group: groupId, topic: batch.topic, partition };
    const where = (items: Item[]) => ({ ...base, first_offset: items[0]?.message.offset, events: items.length });

    const attempt = async (items: Item[], maxRetries: number): Promise<Attempt> => {
      for (let retry = 0; ;) {
        try {
          await opts.handleBatch(
            items.map((i) => i.event),
            ctx,
          );
          stats.processed += items.length;
          return { kind: 'ok' };
        } catch (error) {
          // Not the handler's failure: the partition may already belong to another member, so stop here
          // and let kafkajs rejoin. Nothing unresolved is lost; it is fetched again.
          if (membershipLost) throw membershipLost.error;
          stats.failed++;
          if (!alive()) return { kind: 'stopped' };
          const transient = opts.isTransient(error);
          if (!transient && retry >= maxRetries) return { kind: 'failed', error };
          retry++;
          stats.retries++;
          const delayMs = backoffDelay(opts.backoff, retry);
          log.warn('handler failed, retrying', { ...where(items), retry, transient, delay_ms: delayMs, error });
          await sleepWithHeartbeat(delayMs, opts.heartbeatSliceMs, heartbeat, opts.signal);
          if (!alive()) return { kind: 'stopped' };
        }
      }
    };

    const deadLetter = async (item: { message: KafkaMessage; event?: EventEnvelope }, error: unknown) => {
      await opts.deadLetter(item.message, partition, error);
      stats.dlq++;
      log.error('record sent to the DLQ', {
        ...base,
        offset: item.message.offset,
        event_id: item.event?.event_id,
        event_type: item.event?.event_type,
        error,
      });
    };

    // The batch failed as a whole even after retries. Bisect so that one bad event costs O(log n) handler
    // calls and only that event, not its healthy neighbours, goes to the DLQ. Halves run in offset order, so
    // per-key order is kept among the events that succeed.
    const isolate = async (items: Item[], error: unknown): Promise<'done' | 'stopped'> => {
      const [only] = items;
      if (items.length === 1 && only) {
        await deadLetter(only, error);
        payload.resolveOffset(only.message.offset);
        return 'done';
      }
      const mid = Math.ceil(items.length / 2);
      for (const half of [items.slice(0, mid), items.slice(mid)]) {
        if (!alive()) return 'stopped';
        await heartbeat();
        // No retries for non-transient errors at this depth: the whole batch already had them.
        const result = await attempt(half, 0);
        if (result.kind === 'stopped') return 'stopped';
        if (result.kind === 'failed') {
          if ((await isolate(half, result.error)) === 'stopped') return 'stopped';
        } else {
          const last = half.at(-1);
          if (last) payload.resolveOffset(last.message.offset);
        }
      }
      return 'done';
    };

    // Undecodable records are dead-lettered up front: no retry can fix them, and the handler never sees them.
    // Were we to crash before committing, they would be dead-lettered again on redelivery (at-least-once).
    const items: Item[] = [];
    for (const message of batch.messages) {
      try {
        items.push({ message, event: decodeEnvelope(message.value) });
      } catch (error) {
        if (!(error instanceof PoisonMessageError)) throw error;
        stats.poison++;
        await deadLetter({ message }, error);
      }
    }

    let outcome: 'done' | 'stopped' = 'done';
    if (items.length > 0) {
      const whole = await attempt(items, opts.maxRetries);
      if (whole.kind === 'stopped') outcome = 'stopped';
      else if (whole.kind === 'failed') {
        log.error('batch failed after retries, isolating the failing event(s)', { ...where(items), error: whole.error });
        outcome = await isolate(items, whole.error);
      }
    }
    if (outcome === 'done') payload.resolveOffset(batch.lastOffset());
    // Commit now rather than on a timer: the effects are durable, and a rebalance or crash must not hand
    // them to another member to redo. (On shutdown this commits whatever part of the batch was completed.)
    await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
  };
}
