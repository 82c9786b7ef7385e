import type { RateLimit } from '../shared/config.ts';
import { AppError } from '../shared/errors.ts';

export interface Rule {
  /** Namespaced by the caller, e.g. `login:address|email:203.0.113.7|taro@example.com`. */
  key: string;
  limit: RateLimit;
}

export interface Ticket {
  /** Gives the attempt back to every bucket it was taken from (a login that succeeded is no guess). */
  refund(): void;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets, one per key: `limit` attempts, refilled continuously at `limit` per window, so a client that
 * hit the limit gets one attempt back every window/limit (no cliff at a window boundary, no double burst).
 *
 * `take` is all or nothing over several rules (e.g. address+email, address, email): a refused attempt consumes
 * nothing anywhere. That is what keeps one attacker from locking the real user out from another address: once
 * the attacker's own address+email bucket is empty, their further attempts no longer drain the email's bucket.
 *
 * In-process on purpose: it protects one api instance; a fleet needs a shared limiter in front of it. Memory
 * stays bounded: full buckets are dropped (they equal an absent one), then the least recently used.
 */
export function createRateLimiter(opts: { now?: () => number; maxKeys?: number } = {}) {
  const now = opts.now ?? Date.now;
  const maxKeys = opts.maxKeys ?? 100_000;
  const buckets = new Map<string, Bucket>();

  const level = (rule: Rule, t: number): number => {
    const b = buckets.get(rule.key);
    if (!b) return rule.limit.limit;
    const rate = rule.limit.limit / (rule.limit.windowSeconds * 1000);
    return Math.min(rule.limit.limit, b.tokens + (t - b.at) * rate);
  };

  const set = (key: string, tokens: number, t: number) => {
    buckets.delete(key); // re-inserted last: Map order is then least recently used first
    buckets.set(key, { tokens, at: t });
  };

  // Runs when the map outgrows maxKeys and brings it down to 90 %, so its O(n) sweep happens once per
  // maxKeys/10 new keys, not on every request of a flood of fresh addresses.
  const prune = (rules: readonly Rule[], t: number) => {
    if (buckets.size <= maxKeys) return;
    const target = Math.floor(maxKeys * 0.9);
    const limits = new Map(rules.map((r) => [r.key, r.limit]));
    for (const [key, b] of buckets) {
      // Without the rule at hand, a bucket untouched for a day is certainly full again.
      const limit = limits.get(key);
      if (limit ? level({ key, limit }, t) >= limit.limit : t - b.at > 24 * 3600_000) buckets.delete(key);
    }
    for (const key of buckets.keys()) {
      if (buckets.size <= target) break;
      buckets.delete(key);
    }
  };

  return {
    take(rules: readonly Rule[]): Ticket {
      const t = now();
      const levels = rules.map((r) => level(r, t));
      // Seconds until every empty bucket holds one attempt again: (1 - level) tokens at limit/window per second.
      const waits = rules.flatMap((r, i) =>
        levels[i]! < 1 ? [Math.ceil(((1 - levels[i]!) * r.limit.windowSeconds) / r.limit.limit)] : [],
      );
      if (waits.length > 0) {
        const retryAfter = Math.max(1, ...waits);
        throw new AppError('rate_limited', 'rate_limited', `too many attempts; retry in ${retryAfter} s`, {
          extra: { retry_after: retryAfter },
        });
      }
      rules.forEach((r, i) => set(r.key, levels[i]! - 1, t));
      prune(rules, t);
      let refunded = false;
      return {
        refund() {
          if (refunded) return;
          refunded = true;
          const at = now();
          for (const r of rules) set(r.key, Math.min(r.limit.limit, level(r, at) + 1), at);
        },
      };
    },
    /** For tests and metrics. */
    size: () => buckets.size,
  };
}
