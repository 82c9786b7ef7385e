import type { KnownEvent } from '../../kernel/contracts.ts';
import type { OrderItem } from '../orders/index.ts';
import type { TableProjection } from '../../kernel/projection.ts';

/** A cart line as read_carts shows it: the order line shape (price × quantity = subtotal). */
export type CartLine = OrderItem;

/** read_carts, one row per user (the stream is `cart-<user_id>`). */
export interface CartRow {
  user_id: string;
  cart_id: string;
  /** In the order the products were first added. */
  items: CartLine[];
  /** Yen; bigint in the table (99 × three 10,000,000-yen products is over 2^31). */
  total: number;
  updated_at: string;
  version: number;
}

export const cartTotal = (items: readonly CartLine[]): number => items.reduce((sum, l) => sum + l.subtotal, 0);

/**
 * Adding a product already in the cart replaces its line with the quantity the decider computed
 * (line_quantity) and the latest name and price the event carried; lines keep first-added order.
 */
export const carts: TableProjection<CartRow> = {
  name: 'carts',
  table: 'read_carts',
  key: 'user_id',
  columns: ['user_id', 'cart_id', 'items', 'total', 'updated_at', 'version'],
  eventTypes: ['ItemAddedToCart', 'ItemRemovedFromCart', 'CartCleared'],
  keyOf(e: KnownEvent) {
    switch (e.event_type) {
      case 'ItemAddedToCart':
      case 'ItemRemovedFromCart':
      case 'CartCleared':
        return e.data.user_id;
      default:
        return undefined;
    }
  },
  evolve(row, e) {
    let items: CartLine[];
    const before = row?.items ?? [];
    switch (e.event_type) {
      case 'ItemAddedToCart': {
        const { product_id, name, price, line_quantity: quantity } = e.data;
        const line: CartLine = { product_id, name, price, quantity, subtotal: price * quantity };
        items = before.some((l) => l.product_id === product_id)
          ? before.map((l) => (l.product_id === product_id ? line : l))
          : [...before, line];
        break;
      }
      case 'ItemRemovedFromCart':
        items = before.filter((l) => l.product_id !== e.data.product_id);
        break;
      case 'CartCleared':
        items = [];
        break;
      default:
        return row;
    }
    return {
      user_id: e.data.user_id,
      cart_id: e.data.cart_id,
      items,
      total: cartTotal(items),
      updated_at: e.created_at,
      version: e.version,
    };
  },
};
