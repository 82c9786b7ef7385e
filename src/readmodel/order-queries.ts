import { validationError } from '../shared/errors.ts';
import type { Queryable } from './db.ts';
import type { Page } from './paging.ts';
import { decodeCursor, encodeCursor, pageLimit, toPage } from './paging.ts';
import { exactTime, iso, num } from './rows.ts';

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'shipment_failed'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface ShipmentView {
  shipment_id: string;
  status: 'initiated' | 'completed' | 'failed';
  tracking_number: string | null;
  reason: string | null;
  initiated_at: string | null;
  completed_at: string | null;
  failed_at: string | null;
  version: number;
}

export interface OrderView {
  order_id: string;
  user_id: string;
  user_email: string;
  items: Array<{ product_id: string; name: string; price: number; quantity: number; subtotal: number }>;
  total: number;
  status: OrderStatus;
  reason: string | null;
  cancelled_by: string | null;
  tracking_number: string | null;
  expires_at: string | null;
  placed_at: string;
  paid_at: string | null;
  shipped_at: string | null;
  delivered_at: string | null;
  cancelled_at: string | null;
  shipment_failed_at: string | null;
  updated_at: string;
  version: number;
  shipment: ShipmentView | null;
}

type Time = Date | null;
interface OrderRow {
  order_id: string;
  user_id: string;
  user_email: string;
  items: OrderView['items'];
  total: number;
  status: OrderStatus;
  reason: string | null;
  cancelled_by: string | null;
  tracking_number: string | null;
  expires_at: Time;
  placed_at: Date;
  paid_at: Time;
  shipped_at: Time;
  delivered_at: Time;
  cancelled_at: Time;
  shipment_failed_at: Time;
  updated_at: Date;
  version: number;
  shipment: (Omit<ShipmentView, 'initiated_at' | 'completed_at' | 'failed_at'> & Record<'initiated_at' | 'completed_at' | 'failed_at', string | null>) | null;
  cursor_at: string;
}

const SELECT_ORDER = `
  SELECT o.*, ${exactTime('o.placed_at')} AS cursor_at,
         CASE WHEN s.shipment_id IS NULL THEN NULL ELSE json_build_object(
           'shipment_id', s.shipment_id, 'status', s.status, 'tracking_number', s.tracking_number, 'reason', s.reason,
           'initiated_at', s.initiated_at, 'completed_at', s.completed_at, 'failed_at', s.failed_at, 'version', s.version)
         END AS shipment
    FROM read_orders o
    LEFT JOIN LATERAL (SELECT * FROM read_shipments s WHERE s.order_id = o.order_id ORDER BY s.version DESC LIMIT 1) s ON true`;

const toOrder = (r: OrderRow): OrderView => ({
  order_id: r.order_id,
  user_id: r.user_id,
  user_email: r.user_email,
  items: r.items,
  total: r.total,
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
  updated_at: iso(r.updated_at)!,
  version: r.version,
  shipment: r.shipment && {
    ...r.shipment,
    initiated_at: iso(r.shipment.initiated_at),
    completed_at: iso(r.shipment.completed_at),
    failed_at: iso(r.shipment.failed_at),
  },
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
      throw validationError(`unknown order status ${opts.status}`, [{ field: 'status', message: `must be one of ${ORDER_STATUSES.join(', ')}` }]);
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
