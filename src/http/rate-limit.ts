import { AppError } from '../shared/errors.ts';

/**
 * Fixed-window counter per key (e.g. client address + email for logins). In-process on purpose: it slows
 * down password guessing against one api instance; a shared limiter belongs in front of a fleet.
 */
export function createRateLimiter(opts: { limit: number; windowMs: number; now?: () => number }) {
  const now = opts.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    hit(key: string): void {
      const t = now();
      if (windows.size > 10_000) for (const [k, w] of windows) if (t - w.start >= opts.windowMs) windows.delete(k);
      const w = windows.get(key);
      if (!w || t - w.start >= opts.windowMs) {
        windows.set(key, { start: t, count: 1 });
        return;
      }
      w.count += 1;
      if (w.count > opts.limit) {
        const retryAfter = Math.ceil((w.start + opts.windowMs - t) / 1000);
        throw new AppError('rate_limited', 'rate_limited', `too many attempts; retry in ${retryAfter} s`, { extra: { retry_after: retryAfter } });
      }
    },
  };
}
