/**
 * Writes the saga log (003): `sagas`, one row per saga, and `saga_log`, one row per step (migrations/001_baseline.sql). Every
 * write is idempotent and commutative enough for at-least-once, out-of-order delivery:
 *  - a step seen again merges into its row: its event ids are added once, the detail keeps the keys it had
 *    (the first record of a step stands) and gains new ones, its time is the earliest;
 *  - a saga's status moves with its steps, but once completed or compensated it stays so, whatever is late,
 *    and a stalled (failed) saga becomes running again only through a step that happened after the stall.
 */
import { SAGA_CHANNEL, type Queryable } from '../platform/readmodel/db.ts';
import type { SagaStep } from './saga-steps.ts';

const UPSERT_SAGA = `
  INSERT INTO sagas (saga_id, saga_type, order_id, status, started_at, updated_at)
  VALUES ($1, $2, $3, COALESCE($4::text, 'running'), $5, $5)
  ON CONFLICT (saga_id) DO UPDATE SET
    order_id   = COALESCE(sagas.order_id, EXCLUDED.order_id),
    started_at = LEAST(sagas.started_at, EXCLUDED.started_at),
    updated_at = GREATEST(sagas.updated_at, EXCLUDED.updated_at),
    status     = CASE
                   WHEN sagas.status IN ('completed', 'compensated') OR $4::text IS NULL THEN sagas.status
                   -- a stalled saga is running again only by a step that happened after the stall
                   WHEN $4::text = 'running' AND sagas.status = 'failed' AND $5 <= sagas.updated_at THEN sagas.status
                   ELSE $4::text
                 END`;

const UPSERT_STEP = `
  INSERT INTO saga_log (saga_id, saga_type, order_id, step, status, detail, event_ids, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  ON CONFLICT (saga_id, step) DO UPDATE SET
    order_id   = COALESCE(saga_log.order_id, EXCLUDED.order_id),
    detail     = EXCLUDED.detail || saga_log.detail,
    event_ids  = saga_log.event_ids || ARRAY(SELECT e FROM unnest(EXCLUDED.event_ids) AS e WHERE e <> ALL (saga_log.event_ids)),
    created_at = LEAST(saga_log.created_at, EXCLUDED.created_at)`;

/** Records one step (and its saga). Resolves false when the step was only for a saga that does not exist. */
export async function recordSagaStep(db: Queryable, s: SagaStep): Promise<boolean> {
  if (s.only_if_started) {
    const { rowCount } = await db.query('SELECT 1 FROM sagas WHERE saga_id = $1', [s.saga_id]);
    if (!rowCount) return false;
  }
  await db.query(UPSERT_SAGA, [s.saga_id, s.saga_type, s.order_id, s.saga_status ?? null, s.at]);
  await db.query(UPSERT_STEP, [s.saga_id, s.saga_type, s.order_id, s.step, s.status, JSON.stringify(s.detail), s.event_ids, s.at]);
  // Live views (GET /live) hear of the step; inside a transaction PostgreSQL delivers it on commit.
  await db.query('SELECT pg_notify($1, $2)', [SAGA_CHANNEL, s.saga_id]);
  return true;
}

/**
 * Records a batch's steps in one global order of sagas, so two workers recording steps of the same sagas at once
 * lock their rows in the same order and never deadlock (within one saga its `sagas` row, locked first by every
 * step, serialises them). Within a saga, steps that need it to exist come after the steps that may create it.
 */
export async function recordSagaSteps(db: Queryable, steps: readonly SagaStep[]): Promise<number> {
  const key = (s: SagaStep) => `${s.saga_id}\u0000${s.only_if_started ? 1 : 0}\u0000${s.step}`;
  const sorted = [...steps].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  let recorded = 0;
  for (const step of sorted) if (await recordSagaStep(db, step)) recorded++;
  return recorded;
}
