import { AppError } from '../shared/errors.ts';
import type { AggregateType, EventEnvelope, EventMetadata } from '../shared/envelope.ts';

/** An event as decided, before the store gives it an id, a version and a timestamp. */
export interface NewEvent {
  event_type: string;
  data: Record<string, unknown>;
  /** The shape version of `data`, for upcasting old events later. Default 1. */
  schema_version?: number;
}

/**
 * DynamoDB's TransactWriteItems takes at most 100 items. Every event, every guard (a write with no events)
 * and the idempotency record count as one; commands must keep their decisions under it (e.g. a cart limit).
 */
export const MAX_TRANSACTION_ITEMS = 100;

/** The events of one stream to append, conditioned on the version the decision was made from. */
export interface StreamWrite {
  aggregate_id: string;
  aggregate_type: AggregateType;
  /** The stream's version the decision read (0 for a new stream). New events get expected_version + 1, + 2, … */
  expected_version: number;
  /**
   * With no events the write is a guard: the transaction commits only if the stream has not moved past
   * expected_version (for decisions that read a stream without changing it).
   */
  events: NewEvent[];
  /**
   * The stream's state after these events (Equinox's tip), written into the snapshot table in the same
   * transaction, so the next command loads the stream with one read. Left out when the transaction would pass
   * the item limit: the tip is an optimisation, a stale one only costs a re-decision. On a guard (no events) it
   * is the state the decision read, for a stream whose tip was missing or behind.
   */
  tip?: { schema_version: number; state: unknown };
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
  /**
   * A new account's password hash, written in the same transaction as its events (conditional on the user having
   * none yet) but into its own item of the auth table: it never becomes part of an event (docs/event-store.md).
   */
  credential?: Credential;
}

/**
 * A password hash. Credentials are not events: the hash lives in its own item, so it never reaches an envelope,
 * Kafka, a dead letter, the event log or a read model. Counts as one item of the transaction.
 */
export interface Credential {
  user_id: string;
  password_hash: string;
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
  /**
   * The stored first answer for an idempotency key, if any. Records live 24 h: an expired one is absent here
   * and may be overwritten by a new append (DynamoDB's TTL deletes them later, lazily).
   */
  findIdempotency(key: string): Promise<IdempotencyRecord | undefined>;
  loadSnapshot(aggregateId: string): Promise<Snapshot | undefined>;
  /**
   * Whether each of these events exists (one BatchGetItem of keys only, strongly consistent): confirms that a
   * tip is still its stream's head (no event at tip + 1) without reading the stream.
   */
  eventsExist(keys: ReadonlyArray<{ aggregate_id: string; version: number }>): Promise<boolean[]>;
  /** Several snapshots in one request (DynamoDB BatchGetItem, strongly consistent); absent ones are missing. */
  loadSnapshots(aggregateIds: readonly string[]): Promise<Map<string, Snapshot>>;
  /**
   * Best effort: a lost snapshot write only costs a longer replay. Never overwrites a newer snapshot (a higher
   * version of the same schema_version, or any version of a higher schema_version: during a rolling deploy the
   * new code's snapshots win, and the old code, which ignores them, replays).
   */
  saveSnapshot(snapshot: Snapshot): Promise<void>;
  /** Clears the outbox marker once the broker has acknowledged the events. Idempotent; unknown events are ignored. */
  markPublished(events: ReadonlyArray<Pick<EventEnvelope, 'aggregate_id' | 'version'>>): Promise<void>;
  /** Events still marked unpublished that were created before `createdBefore` (ISO), oldest first. */
  findUnpublished(createdBefore: string, limit: number): Promise<EventEnvelope[]>;
  /**
   * Every event, in pages, scanning the table in parallel segments (rebuilds). Order across streams is not
   * defined. Segments divide the partition-key space, so one stream's events all come from one segment, in
   * version order as DynamoDB stores them (observed, not documented: a rebuild should still tolerate gaps).
   * Pages of one segment are delivered one after the other (onPage is awaited), so up to `segments`
   * (default 4) onPage calls may run at once; an implementation may fetch a segment's next page meanwhile, but
   * holds at most `pagesInMemory` pages (fetched, or being fetched, and not yet through onPage; default twice
   * the segments).
   */
  scanAll(onPage: (events: EventEnvelope[]) => Promise<void>, opts?: { segments?: number; pagesInMemory?: number }): Promise<void>;
  /**
   * The credential of a user (strongly consistent). Accounts registered by releases that kept the hash in
   * UserRegistered's data (see legacy.ts) are migrated here on first read: the credential item is written and the
   * hash removed from the stored event, atomically.
   */
  readCredential(userId: string): Promise<Credential | undefined>;
  /**
   * Replaces a hash, e.g. with one of stronger parameters after a successful login. Conditional on the stored hash
   * still being `previousHash`: false (and nothing written) when it changed meanwhile or the user has none.
   */
  replaceCredential(userId: string, previousHash: string, passwordHash: string): Promise<boolean>;
}

export class ConcurrencyError extends AppError {
  constructor(readonly aggregateIds: string[]) {
    super('concurrency', 'concurrency_conflict', `concurrent modification of ${aggregateIds.join(', ') || 'a stream'}; retry the request`);
    this.name = 'ConcurrencyError';
  }
}

export class TransactionTooLarge extends AppError {
  constructor(readonly items: number) {
    super(
      'too_large',
      'transaction_too_large',
      `an append may write at most ${MAX_TRANSACTION_ITEMS} items (events, guards and the idempotency record); this one has ${items}`,
    );
    this.name = 'TransactionTooLarge';
  }
}

export class IdempotencyKeyTaken extends AppError {
  constructor(readonly key: string) {
    super('conflict', 'idempotency_key_taken', 'a request with this Idempotency-Key was committed concurrently');
    this.name = 'IdempotencyKeyTaken';
  }
}
