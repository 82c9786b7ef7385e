import type { OrderRow as ReadOrder } from './projection.ts';
import { validationError } from '../../platform/shared/errors.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import type { Page } from '../../platform/readmodel/paging.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from '../../platform/readmodel/paging.ts';
import { exactTime, iso, num } from '../../platform/readmodel/rows.ts';
import { orderSteps } from '../../kernel/saga-queries.ts';

import { ORDER_STATUSES, type OrderStatus } from './events.ts';

export { ORDER_STATUSES, type OrderStatus };

export interface ShipmentView {
  shipment_id: string;
  status: 'initiated' | 'completed' | 'failed' | 'cancelled';
  tracking_number: string | null;
  reason: string | null;
  initiated_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  version: number;
  carrier: string | null;
  carrier_reference: string | null;
  requested_at: string | null;
  dispatched_by: 'carrier' | 'admin' | null;
  cancelled_at: string | null;
}

/** The order's fulfilment saga as its customer may see it (README, HTTP API: `GET /orders/{id}`): its status and steps, not the log's detail. */
export interface FulfilmentView {
  saga_id: string;
  status: 'running' | 'completed' | 'compensated' | 'failed';
  shipment_id: string | null;
  carrier: string | null;
  tracking_number: string | null;
  failure_reason: string | null;
  steps: Array<{ step: string; status: 'completed' | 'failed' | 'skipped'; at: string }>;
}

/** An order as the api answers it: the read_orders row (declared once, by its projection) with its shipment and saga. */
export type OrderView = ReadOrder & {
  shipment: ShipmentView | null;
  fulfilment: FulfilmentView | null;
};

type TimeColumn =
  | 'expires_at'
  | 'placed_at'
  | 'paid_at'
  | 'shipped_at'
  | 'delivered_at'
  | 'cancelled_at'
  | 'shipment_failed_at'
  | 'refunded_at'
  | 'updated_at';
/** A read_orders row as pg hands it over: timestamps as Date, bigint money as a string. */
type OrderRow = {
  [K in keyof ReadOrder]: K extends TimeColumn
    ? null extends ReadOrder[K]
      ? Date | null
      : Date
    : K extends 'total' | 'refunded_amount'
      ? ReadOrder[K] | string
      : ReadOrder[K];
} & {
  shipment: ShipmentView | null;
  saga: { saga_id: string; status: FulfilmentView['status']; steps: FulfilmentView['steps'] | null } | null;
  cursor_at: string;
};

const SELECT_ORDER = `
  SELECT o.*, ${exactTime('o.placed_at')} AS cursor_at,
         CASE WHEN s.shipment_id IS NULL THEN NULL ELSE json_build_object(
           'shipment_id', s.shipment_id, 'status', s.status, 'tracking_number', s.tracking_number, 'reason', s.reason,
           'initiated_at', s.initiated_at, 'completed_at', s.completed_at, 'failed_at', s.failed_at, 'version', s.version,
           'carrier', s.carrier, 'carrier_reference', s.carrier_reference, 'requested_at', s.requested_at,
           'dispatched_by', s.dispatched_by, 'cancelled_at', s.cancelled_at)
         END AS shipment,
         CASE WHEN g.saga_id IS NULL THEN NULL ELSE json_build_object(
           'saga_id', g.saga_id, 'status', g.status,
           'steps', (SELECT json_agg(json_build_object('step', l.step, 'status', l.status, 'at', l.created_at)) FROM saga_log l WHERE l.saga_id = g.saga_id))
         END AS saga
    FROM read_orders o
    LEFT JOIN LATERAL (SELECT * FROM read_shipments s WHERE s.order_id = o.order_id ORDER BY s.version DESC LIMIT 1) s ON true
    LEFT JOIN sagas g ON g.saga_id = 'fulfilment-' || o.order_id`;

const toShipment = (s: ShipmentView): ShipmentView => ({
  ...s,
  initiated_at: iso(s.initiated_at),
  completed_at: iso(s.completed_at),
  failed_at: iso(s.failed_at),
  requested_at: iso(s.requested_at),
  cancelled_at: iso(s.cancelled_at),
});

const toFulfilment = (r: OrderRow): FulfilmentView | null =>
  r.saga && {
    saga_id: r.saga.saga_id,
    status: r.saga.status,
    shipment_id: r.shipment?.shipment_id ?? null,
    carrier: r.shipment?.carrier ?? null,
    tracking_number: r.shipment?.tracking_number ?? r.tracking_number,
    failure_reason: r.shipment?.status === 'failed' ? r.shipment.reason : null,
    steps: orderSteps((r.saga.steps ?? []).map((s) => ({ ...s, at: iso(s.at)! }))),
  };

