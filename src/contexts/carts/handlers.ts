import { cartDecider, cartStreamId, type CartLine } from './index.ts';
import type { CommandHandler } from '../../kernel/handler.ts';
import { streamWrite } from '../../kernel/streams.ts';

export interface CartChanged {
  cart_id: string;
  user_id: string;
  version: number;
}

const answer = (userId: string, version: number, events: unknown[]): CartChanged => ({
  cart_id: cartStreamId(userId),
  user_id: userId,
  version: version + events.length,
});

/** Cart commands (004). The stock check reads the inventory stream, never the read model (000's rule). */
export function createCartHandlers() {
  return {
    addItem: (async (streams, { user_id: userId, product_id: productId, quantity }) => {
      const [cart, product, inventory] = await Promise.all([
        streams.cart(userId),
        streams.product(productId),
        streams.inventory(productId),
      ]);
      const events = cartDecider.decide(
        {
          type: 'AddItem',
          user_id: userId,
          product_id: productId,
          quantity,
          product: product.state,
          available: inventory.state.available_quantity,
        },
        cart.state,
      );
      const line = events.reduce(cartDecider.evolve, cart.state).lines.find((l) => l.product_id === productId);
      return {
        writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)],
        result: { ...answer(userId, cart.version, events), item: line },
      };
    }) satisfies CommandHandler<{ user_id: string; product_id: string; quantity: number }, CartChanged & { item: CartLine | undefined }>,

    removeItem: (async (streams, { user_id: userId, product_id: productId }) => {
      const cart = await streams.cart(userId);
      const events = cartDecider.decide({ type: 'RemoveItem', user_id: userId, product_id: productId }, cart.state);
      return { writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)], result: answer(userId, cart.version, events) };
    }) satisfies CommandHandler<{ user_id: string; product_id: string }, CartChanged>,

    clear: (async (streams, { user_id: userId }) => {
      const cart = await streams.cart(userId);
      const events = cartDecider.decide({ type: 'ClearCart', user_id: userId, reason: 'user' }, cart.state);
      return { writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)], result: answer(userId, cart.version, events) };
    }) satisfies CommandHandler<{ user_id: string }, CartChanged>,
  };
}
