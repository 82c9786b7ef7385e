import { AppError } from '../shared/errors.ts';
import type { AggregateType, EventEnvelope, EventMetadata } from '../shared/envelope.ts';

/** An event as decided, before the store gives it an id, a version and a timestamp. */
export interface NewEvent {
  event_type: string;
  data: Record<string, unknown>;
}

/** The events of one stream to append, conditioned on the version the decision was made from. */
export interface StreamWrite {
  aggregate_id: string;
  aggregate_type: AggregateType;
  /** The stream's version the decision read (0 for a new stream). New events get expected_version + 1, + 2, … */
  expected_version: number;
  events: NewEvent[];
}

/**
 * The first answer to a command sent with an `Idempotency-Key`. Stored in the same transaction as the
 * command's events, so the key is taken if and only if the effect happened.
 */
export interface IdempotencyRecord {
  /** Scoped by the caller (e.g. `${user_id}:${method} ${path}:${header}`) so users cannot collide. */
  key: string;
  /** Hash of the request body: the same key with a different body is a client error (422). */
  request_hash: string;
  status: number;
  body: unknown;
}

export interface AppendOptions {
  metadata: EventMetadata;
  /** ISO-8601 UTC, from the caller's clock (the store never reads the clock for event data). */
  now: string;
  idempotency?: IdempotencyRecord;
}

export interface Snapshot {
  aggregate_id: string;
  /** The stream version the state reflects; load the tail after it. */
  version: number;
  /** Bump when the state's shape changes: an unknown schema is ignored and the stream is replayed. */
  schema_version: number;
  state: unknown;
}

export interface EventStore {
  /**
   * Appends all writes atomically (one DynamoDB TransactWriteItems, conditional on every new item's
   * `attribute_not_exists(version)`). Throws ConcurrencyError if any stream moved, IdempotencyKeyTaken if the
   * idempotency key was stored meanwhile. Returns the stored envelopes in write order. New events are marked
   * unpublished (outbox) until markPublished.
   */
  append(writes: StreamWrite[], opts: AppendOptions): Promise<EventEnvelope[]>;
  /** Events of one stream in version order (strongly consistent), optionally only after/up to a version. */
  readStream(aggregateId: string, opts?: { afterVersion?: number; toVersion?: number }): Promise<EventEnvelope[]>;
  /** The stored first answer for an idempotency key, if any. */
  findIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  loadSnapshot(aggregateId: string): Promise<Snapshot | undefined>;
  /** Best effort: a lost snapshot write only costs a longer replay. Never overwrites a newer snapshot. */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Clears the outbox marker once the broker has acknowledged the events. */
  markPublished(events: ReadonlyArray<Pick<EventEnvelope, 'aggregate_id' | 'version'>>): Promise<void>;
  /** Events still marked unpublished that were created before `createdBefore` (ISO), oldest first. */
  findUnpublished(createdBefore: string, limit: number): Promise<EventEnvelope[]>;
  /** Every event, in pages, scanning the table in parallel segments (rebuilds). Order across streams is not defined. */
  scanAll(onPage: (events: EventEnvelope[]) => Promise<void>, opts?: { segments?: number }): Promise<void>;
}

export class ConcurrencyError extends AppError {
  constructor(readonly aggregateIds: string[]) {
    super('concurrency', 'concurrency_conflict', `concurrent modification of ${aggregateIds.join(', ') || 'a stream'}; retry the request`);
    this.name = 'ConcurrencyError';
  }
}

export class IdempotencyKeyTaken extends AppError {
  constructor(readonly key: string) {
    super('conflict', 'idempotency_key_taken', 'a request with this Idempotency-Key was committed concurrently');
    this.name = 'IdempotencyKeyTaken';
  }
}
