import { Hono } from 'hono';
import { z } from 'zod';
import { inventoryStreamId } from './index.ts';
import { notFound } from '../../platform/shared/errors.ts';
import { requireAdmin, type AuthEnv } from '../../platform/http/auth.ts';
import { runCommand } from '../../kernel/command.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { entityIdParam, intQuery, strQuery } from '../../platform/http/params.ts';
import { parseBody } from '../../platform/http/validate.ts';

const AddStock = z.object({ quantity: z.number().int('must be an integer') });
/** The request body as a client may send it (checked against the SPA's types in api-types.conformance.ts). */
export type AddStockBody = z.input<typeof AddStock>;

export function inventoryRoutes(deps: HttpDeps) {
  return new Hono<AuthEnv>()
    .post('/inventory/:product_id/add_stock', async (c) => {
      requireAdmin(c);
      const productId = entityIdParam(c, 'product_id', 'product');
      const body = await parseBody(c, AddStock);
      return runCommand(c, deps.app.executor, deps.app.inventory.addStock, { product_id: productId, quantity: body.quantity }, 200);
    })
    .get('/inventory/:product_id', async (c) => {
      requireAdmin(c);
      const productId = entityIdParam(c, 'product_id', 'product');
      await deps.waits.forVersion(c, inventoryStreamId(productId));
      const inventory = await deps.queries.getInventory(productId);
      if (!inventory) throw notFound('inventory of product', productId);
      return c.json(inventory);
    })
    .get('/inventory', async (c) => {
      requireAdmin(c);
      const limit = intQuery(c, 'limit', { min: 1, max: 100 });
      const cursor = strQuery(c, 'cursor', 500);
      return c.json(await deps.queries.listInventory({ ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) }));
    });
}
