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
