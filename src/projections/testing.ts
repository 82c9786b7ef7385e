/**
 * Test-only: envelopes as the event store would produce them, for projection unit and integration tests.
 */
import { randomUUID } from 'node:crypto';
import type { AggregateType, EventEnvelope } from '../shared/envelope.ts';

export interface StreamBuilder {
  /** The next event of the stream (versions count up from 1). */
  next(eventType: string, data: Record<string, unknown>, createdAt?: string): EventEnvelope;
  readonly events: EventEnvelope[];
}

/** A stream whose events get consecutive versions, fresh event ids and created_at from a ticking clock. */
export function stream(aggregateType: AggregateType, aggregateId: string, clock: () => string = () => new Date().toISOString()): StreamBuilder {
  const events: EventEnvelope[] = [];
  return {
    events,
    next(eventType, data, createdAt = clock()) {
      const event: EventEnvelope = {
        event_id: randomUUID(),
        aggregate_id: aggregateId,
        aggregate_type: aggregateType,
        event_type: eventType,
        version: events.length + 1,
        data,
        metadata: { correlation_id: randomUUID() },
        created_at: createdAt,
        schema_version: 1,
      };
      events.push(event);
      return event;
    },
  };
}

/** A deterministic clock: `start`, then one second later on every call. */
export function tickingClock(start = '2025-01-15T09:00:00.000Z'): () => string {
  let t = Date.parse(start);
  return () => {
    const now = new Date(t).toISOString();
    t += 1000;
    return now;
  };
}

/** A single event outside any builder (unit tests of pure evolve functions). */
export const envelope = (eventType: string, data: Record<string, unknown>, version = 1, aggregateId = 'agg-1'): EventEnvelope => ({
  event_id: randomUUID(),
  aggregate_id: aggregateId,
  aggregate_type: 'Order',
  event_type: eventType,
  version,
  data,
  metadata: {},
  created_at: '2025-01-15T09:00:00.000Z',
  schema_version: 1,
});

/** Deterministic shuffle (mulberry32), so a failing order can be reproduced from its seed. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
