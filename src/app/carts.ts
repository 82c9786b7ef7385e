import { cartDecider, cartStreamId } from '../carts/index.ts';
import type { AppContext } from './context.ts';
import type { Plan } from './executor.ts';
import { streamWrite, type Streams } from './streams.ts';

/** Cart commands (004). The stock check reads the inventory stream, never the read model (000's rule). */
export function createCartService(_ctx: AppContext, streams: Streams) {
  const answer = (userId: string, version: number, events: unknown[]) => ({ cart_id: cartStreamId(userId), user_id: userId, version: version + events.length });
  return {
    addItem: (userId: string, productId: string, quantity: number) => async (): Promise<Plan> => {
      const [cart, product, inventory] = await Promise.all([streams.cart(userId), streams.product(productId), streams.inventory(productId)]);
      const events = cartDecider.decide(
        { type: 'AddItem', user_id: userId, product_id: productId, quantity, product: product.state, available: inventory.state.available_quantity },
        cart.state,
      );
      const line = events.reduce(cartDecider.evolve, cart.state).lines.find((l) => l.product_id === productId);
      return { writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)], status: 201, body: { ...answer(userId, cart.version, events), item: line } };
    },
    removeItem: (userId: string, productId: string) => async (): Promise<Plan> => {
      const cart = await streams.cart(userId);
      const events = cartDecider.decide({ type: 'RemoveItem', user_id: userId, product_id: productId }, cart.state);
      return { writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)], status: 200, body: answer(userId, cart.version, events) };
    },
    clear: (userId: string) => async (): Promise<Plan> => {
      const cart = await streams.cart(userId);
      const events = cartDecider.decide({ type: 'ClearCart', user_id: userId, reason: 'user' }, cart.state);
      return { writes: [streamWrite(cartStreamId(userId), 'Cart', cart.version, events)], status: 200, body: answer(userId, cart.version, events) };
    },
  };
}

export type CartService = ReturnType<typeof createCartService>;
