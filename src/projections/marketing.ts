import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';
import type { Sale, SalesDeltas } from './sales.ts';
import { noteCustomer, notePlacedOrder, noteSale, sortedDeltas } from './sales.ts';

/** The processed_events key of this projection. */
export const name = 'marketing';
export const eventTypes = ['UserRegistered', 'OrderPlaced', 'OrderPaid', 'OrderCancelled', 'OrderShipmentFailed'] as const;

/** Statuses whose order total counts as revenue (same rule as /orders/statistics). */
const COUNTED = new Set(['paid', 'shipped', 'delivered']);

interface PriorOrder {
  user_id: string;
  status: string;
  total: number;
  paid_at: Date | null;
  items: Sale['items'];
}

/**
 * Turns one event into deltas. MUST run before the orders projection applies the same event: a payment or a
 * reversal is judged against the order as it was before the event (read_orders, already up to date for every
 * earlier version of the stream because the runner applies a stream in order under its lock).
 */
export async function collect(db: Queryable, event: EventEnvelope, acc: SalesDeltas): Promise<void> {
  const f = fieldsOf(event);
  switch (event.event_type) {
    case 'UserRegistered':
      // Admins are staff, not customers: they would skew customer counts and LTV.
      if (f.str('role') === 'customer') noteCustomer(acc, f.str('user_id'), { email: f.str('email'), name: f.str('name') });
      return;
    case 'OrderPlaced':
      notePlacedOrder(acc, { user_id: f.str('user_id'), user_email: f.str('user_email'), placed_at: f.time('placed_at') });
      return;
    case 'OrderPaid': {
      const prior = await priorOrder(db, event);
      if (prior.status === 'pending') noteSale(acc, sale(prior, f.time('paid_at')), 1);
      return;
    }
    case 'OrderCancelled':
    case 'OrderShipmentFailed': {
      const prior = await priorOrder(db, event);
      if (COUNTED.has(prior.status) && prior.paid_at) noteSale(acc, sale(prior, prior.paid_at.toISOString()), -1);
      return;
    }
  }
}

const sale = (o: PriorOrder, paidAt: string): Sale => ({ user_id: o.user_id, total: o.total, paid_at: paidAt, items: o.items });

async function priorOrder(db: Queryable, event: EventEnvelope): Promise<PriorOrder> {
  const orderId = fieldsOf(event).str('order_id');
  const { rows } = await db.query<PriorOrder>('SELECT user_id, status, total, paid_at, items FROM read_orders WHERE order_id = $1', [orderId]);
  const row = rows[0];
  // Cannot happen while streams are applied in order (OrderPlaced is version 1); if it does, stop loudly.
  if (!row) throw new Error(`marketing: ${event.event_type} for order ${orderId} without a projected OrderPlaced`);
  return row;
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
