import type { ProductState } from '../catalog/index.ts';
import type { Decider } from '../../platform/shared/decider.ts';
import { conflict, notFound } from '../../platform/shared/errors.ts';
import { ensure, id, intInRange, oneOf } from '../../platform/shared/validate.ts';
import { insufficientStock } from '../inventory/index.ts';
import type { CartClearReason, CartEvent } from './events.ts';
import { CART_CLEAR_REASONS, cartStreamId, MAX_CART_LINES, MAX_LINE_QUANTITY } from './events.ts';

export type CartCommand =
  | {
      type: 'AddItem';
      user_id: string;
      product_id: string;
      quantity: number;
      /** The product stream's state, loaded by the application (never the read model). */
      product: ProductState;
      /**
       * available_quantity of the product's inventory stream, loaded by the application. The cart holds no
       * stock (only checkout reserves), so this is a courtesy check: the issue asks that a line for more than
       * is available be refused; checkout re-checks against the inventory it reserves from.
       */
      available: number;
    }
  | { type: 'RemoveItem'; user_id: string; product_id: string }
  | { type: 'ClearCart'; user_id: string; reason: CartClearReason; order_id?: string };

export type CartLine = {
  product_id: string;
  name: string;
  /** Unit price in yen when last added (informational). */
  price: number;
  quantity: number;
};

export type CartState = {
  cart_id: string | null;
  user_id: string | null;
  /** In the order first added. */
  lines: CartLine[];
};

export const findLine = (state: CartState, productId: string): CartLine | undefined => state.lines.find((l) => l.product_id === productId);

export const cartDecider: Decider<CartCommand, CartState, CartEvent> = {
  initialState: () => ({ cart_id: null, user_id: null, lines: [] }),

  decide: (command, state) => {
    ensure(id('user_id', command.user_id), command.type === 'ClearCart' ? null : id('product_id', command.product_id));
    const cart_id = cartStreamId(command.user_id);
    const user_id = command.user_id;
    switch (command.type) {
      case 'AddItem': {
        const { product_id, quantity, product, available } = command;
        ensure(intInRange('quantity', quantity, 1, MAX_LINE_QUANTITY));
        if (product.status === 'none' || product.product_id !== product_id) throw notFound('product', product_id);
        if (product.status === 'deleted') {
          throw conflict('product_deleted', `product ${product_id} is no longer sold`, { product_id });
        }
        const line = findLine(state, product_id);
        const line_quantity = (line?.quantity ?? 0) + quantity;
        if (line_quantity > MAX_LINE_QUANTITY) {
          throw conflict('cart_line_limit', `a cart line holds at most ${MAX_LINE_QUANTITY}; this one would hold ${line_quantity}`, {
            product_id,
            max: MAX_LINE_QUANTITY,
            requested: line_quantity,
          });
        }
        if (!line && state.lines.length >= MAX_CART_LINES) {
          throw conflict('cart_full', `a cart holds at most ${MAX_CART_LINES} different products`, { max: MAX_CART_LINES });
        }
        const stock = Number.isSafeInteger(available) && available > 0 ? available : 0;
        if (line_quantity > stock) throw insufficientStock(product_id, stock, line_quantity);
        return [
          {
            type: 'ItemAddedToCart',
            data: { cart_id, user_id, product_id, quantity, line_quantity, price: product.price, name: product.name },
          },
        ];
      }
      case 'RemoveItem': {
        if (!findLine(state, command.product_id)) throw notFound('cart item', command.product_id);
        return [{ type: 'ItemRemovedFromCart', data: { cart_id, user_id, product_id: command.product_id } }];
      }
      case 'ClearCart': {
        const { reason, order_id } = command;
        ensure(oneOf('reason', reason, CART_CLEAR_REASONS), reason === 'checkout' ? id('order_id', order_id) : null);
        if (state.lines.length === 0) return [];
        return [
          {
            type: 'CartCleared',
            data: reason === 'checkout' && order_id !== undefined ? { cart_id, user_id, reason, order_id } : { cart_id, user_id, reason },
          },
        ];
      }
    }
  },

  evolve: (state, event) => {
    const { cart_id, user_id } = event.data;
    switch (event.type) {
      case 'ItemAddedToCart': {
        const { product_id, name, price, line_quantity } = event.data;
        const line: CartLine = { product_id, name, price, quantity: line_quantity };
        const exists = state.lines.some((l) => l.product_id === product_id);
        const lines = exists ? state.lines.map((l) => (l.product_id === product_id ? line : l)) : [...state.lines, line];
        return { cart_id, user_id, lines };
      }
      case 'ItemRemovedFromCart':
        return { cart_id, user_id, lines: state.lines.filter((l) => l.product_id !== event.data.product_id) };
      case 'CartCleared':
        return { cart_id, user_id, lines: [] };
    }
  },
};
