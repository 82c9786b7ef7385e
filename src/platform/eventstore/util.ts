import { createHash } from 'node:crypto';
import type { EventEnvelope } from '../shared/envelope.ts';

/**
 * The sweeper's order: oldest first, then per stream by version, so a republished stream reaches the broker in
 * order even when several of its events share a timestamp (they do: one append, one `now`).
 */
export const byOutboxOrder = (a: EventEnvelope, b: EventEnvelope): number =>
  a.created_at < b.created_at
    ? -1
    : a.created_at > b.created_at
      ? 1
      : a.aggregate_id < b.aggregate_id
        ? -1
        : a.aggregate_id > b.aggregate_id
          ? 1
          : a.version - b.version;

/** A bucket in 0..n-1 that is the same in every process and release (writers and readers must agree). */
export const stableBucket = (id: string, n: number): number => createHash('md5').update(id).digest().readUInt32BE(0) % n;

/**
 * Runs `count` tasks concurrently. Once one fails, the others see `stopped()` and should end at their next
 * step; this settles only when none of them is still running, then rejects with the first error, so no work
 * (no callback into the caller) continues behind the caller's back.
 */
export async function runAll(count: number, task: (index: number, stopped: () => boolean) => Promise<void>): Promise<void> {
  let failed = false;
  const stopped = () => failed;
  const results = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      task(i, stopped).catch((err: unknown) => {
        failed = true;
        throw err;
      }),
    ),
  );
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; stops starting new ones after a failure. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await runAll(Math.min(limit, items.length), async (_, stopped) => {
    while (!stopped() && next < items.length) await fn(items[next++] as T);
  });
}

export const positiveInt = (value: number, what: string): number => {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, got ${value}`);
  return value;
};
