import { inventoryDecider, inventoryStreamId } from '../inventory/index.ts';
import { notFound } from '../shared/errors.ts';
import type { AppContext } from './context.ts';
import type { Plan } from './executor.ts';
import { streamWrite, type Streams } from './streams.ts';

/** Stock commands (000). Reservations are made by checkout and closed by pay, cancel and expiry (orders.ts). */
export function createInventoryService(ctx: AppContext, streams: Streams) {
  return {
    addStock: (productId: string, quantity: number) => async (): Promise<Plan> => {
      const product = await streams.product(productId);
      if (product.state.status !== 'active') throw notFound('product', productId);
      const inventory = await streams.inventory(productId);
      const events = inventoryDecider.decide({ type: 'AddStock', product_id: productId, quantity, now: ctx.clock().toISOString() }, inventory.state);
      const state = events.reduce(inventoryDecider.evolve, inventory.state);
      return {
        writes: [streamWrite(inventoryStreamId(productId), 'Inventory', inventory.version, events)],
        status: 200,
        body: {
          product_id: productId,
          total_quantity: state.total_quantity,
          reserved_quantity: state.reserved_quantity,
          available_quantity: state.available_quantity,
          version: inventory.version + events.length,
        },
      };
    },
  };
}

export type InventoryService = ReturnType<typeof createInventoryService>;
