import { z } from 'zod';
import type { DataOf } from '../../platform/shared/contract.ts';
import { defineEvent, f, fillMissing } from '../../platform/shared/contract.ts';
import type { DomainEvent } from '../../platform/shared/decider.ts';

/** One cart per user, so the stream id derives from the user id alone (no lookup needed to find it). */
export const cartStreamId = (userId: string): string => `cart-${userId}`;

/** Per cart line. */
export const MAX_LINE_QUANTITY = 99;
/**
 * Checkout is ONE DynamoDB TransactWriteItems, at most 100 items: 1 order + 1 inventory per line + 1 cart
 * + 1 idempotency record = lines + 3 = 43. Even with a guard write per product stream (to make a concurrent
 * price change or deletion invalidate the checkout) it is 2 × lines + 3 = 83: still under the limit.
 */
export const MAX_CART_LINES = 40;

export const CART_CLEAR_REASONS = ['checkout', 'user'] as const;
export type CartClearReason = (typeof CART_CLEAR_REASONS)[number];

/** Events of early releases carry no cart_id: the stream id (cart-<user_id>) is the cart id. */
const cartIdFromStream = fillMissing({ cart_id: (e) => e.aggregate_id });

export const ItemAddedToCartV = defineEvent(
  'ItemAddedToCart',
  z.object({
    cart_id: f.text(),
    user_id: f.text(),
    product_id: f.text(),
    /** The quantity added by this event (lines merge: adding 2 then 3 makes a line of 5). */
    quantity: f.int(),
    /** The line's quantity after this event, so a projection can upsert without reading the line first. */
    line_quantity: f.int(),
    /** Unit price in yen when added: informational, checkout charges the product's price at that moment. */
    price: f.yen(),
    name: f.str(),
  }),
  { fill: cartIdFromStream },
);
export const ItemRemovedFromCartV = defineEvent(
  'ItemRemovedFromCart',
  z.object({ cart_id: f.text(), user_id: f.text(), product_id: f.text() }),
  {
    fill: cartIdFromStream,
  },
);
export const CartClearedV = defineEvent(
  'CartCleared',
  z.object({
    cart_id: f.text(),
    user_id: f.text(),
    reason: f.oneOf(CART_CLEAR_REASONS),
    /** Present when reason is 'checkout'. */
    order_id: f.text().optional(),
  }),
  { fill: cartIdFromStream },
);
export const CART_CONTRACTS = [ItemAddedToCartV, ItemRemovedFromCartV, CartClearedV] as const;
export type ItemAddedToCartData = DataOf<typeof ItemAddedToCartV>;
export type ItemRemovedFromCartData = DataOf<typeof ItemRemovedFromCartV>;
export type CartClearedData = DataOf<typeof CartClearedV>;

export type ItemAddedToCart = DomainEvent<'ItemAddedToCart', ItemAddedToCartData>;
export type ItemRemovedFromCart = DomainEvent<'ItemRemovedFromCart', ItemRemovedFromCartData>;
export type CartCleared = DomainEvent<'CartCleared', CartClearedData>;
export type CartEvent = ItemAddedToCart | ItemRemovedFromCart | CartCleared;

/** Event type names; `satisfies` makes the compiler reject a missing or extra name. */
export const CartEventTypes = {
  ItemAddedToCart: 'ItemAddedToCart',
  ItemRemovedFromCart: 'ItemRemovedFromCart',
  CartCleared: 'CartCleared',
} as const satisfies { [K in CartEvent['type']]: K };

export const isCartEventType = (type: string): type is CartEvent['type'] => Object.hasOwn(CartEventTypes, type);
