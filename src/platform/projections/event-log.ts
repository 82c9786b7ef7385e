import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { withoutSecrets } from '../shared/log.ts';

/** Secrets are never copied into the log, at any depth: the log is shown in the UI (UserRegistered has password_hash). */
export const redact = withoutSecrets;

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
