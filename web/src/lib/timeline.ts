/**
 * An order's timeline: the events of its stream (the source of truth) and the steps of its fulfilment saga, in
 * the order they happened. Pure, so the unit tests run it under Node (test/unit/spa-timeline.test.ts).
 */
import type { Order, SagaStepStatus, StoredEvent } from '../api/types.ts';
import { eventLabel, stepLabel, yen } from './format.ts';

export interface TimelineEntry {
  key: string;
  at: string;
  kind: 'event' | 'saga';
  title: string;
  /** The stored name: the event type and version, or the step's name (the stable contract, shown small). */
  code: string;
  detail?: string;
  status?: SagaStepStatus;
  /** SPA route to the event's stream at its version. */
  href?: string;
}

function eventDetail(e: StoredEvent): string | undefined {
  const d = e.data;
  const s = (k: string) => (typeof d[k] === 'string' && d[k] !== '' ? (d[k] as string) : undefined);
  const n = (k: string) => (typeof d[k] === 'number' ? (d[k] as number) : undefined);
  switch (e.event_type) {
    case 'OrderPlaced':
      return n('total') !== undefined ? yen(n('total')!) : undefined;
    case 'OrderPaid':
      return n('amount') !== undefined ? yen(n('amount')!) : undefined;
    case 'OrderShipped':
      return s('tracking_number') && `追跡番号: ${s('tracking_number')}`;
    case 'OrderCancelled':
      return s('reason') && `理由: ${s('reason')}`;
    case 'OrderShipmentFailed':
      return s('reason') && `理由: ${s('reason')}`;
    case 'OrderPaymentRefunded':
      return n('amount') !== undefined ? `${yen(n('amount')!)} を返金` : undefined;
    default:
      return undefined;
  }
}

/** What the order itself says about a step (the customer's view of a saga carries no step details). */
function stepDetail(step: string, order: Order): string | undefined {
  const f = order.fulfilment;
  switch (step) {
    case 'shipment_requested':
      return f?.carrier ? `配送業者: ${f.carrier}` : undefined;
    case 'dispatched':
      return (f?.tracking_number ?? order.tracking_number) ? `追跡番号: ${f?.tracking_number ?? order.tracking_number}` : undefined;
    case 'failed':
      return f?.failure_reason ?? undefined;
    case 'compensated':
      return order.refunded_amount !== null ? `${yen(order.refunded_amount)} を返金、在庫を戻しました` : '在庫を戻しました';
    default:
      return undefined;
  }
}

/** Steps recorded from the shipment's events, which the order's events of the same transaction follow from. */
const CAUSES = new Set(['dispatched', 'failed']);

export function orderTimeline(order: Order, events: readonly StoredEvent[]): TimelineEntry[] {
  const entries: TimelineEntry[] = [
    ...events.map((e): TimelineEntry => {
      const detail = eventDetail(e);
      return {
        key: e.event_id,
        at: e.created_at,
        kind: 'event',
        title: eventLabel(e.event_type),
        code: `${e.event_type} v${e.version}`,
        href: `/events/${encodeURIComponent(e.aggregate_id)}?version=${e.version}`,
        ...(detail ? { detail } : {}),
      };
    }),
    ...(order.fulfilment?.steps ?? []).map((s): TimelineEntry => {
      const detail = stepDetail(s.step, order);
      return {
        key: `step-${s.step}`,
        at: s.at,
        kind: 'saga',
        title: stepLabel(s.step),
        code: s.step,
        status: s.status,
        ...(detail ? { detail } : {}),
      };
    }),
  ];
  // Steps share the instant of the events they are recorded from. At equal times, the carrier's answer (the
  // shipment dispatched or failed) comes before the order events it caused, every other step after the order
  // event that caused it (paid → started, failed → compensated). The steps arrive in their own order; the sort is stable.
  const rank = (e: TimelineEntry) => (e.kind === 'event' ? 0 : CAUSES.has(e.code) ? -1 : 1);
  return entries
    .map((e, i) => ({ e, i }))
    .sort((x, y) => Date.parse(x.e.at) - Date.parse(y.e.at) || rank(x.e) - rank(y.e) || x.i - y.i)
    .map(({ e }) => e);
}

const has = (order: Order, step: string) => !!order.fulfilment?.steps.some((s) => s.step === step);

/**
 * Whether the saga's record lags what the order already shows. The saga log is written by the worker as it
 * reads the same events as the projector, so an order's status can change (and be pushed live) a moment before
 * its steps are in the log; the page says it is waiting for them, and the worker's push (GET /live, a 'Saga'
 * change) brings them.
 */
export function sagaBehind(order: Order): boolean {
  switch (order.status) {
    case 'paid':
      // The worker hands a paid order to the carrier at once; the carrier's answer comes as an order change.
      return !has(order, 'shipment_requested');
    case 'shipped':
    case 'shipment_failed':
      return !order.fulfilment || order.fulfilment.status === 'running' || !has(order, 'completed');
    case 'cancelled':
      // A paid order cancelled before dispatch: the saga compensates (refund) and ends.
      return order.paid_at !== null && (!order.fulfilment || !has(order, 'completed'));
    default:
      return false;
  }
}

/** Where an order stands in its fulfilment, as a short progress line. */
export type Stage = { key: string; label: string; state: 'done' | 'current' | 'failed' | 'todo' };

export function fulfilmentStages(order: Order): Stage[] {
  const done = (step: string) => has(order, step);
  const paid = order.paid_at !== null;
  const stages: Stage[] = [
    { key: 'placed', label: '注文', state: 'done' },
    { key: 'paid', label: '支払い', state: paid ? 'done' : order.status === 'pending' ? 'current' : 'todo' },
  ];
  if (order.status === 'cancelled')
    return [...stages, { key: 'cancelled', label: paid ? 'キャンセル・返金' : 'キャンセル', state: 'failed' }];
  const requested = done('shipment_requested') || done('dispatched') || done('failed');
  stages.push({ key: 'requested', label: '配送依頼', state: requested ? 'done' : paid ? 'current' : 'todo' });
  if (order.status === 'shipment_failed') {
    stages.push({ key: 'failed', label: '配送失敗', state: 'failed' });
    stages.push({ key: 'refunded', label: '返金', state: order.refunded_amount !== null ? 'done' : 'current' });
    return stages;
  }
  const shipped = order.status === 'shipped' || order.status === 'delivered';
  stages.push({ key: 'shipped', label: '発送', state: shipped ? 'done' : requested ? 'current' : 'todo' });
  stages.push({ key: 'delivered', label: '配達完了', state: order.status === 'delivered' ? 'done' : shipped ? 'current' : 'todo' });
  return stages;
}

/**
 * An admin may ship by hand (POST /orders/{id}/ship) a paid order whose shipment the carrier has not dispatched,
 * failed or cancelled yet; the api answers 409 otherwise, and the screen offers no button it would refuse.
 */
export function canShipByHand(order: Order): boolean {
  if (order.status !== 'paid') return false;
  return !order.shipment || order.shipment.status === 'initiated';
}
