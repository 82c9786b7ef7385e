/**
 * Batch size that adapts to how fast batches go: a fetched Kafka batch is applied in chunks of `size()` events,
 * with a heartbeat between chunks, and each chunk's duration steers the next size toward `targetMs`. A backlog
 * (20,000 events at once, a slow database) therefore never keeps a member silent for a session timeout, and a
 * quiet stream still gets big, cheap transactions when it catches up.
 */
import type { EventEnvelope } from '../shared/envelope.ts';

export interface PacerOptions {
  /** How long one chunk should take. Keep it well inside the session timeout (default 1 s against 10 s). */
  targetMs?: number;
  initial?: number;
  min?: number;
  max?: number;
}

export interface Pacer {
  size(): number;
  /** A chunk of `events` took `ms`. */
  record(events: number, ms: number): void;
}

export function createPacer(opts: PacerOptions = {}): Pacer {
  const targetMs = opts.targetMs ?? 1_000;
  const min = opts.min ?? 50;
  const max = opts.max ?? 5_000;
  let size = Math.min(max, Math.max(min, opts.initial ?? 1_000));
  return {
    size: () => size,
    record(events, ms) {
      if (events <= 0) return;
      const perEvent = Math.max(ms, 1) / events;
      // Move halfway toward the size that would have taken targetMs: steady under noise, quick after a change.
      const ideal = targetMs / perEvent;
      size = Math.round(Math.min(max, Math.max(min, (size + ideal) / 2)));
    },
  };
}

/**
 * A consumer batch handler that applies a fetched batch in paced chunks and heartbeats between them, so a
 * member working through a backlog keeps its partitions (kafkajs only heartbeats by itself between batches).
 */
export function pacedBatches<R>(
  apply: (chunk: readonly EventEnvelope[]) => Promise<R>,
  pacer: Pacer,
  onChunk?: (result: R) => void,
): (events: readonly EventEnvelope[], ctx: { heartbeat(): Promise<void> }) => Promise<void> {
  return async (events, ctx) => {
    for (let i = 0; i < events.length;) {
      const chunk = events.slice(i, i + pacer.size());
      const started = Date.now();
      const result = await apply(chunk);
      pacer.record(chunk.length, Date.now() - started);
      onChunk?.(result);
      i += chunk.length;
      if (i < events.length) await ctx.heartbeat();
    }
  };
}
