/**
 * processed_events grows by one row per counted event. A row only matters while the same event can still be
 * delivered again AND its stream's position (projection_streams) no longer stops it — the position alone skips
 * every redelivery of an applied version. Redeliveries come from Kafka (retention: 7 days by default) and from
 * the sweeper (seconds), so rows older than `keepDays` (default 30, far beyond both) are deleted, in small
 * batches so a prune never holds many locks or one long transaction.
 */
import type { Queryable } from '../readmodel/db.ts';

export async function pruneProcessedEvents(
  db: Queryable,
  opts: { keepDays?: number; batch?: number; maxBatches?: number } = {},
): Promise<number> {
  const keepDays = opts.keepDays ?? 30;
  const batch = opts.batch ?? 5_000;
  let deleted = 0;
  for (let i = 0; i < (opts.maxBatches ?? 100); i++) {
    const { rowCount } = await db.query(
      `DELETE FROM processed_events WHERE ctid = ANY (ARRAY(
         SELECT ctid FROM processed_events WHERE processed_at < now() - make_interval(days => $1) LIMIT $2))`,
      [keepDays, batch],
    );
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batch) break;
  }
  return deleted;
}
