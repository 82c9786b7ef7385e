import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { isSecretKey, withoutSecrets } from '../shared/log.ts';

/** Secrets are never copied into the log, at any depth: the log is shown in the UI (UserRegistered has password_hash). */
export const redact = withoutSecrets;

/** Pure: JSON.stringify(redact(value)) in one pass, without building the redacted copy (array indices never match). */
export const redactedJson = (value: unknown): string => {
  // Fast path (the profile's top JavaScript cost of a batch was the replacer, called for every key): the native
  // stringify, kept when no text in it could be part of a secret-named key. Every alternative of the secret-key
  // pattern (log.ts) contains one of these words, and JSON.stringify writes keys' letters as they are.
  const plain = JSON.stringify(value) ?? 'null';
  if (!MAYBE_SECRET.test(plain)) return plain;
  return JSON.stringify(value, (key, v: unknown) => (key !== '' && isSecretKey(key) ? undefined : v)) ?? 'null';
};
const MAYBE_SECRET = /pass|secret|token|authoriz|cookie|api|private|credential|hash|signature/i;

/** COPY text format: backslash, tab, newline and carriage return are the only characters that need escaping. */
const COPY_SPECIAL = /[\\\t\n\r]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const copyText = (s: string): string => s.replace(COPY_SPECIAL, (ch) => COPY_ESCAPES[ch]!);

/** From this many events a batch goes in by COPY; below, one INSERT does as well. */
const COPY_FROM = 64;

const COLUMNS = 'event_id, aggregate_id, aggregate_type, event_type, version, data, metadata, created_at';

/**
 * The COPY of a batch met a row already in the log (see appendEventLog). The transaction is aborted; the
 * batch is safe to run again with `copy: false`, which the runners do at once (runner.ts, parking.ts).
 */
export class EventLogConflictError extends Error {
  readonly transient = false;
  constructor(cause: unknown) {
    super(`read_event_log already holds an event of this batch (${(cause as Error).message}); the batch is re-run with insert-if-absent`, {
      cause,
    });
    this.name = 'EventLogConflictError';
  }
}

/**
 * read_event_log: every event applied in the batch. The engine hands it only events beyond their stream's
 * position under the stream lock, so each row is new and a large batch goes in with one COPY (the cheapest way
 * PostgreSQL takes rows: no per-row conflict check, data and metadata stored as json as they come). Should a
 * row be there already anyway (a stream position lost while its log rows stayed), the primary key (aggregate_id,
 * version) rejects the COPY with EventLogConflictError, and the runner applies the batch again with
 * `copy: false`: an insert-if-absent, so this table needs no processed_events row of its own. (A savepoint
 * around the COPY would cost a round trip on every batch for a case that should never happen.) `db` is the
 * caller's client inside a transaction.
 */
export async function appendEventLog(db: Queryable, events: readonly EventEnvelope[], opts: { copy?: boolean } = {}): Promise<void> {
  if (events.length === 0) return;
  // A small batch (the live case: a command or two) is one statement either way. COPY needs the connection itself.
  if (!eventLogCopies(db, events, opts)) return insertIfAbsent(db, events);
  const data = events.map((e) => redactedJson(e.data));
  const metadata = events.map((e) => redactedJson(e.metadata ?? {}));
  let text = '';
  events.forEach((e, i) => {
    text += `${e.event_id}\t${copyText(e.aggregate_id)}\t${copyText(e.aggregate_type)}\t${copyText(e.event_type)}\t${e.version}\t${copyText(data[i]!)}\t${copyText(metadata[i]!)}\t${e.created_at}\n`;
  });
  try {
    await copy(db, `COPY read_event_log (${COLUMNS}) FROM STDIN`, text);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new EventLogConflictError(err);
    throw err;
  }
}

async function copy(client: pg.Client, sql: string, text: string): Promise<void> {
  const stream = client.query(copyFrom(sql));
  await new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
    stream.end(text);
  });
}

/** Whether appendEventLog would COPY these events (else it inserts them, and the insert may ride on another statement). */
export const eventLogCopies = (db: Queryable, events: readonly EventEnvelope[], opts: { copy?: boolean } = {}): db is pg.Client =>
  opts.copy !== false && events.length >= COPY_FROM && db instanceof pg.Client;

/**
 * The insert-if-absent of `events` as SQL whose parameters start at $`first`, for a caller that runs it as a
 * data-modifying CTE of its own statement (one round trip less for the small batches of the live case).
 */
export function eventLogInsert(events: readonly EventEnvelope[], first: number): { sql: string; params: unknown[] } {
  const types = ['uuid', 'text', 'text', 'text', 'integer', 'json', 'json', 'timestamptz'];
  return {
    sql: `INSERT INTO read_event_log (${COLUMNS})
     SELECT * FROM unnest(${types.map((t, i) => `$${first + i}::${t}[]`).join(', ')})
     ON CONFLICT DO NOTHING`,
    params: [
      events.map((e) => e.event_id),
      events.map((e) => e.aggregate_id),
      events.map((e) => e.aggregate_type),
      events.map((e) => e.event_type),
      events.map((e) => e.version),
      events.map((e) => redactedJson(e.data)),
      events.map((e) => redactedJson(e.metadata ?? {})),
      events.map((e) => e.created_at),
    ],
  };
}

async function insertIfAbsent(db: Queryable, events: readonly EventEnvelope[]): Promise<void> {
  const { sql, params } = eventLogInsert(events, 1);
  await db.query(sql, params);
}
