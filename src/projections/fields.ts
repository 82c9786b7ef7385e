import type { EventEnvelope } from '../shared/envelope.ts';

/**
 * The deciders are the authority on event shapes, but the projector reads JSON that crossed Kafka: a field that
 * is missing or of the wrong type fails the batch with an error naming the event (so it reaches the DLQ with a
 * useful message) instead of writing NULL into a read row or failing later on an opaque constraint.
 */
export class EventDataError extends Error {
  constructor(
    readonly event: Pick<EventEnvelope, 'event_id' | 'event_type' | 'aggregate_id' | 'version'>,
    readonly field: string,
    expected: string,
  ) {
    super(`${event.event_type} ${event.aggregate_id}@${event.version} (${event.event_id}): data.${field} must be ${expected}`);
    this.name = 'EventDataError';
  }
}

export interface Fields {
  str(key: string): string;
  /** Absent or null → null. */
  optStr(key: string): string | null;
  int(key: string): number;
  /** Absent or null → null. */
  optInt(key: string): number | null;
  /** An ISO-8601 timestamp. */
  time(key: string): string;
  optTime(key: string): string | null;
  list(key: string): unknown[];
}

const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v));

export const fieldsOf = (event: EventEnvelope, data: unknown = event.data): Fields => {
  const record = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const fail = (key: string, expected: string): never => {
    throw new EventDataError(event, key, expected);
  };
  const present = (key: string) => record[key] !== undefined && record[key] !== null;
  return {
    str: (key) => {
      const v = record[key];
      return typeof v === 'string' ? v : fail(key, 'a string');
    },
    optStr: (key) => {
      if (!present(key)) return null;
      const v = record[key];
      return typeof v === 'string' ? v : fail(key, 'a string or null');
    },
    int: (key) => {
      const v = record[key];
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(key, 'an integer');
    },
    optInt: (key) => {
      if (!present(key)) return null;
      const v = record[key];
      return typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(key, 'an integer or null');
    },
    time: (key) => {
      const v = record[key];
      return isTime(v) ? v : fail(key, 'an ISO-8601 timestamp');
    },
    optTime: (key) => {
      if (!present(key)) return null;
      const v = record[key];
      return isTime(v) ? v : fail(key, 'an ISO-8601 timestamp or null');
    },
    list: (key) => {
      const v = record[key];
      return Array.isArray(v) ? v : fail(key, 'an array');
    },
  };
};
