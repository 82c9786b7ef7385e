import type { KnownEvent } from '../../kernel/contracts.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import type { OrderRow } from '../orders/index.ts';
import type { Sale, SalesDeltas } from './sales.ts';
import { noteCustomer, notePlacedOrder, noteSale } from './sales.ts';
import { sortedDeltas } from './sales.ts';

/** The processed_events key of this projection. */
export const name = 'marketing';
export const eventTypes = ['UserRegistered', 'OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderShipmentFailed'] as const;
const TYPES: ReadonlySet<string> = new Set(eventTypes);
export const counts = (e: KnownEvent): boolean => TYPES.has(e.event_type);

/** Statuses whose order total counts as revenue (same rule as /orders/statistics). */
const COUNTED = new Set(['paid', 'shipped', 'delivered']);

/** What one event adds to the marketing tables: applied only if the event is claimed (first time seen). */
export type Note = (acc: SalesDeltas) => void;

/**
 * Pure: the deltas one event stands for. A payment or a reversal is judged against the order as it was before
 * the event (`prior`: the orders fold's row, up to date for every earlier version because the engine applies
 * a stream in order).
 */
export function collect(event: KnownEvent, prior: OrderRow | undefined): Note | undefined {
  switch (event.event_type) {
    case 'UserRegistered': {
      // Admins are staff, not customers: they would skew customer counts and LTV.
      const { role, user_id, email, name } = event.data;
      return role === 'customer' ? (acc) => noteCustomer(acc, user_id, { email, name }) : undefined;
    }
    case 'OrderPlaced': {
      const { user_id, user_email, placed_at } = event.data;
      return (acc) => notePlacedOrder(acc, { user_id, user_email, placed_at });
    }
    case 'OrderPaid': {
      const order = need(prior, event);
      const paidAt = event.data.paid_at;
      return order.status === 'pending' ? (acc) => noteSale(acc, sale(order, paidAt), 1) : undefined;
    }
    case 'OrderCancelled':
    case 'OrderShipmentFailed': {
      const order = need(prior, event);
      const paidAt = order.paid_at;
      return COUNTED.has(order.status) && paidAt ? (acc) => noteSale(acc, sale(order, paidAt), -1) : undefined;
    }
    default:
      return undefined;
  }
}

const sale = (o: OrderRow, paidAt: string): Sale => ({ user_id: o.user_id, total: o.total, paid_at: paidAt, items: o.items });

function need(prior: OrderRow | undefined, event: KnownEvent): OrderRow {
  // Cannot happen while streams are applied in order (OrderPlaced is version 1); if it does, stop loudly.
  if (!prior) throw new Error(`marketing: ${event.event_type} for order ${event.aggregate_id} without a projected OrderPlaced`);
  return prior;
}

/** Writes the batch's deltas: one statement per table, keys in sorted order (see sales.ts). */
export async function flush(db: Queryable, acc: SalesDeltas): Promise<void> {
  const { customers, products, days } = sortedDeltas(acc);
  if (customers.length > 0) {
    await db.query(
      `INSERT INTO read_customer_summary AS t (user_id, email, name, order_count, paid_order_count, total_spent, last_order_at)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(user_id text, email text, name text, order_count integer,
                                                       paid_order_count integer, total_spent bigint, last_order_at timestamptz)
       ORDER BY user_id
       ON CONFLICT (user_id) DO UPDATE SET
         email            = COALESCE(EXCLUDED.email, t.email),
         name             = COALESCE(EXCLUDED.name, t.name),
         order_count      = t.order_count + EXCLUDED.order_count,
         paid_order_count = t.paid_order_count + EXCLUDED.paid_order_count,
         total_spent      = t.total_spent + EXCLUDED.total_spent,
         last_order_at    = GREATEST(t.last_order_at, EXCLUDED.last_order_at)`,
      [JSON.stringify(customers)],
    );
  }
  if (products.length > 0) {
    await db.query(
      `INSERT INTO read_product_popularity AS t (product_id, name, units_sold, revenue, order_count)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(product_id text, name text, units_sold integer, revenue bigint, order_count integer)
       ORDER BY product_id
       ON CONFLICT (product_id) DO UPDATE SET
         name        = EXCLUDED.name,
         units_sold  = t.units_sold + EXCLUDED.units_sold,
         revenue     = t.revenue + EXCLUDED.revenue,
         order_count = t.order_count + EXCLUDED.order_count`,
      [JSON.stringify(products)],
    );
  }
  if (days.length > 0) {
    await db.query(
      `INSERT INTO read_daily_sales AS t (day, order_count, revenue)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS d(day date, order_count integer, revenue bigint)
       ORDER BY day
       ON CONFLICT (day) DO UPDATE SET
         order_count = t.order_count + EXCLUDED.order_count,
         revenue     = t.revenue + EXCLUDED.revenue`,
      [JSON.stringify(days)],
    );
  }
}