const toOrder = (r: OrderRow): OrderView => ({
  order_id: r.order_id,
  user_id: r.user_id,
  user_email: r.user_email,
  items: r.items,
  total: num(r.total),
  status: r.status,
  reason: r.reason,
  cancelled_by: r.cancelled_by,
  tracking_number: r.tracking_number,
  expires_at: iso(r.expires_at),
  placed_at: iso(r.placed_at)!,
  paid_at: iso(r.paid_at),
  shipped_at: iso(r.shipped_at),
  delivered_at: iso(r.delivered_at),
  cancelled_at: iso(r.cancelled_at),
  shipment_failed_at: iso(r.shipment_failed_at),
  refunded_amount: r.refunded_amount === null ? null : num(r.refunded_amount),
  refunded_at: iso(r.refunded_at),
  updated_at: iso(r.updated_at)!,
  version: r.version,
  shipment: r.shipment && toShipment(r.shipment),
  fulfilment: toFulfilment(r),
});

export async function getOrder(db: Queryable, orderId: string): Promise<OrderView | null> {
  const { rows } = await db.query<OrderRow>(`${SELECT_ORDER} WHERE o.order_id = $1`, [orderId]);
  return rows[0] ? toOrder(rows[0]) : null;
}

export interface ListOrdersOptions {
  /** Only this user's orders; undefined lists everyone's (admins — the API decides who may). */
  userId?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}

export const isOrderStatus = (s: string): s is OrderStatus => (ORDER_STATUSES as readonly string[]).includes(s);

/** Newest first, keyset-paginated on (placed_at, order_id). */
export async function listOrders(db: Queryable, opts: ListOrdersOptions = {}): Promise<Page<OrderView>> {
  const limit = pageLimit(opts.limit);
  const params: unknown[] = [];
  const param = (value: unknown) => `$${params.push(value)}`;
  const where = ['true'];
  if (opts.userId !== undefined) where.push(`o.user_id = ${param(opts.userId)}`);
  if (opts.status !== undefined) {
    if (!isOrderStatus(opts.status)) {
      throw validationError(`unknown order status ${opts.status}`, [
        { field: 'status', message: `must be one of ${ORDER_STATUSES.join(', ')}` },
      ]);
    }
    where.push(`o.status = ${param(opts.status)}`);
  }
  if (opts.cursor !== undefined) {
    const [at, id] = decodeCursor('orders', opts.cursor, ['time', 'string']);
    where.push(`(o.placed_at, o.order_id) < (${param(at)}::timestamptz, ${param(id)})`);
  }
  const { rows } = await db.query<OrderRow>(
    `${SELECT_ORDER} WHERE ${where.join(' AND ')} ORDER BY o.placed_at DESC, o.order_id DESC LIMIT ${param(limit + 1)}`,
    params,
  );
  return toPage(rows, limit, toOrder, (r) => encodeCursor('orders', [r.cursor_at, r.order_id]));
}

/** 001's statistics, with this shop's statuses. */
export interface OrderStatistics {
  total_count: number;
  pending_count: number;
  paid_count: number;
  shipped_count: number;
  delivered_count: number;
  cancelled_count: number;
  shipment_failed_count: number;
  /** Sum of totals of paid, shipped and delivered orders (the same rule as the marketing tables). */
  total_revenue: number;
}

export async function orderStatistics(db: Queryable): Promise<OrderStatistics> {
  const { rows } = await db.query<Record<keyof OrderStatistics, string>>(
    `SELECT count(*) AS total_count,
            ${ORDER_STATUSES.map((s) => `count(*) FILTER (WHERE status = '${s}') AS ${s}_count`).join(',\n            ')},
            COALESCE(sum(total) FILTER (WHERE status IN ('paid', 'shipped', 'delivered')), 0) AS total_revenue
       FROM read_orders`,
  );
  const r = rows[0]!;
  return {
    total_count: num(r.total_count),
    pending_count: num(r.pending_count),
    paid_count: num(r.paid_count),
    shipped_count: num(r.shipped_count),
    delivered_count: num(r.delivered_count),
    cancelled_count: num(r.cancelled_count),
    shipment_failed_count: num(r.shipment_failed_count),
    total_revenue: num(r.total_revenue),
  };
}
