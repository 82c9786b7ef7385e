import type { Queryable } from '../../platform/readmodel/db.ts';
import { pageLimit } from '../../platform/readmodel/paging.ts';
import { iso, num } from '../../platform/readmodel/rows.ts';

/**
 * 003's marketing read side. Revenue is net sales of paid orders (see migrations/001_baseline.sql, read_daily_sales), so
 * total_revenue here always equals orderStatistics().total_revenue.
 */
export interface MarketingOverview {
  /** Customers known to the shop (registered, or seen placing an order). */
  customer_count: number;
  /** Customers with at least one paid order. */
  paying_customer_count: number;
  /** Orders placed, whatever became of them. */
  order_count: number;
  paid_order_count: number;
  total_revenue: number;
  /** total_revenue / paid_order_count, rounded to the yen; 0 without sales. */
  average_order_value: number;
}

export async function marketingOverview(db: Queryable): Promise<MarketingOverview> {
  const { rows } = await db.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM read_customer_summary) AS customer_count,
            (SELECT count(*) FROM read_customer_summary WHERE paid_order_count > 0) AS paying_customer_count,
            (SELECT COALESCE(sum(order_count), 0) FROM read_customer_summary) AS order_count,
            (SELECT COALESCE(sum(order_count), 0) FROM read_daily_sales) AS paid_order_count,
            (SELECT COALESCE(sum(revenue), 0) FROM read_daily_sales) AS total_revenue`,
  );
  const r = rows[0]!;
  const paid = num(r.paid_order_count);
  const revenue = num(r.total_revenue);
  return {
    customer_count: num(r.customer_count),
    paying_customer_count: num(r.paying_customer_count),
    order_count: num(r.order_count),
    paid_order_count: paid,
    total_revenue: revenue,
    average_order_value: paid > 0 ? Math.round(revenue / paid) : 0,
  };
}

export interface CustomerValue {
  user_id: string;
  email: string | null;
  name: string | null;
  order_count: number;
  paid_order_count: number;
  /** Lifetime value: totals of paid orders. */
  total_spent: number;
  last_order_at: string | null;
}

/** Top customers by lifetime value. */
export async function marketingCustomers(db: Queryable, opts: { limit?: number } = {}): Promise<CustomerValue[]> {
  const { rows } = await db.query<
    Omit<CustomerValue, 'total_spent' | 'last_order_at'> & { total_spent: string; last_order_at: Date | null }
  >(
    `SELECT user_id, email, name, order_count, paid_order_count, total_spent, last_order_at
       FROM read_customer_summary ORDER BY total_spent DESC, user_id LIMIT $1`,
    [pageLimit(opts.limit)],
  );
  return rows.map((r) => ({ ...r, total_spent: num(r.total_spent), last_order_at: iso(r.last_order_at) }));
}

export interface ProductPopularity {
  product_id: string;
  /** The catalogue's current name, else the name on the last sale (deleted products keep their history). */
  name: string;
  units_sold: number;
  revenue: number;
  /** Paid orders containing the product. */
  order_count: number;
}

/** Best sellers by units sold, then revenue. */
export async function marketingProducts(db: Queryable, opts: { limit?: number } = {}): Promise<ProductPopularity[]> {
  const { rows } = await db.query<Omit<ProductPopularity, 'revenue'> & { revenue: string }>(
    `SELECT s.product_id, COALESCE(p.name, s.name) AS name, s.units_sold, s.revenue, s.order_count
       FROM read_product_popularity s LEFT JOIN read_products p ON p.product_id = s.product_id
      WHERE s.order_count > 0
      ORDER BY s.units_sold DESC, s.revenue DESC, s.product_id LIMIT $1`,
    [pageLimit(opts.limit)],
  );
  return rows.map((r) => ({ ...r, revenue: num(r.revenue) }));
}

export interface DailySales {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  order_count: number;
  revenue: number;
}

/** The last `days` UTC days up to today, oldest first, days without sales included as zeros (ready to chart). */
export async function marketingDaily(db: Queryable, opts: { days?: number } = {}): Promise<DailySales[]> {
  const days = pageLimit(opts.days, 30, 366);
  const { rows } = await db.query<{ day: string; order_count: number; revenue: string }>(
    `SELECT d.day::date::text AS day, COALESCE(s.order_count, 0) AS order_count, COALESCE(s.revenue, 0) AS revenue
       FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($1::integer - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
       LEFT JOIN read_daily_sales s ON s.day = d.day::date
      ORDER BY d.day`,
    [days],
  );
  return rows.map((r) => ({ day: r.day, order_count: r.order_count, revenue: num(r.revenue) }));
}
