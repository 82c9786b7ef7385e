import type { EventEnvelope } from '../shared/envelope.ts';

export interface StreamSlice {
  aggregate_id: string;
  aggregate_type: string;
  /** Strictly increasing versions. */
  events: EventEnvelope[];
}

export class InvalidEnvelopeError extends Error {
  constructor(event: unknown, why: string) {
    super(`invalid event envelope (${why}): ${JSON.stringify(event)?.slice(0, 300)}`);
    this.name = 'InvalidEnvelopeError';
  }
}

const check = (e: EventEnvelope): void => {
  if (typeof e !== 'object' || e === null) throw new InvalidEnvelopeError(e, 'not an object');
  if (typeof e.aggregate_id !== 'string' || e.aggregate_id === '') throw new InvalidEnvelopeError(e, 'aggregate_id');
  if (typeof e.event_id !== 'string' || e.event_id === '') throw new InvalidEnvelopeError(e, 'event_id');
  if (typeof e.event_type !== 'string' || e.event_type === '') throw new InvalidEnvelopeError(e, 'event_type');
  if (!Number.isSafeInteger(e.version) || e.version < 1) throw new InvalidEnvelopeError(e, 'version must be a positive integer');
  if (typeof e.created_at !== 'string' || Number.isNaN(Date.parse(e.created_at))) throw new InvalidEnvelopeError(e, 'created_at');
};

/**
 * Pure: a delivered batch as per-stream slices. Streams come out sorted by aggregate id — every runner locks
 * them in that order, so two runners with overlapping batches cannot deadlock on stream locks. Events of a
 * stream come out in version order with in-batch redeliveries (same version) dropped.
 */
export function planBatch(events: readonly EventEnvelope[]): StreamSlice[] {
  const streams = new Map<string, StreamSlice>();
  for (const event of events) {
    check(event);
    let slice = streams.get(event.aggregate_id);
    if (!slice) {
      slice = { aggregate_id: event.aggregate_id, aggregate_type: event.aggregate_type, events: [] };
      streams.set(event.aggregate_id, slice);
    }
    slice.events.push(event);
  }
  const slices = [...streams.values()].sort((a, b) => (a.aggregate_id < b.aggregate_id ? -1 : a.aggregate_id > b.aggregate_id ? 1 : 0));
  for (const slice of slices) {
    slice.events.sort((a, b) => a.version - b.version);
    slice.events = slice.events.filter((e, i, all) => i === 0 || all[i - 1]!.version !== e.version);
  }
  return slices;
}
