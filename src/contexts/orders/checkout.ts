/**
 * Checkout: ONE decision over several aggregates (DESIGN §6). The application loads the cart, each line's
 * product and inventory streams (snapshots + tails, never the read model), calls this, and appends everything
 * it returns in a single TransactWriteItems conditioned on the versions it loaded — the order, every inventory
 * and the cart commit together or not at all. A concurrency conflict means reload and call this again.
 */
import type { CartState } from '../carts/index.ts';
import { cartDecider } from '../carts/index.ts';
import type { CartEvent } from '../carts/index.ts';
import type { ProductState } from '../catalog/index.ts';
import type { InventoryState } from '../inventory/index.ts';
import { inventoryDecider } from '../inventory/index.ts';
import type { InventoryEvent } from '../inventory/index.ts';
import { conflict } from '../../platform/shared/errors.ts';
import type { PlaceOrderItem } from './decider.ts';
import { orderDecider } from './decider.ts';
import type { OrderEvent } from './events.ts';

export type CheckoutInput = {
  order_id: string;
  user_id: string;
  user_email: string;
  now: string;
  /** now + payment window; the order and every reservation share it. */
  expires_at: string;
  /** A reservation id per product line: a map, or a function (e.g. one that draws UUIDs). */
  reservation_ids: ReadonlyMap<string, string> | ((product_id: string) => string);
  cart: CartState;
  /** Keyed by product id; a missing product counts as unavailable. */
  products: ReadonlyMap<string, ProductState>;
  /** Keyed by product id; a missing inventory counts as no stock. */
  inventories: ReadonlyMap<string, InventoryState>;
};

export type CheckoutDecision = {
  order: OrderEvent[];
  /** Keyed by product id, in cart-line order; append to inventoryStreamId(product id). */
  inventories: Map<string, InventoryEvent[]>;
  cart: CartEvent[];
};

export const decideCheckout = (input: CheckoutInput): CheckoutDecision => {
  const { cart, order_id, now, expires_at } = input;
  if (cart.lines.length === 0) throw conflict('cart_empty', 'the cart is empty');
  if (cart.user_id !== input.user_id) {
    throw new TypeError(`checkout of user ${input.user_id} was given the cart of ${String(cart.user_id)}`);
  }

  // Products first: a line that can no longer be bought must be removed whatever the stock says.
  const items: PlaceOrderItem[] = cart.lines.map((line) => {
    const product = input.products.get(line.product_id);
    if (!product || product.status !== 'active') {
      throw conflict('product_unavailable', `product ${line.product_id} (${line.name}) is no longer available`, {
        product_id: line.product_id,
      });
    }
    // The product's current price, not the one remembered by the cart line.
    return { product_id: line.product_id, name: product.name, price: product.price, quantity: line.quantity };
  });

  const reservationId = (productId: string): string => {
    const ids = input.reservation_ids;
    const rid = typeof ids === 'function' ? ids(productId) : ids.get(productId);
    if (rid === undefined) throw new TypeError(`no reservation id for product ${productId}`);
    return rid;
  };
  const inventories = new Map<string, InventoryEvent[]>();
  for (const item of items) {
    const inventory = input.inventories.get(item.product_id) ?? inventoryDecider.initialState();
    // Throws insufficient_stock for the first line that cannot be reserved.
    inventories.set(
      item.product_id,
      inventoryDecider.decide(
        {
          type: 'ReserveStock',
          product_id: item.product_id,
          reservation_id: reservationId(item.product_id),
          order_id,
          quantity: item.quantity,
          expires_at,
          now,
        },
        inventory,
      ),
    );
  }

  const order = orderDecider.decide(
    { type: 'PlaceOrder', order_id, user_id: input.user_id, user_email: input.user_email, items, expires_at, now },
    orderDecider.initialState(),
  );
  const cartEvents = cartDecider.decide({ type: 'ClearCart', user_id: input.user_id, reason: 'checkout', order_id }, cart);
  return { order, inventories, cart: cartEvents };
};
