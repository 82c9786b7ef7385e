/**
 * Timing and statistics helpers shared by the shop benchmark's measurements. Every loop here is bounded twice:
 * by a count and by a deadline, so a slow or stuck dependency shortens a measurement instead of hanging it.
 */
import { performance } from 'node:perf_hooks';
import { withTimeout as timeout } from '../../src/platform/shared/timeout.ts';

export const now = (): number => performance.now();

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for an empty one. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((s, x) => s + x, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length ? sum / sorted.length : Number.NaN,
  };
}

/** Milliseconds with a precision that suits the magnitude. */
export function ms(value: number): string {
  if (!Number.isFinite(value)) return '—';
  if (value < 10) return `${value.toFixed(2)} ms`;
  if (value < 100) return `${value.toFixed(1)} ms`;
  return `${Math.round(value)} ms`;
}

export function rate(count: number, elapsedMs: number): number {
  return elapsedMs > 0 ? (count * 1000) / elapsedMs : Number.NaN;
}

export function perSecond(value: number, unit: string): string {
  if (!Number.isFinite(value)) return '—';
  return `${value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1)} ${unit}/s`;
}

export function ratio(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return `×${value >= 10 ? value.toFixed(1) : value.toFixed(2)}`;
}

export interface LaneResult {
  /** Latency of each completed operation, ms. */
  latencies: number[];
  /** Wall time from the first start to the last completion, ms. */
  elapsedMs: number;
  completed: number;
  /** True when the deadline stopped the lanes before every operation ran. */
  truncated: boolean;
}

/**
 * Runs `lanes` sequential workers; lane `l` performs its operations `op(l, i)` for i = 0, 1, … until it has done
 * `perLane(l)` of them or the deadline passes. Operations of one lane never overlap, so a lane can own its own
 * data (no contention between lanes unless the caller wants it). A failed operation fails the whole run.
 */
export async function runLanes(
  lanes: number,
  perLane: (lane: number) => number,
  op: (lane: number, index: number) => Promise<void>,
  opts: { budgetMs: number },
): Promise<LaneResult> {
  const latencies: number[] = [];
  const deadline = now() + opts.budgetMs;
  let truncated = false;
  let failed = false;
  const start = now();
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const count = perLane(lane);
      for (let i = 0; i < count; i++) {
        if (failed) return;
        if (now() > deadline) {
          truncated = true;
          return;
        }
        const t0 = now();
        try {
          await op(lane, i);
        } catch (err) {
          failed = true;
          throw err;
        }
        latencies.push(now() - t0);
      }
    }),
  );
  return { latencies, elapsedMs: now() - start, completed: latencies.length, truncated };
}

/** Splits `total` operations over `lanes` as evenly as possible (the first lanes get the remainder). */
export const share =
  (total: number, lanes: number) =>
  (lane: number): number =>
    Math.floor(total / lanes) + (lane < total % lanes ? 1 : 0);

export const sleep = (msToWait: number) => new Promise<void>((resolve) => setTimeout(resolve, msToWait));

/** Rejects after `msToWait` with a message naming `what`. */
export const withTimeout = <T>(what: string, msToWait: number, work: Promise<T>): Promise<T> =>
  timeout(work, msToWait, () => new Error(`${what} timed out after ${Math.round(msToWait / 1000)} s`));
