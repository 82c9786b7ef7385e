/**
 * The project's one retry loop and one backoff formula. Every place that waits and tries again (optimistic
 * appends, PostgreSQL deadlocks, DynamoDB's unprocessed keys, consumer handlers, the outbox sweeper, the
 * worker's timers, the dev supervisor) computes its delay with `exponentialDelay`, and the loops that simply run
 * a call again use `retry`; each caller keeps its own numbers and its own idea of what is worth retrying.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';

export interface ExponentialOptions {
  /** The delay before the first retry (default 200 ms). */
  initialMs?: number;
  /** Cap on any single delay (default 5 s). */
  maxMs?: number;
  /** Growth per retry (default 2). */
  factor?: number;
  /**
   * Spread of the delay, so that many clients failing together do not retry in lockstep:
   * 'none' (default) — exactly the exponential value; a number j in (0, 1] — the value × [1 − j, 1 + j);
   * 'full' — uniformly in [0, value).
   */
  jitter?: 'none' | 'full' | number;
}

/** The delay before the `retry`-th retry (1-based): min(max, initial · factor^(retry−1)), then jittered. */
export function exponentialDelay(retry: number, opts: ExponentialOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialMs ?? 200;
  const max = opts.maxMs ?? 5_000;
  const factor = opts.factor ?? 2;
  const base = Math.min(max, initial * factor ** Math.max(0, retry - 1));
  const jitter = opts.jitter ?? 'none';
  if (jitter === 'none') return base;
  if (jitter === 'full') return Math.floor(random() * base);
  return Math.round(base * (1 - jitter + 2 * jitter * random()));
}

export interface RetryOptions {
  /** Total tries, the first included. */
  attempts: number;
  /** Whether this failure is worth another try; the others are rethrown at once. */
  retryable: (err: unknown) => boolean;
  /** The wait before try `attempt + 1`, after try `attempt` (1-based) failed. */
  delayMs: (attempt: number) => number;
  /** Called before each wait (a log line). */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<unknown>;
}

/** Runs `fn` until it succeeds, throws something not retryable, or has been tried `attempts` times (then its last error is rethrown). */
export async function retry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? sleepFor;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (attempt >= opts.attempts || !opts.retryable(err)) throw err;
      const delay = opts.delayMs(attempt);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
