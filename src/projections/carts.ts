import type { Queryable } from '../readmodel/db.ts';
import type { EventEnvelope } from '../shared/envelope.ts';
import { fieldsOf } from './fields.ts';

export const name = 'carts';
export const eventTypes = ['ItemAddedToCart', 'ItemRemovedFromCart', 'CartCleared'] as const;

export interface CartLine {
  product_id: string;
  name: string;
  price: number;
  quantity: number;
  subtotal: number;
}

export const cartTotal = (items: readonly CartLine[]): number => items.reduce((sum, l) => sum + l.subtotal, 0);

/**
 * Pure: the cart lines after one event. Adding a product already in the cart merges the quantity into its line
 * and shows the latest name and price the event carried; lines keep first-added order. The event's
 * line_quantity (the decider's own merge result) is authoritative when present.
 */
export function evolveCart(items: readonly CartLine[], event: EventEnvelope): CartLine[] {
  const f = fieldsOf(event);
  switch (event.event_type) {
    case 'ItemAddedToCart': {
      const productId = f.str('product_id');
      const price = f.int('price');
      const existing = items.find((l) => l.product_id === productId);
      const quantity = f.optInt('line_quantity') ?? (existing?.quantity ?? 0) + f.int('quantity');
      const line: CartLine = { product_id: productId, name: f.str('name'), price, quantity, subtotal: price * quantity };
      return existing ? items.map((l) => (l.product_id === productId ? line : l)) : [...items, line];
    }
    case 'ItemRemovedFromCart': {
      const productId = f.str('product_id');
      return items.filter((l) => l.product_id !== productId);
    }
    case 'CartCleared':
      return [];
    default:
      return [...items];
  }
}

/** read_carts, one row per user (the stream is `cart-<user_id>`). */
export async function apply(db: Queryable, event: EventEnvelope): Promise<void> {
  const f = fieldsOf(event);
  const userId = f.str('user_id');
  const { rows } = await db.query<{ items: CartLine[] }>('SELECT items FROM read_carts WHERE user_id = $1', [userId]);
  const items = evolveCart(rows[0]?.items ?? [], event);
  await db.query(
    `INSERT INTO read_carts (user_id, cart_id, items, total, updated_at, version)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (user_id) DO UPDATE
       SET cart_id = EXCLUDED.cart_id, items = EXCLUDED.items, total = EXCLUDED.total,
           updated_at = EXCLUDED.updated_at, version = EXCLUDED.version
       WHERE read_carts.version < EXCLUDED.version`,
    [userId, f.optStr('cart_id') ?? event.aggregate_id, JSON.stringify(items), cartTotal(items), event.created_at, event.version],
  );
}
