/**
 * Pure bookkeeping for the marketing tables: a batch accumulates deltas here, and they are written once per key
 * at the end of the batch in sorted key order. Writing in one global order is what keeps two projector
 * instances from deadlocking on the shared rows (a day, a best-selling product); writing once per key keeps the
 * hot rows locked only for the last moments of the transaction.
 */
export interface CustomerDelta {
  user_id: string;
  email: string | null;
  name: string | null;
  order_count: number;
  paid_order_count: number;
  total_spent: number;
  last_order_at: string | null;
}

export interface ProductDelta {
  product_id: string;
  name: string;
  units_sold: number;
  revenue: number;
  order_count: number;
}

export interface DayDelta {
  day: string;
  order_count: number;
  revenue: number;
}

export interface SalesDeltas {
  customers: Map<string, CustomerDelta>;
  products: Map<string, ProductDelta>;
  days: Map<string, DayDelta>;
}

/** One paid order as the marketing tables see it. */
export interface Sale {
  user_id: string;
  total: number;
  paid_at: string;
  items: ReadonlyArray<{ product_id: string; name: string; quantity: number; subtotal: number }>;
}

export const createSalesDeltas = (): SalesDeltas => ({ customers: new Map(), products: new Map(), days: new Map() });

/** The UTC calendar day of an ISO timestamp, as `YYYY-MM-DD`. */
export const utcDay = (iso: string): string => new Date(iso).toISOString().slice(0, 10);

const later = (a: string | null, b: string | null): string | null =>
  a === null ? b : b === null ? a : Date.parse(b) > Date.parse(a) ? b : a;

const customer = (acc: SalesDeltas, userId: string): CustomerDelta => {
  let c = acc.customers.get(userId);
  if (!c) {
    c = { user_id: userId, email: null, name: null, order_count: 0, paid_order_count: 0, total_spent: 0, last_order_at: null };
    acc.customers.set(userId, c);
  }
  return c;
};

/** A customer became known (registration): identity only, no counts. */
export function noteCustomer(acc: SalesDeltas, userId: string, identity: { email?: string | null; name?: string | null }): void {
  const c = customer(acc, userId);
  if (identity.email) c.email = identity.email;
  if (identity.name) c.name = identity.name;
}

export function notePlacedOrder(acc: SalesDeltas, order: { user_id: string; user_email: string; placed_at: string }): void {
  const c = customer(acc, order.user_id);
  c.email = order.user_email;
  c.order_count += 1;
  c.last_order_at = later(c.last_order_at, order.placed_at);
}

/** sign = 1 when an order is paid, -1 when a paid order is cancelled or fails shipment (a reversal). */
export function noteSale(acc: SalesDeltas, sale: Sale, sign: 1 | -1): void {
  const c = customer(acc, sale.user_id);
  c.paid_order_count += sign;
  c.total_spent += sign * sale.total;
  const day = utcDay(sale.paid_at);
  const d = acc.days.get(day) ?? { day, order_count: 0, revenue: 0 };
  d.order_count += sign;
  d.revenue += sign * sale.total;
  acc.days.set(day, d);
  // An order with two lines of one product still counts as one order for that product.
  const seen = new Set<string>();
  for (const item of sale.items) {
    const p = acc.products.get(item.product_id) ?? {
      product_id: item.product_id,
      name: item.name,
      units_sold: 0,
      revenue: 0,
      order_count: 0,
    };
    p.name = item.name;
    p.units_sold += sign * item.quantity;
    p.revenue += sign * item.subtotal;
    if (!seen.has(item.product_id)) p.order_count += sign;
    seen.add(item.product_id);
    acc.products.set(item.product_id, p);
  }
}

const byKey = <T>(map: Map<string, T>): T[] => [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);

/** The deltas in the order they must be written (see the module comment). */
export const sortedDeltas = (acc: SalesDeltas) => ({
  customers: byKey(acc.customers),
  products: byKey(acc.products),
  days: byKey(acc.days),
});
