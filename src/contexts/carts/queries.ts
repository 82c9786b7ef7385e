import type { OrderItem } from '../orders/index.ts';
import type { Queryable } from '../../platform/readmodel/db.ts';
import { iso, num } from '../../platform/readmodel/rows.ts';

export interface CartView {
  cart_id: string;
  user_id: string;
  items: OrderItem[];
  total: number;
  /** Sum of quantities, for a cart badge. */
  item_count: number;
  /** 0 (and updated_at null) when the user never had a cart. */
  version: number;
  updated_at: string | null;
}

/** The user's cart; a user without one gets an empty cart (GET /cart is never a 404). */
export async function getCart(db: Queryable, userId: string): Promise<CartView> {
  const { rows } = await db.query<Omit<CartView, 'updated_at' | 'item_count' | 'total'> & { updated_at: Date; total: string }>(
    'SELECT cart_id, user_id, items, total, version, updated_at FROM read_carts WHERE user_id = $1',
    [userId],
  );
  const row = rows[0];
  if (!row) return { cart_id: `cart-${userId}`, user_id: userId, items: [], total: 0, item_count: 0, version: 0, updated_at: null };
  // total is bigint (a string from pg); yen totals fit a JS number.
  return { ...row, total: num(row.total), item_count: row.items.reduce((n, l) => n + l.quantity, 0), updated_at: iso(row.updated_at) };
}
