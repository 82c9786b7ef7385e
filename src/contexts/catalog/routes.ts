import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../../platform/shared/errors.ts';
import { requireAdmin, type AuthEnv } from '../../platform/http/auth.ts';
import { runCommand } from '../../kernel/command.ts';
import type { HttpDeps } from '../../kernel/deps.ts';
import { entityIdParam, intQuery, strQuery } from '../../platform/http/params.ts';
import { parseBody, parseNoBody } from '../../platform/http/validate.ts';
import type { Companions } from '../../platform/readmodel/wait.ts';
import { inventoryStreamId } from '../inventory/index.ts';

const int = z.number().int('must be an integer');
const Category = z.object({ name: z.string().max(1000) });
const CreateProduct = z.object({
  name: z.string().max(10_000),
  description: z.string().max(100_000).default(''),
  price: int,
  stock: int.min(0, 'must be 0 or more').max(1_000_000, 'must be at most 1000000').default(0),
  category: z.string().max(200).nullable().optional(),
});
const UpdateProduct = z
  .object({
    name: z.string().max(10_000).optional(),
    description: z.string().max(100_000).optional(),
    price: int.optional(),
    category: z.string().max(200).nullable().optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), 'give at least one of name, description, price, category');
/** The request bodies as a client may send them (checked against the SPA's types in api-types.conformance.ts). */
export type CategoryBody = z.input<typeof Category>;
export type CreateProductBody = z.input<typeof CreateProduct>;
export type UpdateProductBody = z.input<typeof UpdateProduct>;

export function catalogRoutes(deps: HttpDeps) {
  const { catalog, executor, newId } = deps.app;
  // A product's `stock` is its inventory stream, created in the same transaction as the product (when it starts
  // with stock) but projected through another partition: a wait on the product waits for that first event too,
  // so a product just created is never listed with stock 0. Not a product id (a category) → no inventory stream.
  const withStock: Companions = async (id) =>
    (await deps.store.readStream(inventoryStreamId(id), { toVersion: 1 })).length > 0
      ? [{ aggregateId: inventoryStreamId(id), minVersion: 1 }]
      : [];
  return new Hono<AuthEnv>()
    .post('/categories', async (c) => {
      requireAdmin(c);
      const body = await parseBody(c, Category);
      return runCommand(c, executor, catalog.createCategory, { category_id: newId(), name: body.name }, 201);
    })
    .get('/categories', async (c) => c.json({ items: await deps.queries.listCategories() }))
    .post('/products', async (c) => {
      requireAdmin(c);
      const body = await parseBody(c, CreateProduct);
      return runCommand(c, executor, catalog.createProduct, { ...body, product_id: newId() }, 201);
    })
    .put('/products/:id', async (c) => {
      requireAdmin(c);
      const id = entityIdParam(c, 'id', 'product');
      const body = await parseBody(c, UpdateProduct);
      return runCommand(c, executor, catalog.updateProduct, { ...body, product_id: id }, 200);
    })
    .delete('/products/:id', async (c) => {
      requireAdmin(c);
      const id = entityIdParam(c, 'id', 'product');
      await parseNoBody(c);
      return runCommand(c, executor, catalog.deleteProduct, { product_id: id }, 200);
    })
    .get('/products', async (c) => {
      const q = strQuery(c, 'q');
      const category = strQuery(c, 'category');
      const cursor = strQuery(c, 'cursor', 500);
      const limit = intQuery(c, 'limit', { min: 1, max: 100 });
      await deps.waits.forWaitFor(c, withStock);
      return c.json(
        await deps.queries.listProducts({
          ...(q ? { q } : {}),
          ...(category ? { category } : {}),
          ...(cursor ? { cursor } : {}),
          ...(limit ? { limit } : {}),
        }),
      );
    })
    .get('/products/:id', async (c) => {
      const id = entityIdParam(c, 'id', 'product');
      await deps.waits.forVersion(c, id, withStock);
      const product = await deps.queries.getProduct(id);
      if (!product) throw notFound('product', id);
      return c.json(product);
    });
}
