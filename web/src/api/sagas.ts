import type { Saga, SagaLogRow, SagaPage, SagaStatus, SagaStepStatus } from './types.ts';

const SAGA_STATUSES: SagaStatus[] = ['running', 'completed', 'compensated', 'failed'];
const STEP_STATUSES: SagaStepStatus[] = ['completed', 'failed', 'skipped'];

/**
 * GET /sagas in the contract's shape ({items: Saga[], next_cursor}), or, from an api that still answers the
 * flat saga log ({items: SagaLogRow[]}), the same sagas grouped from their rows.
 */
export function normalizeSagas(body: unknown): SagaPage {
  const page = (body ?? {}) as { items?: unknown[]; next_cursor?: string | null };
  const items = page.items ?? [];
  if (items.every((i) => Array.isArray((i as Saga).steps))) return { items: items as Saga[], next_cursor: page.next_cursor ?? null };
  const groups = new Map<string, SagaLogRow[]>();
  for (const row of items as SagaLogRow[]) groups.set(row.saga_id, [...(groups.get(row.saga_id) ?? []), row]);
  const sagas = [...groups.values()].map((rows): Saga => {
    const sorted = [...rows].sort((x, y) => x.created_at.localeCompare(y.created_at));
    const first = sorted[0]!;
    const last = sorted.at(-1)!;
    const failed = sorted.some((r) => r.status === 'failed');
    return {
      saga_id: first.saga_id,
      saga_type: first.saga_type,
      order_id: typeof first.detail?.order_id === 'string' ? first.detail.order_id : first.saga_id,
      status: SAGA_STATUSES.includes(last.status as SagaStatus) ? (last.status as SagaStatus) : failed ? 'failed' : 'completed',
      started_at: first.created_at,
      updated_at: last.created_at,
      steps: sorted.map((r) => ({
        step: r.step,
        status: STEP_STATUSES.includes(r.status as SagaStepStatus) ? (r.status as SagaStepStatus) : 'completed',
        at: r.created_at,
        detail: r.detail ?? {},
        event_ids: r.event_id ? [r.event_id] : [],
      })),
    };
  });
  return { items: sagas.sort((x, y) => y.updated_at.localeCompare(x.updated_at)), next_cursor: null };
}
