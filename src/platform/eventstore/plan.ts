/**
 * Turns an append request into what both stores write, so the DynamoDB store and its in-memory twin agree on
 * validation, numbering, timestamps and the 100-item limit by construction rather than by discipline.
 */
import type { EventEnvelope, EventMetadata } from '../shared/envelope.ts';
import { refuseCredentialInData } from './legacy.ts';
import type { AppendOptions, Credential, IdempotencyRecord, Snapshot, StreamWrite } from './types.ts';
import { MAX_TRANSACTION_ITEMS, TransactionTooLarge } from './types.ts';

/** How long an idempotency record answers repeats: clients retry within minutes, 24 h is the common contract. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

export interface StoredIdempotency extends IdempotencyRecord {
  /** Epoch seconds (DynamoDB's TTL format); the record is expired once the clock reaches it. */
  expires_at: number;
}

export interface AppendPlan {
  envelopes: EventEnvelope[];
  /** Streams written with no events: only "still at expected_version" is checked. */
  guards: Array<{ aggregate_id: string; expected_version: number }>;
  idempotency: StoredIdempotency | undefined;
  credential: Credential | undefined;
  /** The caller's `now`, canonical ISO form. */
  createdAt: string;
  /** The caller's clock in epoch seconds, to decide whether a stored idempotency record has expired. */
  nowSeconds: number;
  itemCount: number;
  /** Tips to write with the events (StreamWrite.tip), or none when they would not fit in the transaction. */
  tips: Snapshot[];
}

export function planAppend(writes: readonly StreamWrite[], opts: AppendOptions, newId: () => string): AppendPlan {
  const createdAt = canonicalIso(opts.now, 'now');
  const nowSeconds = Math.floor(Date.parse(createdAt) / 1000);
  const itemCount = writes.reduce((n, w) => n + Math.max(w.events.length, 1), 0) + (opts.idempotency ? 1 : 0) + (opts.credential ? 1 : 0);
  // Checked before anything else so the caller gets a clear error instead of DynamoDB's ValidationException.
  if (itemCount > MAX_TRANSACTION_ITEMS) throw new TransactionTooLarge(itemCount);

  const seen = new Set<string>();
  const envelopes: EventEnvelope[] = [];
  const guards: AppendPlan['guards'] = [];
  const metadata = normaliseMetadata(opts.metadata ?? {});
  for (const write of writes) {
    if (typeof write.aggregate_id !== 'string' || write.aggregate_id === '')
      throw new TypeError('append: aggregate_id must be a non-empty string');
    // DynamoDB refuses two operations on one item in a transaction; two writes to one stream are a caller bug.
    if (seen.has(write.aggregate_id))
      throw new TypeError(`append: stream ${write.aggregate_id} appears twice; merge its events into one write`);
    seen.add(write.aggregate_id);
    if (!Number.isSafeInteger(write.expected_version) || write.expected_version < 0) {
      throw new RangeError(`append: expected_version of ${write.aggregate_id} must be an integer >= 0, got ${write.expected_version}`);
    }
    if (write.events.length === 0) guards.push({ aggregate_id: write.aggregate_id, expected_version: write.expected_version });
    write.events.forEach((event, i) => {
      if (typeof event.event_type !== 'string' || event.event_type === '')
        throw new TypeError(`append: event ${i} of ${write.aggregate_id} has no event_type`);
      refuseCredentialInData(event, write.aggregate_id);
      envelopes.push({
        event_id: newId(),
        aggregate_id: write.aggregate_id,
        aggregate_type: write.aggregate_type,
        event_type: event.event_type,
        version: write.expected_version + i + 1,
        // Returned as it will be read back: what JSON drops (undefined) is dropped here too.
        data: jsonCopy(event.data),
        metadata: { ...metadata },
        created_at: createdAt,
        // The contracts' current version is stamped by withUpcasting (upcasting.ts); a bare store knows none.
        schema_version: event.schema_version ?? 1,
      });
    });
  }
  const idempotency = opts.idempotency
    ? { ...jsonCopy(opts.idempotency), body: jsonCopy(opts.idempotency.body ?? null), expires_at: nowSeconds + IDEMPOTENCY_TTL_SECONDS }
    : undefined;
  const credential = opts.credential ? checkedCredential(opts.credential) : undefined;
  const tips: Snapshot[] = writes.flatMap((w) =>
    w.tip
      ? [
          {
            aggregate_id: w.aggregate_id,
            version: w.expected_version + w.events.length,
            schema_version: w.tip.schema_version,
            state: jsonCopy(w.tip.state ?? null),
          },
        ]
      : [],
  );
  // All or none: a big checkout (40 lines) has no room for its tips, and a stale tip only costs a re-decision.
  // A guard's tip (the state it was read at) is checked by the guard's own condition.
  return {
    envelopes,
    guards,
    idempotency,
    credential,
    createdAt,
    nowSeconds,
    itemCount,
    tips: itemCount + tips.length <= MAX_TRANSACTION_ITEMS ? tips : [],
  };
}

const checkedCredential = (c: Credential): Credential => {
  if (typeof c.user_id !== 'string' || c.user_id === '' || typeof c.password_hash !== 'string' || c.password_hash === '') {
    throw new TypeError('append: a credential needs a user_id and a password_hash');
  }
  return { user_id: c.user_id, password_hash: c.password_hash };
};

/**
 * Timestamps are compared as strings (the outbox index's sort key), which orders them by time only if they all
 * have toISOString's exact shape: normalise whatever ISO form the caller passed.
 */
export function canonicalIso(value: string, what: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${what} must be an ISO-8601 timestamp, got ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** Metadata is a flat map of strings (ids); anything else is dropped, identically in both stores. */
export const normaliseMetadata = (m: EventMetadata): Record<string, string> =>
  Object.fromEntries(Object.entries(m).filter((e): e is [string, string] => typeof e[1] === 'string'));

export const jsonCopy = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
