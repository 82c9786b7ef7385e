import type { Queryable } from './db.ts';
import { decodeCursor, encodeCursor, pageLimit } from './paging.ts';
import { exactTime, iso } from './rows.ts';

export interface LoggedEvent {
  event_id: string;
  aggregate_id: string;
  aggregate_type: string;
  event_type: string;
  version: number;
  /** Secrets removed (src/platform/projections/event-log.ts). */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  created_at: string;
}

export interface EventPage {
  items: LoggedEvent[];
  /** Pass back as `before` for older events; null when there are none. */
  next_before: string | null;
}

export interface ListEventsOptions {
  /** One stream only, newest version first; otherwise the global log, newest first. */
  aggregateId?: string;
  limit?: number;
  before?: string;
  /** Global log only: just this event type (e.g. OrderPlaced) and/or aggregate type (e.g. Order). */
  eventType?: string;
  aggregateType?: string;
}

interface EventRow extends Omit<LoggedEvent, 'created_at'> {
  created_at: Date;
  cursor_at: string;
}

/**
 * The event log. A single stream is ordered by version (its true order); the global log by created_at, which is
 * the only order that exists across streams (api clocks), with event_id breaking ties so paging is stable.
 */
export async function listEvents(db: Queryable, opts: ListEventsOptions = {}): Promise<EventPage> {
  const limit = pageLimit(opts.limit, 50, 500);
  const select = `SELECT event_id, aggregate_id, aggregate_type, event_type, version, data, metadata, created_at,
                         ${exactTime('created_at')} AS cursor_at FROM read_event_log`;
  let rows: EventRow[];
  let cursorOf: (r: EventRow) => string;
  if (opts.aggregateId !== undefined) {
    const before = opts.before === undefined ? null : decodeCursor('stream', opts.before, ['number'])[0];
    ({ rows } = await db.query<EventRow>(
      `${select} WHERE aggregate_id = $1 AND ($2::integer IS NULL OR version < $2) ORDER BY version DESC LIMIT $3`,
      [opts.aggregateId, before, limit + 1],
    ));
    cursorOf = (r) => encodeCursor('stream', [r.version]);
  } else {
    const [at, id] = opts.before === undefined ? [null, null] : decodeCursor('events', opts.before, ['time', 'uuid']);
    ({ rows } = await db.query<EventRow>(
      `${select} WHERE ($1::timestamptz IS NULL OR (created_at, event_id) < ($1::timestamptz, $2::uuid))
          AND ($4::text IS NULL OR event_type = $4) AND ($5::text IS NULL OR aggregate_type = $5)
        ORDER BY created_at DESC, event_id DESC LIMIT $3`,
      [at, id, limit + 1, opts.eventType ?? null, opts.aggregateType ?? null],
    ));
    cursorOf = (r) => encodeCursor('events', [r.cursor_at, r.event_id]);
  }
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items: items.map(({ cursor_at: _, ...r }) => ({ ...r, created_at: iso(r.created_at)! })),
    next_before: rows.length > limit && last ? cursorOf(last) : null,
  };
}
