import { exponentialDelay } from '../shared/retry.ts';
/**
 * The timer loop under the sweeper and the expiry scheduler: run a step, wait the delay it asks for, repeat,
 * until stop(). Steps run one after another, never overlapping, so a slow step (a broker timeout, a long
 * tick) delays the next one instead of piling up concurrent ones.
 */
export interface Loop {
  /** Starts the loop; a second call while running does nothing. */
  start(): void;
  /** Wakes a waiting loop, lets a running step finish, and resolves once nothing runs any more. */
  stop(): Promise<void>;
  /** Ends the current pause early (new work arrived); a step in progress is followed by one more at once. */
  wake(): void;
}

/**
 * `step` resolves to the milliseconds to wait before the next run. It should handle its own failures (and log
 * them); a rejection is still caught here, reported through `onError` and followed by `fallbackDelayMs`,
 * because an unhandled rejection would kill the worker process and with it every other loop and consumer.
 */
export function createLoop(opts: { step: () => Promise<number>; onError: (err: unknown) => void; fallbackDelayMs: number }): Loop {
  let running: Promise<void> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let endPause: (() => void) | undefined;
  let woken = false;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (woken) return resolve();
      endPause = resolve;
      timer = setTimeout(resolve, ms);
    });

  async function run(): Promise<void> {
    while (!stopped) {
      let delay: number;
      woken = false;
      try {
        delay = await opts.step();
      } catch (err) {
        opts.onError(err);
        delay = opts.fallbackDelayMs;
      }
      if (stopped) break;
      await pause(delay);
    }
  }

  return {
    start() {
      if (running) return;
      stopped = false;
      running = run();
    },
    wake() {
      woken = true;
      clearTimeout(timer);
      endPause?.();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      endPause?.();
      await running;
      running = undefined;
    },
  };
}

/**
 * One tick of a timer table: `concurrency` lanes take rows (`fireOne`, each its own transaction) until `budget`
 * rows were taken or none is due (`fireOne` resolves undefined). Resolves to the outcomes. allSettled: when one
 * lane fails (PostgreSQL went away) the others still finish their transaction before the tick settles, so stop()
 * never returns with work running against a pool about to be closed; the first failure is then rethrown.
 */
export async function drainInLanes<O>(
  fireOne: () => Promise<O | undefined>,
  opts: { budget: number; concurrency: number; onOutcome?: (outcome: O) => void },
): Promise<O[]> {
  let budget = opts.budget;
  const outcomes: O[] = [];
  const lane = async () => {
    while (budget > 0) {
      budget -= 1;
      const outcome = await fireOne();
      if (outcome === undefined) return;
      outcomes.push(outcome);
      opts.onOutcome?.(outcome);
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: opts.concurrency }, lane));
  const failed = lanes.find((l): l is PromiseRejectedResult => l.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes;
}

/**
 * When a timer row that failed `attempts` times is tried again: doubling from `baseMs`, and from `alertAfter`
 * attempts on every `slowMs`. At least 1 ms: a failed row must land after this tick's instant, or the tick would
 * take it again at once.
 */
export function timerRetryDelay(attempts: number, opts: { baseMs: number; alertAfter: number; slowMs: number }): number {
  const delay = attempts >= opts.alertAfter ? opts.slowMs : exponentialDelay(attempts, { initialMs: opts.baseMs, maxMs: opts.slowMs });
  return Math.max(1, delay);
}
