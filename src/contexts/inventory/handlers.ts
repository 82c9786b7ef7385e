import { inventoryDecider, inventoryStreamId } from './index.ts';
import { notFound } from '../../platform/shared/errors.ts';
import type { AppContext } from '../../kernel/context.ts';
import type { CommandHandler } from '../../kernel/handler.ts';
import { streamWrite } from '../../kernel/streams.ts';

export interface StockLevel {
  product_id: string;
  total_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
  version: number;
}

/** Stock commands (000). Reservations are made by checkout and closed by pay, cancel and expiry (orders.ts). */
export function createInventoryHandlers(ctx: AppContext) {
  return {
    addStock: (async (streams, { product_id: productId, quantity }) => {
      const [product, inventory] = await Promise.all([streams.product(productId), streams.inventory(productId)]);
      if (product.state.status !== 'active') throw notFound('product', productId);
      const events = inventoryDecider.decide(
        { type: 'AddStock', product_id: productId, quantity, now: ctx.clock().toISOString() },
        inventory.state,
      );
      const state = events.reduce(inventoryDecider.evolve, inventory.state);
      return {
        writes: [streamWrite(inventoryStreamId(productId), 'Inventory', inventory.version, events)],
        result: {
          product_id: productId,
          total_quantity: state.total_quantity,
          reserved_quantity: state.reserved_quantity,
          available_quantity: state.available_quantity,
          version: inventory.version + events.length,
        },
      };
    }) satisfies CommandHandler<{ product_id: string; quantity: number }, StockLevel>,
  };
}
