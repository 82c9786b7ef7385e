import { progressOf } from './projections/rebuild.ts';
import type { Queryable } from '../platform/readmodel/db.ts';

export interface RebuildView {
  rebuild_id: string;
  /** all, or the one projection family rebuilt. */
  projection: string;
  /** running → catching_up → switched; failed; abandoned (its process stopped: killed, machine lost). */
  status: string;
  events_done: number;
  /** Estimate (the event store's item count when it started); null when unknown. */
  events_total: number | null;
  events_per_second: number | null;
  percent: number | null;
  eta_seconds: number | null;
  error: string | null;
  started_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  /** Running, but no heartbeat for 30 s: its process is probably gone (the next rebuild marks it abandoned). */
  stale: boolean;
}

interface Row {
  rebuild_id: string;
  projection: string;
  status: string;
  events_done: string;
  events_total: string | null;
  events_per_second: number | null;
  error: string | null;
  started_at: Date;
  heartbeat_at: Date;
  finished_at: Date | null;
  now: Date;
}

/** GET /ops/rebuilds: the latest rebuilds (public.ops_rebuilds), newest first, with rate and ETA. */
export async function listRebuilds(db: Queryable, opts: { limit?: number } = {}): Promise<{ items: RebuildView[] }> {
  const { rows } = await db.query<Row>(
    'SELECT *, now() AS now FROM public.ops_rebuilds ORDER BY started_at DESC, rebuild_id DESC LIMIT $1',
    [opts.limit ?? 20],
  );
  return {
    items: rows.map((r) => {
      const done = Number(r.events_done);
      const total = r.events_total === null ? undefined : Number(r.events_total);
      const active = r.status === 'running' || r.status === 'catching_up';
      const p = progressOf({ done, total, elapsedMs: (r.finished_at ?? r.heartbeat_at).getTime() - r.started_at.getTime() });
      return {
        rebuild_id: r.rebuild_id,
        projection: r.projection,
        status: r.status,
        events_done: done,
        events_total: total ?? null,
        events_per_second: r.events_per_second,
        percent: r.status === 'switched' ? 100 : (p.percent ?? null),
        eta_seconds: active ? (p.eta_seconds ?? null) : null,
        error: r.error,
        started_at: r.started_at.toISOString(),
        heartbeat_at: r.heartbeat_at.toISOString(),
        finished_at: r.finished_at?.toISOString() ?? null,
        stale: active && r.now.getTime() - r.heartbeat_at.getTime() > 30_000,
      };
    }),
  };
}
