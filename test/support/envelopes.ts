import { randomUUID } from 'node:crypto';
import type { AggregateType, EventEnvelope } from '../../src/platform/shared/envelope.ts';

/** An envelope as the event store would store and publish it, with a fresh event id. */
export const envelopeOf = (
  aggregate_type: AggregateType,
  aggregate_id: string,
  version: number,
  event_type: string,
  data: Record<string, unknown>,
  created_at: string = new Date().toISOString(),
): EventEnvelope => ({
  event_id: randomUUID(),
  aggregate_id,
  aggregate_type,
  event_type,
  version,
  data,
  metadata: {},
  created_at,
  schema_version: 1,
});
