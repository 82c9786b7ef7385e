import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';

/** Keys never copied into the log, at any depth: the log is shown in the UI (UserRegistered has password_hash). */
const SECRET_KEY = /password|secret|token/i;

/** Pure: a JSON value with every secret-looking key removed. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, v]) => [key, redact(v)]),
  );
}

/**
 * read_event_log: every event applied in the batch, in one statement. The event_id primary key makes it
 * insert-if-absent, so this table needs no processed_events row of its own.
 */
export async function appendEventLog(db: Queryable, events: readonly EventEnvelope[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    event_id: e.event_id,
    aggregate_id: e.aggregate_id,
    aggregate_type: e.aggregate_type,
    event_type: e.event_type,
    version: e.version,
    data: redact(e.data),
    metadata: redact(e.metadata ?? {}),
    created_at: e.created_at,
  }));
  await db.query(
    `INSERT INTO read_event_log (event_id, aggregate_id, aggregate_type, event_type, version, data, metadata, created_at)
     SELECT event_id, aggregate_id, aggregate_type, event_type, version, data, metadata, created_at
       FROM jsonb_to_recordset($1::jsonb) AS e(event_id uuid, aggregate_id text, aggregate_type text, event_type text,
                                              version integer, data jsonb, metadata jsonb, created_at timestamptz)
     ON CONFLICT (event_id) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}
