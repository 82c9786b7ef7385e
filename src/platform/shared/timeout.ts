/**
 * The project's one timeout race. `withTimeout` rejects when the work has not settled in time; `waitAtMost`
 * just stops waiting. Neither cancels the work (a promise cannot be cancelled): callers use them for idempotent
 * calls, or arrange for the late result themselves (`onTimeout` may close the connection that carries it).
 */

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/**
 * `work`, or a rejection once `ms` have passed without it settling: with `onTimeout`'s error, or a TimeoutError
 * "<what> did not settle within <ms> ms". A late rejection of `work` is swallowed (no unhandled rejection).
 */
export async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: string | (() => Error)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(typeof onTimeout === 'string' ? new TimeoutError(`${onTimeout} did not settle within ${ms} ms`) : onTimeout()),
      ms,
    );
  });
  work.catch(() => {});
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `work` to settle, at most `ms`; true if it did (whether it resolved or rejected). Never rejects. */
export async function waitAtMost(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
