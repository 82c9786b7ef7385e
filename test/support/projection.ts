/**
 * Test-only: envelopes as the event store would produce them, for projection unit and integration tests.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import type { KnownEvent } from '../../src/kernel/contracts.ts';
import { decodeEvent } from '../../src/kernel/contracts.ts';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';
import type { TableProjection } from '../../src/kernel/projection.ts';

export interface StreamBuilder {
  /** The next event of the stream (versions count up from 1). */
  next(eventType: string, data: Record<string, unknown>, createdAt?: string): EventEnvelope;
  readonly events: EventEnvelope[];
}

/** A stream whose events get consecutive versions, fresh event ids and created_at from a ticking clock. */
export function stream(
  aggregateType: AggregateType,
  aggregateId: string,
  clock: () => string = () => new Date().toISOString(),
): StreamBuilder {
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

/** Decodes a test envelope through its contract (a fixture that breaks the contract fails here, by name). */
export function known(event: EventEnvelope): KnownEvent {
  const decoded = decodeEvent(event);
  if (!decoded) throw new Error(`no contract for ${event.event_type}`);
  return decoded;
}

/** Pure: every row a projection's fold leaves after `events` (in the order given), by key. */
export function foldRows<Row>(projection: TableProjection<Row>, events: readonly EventEnvelope[]): Map<string, Row> {
  const rows = new Map<string, Row>();
  for (const envelope of events) {
    const event = known(envelope);
    const key = projection.keyOf(event);
    if (key === undefined) continue;
    const next = projection.evolve(rows.get(key), event);
    if (next !== undefined) rows.set(key, next);
  }
  return rows;
}

/**
 * given(events).when(event).then(row): a projection's fold as a specification, without a database. The
 * rows the fold sees are frozen, so an evolve that mutates its input fails the test.
 */
export function given<Row>(projection: TableProjection<Row>, history: readonly EventEnvelope[]) {
  return {
    when: (event: EventEnvelope) => {
      const e = known(event);
      const key = projection.keyOf(e);
      const before = key === undefined ? undefined : foldRows(projection, history).get(key);
      if (before !== undefined) deepFreeze(before);
      const after = projection.evolve(before, e);
      return {
        then: (expected: Partial<Row> | undefined) => {
          if (expected === undefined) return assert.equal(after, undefined);
          assert.ok(after !== undefined, 'the event leaves no row');
          const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, (after as Record<string, unknown>)[k]]));
          assert.deepEqual(picked, expected);
        },
      };
    },
  };
}

const deepFreeze = (value: unknown): void => {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) deepFreeze(v);
};
