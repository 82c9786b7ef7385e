import { validationError } from '../platform/shared/errors.ts';
import type { Queryable } from '../platform/readmodel/db.ts';
import type { Page } from '../platform/readmodel/paging.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from '../platform/readmodel/paging.ts';
import { exactTime, iso } from '../platform/readmodel/rows.ts';

/** The saga log (003) as GET /sagas serves it (README, HTTP API). Written by the worker: sagas + saga_log. */
export const SAGA_TYPES = ['fulfilment', 'reservation_expiry'] as const;
export const SAGA_STATUSES = ['running', 'completed', 'compensated', 'failed'] as const;

export interface SagaStepView {
  step: string;
  status: 'completed' | 'failed' | 'skipped';
  at: string;
  detail: Record<string, unknown>;
  event_ids: string[];
}

export interface SagaView {
  saga_id: string;
  saga_type: (typeof SAGA_TYPES)[number];
  order_id: string | null;
  status: (typeof SAGA_STATUSES)[number];
  started_at: string;
  updated_at: string;
  steps: SagaStepView[];
}

/**
 * Steps in the order they happened. Steps of one transaction share a timestamp (dispatched and completed, the
 * carrier's failure and its compensation): the saga's own sequence breaks the tie.
 */
const SEQUENCE = [
  'started',
  'shipment_opened',
  'shipment_requested',
  'dispatched',
  'failed',
  'cancelled',
  'compensated',
  'carrier_answered',
  'stalled',
  'expired',
  'skipped',
  'completed',
];
const rank = (step: string) => {
  const i = SEQUENCE.indexOf(step);
  return i < 0 ? SEQUENCE.length : i;
};
export const orderSteps = <S extends { step: string; at: string }>(steps: readonly S[]): S[] =>
  [...steps].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || rank(a.step) - rank(b.step) || (a.step < b.step ? -1 : 1));

interface SagaRow {
  saga_id: string;
  saga_type: SagaView['saga_type'];
  order_id: string | null;
  status: SagaView['status'];
  started_at: Date;
  updated_at: Date;
  steps: Array<Omit<SagaStepView, 'at'> & { at: string }> | null;
  cursor_at: string;
}

const SELECT_SAGA = `
  SELECT s.saga_id, s.saga_type, s.order_id, s.status, s.started_at, s.updated_at, ${exactTime('s.started_at')} AS cursor_at,
         (SELECT json_agg(json_build_object('step', l.step, 'status', l.status, 'at', l.created_at, 'detail', l.detail, 'event_ids', l.event_ids))
            FROM saga_log l WHERE l.saga_id = s.saga_id) AS steps
    FROM sagas s`;

const toSaga = (r: SagaRow): SagaView => ({
  saga_id: r.saga_id,
  saga_type: r.saga_type,
  order_id: r.order_id,
  status: r.status,
  started_at: iso(r.started_at)!,
  updated_at: iso(r.updated_at)!,
  steps: orderSteps((r.steps ?? []).map((s) => ({ ...s, at: iso(s.at)! }))),
});

export async function getSaga(db: Queryable, sagaId: string): Promise<SagaView | null> {
  const { rows } = await db.query<SagaRow>(`${SELECT_SAGA} WHERE s.saga_id = $1`, [sagaId]);
  return rows[0] ? toSaga(rows[0]) : null;
}

export interface ListSagasOptions {
  orderId?: string;
  sagaId?: string;
  status?: string;
  type?: string;
  limit?: number;
  cursor?: string;
}

const oneOf = (field: string, value: string, allowed: readonly string[]) => {
  if (!allowed.includes(value))
    throw validationError(`unknown ${field} ${value}`, [{ field, message: `must be one of ${allowed.join(', ')}` }]);
};

/** Newest first (by start), keyset-paginated on (started_at, saga_id). */
export async function listSagas(db: Queryable, opts: ListSagasOptions = {}): Promise<Page<SagaView>> {
  const limit = pageLimit(opts.limit);
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['true'];
  if (opts.orderId !== undefined) where.push(`s.order_id = ${param(opts.orderId)}`);
  if (opts.sagaId !== undefined) where.push(`s.saga_id = ${param(opts.sagaId)}`);
  if (opts.status !== undefined) {
    oneOf('status', opts.status, SAGA_STATUSES);
    where.push(`s.status = ${param(opts.status)}`);
  }
  if (opts.type !== undefined) {
    oneOf('type', opts.type, SAGA_TYPES);
    where.push(`s.saga_type = ${param(opts.type)}`);
  }
  if (opts.cursor !== undefined) {
    const [at, id] = decodeCursor('sagas', opts.cursor, ['time', 'string']);
    where.push(`(s.started_at, s.saga_id) < (${param(at)}::timestamptz, ${param(id)})`);
  }
  const { rows } = await db.query<SagaRow>(
    `${SELECT_SAGA} WHERE ${where.join(' AND ')} ORDER BY s.started_at DESC, s.saga_id DESC LIMIT ${param(limit + 1)}`,
    params,
  );
  return toPage(rows, limit, toSaga, (r) => encodeCursor('sagas', [r.cursor_at, r.saga_id]));
}
